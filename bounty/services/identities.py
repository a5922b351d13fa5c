"""Identities: crediting merged work to people through the identities it arrived under.

A person shows up under several identities (docs/identities.md): their Keycloak account,
a GitLab user id and username, and the e-mail addresses of their commits. Values are stored
normalised (usernames and e-mails lower-cased), so matching is an exact comparison and one
identity is one row (`kind`, `value` unique).

- `credit_merge_request` (called by the GitLab sync inside its transaction) records the
  identities a merge request arrived under, new ones unlinked, and credits the merge request
  to the person of the first linked one: GitLab user id, then GitLab username, then the
  e-mail of the commits' main author.
- `recredit` credits again the merge requests an identity carries once it is linked
  (`identity_links`: admin links, confirmed claims, the verified e-mail at sign-in), and
  lets merged work newly credited attach to the person's bounty claims.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from bounty.models import Identity, MergeRequest, MergeRequestCommit, utcnow
from bounty.models.people import IDENTITY_KINDS
from bounty.services import submissions
from bounty.services.errors import InvalidInput

MAX_VALUE, MAX_LABEL = 320, 255
# Values per IN list: well under SQLite's bound-parameter limit.
CHUNK = 500

# Refusal reasons (the web pages translate them; see bounty/web/identities.py).
EMPTY_VALUE = "enter a value"
NOT_AN_EMAIL = "not an e-mail address"
NOT_A_NUMBER = "a GitLab user id is a number"
TOO_LONG = f"longer than {MAX_VALUE} characters"

_IDENTITIES = Identity.__table__
# Insert-if-absent: a webhook import and the periodic sync may meet the same new identity.
INSERT_IF_ABSENT = {
    name: dialect_insert(_IDENTITIES).on_conflict_do_nothing(index_elements=["kind", "value"])
    for name, dialect_insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}
# Core statements, built once: the sync runs the lookup for every merge request.
_LOOKUP = select(
    _IDENTITIES.c.id, _IDENTITIES.c.kind, _IDENTITIES.c.value, _IDENTITIES.c.person_id,
    _IDENTITIES.c.first_seen_at,
).where(_IDENTITIES.c.kind.in_(bindparam("kinds", expanding=True)),
        _IDENTITIES.c.value.in_(bindparam("values", expanding=True)))
_SEEN_EARLIER = (update(_IDENTITIES).where(_IDENTITIES.c.id == bindparam("identity_id"))
                 .values(first_seen_at=bindparam("seen_at")))

Key = tuple[str, str]


def normalise(kind: str, value: str) -> str:
    """`value` as an identity of `kind` stores it (refusing what cannot be one)."""
    if kind not in IDENTITY_KINDS:
        raise InvalidInput("kind", f"one of {', '.join(IDENTITY_KINDS)}")
    text = (value or "").strip()
    if kind in ("email", "gitlab_username"):
        text = text.lower()
    if not text:
        raise InvalidInput("value", EMPTY_VALUE)
    if len(text) > MAX_VALUE:
        raise InvalidInput("value", TOO_LONG)
    if kind == "email" and ("@" not in text or any(ch.isspace() for ch in text)):
        raise InvalidInput("value", NOT_AN_EMAIL)
    if kind == "gitlab_user" and not (text.isascii() and text.isdigit()):
        raise InvalidInput("value", NOT_A_NUMBER)
    return text


# ------------------------------------------------------------------------------ crediting


@dataclass(frozen=True, slots=True)
class _Seen:
    key: Key
    label: str
    seen_at: datetime


def credit_merge_request(session: Session, merge_request: MergeRequest) -> None:
    """Record the identities `merge_request` arrived under and credit it to their person (flushes)."""
    credit(session, [merge_request])


def credit(session: Session, merge_requests: Sequence[MergeRequest]) -> list[MergeRequest]:
    """`credit_merge_request` for many at once (one lookup); returns those whose person changed."""
    order: dict[int, list[Key]] = {}
    wanted: dict[Key, _Seen] = {}
    for position, merge_request in enumerate(merge_requests):
        seen, order[position] = _seen_in(merge_request)
        for item in seen:
            known = wanted.get(item.key)
            if known is None:
                wanted[item.key] = item
            elif item.seen_at < known.seen_at:
                wanted[item.key] = _Seen(item.key, known.label, item.seen_at)
    found = _lookup(session, wanted)
    missing = [wanted[key] for key in wanted if key not in found]
    if missing:
        session.execute(INSERT_IF_ABSENT[session.get_bind().dialect.name], [
            {"kind": s.key[0], "value": s.key[1], "label": s.label, "first_seen_at": s.seen_at,
             "person_id": None, "is_verified": False, "created_at": utcnow()} for s in missing])
        found.update(_lookup(session, {s.key: s for s in missing}))
    earlier = [{"identity_id": found[key].id, "seen_at": s.seen_at} for key, s in wanted.items()
               if found[key].first_seen_at is None or s.seen_at < found[key].first_seen_at]
    if earlier:
        session.execute(_SEEN_EARLIER, earlier)
    changed = []
    for position, merge_request in enumerate(merge_requests):
        rows = [found[key] for key in order[position]]
        author = next((row for row in rows if row.person_id is not None), rows[0] if rows else None)
        identity_id, person_id = (author.id, author.person_id) if author is not None else (None, None)
        if merge_request.author_identity_id != identity_id:
            merge_request.author_identity_id = identity_id
        if merge_request.person_id != person_id:
            merge_request.person_id = person_id
            changed.append(merge_request)
    session.flush()
    return changed


def _seen_in(merge_request: MergeRequest) -> tuple[list[_Seen], list[Key]]:
    """The identities a merge request names (its GitLab author and every commit author
    e-mail), and those that credit it, in order: user id, username, main author's e-mail."""
    at = _aware(merge_request.merged_at) or utcnow()
    username = (merge_request.author_username or "").strip()
    seen = []
    if merge_request.author_gitlab_id is not None:
        seen.append(_Seen(("gitlab_user", str(merge_request.author_gitlab_id)), username[:MAX_LABEL], at))
    if username and len(username) <= MAX_VALUE:
        seen.append(_Seen(("gitlab_username", username.lower()), username[:MAX_LABEL], at))
    credit_order = [item.key for item in seen]
    emails, main = _commit_emails(merge_request.commits)
    seen += [_Seen(("email", email), label, at) for email, label in emails.items()]
    if main is not None:
        credit_order.append(("email", main))
    return seen, credit_order


def _commit_emails(commits: Iterable[MergeRequestCommit]) -> tuple[dict[str, str], str | None]:
    """Each commit author e-mail with the name it came with, and the main author's e-mail:
    the most commits (merge commits aside), ties to the oldest (the dataset README's rule;
    positions break ties when commits carry no author date: GitLab lists newest first)."""
    labels: dict[str, str] = {}
    tally: dict[str, list[Any]] = {}
    listed = list(commits)
    authored = {id(c) for c in listed if c.dco_exempt != "merge"} or {id(c) for c in listed}
    for commit in listed:
        email = (commit.author_email or "").strip().lower()
        if not email or len(email) > MAX_VALUE:
            continue
        labels.setdefault(email, (commit.author_name or email)[:MAX_LABEL])
        if id(commit) not in authored:
            continue
        at = _aware(commit.authored_at)
        age = (at or datetime.max.replace(tzinfo=UTC), -commit.position)
        entry = tally.setdefault(email, [0, age])
        entry[0] += 1
        entry[1] = min(entry[1], age)
    if not tally:
        return labels, None
    main = min(tally.items(), key=lambda item: (-item[1][0], item[1][1]))[0]
    return labels, main


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _lookup(session: Session, keys: Iterable[Key]) -> dict[Key, Row[Any]]:
    """The stored identities among `keys` (id, kind, value, person_id, first_seen_at)."""
    wanted = set(keys)
    found: dict[Key, Row[Any]] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start:start + CHUNK]
        rows = session.execute(_LOOKUP, {"kinds": sorted({k for k, _ in chunk}),
                                         "values": sorted({v for _, v in chunk})})
        found.update({(r.kind, r.value): r for r in rows if (r.kind, r.value) in wanted})
    return found


def merge_request_ids(session: Session, identities: Iterable[Identity]) -> set[int]:
    """The merge requests each of `identities` appears on: as the credited author identity,
    the GitLab author (id or username) or a commit author e-mail."""
    ids: set[int] = set()
    by_kind: dict[str, list[str]] = {}
    identity_ids = []
    for identity in identities:
        by_kind.setdefault(identity.kind, []).append(identity.value)
        identity_ids.append(identity.id)
    conditions = [MergeRequest.author_identity_id.in_(identity_ids)]
    if by_kind.get("gitlab_user"):
        conditions.append(MergeRequest.author_gitlab_id.in_([int(v) for v in by_kind["gitlab_user"]]))
    if by_kind.get("gitlab_username"):
        conditions.append(func.lower(MergeRequest.author_username).in_(by_kind["gitlab_username"]))
    ids.update(session.execute(select(MergeRequest.id).where(or_(*conditions))).scalars())
    if by_kind.get("email"):
        ids.update(session.execute(
            select(MergeRequestCommit.merge_request_id).distinct()
            .where(func.lower(MergeRequestCommit.author_email).in_(by_kind["email"]))).scalars())
    return ids


def recredit(session: Session, identities: Iterable[Identity]) -> int:
    """Credit again every merge request `identities` appear on, after a link (flushes).

    A merge request newly credited to a person may submit that person's bounty claim
    (`submissions.attach_merged_work`). Returns how many changed person.
    """
    ids = sorted(merge_request_ids(session, identities))
    changed = 0
    for start in range(0, len(ids), CHUNK):
        merge_requests = session.execute(
            select(MergeRequest).where(MergeRequest.id.in_(ids[start:start + CHUNK]))
            .options(selectinload(MergeRequest.commits)).order_by(MergeRequest.id)
        ).scalars().all()
        moved = credit(session, merge_requests)
        changed += len(moved)
        for merge_request in moved:
            if merge_request.person_id is not None:
                submissions.attach_merged_work(session, merge_request)
    return changed
