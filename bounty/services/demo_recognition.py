"""Demo recognition data (seed/demo/recognition.toml): merged work, approved bounties, approved
hours and public-listing consent, so leaderboards, badges and the awards have a year to show.

Everything is dated inside the current year, between 1 January and `now` (the moment of
seeding). Merged work is stored as a GitLab sync stores it (merged, credited to the demo
person, one commit whose sign-off decides the DCO verdict), each with an audit event.
Bounties go through the services that own their money and rules: the bounty is reserved in
the pool (`reservations.reserve`), claimed, its merged work submitted, then approved by two
reviewers through `claims.review_claim`, which turns the reserve into a payable and awards
badges. Hours are logged and approved through `bounty.services.hours`. Consent is one
`ListingConsent` row per person (source "admin") with its audit event. Badges are then
awarded to every demo person (`badges.award_badges_now`) and dated by the complete facts
(`badges.redate_badges_now`: the facts were written out of order).

Idempotent by natural key (project + iid, bounty title, person + hours description, one
consent row per person): a second run adds nothing, whatever its `now`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.ledger import LedgerError, Money
from bounty.models import (
    Bounty,
    BountyCategory,
    Capability,
    Claim,
    ClaimLink,
    HoursEntry,
    Identity,
    ListingConsent,
    MergeRequest,
    MergeRequestCommit,
    Person,
    WorkingGroup,
)
from bounty.models.hours import ACTIVITIES
from bounty.services import audit, badges, claims, funds, fx, hours, reservations, seed_files
from bounty.services.actors import Actor, person_actor
from bounty.services.errors import InvalidInput, NotFound

DEMO_GITLAB = "https://gitlab.example.org/"
MISSING_SIGN_OFF = "The sign-off is missing."
Count = Callable[[str, bool], None]


def _read(seed_dir: Path, people: dict[str, Person]) -> dict[str, Any]:
    """Read demo/recognition.toml and check what can be checked without the database."""
    try:
        data = seed_files.read_toml("demo/recognition.toml", seed_dir)
    except (OSError, ValueError) as exc:
        raise InvalidInput("seed", f"cannot read {seed_dir / 'demo' / 'recognition.toml'}: {exc}") from None

    def person(name: object, where: str) -> None:
        if name not in people:
            raise InvalidInput(where, f"{name!r} is not a demo person")

    for name in data.get("listing", {}).get("private", []):
        person(name, "demo/recognition.toml [listing]")
    seen: set[tuple[str, int]] = set()
    for entry in data.get("merged_work", []):
        where = f"demo/recognition.toml merged_work {entry.get('person', '?')} {entry.get('project', '?')}"
        person(entry.get("person"), where)
        if not entry.get("topics") or not isinstance(entry.get("first_iid"), int):
            raise InvalidInput(where, "give first_iid and topics")
        for iid in range(entry["first_iid"], entry["first_iid"] + _mr_count(entry)):
            if (entry["project"], iid) in seen:
                raise InvalidInput(where, f"{entry['project']}!{iid} is listed twice")
            seen.add((entry["project"], iid))
    for table in data.get("bounties", []):
        where = f"demo/recognition.toml {table.get('title', '?')!r}"
        person(table.get("claimant"), where)
        reviewers = table.get("reviewers", [])
        for name in reviewers:
            person(name, where)
        if len(set(reviewers)) < 2 or table["claimant"] in reviewers:
            raise InvalidInput(where, "two reviewers, neither of them the claimant")
        if not str(table.get("merge_request", "")).startswith(DEMO_GITLAB):
            raise InvalidInput(where, f"demo merge requests live on {DEMO_GITLAB}")
    for entry in data.get("hours", []):
        where = f"demo/recognition.toml hours {entry.get('person', '?')} {entry.get('description', '?')!r}"
        person(entry.get("person"), where)
        person(entry.get("reviewer"), where)
        if entry.get("activity") not in ACTIVITIES:
            raise InvalidInput(where, f"activity must be one of {', '.join(ACTIVITIES)}")
        if entry["person"] == entry["reviewer"]:
            raise InvalidInput(where, "approved hours need a reviewer other than the person")
        try:
            hours.parse_quarter_hours(str(entry.get("hours")))
        except InvalidInput as exc:
            raise InvalidInput(where, exc.reason) from None
    return data


def _mr_count(entry: dict[str, Any]) -> int:
    return int(entry.get("merges", 0)) + int(entry.get("failing", 0))


class _Year:
    """Moments of the current year up to `now`: the demo's calendar."""

    def __init__(self, now: datetime) -> None:
        self.start = datetime(now.year, 1, 1, tzinfo=UTC)
        self.end = max(now - timedelta(hours=1), self.start + timedelta(hours=1))

    def at(self, fraction: float) -> datetime:
        """The moment `fraction` (0 to 1) of the way from 1 January to now."""
        fraction = min(max(fraction, 0.0), 1.0)
        return self.start + (self.end - self.start) * fraction

    def clamp(self, moment: datetime) -> datetime:
        return min(max(moment, self.start), self.end)


def _merge_request(session: Session, actor: Actor, person: Person, project: str, iid: int, title: str,
                   merged_at: datetime, dco_ok: bool, description: str = "") -> tuple[MergeRequest, bool]:
    """The merged merge request project!iid credited to `person`, stored when missing."""
    project_id = zlib.crc32(project.encode()) & 0x7FFFFFFF  # a fictional id, the same on every run
    found = session.execute(select(MergeRequest).where(
        MergeRequest.gitlab_project_id == project_id, MergeRequest.iid == iid)).scalar_one_or_none()
    if found is not None:
        return found, False
    identity = session.execute(select(Identity).where(
        Identity.person_id == person.id, Identity.kind == "gitlab_username")).scalars().first()
    url = f"{DEMO_GITLAB}{project}/-/merge_requests/{iid}"
    merge_request = MergeRequest(
        gitlab_project_id=project_id, project_path=project, iid=iid, title=title[:500],
        description=description, web_url=url, author_username=identity.value if identity else person.username,
        author_identity_id=identity.id if identity else None, person_id=person.id, merged_at=merged_at,
        gitlab_updated_at=merged_at, is_dco_ok=dco_ok, synced_at=merged_at,
    )
    session.add(merge_request)
    session.flush()
    sha = f"{zlib.crc32(url.encode()):08x}" * 5
    sign_off = f"\n\nSigned-off-by: {person.display_name} <{person.email}>" if dco_ok else ""
    session.add(MergeRequestCommit(
        merge_request_id=merge_request.id, position=0, sha=sha, author_name=person.display_name,
        author_email=person.email or "", committer_name=person.display_name,
        committer_email=person.email or "", message=f"{title}{sign_off}", authored_at=merged_at,
        is_dco_ok=dco_ok, dco_reason="" if dco_ok else MISSING_SIGN_OFF, dco_exempt=None,
    ))
    merge_request.head_sha = sha
    session.flush()
    audit.record(session, actor, "merge_request.import", "merge_request", merge_request.id,
                 {"project": project, "iid": iid, "created": True, "dco_ok": dco_ok, "demo": True})
    return merge_request, True


def _seed_merged_work(session: Session, actor: Actor, data: dict[str, Any], people: dict[str, Person],
                      year: _Year, count: Count) -> None:
    for entry in data.get("merged_work", []):
        person, total = people[entry["person"]], _mr_count(entry)
        # Each person's work is shifted a little, so two people never merge at the same moment.
        shift = (zlib.crc32(person.username.encode()) % 1000) / 1000 / (total + 1)
        failing_every = total // int(entry.get("failing", 0)) if entry.get("failing") else 0
        for k in range(total):
            topic = entry["topics"][k % len(entry["topics"])]
            title = topic if k < len(entry["topics"]) else f"{topic} (part {k // len(entry['topics']) + 1})"
            dco_ok = not (failing_every and k % failing_every == failing_every - 1)
            _row, created = _merge_request(session, actor, person, entry["project"], entry["first_iid"] + k,
                                           title, year.at((k + 0.5) / total * 0.98 + shift), dco_ok)
            count("demo merge requests", created)
    session.commit()


def _lookup(session: Session, model: Any, where: str, **keys: Any) -> Any:
    found = session.execute(select(model).filter_by(**keys)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"{where}: no {model.__tablename__} {keys}: run the reference seed first")
    return found


def _seed_bounty(session: Session, actor: Actor, table: dict[str, Any], people: dict[str, Person],
                 context: dict[str, Any], year: _Year, count: Count) -> None:
    known = session.execute(select(Bounty).where(Bounty.title == table["title"])).scalar_one_or_none()
    count("demo approved bounties", known is None)
    if known is not None:
        return
    where = f"demo/recognition.toml {table['title']!r}"
    category = _lookup(session, BountyCategory, where, code=table["category"])
    group = _lookup(session, WorkingGroup, where, code=table["working_group"])
    capability = _lookup(session, Capability, where, slug=table["capability"])
    try:
        money = Money.parse(str(table["amount"]), table["currency"])
    except (LedgerError, KeyError) as exc:
        raise InvalidInput(where, f"amount: {exc}") from None
    approved_at = year.clamp(context["now"] - timedelta(days=int(table.get("approved_days_ago", 1))))
    opened_at = year.clamp(approved_at - timedelta(days=12))

    def step(fraction: float) -> datetime:
        return opened_at + (approved_at - opened_at) * fraction

    # Converted at the rates in force on the day of seeding, as the other demo bounties are:
    # a fresh instance holds only the rate snapshot.
    day = context["now"].date()
    conversion = fx.to_eur(session, money, day)
    low = fx.to_eur(session, Money(category.min_minor, category.band_currency), day).target
    high = fx.to_eur(session, Money(category.max_minor, category.band_currency), day).target
    if not low <= conversion.target <= high:
        raise InvalidInput(where, f"{money} is {conversion.target}, outside the {category.name} band "
                                  f"of {low} to {high}")
    claimant = people[table["claimant"]]
    bounty = Bounty(
        title=table["title"], description=table.get("description", ""), category_id=category.id,
        working_group_id=group.id, capability_id=capability.id, pool_id=context["pool"].id,
        amount_minor=money.minor, currency=money.currency, status="submitted",
        claim_hours=14 * 24, created_by_id=context["created_by"], published_at=opened_at,
        # A security fix is shown once disclosed: the demo's was disclosed when merged.
        disclosed_at=step(0.6) if category.is_embargoed else None,
    )
    session.add(bounty)
    session.flush()
    audit.record(session, actor, "bounty.create", "bounty", bounty.id,
                 {"title": bounty.title, "amount": str(money), "status": "open", "category": category.code})
    claim = Claim(bounty_id=bounty.id, person_id=claimant.id, status="submitted", claimed_at=step(0.2),
                  expires_at=step(0.2) + timedelta(hours=bounty.claim_hours), submitted_at=step(0.7),
                  remediation_due_at=(step(0.2) + timedelta(hours=category.remediation_hours)
                                      if category.remediation_hours else None))
    session.add(claim)
    session.flush()
    audit.record(session, actor, "claim.create", "bounty", bounty.id,
                 {"claim": claim.id, "person": claimant.username, "expires_at": claim.expires_at})
    url = table["merge_request"]
    project, _sep, iid = url[len(DEMO_GITLAB):].partition("/-/merge_requests/")
    merged, _created = _merge_request(session, actor, claimant, project, int(iid), bounty.title,
                                      step(0.6), True, bounty.description)
    session.add(ClaimLink(claim_id=claim.id, url=url, merge_request_id=merged.id))
    session.flush()
    audit.record(session, actor, "claim.submit", "bounty", bounty.id,
                 {"claim": claim.id, "merge_request": url})
    reservations.reserve(session, actor, context["pool"], "bounty", bounty.id, conversion.target,
                         conversion if conversion.rate_id is not None else None)
    for reviewer, fraction in zip(table["reviewers"], (0.85, 1.0), strict=False):
        review = claims.review_claim(session, person_actor(people[reviewer]), bounty.id, "approve",
                                     "Reviewed and tested: approved.", now=step(fraction))
        # A review is stamped when recorded; the demo's belongs to its day in the demo's year.
        review.created_at = step(fraction)
        session.commit()


def _seed_hours(session: Session, data: dict[str, Any], people: dict[str, Person], year: _Year,
                count: Count) -> None:
    for entry in data.get("hours", []):
        person, reviewer = people[entry["person"]], people[entry["reviewer"]]
        group = _lookup(session, WorkingGroup, "demo/recognition.toml hours", code=entry["working_group"])
        shift = (zlib.crc32(person.username.encode()) % 97) / 97 / (entry["entries"] + 1)
        for k in range(int(entry["entries"])):
            description = f"{entry['description']} (part {k + 1})"
            known = session.execute(select(HoursEntry.id).where(
                HoursEntry.person_id == person.id, HoursEntry.description == description)).first()
            count("demo approved hours", known is None)
            if known is not None:
                continue
            worked_on: date = year.at((k + 0.3) / entry["entries"] * 0.95 + shift).date()
            logged = hours.log_hours(session, person_actor(person), hours.HoursInput(
                worked_on, str(entry["hours"]), entry["activity"], group.code, description),
                backdate_days=0, today=worked_on)
            reviewed_at = year.clamp(datetime.combine(worked_on + timedelta(days=2), time(10), UTC))
            hours.review_hours(session, person_actor(reviewer), logged.id, "approve", now=reviewed_at)


def _seed_consent(session: Session, actor: Actor, data: dict[str, Any], people: dict[str, Person],
                  now: datetime, count: Count) -> None:
    private = set(data.get("listing", {}).get("private", []))
    recorded = set(session.execute(select(ListingConsent.person_id).where(
        ListingConsent.person_id.in_([p.id for p in people.values()]))).scalars())
    for username, person in sorted(people.items()):
        count("demo listing consents", person.id not in recorded)
        if person.id in recorded:
            continue
        public = username not in private
        session.add(ListingConsent(person_id=person.id, is_public=public, recorded_at=now, source="admin"))
        person.is_public_listing, person.public_listing_changed_at = public, now
        session.flush()
        audit.record(session, actor, "person.listing_consent", "person", person.id,
                     {"is_public": public, "source": "admin", "recorded_at": now.isoformat()})
    session.commit()


def seed_demo_recognition(session: Session, actor: Actor, seed_dir: Path, people: dict[str, Person],
                          now: datetime, count: Callable[[str, bool], None]) -> None:
    """Load the demo recognition data; idempotent, commits what it adds."""
    actor.require(Permission.SEED_DATA)
    data = _read(seed_dir, people)
    year = _Year(now)
    pool_key = data.get("pool", {})
    try:
        pool = funds.get_pool(session, int(pool_key.get("year", now.year)),
                              pool_key.get("kind", "bounty_pool"))
    except NotFound as exc:
        raise NotFound(f"{exc}: run the reference seed (`bounty seed`) first") from None
    creator = next((p.id for p in people.values() if "program-admin" in (p.roles or ())), None)
    try:
        _seed_consent(session, actor, data, people, now, count)
        _seed_merged_work(session, actor, data, people, year, count)
        context = {"pool": pool, "now": now, "created_by": creator}
        for table in data.get("bounties", []):
            _seed_bounty(session, actor, table, people, context, year, count)
        _seed_hours(session, data, people, year, count)
        ids = [p.id for p in people.values()]
        for _awarded in badges.award_badges_now(session, ids, until=now):
            count("demo badges", True)
        # The services awarded badges as the demo's facts came in, older ones after newer
        # ones: date each badge by the complete facts.
        badges.redate_badges_now(session, ids)
        session.commit()
    except BaseException:
        session.rollback()
        raise
