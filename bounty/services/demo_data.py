"""Demo data: fictional organisations, people, working-group memberships, identities, hours
and bounties in every early state of the lifecycle, from the files in `seed/demo/`.

Everything here is fictional (names, `example.org`/`example.net` addresses, Keycloak
subjects `demo-<username>`, merge requests on `gitlab.example.org`) and meant for
demonstrations and tests; it needs the reference seed (`bounty.services.seed`) first.

Loading is idempotent by natural key (organisation name, username, identity kind and
value, working group and person, person + day + description for hours, bounty title):
what is there is left alone. Bounties go through the services that own their money:
an open, claimed or submitted bounty holds a reservation (`reservations.reserve`, with
the amount converted to EUR by `fx.to_eur` on the day the demo is seeded); a cancelled one
was reserved and then released (`reservations.release`); a draft holds nothing.

A submitted bounty's merge request is stored as a GitLab sync would store it: merged,
credited to the claimant, referencing the bounty's issue, one commit signed off by the
claimant (DCO-clean), so the demo's reviewers can approve it (approval needs that).

Band rule: a bounty may be in any currency, and its amount must lie inside its
category's band (kept in GBP) when both are expressed in EUR at the rates in force on the
day of seeding. A demo file that breaks it is refused, naming the bounty.

Then the recognition year (`demo_recognition`: merged work, approved bounties, hours,
consent, badges), the awards round (`demo_awards`) and the payment of what was approved
(`demo_payouts`).
"""

from __future__ import annotations

import zlib
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission, Role
from bounty.ledger import Conversion, Money
from bounty.models import (
    Bounty,
    BountyCategory,
    Capability,
    Claim,
    ClaimLink,
    HoursEntry,
    Identity,
    Jurisdiction,
    MergeRequest,
    MergeRequestCommit,
    Organisation,
    Person,
    Pool,
    WorkingGroup,
    WorkingGroupMember,
    utcnow,
)
from bounty.models.groups import MEMBER_ROLES
from bounty.models.hours import ACTIVITIES, HOURS_STATUSES
from bounty.services import (
    audit,
    demo_awards,
    demo_payouts,
    demo_recognition,
    funds,
    fx,
    reservations,
    seed_files,
)
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput, NotFound
from bounty.services.seed import SeedReport, amount, need
from bounty.services.seed_files import SEED_DIR

DEMO_STATUSES = ("draft", "open", "claimed", "submitted", "cancelled")
DEMO_GITLAB = "https://gitlab.example.org/"
_ROLES = {role.value for role in Role}


def _read(seed_dir: Path) -> dict[str, Any]:
    """Read the demo files and check what can be checked without the database."""
    try:
        data = {name: seed_files.read_toml(f"demo/{name}.toml", seed_dir)
                for name in ("organisations", "people", "bounties", "hours")}
    except (OSError, ValueError) as exc:
        raise InvalidInput("seed", f"cannot read the demo files in {seed_dir / 'demo'}: {exc}") from None
    organisations = {need(table, "name", "demo/organisations.toml")
                     for table in data["organisations"].get("organisations", [])}
    people = set()
    for person in data["people"].get("people", []):
        where = f"demo/people.toml {person.get('username', '?')}"
        for key in ("username", "display_name", "email", "jurisdiction"):
            need(person, key, where)
        if not person["email"].endswith(("@example.org", "@example.net")):
            raise InvalidInput(where, "demo e-mail addresses are at example.org or example.net")
        if person.get("organisation") and person["organisation"] not in organisations:
            raise InvalidInput(where, f"unknown organisation {person['organisation']!r}")
        unknown = set(person.get("roles", [])) - _ROLES
        if unknown:
            raise InvalidInput(where, f"unknown roles {', '.join(sorted(unknown))}")
        if set(person.get("working_groups", {}).values()) - set(MEMBER_ROLES):
            raise InvalidInput(where, f"working-group roles are {', '.join(MEMBER_ROLES)}")
        people.add(person["username"])
    for bounty in data["bounties"].get("bounties", []):
        _check_bounty(bounty, people)
    for entry in data["hours"].get("hours", []):
        where = f"demo/hours.toml {entry.get('person', '?')} {entry.get('worked_on', '?')}"
        reviewer = entry.get("reviewer")
        if need(entry, "person", where) not in people or reviewer not in (None, *people):
            raise InvalidInput(where, "person and reviewer must be demo people")
        if need(entry, "activity", where) not in ACTIVITIES:
            raise InvalidInput(where, f"activity must be one of {', '.join(ACTIVITIES)}")
        if need(entry, "status", where) not in HOURS_STATUSES:
            raise InvalidInput(where, f"status must be one of {', '.join(HOURS_STATUSES)}")
        if entry["status"] == "approved" and entry.get("reviewer") in (None, entry["person"]):
            raise InvalidInput(where, "approved hours need a reviewer other than the person")
        _quarter_hours(entry, where)
    return data


def _check_bounty(bounty: dict[str, Any], people: set[str]) -> None:
    where = f"demo/bounties.toml {bounty.get('title', '?')!r}"
    for key in ("title", "category", "amount", "currency", "status"):
        need(bounty, key, where)
    status = bounty["status"]
    if status not in DEMO_STATUSES:
        raise InvalidInput(where, f"status must be one of {', '.join(DEMO_STATUSES)}")
    if status in ("claimed", "submitted") and need(bounty, "claimant", where) not in people:
        raise InvalidInput(where, f"unknown claimant {bounty['claimant']!r}")
    if status == "submitted" and not str(need(bounty, "merge_request", where)).startswith(DEMO_GITLAB):
        raise InvalidInput(where, f"demo merge requests live on {DEMO_GITLAB}")
    if status == "cancelled":
        need(bounty, "cancel_reason", where)


def _quarter_hours(entry: dict[str, Any], where: str) -> int:
    try:
        quarters = Decimal(str(need(entry, "hours", where))) * 4
    except InvalidOperation:
        raise InvalidInput(where, f"hours {entry['hours']!r} is not a number") from None
    if quarters != quarters.to_integral_value() or not 1 <= quarters <= 96:
        raise InvalidInput(where, "hours are counted in quarter hours, from 0.25 to 24")
    return int(quarters)


def _one(session: Session, model: Any, **keys: Any) -> Any:
    return session.execute(select(model).filter_by(**keys)).scalar_one_or_none()


def _group(session: Session, code: str, where: str) -> WorkingGroup:
    group = _one(session, WorkingGroup, code=code)
    if group is None:
        raise NotFound(f"{where}: no working group {code}: run the reference seed first")
    return group


def _seed_people(session: Session, actor: Actor, data: dict[str, Any], now: datetime,
                 report: SeedReport) -> dict[str, Person]:
    organisations: dict[str, Organisation] = {}
    for table in data["organisations"].get("organisations", []):
        organisation = _one(session, Organisation, name=table["name"])
        report.count("organisations", organisation is None)
        if organisation is None:
            organisation = Organisation(name=table["name"], jurisdiction_code=table.get("jurisdiction"),
                                        kind=table.get("kind", "supplier"))
            session.add(organisation)
            session.flush()
            audit.record(session, actor, "organisation.create", "organisation", organisation.id,
                         {"name": organisation.name, "jurisdiction": organisation.jurisdiction_code})
        organisations[organisation.name] = organisation
    people: dict[str, Person] = {}
    for table in data["people"].get("people", []):
        person = _one(session, Person, username=table["username"])
        report.count("people", person is None)
        if person is None:
            organisation = organisations.get(table.get("organisation", ""))
            person = Person(
                keycloak_subject=f"demo-{table['username']}", username=table["username"],
                display_name=table["display_name"], email=table["email"].lower(),
                jurisdiction_code=table["jurisdiction"], roles=list(table.get("roles", [])),
                organisation_id=organisation.id if organisation else None,
                is_public_listing=True, public_listing_changed_at=now,
            )
            session.add(person)
            session.flush()
            audit.record(session, actor, "person.create", "person", person.id,
                         {"username": person.username, "roles": person.roles,
                          "jurisdiction": person.jurisdiction_code})
        people[person.username] = person
        identities = [("email", table["email"].lower())]
        if table.get("gitlab_username"):
            identities.append(("gitlab_username", table["gitlab_username"].lower()))
        for kind, value in identities:
            known = _one(session, Identity, kind=kind, value=value)
            report.count("identities", known is None)
            if known is None:
                session.add(Identity(person_id=person.id, kind=kind, value=value, is_verified=True))
                session.flush()
                audit.record(session, actor, "identity.link", "person", person.id,
                             {"kind": kind, "value": value})
        for code, role in table.get("working_groups", {}).items():
            group = _group(session, code, f"demo/people.toml {person.username}")
            known = _one(session, WorkingGroupMember, working_group_id=group.id, person_id=person.id)
            report.count("memberships", known is None)
            if known is None:
                session.add(WorkingGroupMember(working_group_id=group.id, person_id=person.id, role=role))
                session.flush()
                audit.record(session, actor, "working_group.member_add", "working_group", group.id,
                             {"person": person.username, "role": role})
    return people


def _seed_hours(session: Session, actor: Actor, entries: list[dict[str, Any]], people: dict[str, Person],
                now: datetime, report: SeedReport) -> None:
    for entry in entries:
        person = people[entry["person"]]
        worked_on = date.fromisoformat(str(entry["worked_on"]))
        known = _one(session, HoursEntry, person_id=person.id, worked_on=worked_on,
                     description=entry.get("description", ""))
        report.count("hours entries", known is None)
        if known is not None:
            continue
        where = f"demo/hours.toml {person.username} {worked_on}"
        approved = entry["status"] == "approved"
        hours = HoursEntry(
            person_id=person.id, worked_on=worked_on, quarter_hours=_quarter_hours(entry, where),
            activity=entry["activity"], working_group_id=_group(session, entry["working_group"], where).id,
            description=entry.get("description", ""), status=entry["status"],
            reviewer_id=people[entry["reviewer"]].id if approved else None,
            reviewed_at=now if approved else None,
        )
        session.add(hours)
        session.flush()
        audit.record(session, actor, "hours.create", "hours_entry", hours.id,
                     {"person": person.username, "worked_on": worked_on.isoformat(),
                      "quarter_hours": hours.quarter_hours, "status": hours.status})


def _check_band(session: Session, category: BountyCategory, conversion: Conversion, on: date,
                where: str) -> None:
    low = fx.to_eur(session, Money(category.min_minor, category.band_currency), on).target
    high = fx.to_eur(session, Money(category.max_minor, category.band_currency), on).target
    if not low <= conversion.target <= high:
        raise InvalidInput(where, f"{conversion.source} is {conversion.target} on {on.isoformat()}, "
                                  f"outside the {category.name} band of {low} to {high}")


def _claim(session: Session, actor: Actor, bounty: Bounty, category: BountyCategory, table: dict[str, Any],
           claimant: Person, now: datetime) -> None:
    claimed_at = now - timedelta(hours=int(table.get("claimed_hours_ago", 1)))
    submitted = table["status"] == "submitted"
    claim = Claim(
        bounty_id=bounty.id, person_id=claimant.id, status="submitted" if submitted else "active",
        claimed_at=claimed_at, expires_at=claimed_at + timedelta(hours=bounty.claim_hours),
        submitted_at=now - timedelta(hours=int(table.get("submitted_hours_ago", 0))) if submitted else None,
        remediation_due_at=(claimed_at + timedelta(hours=category.remediation_hours)
                            if category.remediation_hours else None),
    )
    session.add(claim)
    session.flush()
    audit.record(session, actor, "claim.create", "bounty", bounty.id,
                 {"claim": claim.id, "person": claimant.username, "expires_at": claim.expires_at,
                  "remediation_due_at": claim.remediation_due_at})
    if submitted:
        merged = _merge_request(session, bounty, table["merge_request"], claimant, claimed_at)
        session.add(ClaimLink(claim_id=claim.id, url=table["merge_request"], merge_request_id=merged.id))
        session.flush()
        audit.record(session, actor, "claim.submit", "bounty", bounty.id,
                     {"claim": claim.id, "merge_request": table["merge_request"]})


def _merge_request(session: Session, bounty: Bounty, url: str, author: Person,
                   claimed_at: datetime) -> MergeRequest:
    """The merged, DCO-clean merge request at `url` by `author`, as a sync stores it."""
    found = _one(session, MergeRequest, web_url=url)
    if found is not None:
        return found
    project_path, _sep, iid = url[len(DEMO_GITLAB):].partition("/-/merge_requests/")
    merged_at = claimed_at + timedelta(hours=1)
    author_identity = _one(session, Identity, kind="email", value=author.email.lower())
    closes = f"\n\nCloses #{bounty.gitlab_issue_iid}" if bounty.gitlab_issue_iid else ""
    merge_request = MergeRequest(
        # A fictional project id, the same on every run.
        gitlab_project_id=zlib.crc32(project_path.encode()) & 0x7FFFFFFF, project_path=project_path,
        iid=int(iid.strip("/")), title=bounty.title[:500], description=f"{bounty.description}{closes}",
        web_url=url, author_username=author.username,
        author_identity_id=author_identity.id if author_identity else None, person_id=author.id,
        merged_at=merged_at, gitlab_updated_at=merged_at, is_dco_ok=True, synced_at=merged_at,
    )
    session.add(merge_request)
    session.flush()
    sha = f"{zlib.crc32(url.encode()):08x}" * 5
    session.add(MergeRequestCommit(
        merge_request_id=merge_request.id, position=0, sha=sha, author_name=author.display_name,
        author_email=author.email, committer_name=author.display_name, committer_email=author.email,
        message=f"{bounty.title}\n\nSigned-off-by: {author.display_name} <{author.email}>",
        authored_at=merged_at, is_dco_ok=True, dco_reason="", dco_exempt=None,
    ))
    merge_request.head_sha = sha
    session.flush()
    return merge_request


def _seed_bounty(session: Session, actor: Actor, table: dict[str, Any], context: dict[str, Any],
                 now: datetime, report: SeedReport) -> None:
    where = f"demo/bounties.toml {table['title']!r}"
    if _one(session, Bounty, title=table["title"]) is not None:
        report.count("bounties", False)
        return
    category = _one(session, BountyCategory, code=table["category"])
    if category is None:
        raise NotFound(f"{where}: no category {table['category']}: run the reference seed first")
    group = _group(session, table["working_group"], where) if table.get("working_group") else None
    capability = _one(session, Capability, slug=table["capability"]) if table.get("capability") else None
    if table.get("capability") and capability is None:
        raise NotFound(f"{where}: no capability {table['capability']}: run the reference seed first")
    money = amount(table, "amount", table["currency"], where)
    conversion = fx.to_eur(session, money, now.date())
    _check_band(session, category, conversion, now.date(), where)
    status = table["status"]
    pool = context["pool"]
    opened_at = now - timedelta(days=int(table.get("opened_days_ago", 0)))
    bounty = Bounty(
        title=table["title"], description=table.get("description", ""), category_id=category.id,
        working_group_id=group.id if group else None, capability_id=capability.id if capability else None,
        pool_id=pool.id, amount_minor=money.minor, currency=money.currency,
        status="open" if status == "cancelled" else status,
        gitlab_project_path=table.get("gitlab_project"), gitlab_issue_iid=table.get("gitlab_issue"),
        claim_hours=int(table.get("claim_days", 14)) * 24, created_by_id=context["created_by"].id,
        published_at=None if status == "draft" else opened_at,
    )
    session.add(bounty)
    session.flush()
    audit.record(session, actor, "bounty.create", "bounty", bounty.id,
                 {"title": bounty.title, "amount": str(money), "status": bounty.status,
                  "category": category.code})
    report.count("bounties", True)
    if status in ("claimed", "submitted"):
        _claim(session, actor, bounty, category, table, context["people"][table["claimant"]], now)
    if status == "draft":
        session.commit()
        return
    # A EUR bounty needs no conversion on the record: pass one only when a rate was used.
    held = reservations.reserve(session, actor, pool, "bounty", bounty.id, conversion.target,
                                conversion if conversion.rate_id is not None else None)
    if status == "cancelled":
        bounty.status, bounty.closed_at = "cancelled", now
        audit.record(session, actor, "bounty.cancel", "bounty", bounty.id, {"reason": table["cancel_reason"]})
        reservations.release(session, actor, held, table["cancel_reason"])


def _reference_pool(session: Session, data: dict[str, Any], now: datetime) -> Pool:
    """The pool the demo bounties reserve in; its absence means no reference seed yet."""
    pool_key = data["bounties"].get("pool", {})
    try:
        pool = funds.get_pool(session, int(pool_key.get("year", now.year)),
                              pool_key.get("kind", "bounty_pool"))
    except NotFound as exc:
        raise NotFound(f"{exc}: run the reference seed (`bounty seed`) first") from None
    used = {table.get("jurisdiction") for name in ("organisations", "people")
            for table in data[name].get(name, [])} - {None}
    missing = sorted(code for code in used if session.get(Jurisdiction, code) is None)
    if missing:
        raise NotFound(f"no jurisdiction {', '.join(missing)}: run the reference seed (`bounty seed`) first")
    return pool


def seed_demo(session: Session, actor: Actor, seed_dir: Path = SEED_DIR,
              now: datetime | None = None) -> SeedReport:
    """Load the demo data of `seed_dir / "demo"` (see the module docstring); idempotent.

    People, identities, memberships and hours are one transaction; each bounty is one more
    (with its reservation, and its release when cancelled). `now` (default: the current
    time) anchors the relative times of the demo files.
    """
    actor.require(Permission.SEED_DATA)
    data = _read(seed_dir)
    now = now or utcnow()
    report = SeedReport()
    try:
        pool = _reference_pool(session, data, now)
        people = _seed_people(session, actor, data, now, report)
        _seed_hours(session, actor, data["hours"].get("hours", []), people, now, report)
        creator = people.get(data["bounties"].get("created_by", ""))
        if creator is None:
            raise InvalidInput("demo/bounties.toml", "created_by must name a demo person")
        session.commit()
        context = {"pool": pool, "people": people, "created_by": creator}
        for table in data["bounties"].get("bounties", []):
            _seed_bounty(session, actor, table, context, now, report)
        demo_recognition.seed_demo_recognition(session, actor, seed_dir, people, now, report.count)
        demo_awards.seed_demo_awards(session, actor, seed_dir, people, now, report.count)
        demo_payouts.seed_demo_payouts(session, actor, seed_dir, people, now, report.count)
    except BaseException:
        session.rollback()
        raise
    return report
