"""What the identity pages show: the unlinked queue (program admins and the auditor) and a
signed-in person's own identities, pending claims and identities that look like theirs.

Reads only; each row carries how many merge requests the identity appears on, counted the
way `identities.merge_request_ids` finds them (GitLab author id or username, commit e-mail).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from bounty.governance.permissions import Permission
from bounty.models import Identity, MergeRequest, MergeRequestCommit, Person
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput, PermissionDenied

QUEUE_PER_PAGE = 50
MAX_CLAIMS_SHOWN = 200
MAX_SUGGESTIONS = 20
MAX_SEARCH = 200


@dataclass(frozen=True)
class IdentityRow:
    """One identity as a page lists it."""

    id: int
    kind: str
    value: str
    label: str
    first_seen_at: datetime | None
    is_verified: bool
    merge_requests: int
    claimed_by_id: int | None = None
    claimed_by_username: str | None = None
    claimed_by_name: str | None = None
    claimed_at: datetime | None = None


@dataclass(frozen=True)
class Queue:
    """Claims waiting for a decision (all of them), then a page of unclaimed unlinked identities."""

    claims: list[IdentityRow]
    unlinked: list[IdentityRow]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True)
class MyIdentities:
    linked: list[IdentityRow]
    claims: list[IdentityRow]
    suggestions: list[IdentityRow]


def can_see_queue(actor: Actor) -> bool:
    return actor.can(Permission.MANAGE_IDENTITIES) or actor.can(Permission.READ_EVERYTHING)


def unlinked_queue(session: Session, actor: Actor, *, text: str | None = None, page: int = 1,
                   per_page: int = QUEUE_PER_PAGE) -> Queue:
    """Unlinked identities, newest first seen first; `text` narrows to values and labels
    containing it (case-insensitive). Program admins and the auditor."""
    if not can_see_queue(actor):
        raise PermissionDenied(f"{actor.label} may not see the unlinked identities")
    if page < 1:
        raise InvalidInput("page", "must be at least 1")
    if text is not None and len(text) > MAX_SEARCH:
        raise InvalidInput("q", f"longer than {MAX_SEARCH} characters")
    claimer = aliased(Person)
    claims = session.execute(
        select(Identity, claimer).join(claimer, claimer.id == Identity.claimed_by_id)
        .where(Identity.person_id.is_(None)).order_by(Identity.claimed_at, Identity.id)
        .limit(MAX_CLAIMS_SHOWN)
    ).all()
    unclaimed = [Identity.person_id.is_(None), Identity.claimed_by_id.is_(None)]
    if text:
        pattern = f"%{_escape(text.strip().lower())}%"
        unclaimed.append(or_(func.lower(Identity.value).like(pattern, escape="\\"),
                             func.lower(Identity.label).like(pattern, escape="\\")))
    total = session.execute(select(func.count(Identity.id)).where(*unclaimed)).scalar_one()
    rows = session.execute(
        select(Identity).where(*unclaimed)
        .order_by(Identity.first_seen_at.desc(), Identity.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).scalars().all()
    counts = merge_request_counts(session, [identity for identity, _ in claims] + list(rows))
    return Queue(
        claims=[_row(identity, counts, person) for identity, person in claims],
        unlinked=[_row(identity, counts) for identity in rows],
        total=total, page=page, per_page=per_page,
    )


def identities_of(session: Session, actor: Actor) -> MyIdentities:
    """The signed-in person's identities, their pending claims, and unlinked, unclaimed
    identities that look like theirs (their name as label, their username or e-mail)."""
    if actor.person_id is None:
        raise PermissionDenied("sign in to see your identities")
    person = session.get(Person, actor.person_id)
    if person is None:
        raise PermissionDenied("sign in to see your identities")
    linked = session.execute(select(Identity).where(Identity.person_id == person.id)
                             .order_by(Identity.kind, Identity.value)).scalars().all()
    claims = session.execute(select(Identity).where(Identity.claimed_by_id == person.id,
                                                    Identity.person_id.is_(None))
                             .order_by(Identity.claimed_at, Identity.id)).scalars().all()
    looks_like = [func.lower(Identity.label) == " ".join(person.display_name.split()).lower(),
                  and_(Identity.kind == "gitlab_username", Identity.value == person.username.lower())]
    if person.email:
        looks_like.append(and_(Identity.kind == "email", Identity.value == person.email.strip().lower()))
    suggestions = session.execute(
        select(Identity).where(Identity.person_id.is_(None), Identity.claimed_by_id.is_(None),
                               Identity.kind != "keycloak", or_(*looks_like))
        .order_by(Identity.kind, Identity.value).limit(MAX_SUGGESTIONS)
    ).scalars().all()
    counts = merge_request_counts(session, [*linked, *claims, *suggestions])
    return MyIdentities(linked=[_row(i, counts) for i in linked],
                        claims=[_row(i, counts, person) for i in claims],
                        suggestions=[_row(i, counts) for i in suggestions])


def merge_request_counts(session: Session, identities: Sequence[Identity]) -> dict[int, int]:
    """For each identity, how many merge requests it appears on (one grouped query per kind)."""
    counts: dict[int, int] = {}
    by_value: dict[str, dict[str, int]] = {}
    for identity in identities:
        by_value.setdefault(identity.kind, {})[identity.value] = identity.id
    users = by_value.get("gitlab_user", {})
    if users:
        for author, count in session.execute(
                select(MergeRequest.author_gitlab_id, func.count(MergeRequest.id))
                .where(MergeRequest.author_gitlab_id.in_([int(v) for v in users]))
                .group_by(MergeRequest.author_gitlab_id)):
            counts[users[str(author)]] = int(count)
    names = by_value.get("gitlab_username", {})
    if names:
        lowered = func.lower(MergeRequest.author_username)
        for name, count in session.execute(
                select(lowered, func.count(MergeRequest.id)).where(lowered.in_(list(names)))
                .group_by(lowered)):
            counts[names[name]] = int(count)
    emails = by_value.get("email", {})
    if emails:
        lowered = func.lower(MergeRequestCommit.author_email)
        for email, count in session.execute(
                select(lowered, func.count(MergeRequestCommit.merge_request_id.distinct()))
                .where(lowered.in_(list(emails))).group_by(lowered)):
            counts[emails[email]] = int(count)
    return counts


def _row(identity: Identity, counts: dict[int, int], claimer: Person | None = None) -> IdentityRow:
    return IdentityRow(
        id=identity.id, kind=identity.kind, value=identity.value, label=identity.label,
        first_seen_at=identity.first_seen_at, is_verified=identity.is_verified,
        merge_requests=counts.get(identity.id, 0), claimed_by_id=identity.claimed_by_id,
        claimed_by_username=claimer.username if claimer else None,
        claimed_by_name=claimer.display_name if claimer else None, claimed_at=identity.claimed_at,
    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
