"""The reference seed and the demo data: what they load, idempotence, and ledger invariants."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bounty.governance.permissions import Role
from bounty.ledger import Money
from bounty.models import (
    AuditEvent,
    Base,
    Bounty,
    BountyCategory,
    Claim,
    ExchangeRate,
    HoursEntry,
    Identity,
    LedgerLine,
    Person,
    Pool,
    Reservation,
    WorkingGroup,
    WorkingGroupMember,
)
from bounty.services import demo_data, funds, fx, journal, seed
from bounty.services.actors import SYSTEM, Actor
from bounty.services.errors import InvalidInput, NotFound, PermissionDenied
from bounty.services.seed_files import SEED_DIR

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ADMIN = Actor(label="programme admin", roles=frozenset({"program-admin"}))


def row_counts(session) -> dict[str, int]:
    """Rows in every table: the whole database's shape, to compare before and after."""
    return {table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables}


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def test_the_reference_seed_loads_the_programme(session):
    report = seed.seed_reference(session, ADMIN)
    assert report.created["jurisdictions"] == 4
    assert report.funded and report.rates.added == 29
    groups = {g.code: g for g in session.execute(select(WorkingGroup)).scalars()}
    assert sorted(groups) == [f"WG{n}" for n in range(1, 9)]
    assert (groups["WG1"].lead_jurisdiction_code, groups["WG1"].lead_country) == ("EU", "Germany")
    assert (groups["WG6"].name, groups["WG6"].lead_jurisdiction_code) == ("Messaging & Integration", "CA")
    assert [c.name for c in groups["WG5"].capabilities] == [
        "IAM (Keycloak)", "KMS (OpenBao)", "Secrets", "WAF/DDoS"]
    assert "CDN" in [c.name for c in groups["WG4"].capabilities]
    assert groups["WG8"].technologies == "PostgreSQL, ScyllaDB, Valkey"
    security = session.execute(
        select(BountyCategory).where(BountyCategory.code == "critical_security_fix")
    ).scalar_one()
    assert (security.band_currency, security.min_minor, security.max_minor) == ("GBP", 500000, 2500000)
    assert (security.is_embargoed, security.remediation_hours) == (True, 48)
    statuses = {s.kind: s for s in funds.pool_statuses(session, 2026)}
    assert statuses["development_fund"].funded == eur("10000000")
    assert statuses["bounty_pool"].available == eur("500000")
    assert statuses["conference_sponsorship"].planned == eur("250000")
    # Each member pledged its share of all three pools: 25% of EUR 10.75M for the UK.
    assert journal.balance(session, "member:UK:pledged") == eur("2687500")
    assert journal.balance(session, "member:AU:pledged") == eur("1075000")


def test_the_rate_snapshot_is_recorded_as_a_snapshot_not_as_published_rates(session):
    seed.seed_reference(session, ADMIN)
    sources = set(session.execute(select(ExchangeRate.source)).scalars())
    assert sources == {fx.SNAPSHOT_SOURCE}
    gbp = fx.rate_on(session, "GBP", date(2026, 11, 22))
    assert gbp.rate_date == date(2026, 11, 20)
    assert Decimal("0.84") <= gbp.rate <= Decimal("0.87")
    assert Decimal("1.05") <= fx.rate_on(session, "USD", date(2026, 11, 20)).rate <= Decimal("1.10")


def test_seeding_twice_changes_nothing(session):
    seed.seed_reference(session, ADMIN)
    before = row_counts(session)
    again = seed.seed_reference(session, ADMIN)
    assert not again.changed
    assert again.created == {} and again.present["capabilities"] == 26
    assert row_counts(session) == before
    assert before["ledger_lines"] > 0 and before["audit_events"] > 0


def test_the_seed_audits_what_it_creates(session):
    seed.seed_reference(session, ADMIN)
    actions = set(session.execute(select(AuditEvent.action)).scalars())
    assert {"jurisdiction.create", "share.set", "working_group.create", "capability.create",
            "category.create", "pool.create", "pool.fund", "fx.import"} <= actions


def test_only_who_may_seed_data_may_seed(session):
    finance = Actor(label="finance", roles=frozenset({"finance"}))
    with pytest.raises(PermissionDenied):
        seed.seed_reference(session, finance)
    with pytest.raises(PermissionDenied):
        demo_data.seed_demo(session, finance)
    assert sum(row_counts(session).values()) == 0


def test_a_broken_seed_file_is_refused_before_anything_is_written(session, tmp_path):
    shutil.copytree(SEED_DIR, tmp_path / "seed")
    pools = tmp_path / "seed" / "pools.toml"
    pools.write_text(pools.read_text().replace('planned = "500000"', "planned = 500000.0"))
    with pytest.raises(InvalidInput, match="planned must be a decimal string"):
        seed.seed_reference(session, ADMIN, tmp_path / "seed")
    assert sum(row_counts(session).values()) == 0


def seeded_demo(session):
    seed.seed_reference(session, SYSTEM)
    return demo_data.seed_demo(session, SYSTEM, now=NOW)


def bounty(session, title_start: str) -> Bounty:
    return session.execute(select(Bounty).where(Bounty.title.startswith(title_start))).scalar_one()


def test_the_demo_keeps_the_ledger_sound(session):
    seeded_demo(session)
    for status in funds.pool_statuses(session, 2026):
        pool = session.get(Pool, status.pool_id)
        assert funds.held_reservations_total(session, pool) == status.reserved.minor
        assert journal.balance(session, funds.reserved_code(pool)) == status.reserved
        assert not status.available.is_negative() and not status.reserved.is_negative()
        assert status.funded == status.planned
    bounty_pool = next(s for s in funds.pool_statuses(session, 2026) if s.kind == "bounty_pool")
    assert bounty_pool.reserved.minor > 0
    # Per currency, the ledger balances to zero.
    totals = session.execute(
        select(LedgerLine.currency, func.sum(LedgerLine.amount_minor)).group_by(LedgerLine.currency)
    ).all()
    assert totals and all(total == 0 for _, total in totals)


def test_the_demo_has_bounties_in_every_early_state(session):
    seeded_demo(session)
    states = set(session.execute(select(Bounty.status)).scalars())
    assert {"draft", "open", "claimed", "submitted", "cancelled"} <= states
    draft = bounty(session, "Government deployment guide")
    assert draft.status == "draft" and draft.published_at is None
    assert session.execute(select(Reservation).where(Reservation.subject_id == draft.id)).first() is None
    live_bounties = select(Bounty).where(Bounty.status.in_(("open", "claimed", "submitted")))
    for live in session.execute(live_bounties).scalars():
        held = session.execute(
            select(Reservation).where(Reservation.purpose == "bounty", Reservation.subject_id == live.id)
        ).scalar_one()
        assert held.status == "held"
    cancelled = bounty(session, "Live migration fails")
    released = session.execute(select(Reservation).where(Reservation.subject_id == cancelled.id)).scalar_one()
    assert (cancelled.status, released.status) == ("cancelled", "released")
    assert cancelled.closed_at is not None


def test_a_converted_reservation_records_its_rate(session):
    seeded_demo(session)
    cad = bounty(session, "HAProxy health checks")
    held = session.execute(select(Reservation).where(Reservation.subject_id == cad.id)).scalar_one()
    rate = fx.rate_on(session, "CAD", NOW.date())
    assert (held.original_currency, held.original_minor, held.rate_id) == ("CAD", 450000, rate.id)
    expected = fx.to_eur(session, Money.parse("4500", "CAD"), NOW.date()).target
    assert Money(held.amount_minor, "EUR") == expected
    euro = bounty(session, "CAPC: cluster autoscaler")
    held = session.execute(select(Reservation).where(Reservation.subject_id == euro.id)).scalar_one()
    assert (held.amount_minor, held.rate_id, held.original_currency) == (6000000, None, None)


def test_claims_carry_their_clocks_and_submissions_their_merge_request(session):
    seeded_demo(session)
    security = bounty(session, "Token audience check bypass")
    [claim] = security.claims
    assert claim.status == "active"
    assert claim.remediation_due_at == claim.claimed_at + timedelta(hours=48)
    assert claim.expires_at == claim.claimed_at + timedelta(hours=security.claim_hours)
    assert claim.remediation_due_at > NOW
    plain = bounty(session, "Multipart uploads")
    assert plain.claims[0].remediation_due_at is None
    submitted = bounty(session, "Point-in-time recovery")
    [claim] = submitted.claims
    assert claim.status == "submitted" and claim.submitted_at is not None
    assert [link.url for link in claim.links] == [
        "https://gitlab.example.org/demo/postgres-operator/-/merge_requests/64"]


def test_demo_people_are_fictional_and_cover_every_role(session):
    seeded_demo(session)
    people = session.execute(select(Person)).scalars().all()
    assert all(p.email.endswith(("@example.org", "@example.net")) for p in people)
    assert all(p.keycloak_subject == f"demo-{p.username}" for p in people)
    roles = {role for p in people for role in p.roles}
    assert {role.value for role in Role} <= roles
    reviewer_places = {p.jurisdiction_code for p in people if "reviewer" in p.roles}
    assert len(reviewer_places) >= 3
    kinds = set(session.execute(select(Identity.kind)).scalars())
    assert kinds == {"email", "gitlab_username"}
    assert session.execute(select(func.count(WorkingGroupMember.id))).scalar_one() > 8
    statuses = set(session.execute(select(HoursEntry.status)).scalars())
    assert statuses == {"pending", "approved"}
    approved = session.execute(select(HoursEntry).where(HoursEntry.status == "approved")).scalars()
    assert all(h.reviewer_id not in (None, h.person_id) for h in approved)


def test_the_demo_twice_changes_nothing(session):
    seeded_demo(session)
    before = row_counts(session)
    again = demo_data.seed_demo(session, SYSTEM, now=NOW + timedelta(days=1))
    assert not again.changed
    assert row_counts(session) == before
    # Four claims of demo/bounties.toml and seven approved in demo/recognition.toml.
    assert session.execute(select(func.count(Claim.id))).scalar_one() == 11


def test_a_demo_bounty_outside_its_band_is_refused_by_title(session, tmp_path):
    shutil.copytree(SEED_DIR, tmp_path / "seed")
    bounties = tmp_path / "seed" / "demo" / "bounties.toml"
    # AUD 12,000 is about EUR 7,235: above the documentation band's GBP 5,000 (about EUR 5,861).
    bounties.write_text(bounties.read_text().replace('amount = "5000"\ncurrency = "AUD"',
                                                     'amount = "12000"\ncurrency = "AUD"'))
    seed.seed_reference(session, SYSTEM, tmp_path / "seed")
    with pytest.raises(InvalidInput, match=r"Runbook: Prometheus alerting.*outside the Documentation band"):
        demo_data.seed_demo(session, SYSTEM, tmp_path / "seed", now=NOW)
    assert session.execute(select(Bounty).where(Bounty.title.startswith("Runbook"))).first() is None


def test_the_demo_needs_the_reference_seed(session):
    with pytest.raises(NotFound, match=r"no bounty pool for 2026: run the reference seed"):
        demo_data.seed_demo(session, SYSTEM, now=NOW)
    assert session.execute(select(func.count(Person.id))).scalar_one() == 0
