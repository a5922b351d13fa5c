"""The demo's recognition year: merged work, approved bounties and hours, listing consent and
badges, all inside the current year; a second run changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bounty.models import (
    AuditEvent,
    Bounty,
    Claim,
    HoursEntry,
    ListingConsent,
    MergeRequest,
    Person,
    PersonBadge,
    Review,
)
from bounty.services import audit, badges, demo_data, ledger_check, seed
from bounty.services.actors import SYSTEM
from tests.service.test_seed import row_counts

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
PRIVATE = {"lukas.platzhalter", "polly.placeholder", "aude.auditrice"}


def seeded(session) -> None:
    seed.seed_reference(session, SYSTEM)
    demo_data.seed_demo(session, SYSTEM, now=NOW)


def test_the_demo_twice_gives_the_same_counts(session):
    seeded(session)
    before = row_counts(session)
    again = demo_data.seed_demo(session, SYSTEM, now=NOW + timedelta(days=1))
    assert not again.changed
    assert again.present["demo merge requests"] == 77 and again.present["demo approved bounties"] == 7
    assert row_counts(session) == before
    assert audit.verify(session) == []


def test_most_demo_people_are_public_and_some_are_not(session):
    seeded(session)
    listing = dict(session.execute(select(Person.username, Person.is_public_listing)).all())
    assert {name for name, public in listing.items() if not public} == PRIVATE
    assert sum(listing.values()) == len(listing) - len(PRIVATE) == 10
    consents = session.execute(select(ListingConsent)).scalars().all()
    assert len(consents) == 13 and {c.source for c in consents} == {"admin"}
    events = session.execute(
        select(AuditEvent).where(AuditEvent.action == "person.listing_consent")).scalars().all()
    assert len(events) == 13


def test_every_demo_contributor_has_merged_work_in_the_year(session):
    seeded(session)
    people = {p.id: p for p in session.execute(select(Person)).scalars()}
    clean = session.execute(select(MergeRequest).where(MergeRequest.is_dco_ok.is_(True))).scalars().all()
    assert 70 <= len(clean) <= 90
    assert all(YEAR_START <= mr.merged_at <= NOW for mr in clean)
    authors = {people[mr.person_id].username for mr in clean}
    contributors = {p.username for p in people.values() if "contributor" in p.roles}
    assert authors == contributors and "aude.auditrice" not in authors
    failing = session.execute(select(MergeRequest).where(MergeRequest.is_dco_ok.is_(False))).scalars().all()
    assert len(failing) == 4 and all(mr.person_id is not None for mr in failing)


def test_demo_bounties_are_approved_through_the_review_rule_then_paid(session):
    seeded(session)
    approved = session.execute(select(Bounty).where(Bounty.status == "paid")).scalars().all()
    assert len(approved) == 7
    decided = session.execute(select(Claim).where(Claim.status == "approved")).scalars().all()
    assert all(YEAR_START <= c.decided_at <= NOW for c in decided)
    reviews = session.execute(select(Review)).scalars().all()
    assert len(reviews) == 14 and all(YEAR_START <= r.created_at <= NOW for r in reviews)
    assert ledger_check.check(session) == []
    hours = session.execute(
        select(HoursEntry).where(HoursEntry.description.contains("(part "))).scalars().all()
    assert len(hours) == 55 and {h.status for h in hours} == {"approved"}


def test_demo_badges_are_dated_by_their_facts_inside_the_year(session):
    seeded(session)
    rows = session.execute(select(PersonBadge)).scalars().all()
    assert len(rows) >= 20
    assert all(YEAR_START <= row.earned_at <= NOW for row in rows)
    people = {p.username: p.id for p in session.execute(select(Person)).scalars()}
    codes = {name: {b.code for b in badges.badges_of(session, pid)} for name, pid in people.items()}
    assert {"first_merge", "merges_10", "first_bounty"} <= codes["ada.beispiel"]
    assert "security_fixer" in codes["terry.testcase"]
    assert "mentor" in codes["jack.fixture"] and "documentation_champion" in codes["noor.voorbeeld"]
    assert "hours_100" in codes["lukas.platzhalter"]  # badges of a person who is not listed publicly
    assert "reviewer" in codes["sam.sample"]
    assert codes["aude.auditrice"] == set()
    # Nothing is left for a re-evaluation to award.
    assert badges.award_badges(session, SYSTEM, now=NOW) == []
