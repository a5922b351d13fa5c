"""Builders for the bounty workflow: reference data, people, and bounties in each state.

Everything goes through the services (create, publish, claim, submit, review), so a bounty
built here has its reservation, its ledger lines and its audit timeline, like a real one.
Merged work is the exception: `merged_work` writes the rows a GitLab sync would (a merged
merge request and its commits with their DCO verdicts), since approval needs them.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.ledger import Money
from bounty.models import Bounty, Claim, MergeRequest, MergeRequestCommit, Person, Pool, utcnow
from bounty.services import bounties, claims, funds
from bounty.services.actors import SYSTEM, Actor
from bounty.services.bounties import BountyInput
from bounty.services.errors import NotFound
from bounty.services.seed import seed_reference

GITLAB = "https://gitlab.example.org"
MERGE_REQUEST = f"{GITLAB}/cloudstack/cloudstack/-/merge_requests/101"
MISSING_SIGN_OFF = "The sign-off is missing."


def reference(session: Session) -> Pool:
    """The reference seed (jurisdictions, working groups, categories, 2026 pools, the rate
    snapshot of 2026-11-20), plus a funded bounty pool for the current year if that is not 2026.
    Returns the current year's bounty pool."""
    seed_reference(session, SYSTEM)
    year = utcnow().year
    try:
        return funds.get_pool(session, year, bounties.BOUNTY_POOL)
    except NotFound:
        pool = funds.ensure_pool(session, SYSTEM, year, bounties.BOUNTY_POOL, "Bounty Pool",
                                 Money.parse("500000", "EUR"))
        funds.fund_pool(session, SYSTEM, pool)
        return pool


def actor_of(person: Person) -> Actor:
    """The actor a signed-in `person` acts as (as `bounty.auth` builds it)."""
    return Actor(label=f"person:{person.username}", roles=frozenset(person.roles or ()),
                 person_id=person.id, jurisdiction_code=person.jurisdiction_code)


ANONYMOUS = Actor(label="anonymous")


def person(session: Session, username: str, roles: Iterable[str] = ("contributor",),
           jurisdiction: str | None = "EU", display_name: str | None = None) -> Person:
    """The person `username`, created with `roles` and `jurisdiction` when missing."""
    found = session.execute(select(Person).where(Person.username == username)).scalar_one_or_none()
    if found is not None:
        return found
    created = Person(keycloak_subject=f"test-{username}", username=username,
                     display_name=display_name or username.replace(".", " ").title(),
                     email=f"{username}@example.org", jurisdiction_code=jurisdiction,
                     roles=list(roles))
    session.add(created)
    session.commit()
    return created


def admin(session: Session) -> Actor:
    return actor_of(person(session, "admin", ("contributor", "program-admin"), "EU"))


def contributor(session: Session, username: str = "carla", jurisdiction: str = "EU") -> Actor:
    return actor_of(person(session, username, ("contributor",), jurisdiction))


def reviewer(session: Session, username: str, jurisdiction: str, council: bool = False) -> Actor:
    roles = ("contributor", "reviewer", "security-council") if council else ("contributor", "reviewer")
    return actor_of(person(session, username, roles, jurisdiction))


def bounty_input(**overrides: object) -> BountyInput:
    """A valid bug-fix bounty of EUR 1000 in WG4 (override any field)."""
    data = BountyInput(title="Fix VPC load balancer health checks", description="Custom ports.",
                       category_code="bug_fix", amount="1000", currency="EUR",
                       working_group_code="WG4")
    return replace(data, **overrides)  # type: ignore[arg-type]


def draft_bounty(session: Session, **overrides: object) -> Bounty:
    return bounties.create_bounty(session, admin(session), bounty_input(**overrides))


def open_bounty(session: Session, **overrides: object) -> Bounty:
    draft = draft_bounty(session, **overrides)
    return bounties.publish_bounty(session, admin(session), draft.id)


SECURITY_FIX: dict[str, object] = {
    "title": "CVE-2026-0001 remediation", "category_code": "critical_security_fix", "amount": "10000",
    "currency": "GBP", "working_group_code": "WG5",
}


def security_fix(**overrides: object) -> dict[str, object]:
    """Overrides making a valid critical security fix of GBP 10000 in WG5 (embargoed, 48-hour
    clock): `wf.open_bounty(session, **wf.security_fix())`."""
    return {**SECURITY_FIX, **overrides}


@dataclass(frozen=True)
class Work:
    """A bounty with its claim and the claimant."""

    bounty: Bounty
    claim: Claim
    claimant: Actor


def claimed_bounty(session: Session, claimant: Actor | None = None, *, now: datetime | None = None,
                   **overrides: object) -> Work:
    bounty = open_bounty(session, **overrides)
    claimant = claimant or contributor(session)
    claim = claims.claim_bounty(session, claimant, bounty.id, now=now)
    session.refresh(bounty)
    return Work(bounty, claim, claimant)


def merged_work(session: Session, url: str = MERGE_REQUEST, *, person_id: int | None = None,
                dco_ok: bool | None = True, merged: bool = True, title: str = "Fix the health checks",
                description: str = "", failing_reasons: Iterable[str] = (MISSING_SIGN_OFF,),
                author: str = "carla") -> MergeRequest:
    """The merge request at `url` as a GitLab sync stores it (commits), made when missing.

    DCO-clean by default: one signed-off commit. `dco_ok=False` adds a failing commit per
    reason of `failing_reasons`; `dco_ok=None` leaves it unchecked. `person_id` credits it.
    """
    found = session.execute(select(MergeRequest).where(MergeRequest.web_url == url)).scalar_one_or_none()
    if found is not None:
        return found
    path = urlsplit(url).path
    project_path, _sep, iid = path.strip("/").partition("/-/merge_requests/")
    now = utcnow()
    merge_request = MergeRequest(
        gitlab_project_id=zlib.crc32(project_path.encode()) & 0x7FFFFFFF, project_path=project_path,
        iid=int(iid.strip("/")), title=title, description=description, web_url=url,
        author_username=author, person_id=person_id,
        merged_at=now - timedelta(hours=1) if merged else None, gitlab_updated_at=now,
        is_dco_ok=dco_ok, synced_at=now, head_sha=None,
    )
    session.add(merge_request)
    session.flush()
    email = f"{author}@example.org"
    good = MergeRequestCommit(
        merge_request_id=merge_request.id, position=0, sha=f"{merge_request.id:08x}" + "a" * 32,
        author_name=author.title(), author_email=email, committer_name=author.title(),
        committer_email=email, message=f"{title}\n\nSigned-off-by: {author.title()} <{email}>",
        authored_at=now, is_dco_ok=True, dco_reason="", dco_exempt=None)
    session.add(good)
    if dco_ok is False:
        for position, reason in enumerate(failing_reasons, start=1):
            session.add(MergeRequestCommit(
                merge_request_id=merge_request.id, position=position,
                sha=f"{merge_request.id:08x}{position:08x}" + "b" * 24, author_name=author.title(),
                author_email=email, committer_name=author.title(), committer_email=email,
                message="Unsigned change", authored_at=now, is_dco_ok=False, dco_reason=reason,
                dco_exempt=None))
    merge_request.head_sha = good.sha
    session.commit()
    return merge_request


def submitted_bounty(session: Session, claimant: Actor | None = None, *,
                     urls: list[str] | None = None, synced: bool = True, **overrides: object) -> Work:
    """Claimed, then submitted with `urls` (default: MERGE_REQUEST); with `synced` each merge
    request is first stored as merged, DCO-clean work (unless already there), as approval needs."""
    work = claimed_bounty(session, claimant, **overrides)
    if synced:
        for url in urls or [MERGE_REQUEST]:
            merged_work(session, url, person_id=work.claimant.person_id)
    claim = claims.submit_claim(session, work.claimant, work.bounty.id, urls or [MERGE_REQUEST],
                                gitlab_base_url=GITLAB)
    session.refresh(work.bounty)
    return Work(work.bounty, claim, work.claimant)


def approved_bounty(session: Session, claimant: Actor | None = None, **overrides: object) -> Work:
    """Submitted, then approved by reviewers of the EU and the UK."""
    work = submitted_bounty(session, claimant, **overrides)
    for name, jurisdiction in (("rev.eu", "EU"), ("rev.uk", "UK")):
        claims.review_claim(session, reviewer(session, name, jurisdiction), work.bounty.id,
                            "approve", "Looks good.")
    session.refresh(work.bounty)
    session.refresh(work.claim)
    return Work(work.bounty, work.claim, work.claimant)
