"""Grants: creation and its reserve, milestone sign-off into payables split by share,
completion, cancellation, overdue milestones, who sees what; on both databases, and the
sign-off race on PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.ledger import InsufficientFunds, Money
from bounty.models import (
    Account,
    AuditEvent,
    Grant,
    LedgerLine,
    LedgerTransaction,
    Organisation,
    Person,
    Pool,
    Reservation,
    Tranche,
    utcnow,
)
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import audit, funds, grant_queries, grants, journal, ledger_check
from bounty.services.actors import SYSTEM
from bounty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bounty.services.grants import GrantInput, TrancheInput
from tests import workflow_factories as wf

TODAY = utcnow().date()


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def fund(session: Session) -> Pool:
    """The reference seed and this year's development fund (EUR 10,000,000, funded by share)."""
    wf.reference(session)
    year = utcnow().year
    try:
        return funds.get_pool(session, year, grants.DEVELOPMENT_FUND)
    except NotFound:
        pool = funds.ensure_pool(session, SYSTEM, year, grants.DEVELOPMENT_FUND,
                                 "Sovereign Cloud Development Fund", eur("10000000"))
        funds.fund_pool(session, SYSTEM, pool)
        return pool


def organisation(session: Session, name: str = "Acme Cloud GmbH") -> Organisation:
    org = Organisation(name=name, jurisdiction_code="EU", kind="supplier")
    session.add(org)
    session.commit()
    return org


def tranches(*amounts: str, first_due: int = 30, step: int = 30) -> list[TrancheInput]:
    return [TrancheInput(f"Milestone {i}", TODAY + timedelta(days=first_due + step * (i - 1)), amount)
            for i, amount in enumerate(amounts, start=1)]


def grant_input(grantee: Person | None = None, org: Organisation | None = None, total: str = "60000",
                currency: str = "EUR", parts: tuple[str, ...] = ("20000", "20000", "20000"),
                **overrides) -> GrantInput:
    """A grant of EUR 60000 in three tranches of 20000, due in 30, 60 and 90 days."""
    data = GrantInput(title="Maintain the CloudStack KVM agent", total=total, currency=currency,
                      tranches=tranches(*parts), grantee_person_id=grantee.id if grantee else None,
                      grantee_organisation_id=org.id if org else None)
    return replace(data, **overrides)


def grantee(session: Session, username: str = "gina") -> Person:
    return wf.person(session, username, ("contributor",), "UK")


def balance(session: Session, code: str) -> Money:
    return journal.balance(session, code)


def timeline(session: Session, grant_id: int) -> list[str]:
    return [e.action for e in audit.events_for(session, "grant", grant_id)]


def count(session: Session, model, *where) -> int:
    return int(session.execute(select(func.count(model.id)).where(*where)).scalar_one())


def reserved_code(pool: Pool) -> str:
    return funds.reserved_code(pool)


# Creating


def test_a_grant_to_a_person_is_active_and_reserves_each_tranche(session):
    pool = fund(session)
    gina = grantee(session)
    grant = grants.create_grant(session, wf.admin(session), grant_input(gina, working_group_code="wg2"))
    assert (grant.status, grant.currency, grant.total_minor, grant.pool_id) == ("active", "EUR", 6_000_000,
                                                                                  pool.id)
    assert [(t.position, t.status, t.amount_minor) for t in grant.tranches] == [
        (1, "pending", 2_000_000), (2, "pending", 2_000_000), (3, "pending", 2_000_000)]
    held = session.execute(select(Reservation).where(Reservation.purpose == "grant")
                           .order_by(Reservation.subject_id)).scalars().all()
    assert [(r.subject_id, r.amount_minor, r.status, r.pool_id) for r in held] == [
        (t.id, 2_000_000, "held", pool.id) for t in grant.tranches]
    assert balance(session, reserved_code(pool)) == eur("60000")
    assert balance(session, funds.available_code(pool)) == eur("9940000")
    assert timeline(session, grant.id) == ["grant.create"] + ["reservation.hold"] * 3
    view = grant_queries.get_grant(session, wf.admin(session), grant.id)
    assert (view.grantee_kind, view.grantee_id, view.working_group_code) == ("person", gina.id, "WG2")
    assert (view.total, view.total_eur, view.pending, view.signed_off) == (
        eur("60000"), eur("60000"), eur("60000"), eur("0"))
    assert ledger_check.check(session) == []


def test_a_grant_to_an_organisation(session):
    fund(session)
    org = organisation(session)
    grant = grants.create_grant(session, wf.admin(session), grant_input(org=org))
    view = grant_queries.get_grant(session, wf.admin(session), grant.id)
    assert (view.grantee_kind, view.grantee_id, view.grantee_name) == ("organisation", org.id,
                                                                       "Acme Cloud GmbH")


@pytest.mark.parametrize(("parts", "message"), [
    (("20000", "20000", "19900"), "the tranche amounts sum to EUR 59900.00, EUR 100.00 short of the "
                                  "total of EUR 60000.00"),
    (("20000", "20000", "20000.01"), "the tranche amounts sum to EUR 60000.01, EUR 0.01 over the "
                                     "total of EUR 60000.00"),
])
def test_tranches_must_sum_exactly_to_the_total(session, parts, message):
    fund(session)
    lines = count(session, LedgerLine)
    with pytest.raises(InvalidInput) as refused:
        grants.create_grant(session, wf.admin(session), grant_input(grantee(session), parts=parts))
    assert (refused.value.field, refused.value.reason) == ("tranches", message)
    assert count(session, Grant) == 0 and count(session, LedgerLine) == lines


@pytest.mark.parametrize(("change", "field"), [
    ({"grantee_person_id": None}, "grantee"),
    ({"grantee_organisation_id": "org"}, "grantee"),
    ({"grantee_person_id": 999_999}, "grantee_person_id"),
    ({"currency": "XYZ"}, "currency"),
    ({"total": "-5"}, "total"),
    ({"total": "60000.001"}, "total"),
    ({"title": "  "}, "title"),
    ({"tranches": []}, "tranches"),
    ({"tranches": [TrancheInput("", TODAY, "60000")]}, "tranches[1].milestone"),
    ({"tranches": [TrancheInput("Done", TODAY - timedelta(days=1), "60000")]}, "tranches[1].due_on"),
    ({"tranches": [TrancheInput("Done", "next week", "60000")]}, "tranches[1].due_on"),
    ({"tranches": [TrancheInput("A", TODAY + timedelta(days=9), "30000"),
                   TrancheInput("B", TODAY + timedelta(days=8), "30000")]}, "tranches[2].due_on"),
    ({"tranches": [TrancheInput("A", TODAY, "0"), TrancheInput("B", TODAY, "60000")]}, "tranches[1].amount"),
    ({"working_group_code": "WG99"}, "working_group_code"),
])
def test_bad_input_is_refused_naming_the_field(session, change, field):
    fund(session)
    org = organisation(session)
    data = grant_input(grantee(session))
    if change.get("grantee_organisation_id") == "org":
        change = {"grantee_organisation_id": org.id}
    with pytest.raises(InvalidInput) as refused:
        grants.create_grant(session, wf.admin(session), replace(data, **change))
    assert refused.value.field == field
    assert count(session, Grant) == 0


def test_only_program_admins_create_grants(session):
    fund(session)
    with pytest.raises(PermissionDenied):
        grants.create_grant(session, wf.reviewer(session, "rev.eu", "EU"), grant_input(grantee(session)))


def test_a_grant_the_fund_cannot_cover_is_refused_and_writes_nothing(session):
    pool = fund(session)
    admin = wf.admin(session)
    grants.create_grant(session, admin, grant_input(grantee(session), total="9950000",
                                                    parts=("5000000", "4950000")))
    lines, events = count(session, LedgerLine), audit.count_events(session)
    with pytest.raises(InsufficientFunds) as refused:
        grants.create_grant(session, admin, grant_input(grantee(session, "gus")))
    assert str(refused.value) == (f"{pool.name} {pool.year} cannot cover EUR 60000.00: "
                                  "only EUR 50000.00 is available")
    assert count(session, Grant) == 1
    assert (count(session, LedgerLine), audit.count_events(session)) == (lines, events)
    assert balance(session, funds.available_code(pool)) == eur("50000")


def test_a_gbp_grant_is_reserved_in_eur_at_the_seeded_rate(session):
    pool = fund(session)
    grant = grants.create_grant(session, wf.admin(session), grant_input(
        grantee(session), total="50000", currency="GBP", parts=("20000", "30000")))
    held = session.execute(select(Reservation).where(Reservation.purpose == "grant")
                           .order_by(Reservation.subject_id)).scalars().all()
    # 1 EUR = 0.8531 GBP (snapshot of 2026-11-20): 20000 / 0.8531 = 23443.910..., 30000 / 0.8531
    # = 35165.866...
    assert [(r.amount_minor, r.original_minor, r.original_currency) for r in held] == [
        (2_344_391, 2_000_000, "GBP"), (3_516_587, 3_000_000, "GBP")]
    assert all(r.rate_id is not None for r in held)
    assert balance(session, reserved_code(pool)) == eur("58609.78")
    assert grant_queries.get_grant(session, wf.admin(session), grant.id).total_eur == eur("58609.78")


def test_a_cad_grant_reserves_the_sum_of_its_tranches_converted(session):
    """Each tranche is converted on its own, so each payable matches its reserve exactly; the
    sum (3 x 16432.23) can differ from the total converted at once (49296.70) by a cent."""
    pool = fund(session)
    grant = grants.create_grant(session, wf.admin(session), grant_input(
        grantee(session), total="75000", currency="CAD", parts=("25000", "25000", "25000")))
    assert balance(session, reserved_code(pool)) == eur("49296.69")
    view = grant_queries.get_grant(session, wf.admin(session), grant.id)
    assert [t.amount_eur for t in view.tranches] == [eur("16432.23")] * 3
    assert view.total == Money.parse("75000", "CAD")


# Signing off


def test_the_grantee_cannot_sign_off_their_own_milestone(session):
    fund(session)
    gina = wf.person(session, "gina", ("contributor", "reviewer"), "UK")
    grant = grants.create_grant(session, wf.admin(session), grant_input(gina))
    with pytest.raises(PermissionDenied, match="own grant"):
        grants.sign_off_tranche(session, wf.actor_of(gina), grant.id, 1)
    assert session.get(Tranche, grant.tranches[0].id).status == "pending"


def test_members_of_the_grantee_organisation_cannot_sign_off(session):
    fund(session)
    org = organisation(session)
    member = wf.person(session, "otto", ("contributor", "reviewer"), "EU")
    member.organisation_id = org.id
    session.commit()
    grant = grants.create_grant(session, wf.admin(session), grant_input(org=org))
    with pytest.raises(PermissionDenied, match="grantee organisation"):
        grants.sign_off_tranche(session, wf.actor_of(member), grant.id, 1)


def test_only_reviewers_sign_off(session):
    fund(session)
    grant = grants.create_grant(session, wf.admin(session), grant_input(grantee(session)))
    with pytest.raises(PermissionDenied):
        grants.sign_off_tranche(session, wf.contributor(session), grant.id, 1)
    with pytest.raises(NotFound, match="no tranche 4"):
        grants.sign_off_tranche(session, wf.reviewer(session, "rev.eu", "EU"), grant.id, 4)
    with pytest.raises(NotFound, match="no grant"):
        grants.sign_off_tranche(session, wf.reviewer(session, "rev.eu", "EU"), grant.id + 1, 1)


def test_sign_off_posts_the_payable_and_each_jurisdictions_share(session):
    pool = fund(session)
    gina = grantee(session)
    grant = grants.create_grant(session, wf.admin(session), grant_input(
        gina, total="30000.03", parts=("10000.01", "20000.02")))
    tranche = grants.sign_off_tranche(session, wf.reviewer(session, "rev.eu", "EU"), grant.id, 1)
    assert (tranche.status, tranche.signed_off_at is not None) == ("signed_off", True)
    assert balance(session, f"payable:person:{gina.id}:EUR") == eur("10000.01")
    # Largest remainder: the odd cent goes to the largest share (EU).
    assert {j: balance(session, f"member:{j}:borne") for j in ("EU", "UK", "CA", "AU")} == {
        "EU": eur("5000.01"), "UK": eur("2500.00"), "CA": eur("1500.00"), "AU": eur("1000.00")}
    assert balance(session, funds.spent_code(pool)) == eur("10000.01")
    assert balance(session, reserved_code(pool)) == eur("20000.02")
    assert balance(session, funds.available_code(pool)) == eur("9969999.97")
    [payable] = session.execute(
        select(LedgerTransaction).where(LedgerTransaction.kind == "payable")).scalars()
    assert payable.idempotency_key == f"signoff:tranche:{tranche.id}"
    view = grant_queries.get_grant(session, wf.admin(session), grant.id)
    assert view.tranches[0].payable_transaction_id == payable.id
    assert (view.tranches[0].signed_off_by, view.status) == ("rev.eu", "active")
    assert (view.signed_off, view.pending) == (eur("10000.01"), eur("20000.02"))
    assert timeline(session, grant.id)[-2:] == ["tranche.sign_off", "reservation.consume"]
    assert ledger_check.check(session) == []


def test_a_gbp_tranche_is_payable_in_gbp_through_the_clearing_accounts(session):
    pool = fund(session)
    gina = grantee(session)
    grant = grants.create_grant(session, wf.admin(session), grant_input(
        gina, total="50000", currency="GBP", parts=("20000", "30000")))
    grants.sign_off_tranche(session, wf.reviewer(session, "rev.eu", "EU"), grant.id, 1)
    assert balance(session, f"payable:person:{gina.id}:GBP") == Money.parse("20000", "GBP")
    assert balance(session, "fx:clearing:EUR") == eur("23443.91")
    assert balance(session, "fx:clearing:GBP") == Money.parse("-20000", "GBP")
    borne = [balance(session, f"member:{j}:borne") for j in ("EU", "UK", "CA", "AU")]
    assert borne == [eur("11721.95"), eur("5860.98"), eur("3516.59"), eur("2344.39")]
    assert sum(m.minor for m in borne) == 2_344_391
    assert balance(session, funds.spent_code(pool)) == eur("23443.91")
    assert ledger_check.check(session) == []


def test_an_organisation_is_paid_on_an_account_of_its_own(session):
    fund(session)
    org = organisation(session)
    grant = grants.create_grant(session, wf.admin(session), grant_input(org=org))
    grants.sign_off_tranche(session, wf.reviewer(session, "rev.eu", "EU"), grant.id, 2)
    code = f"payable:organisation:{org.id}:EUR"
    assert balance(session, code) == eur("20000")
    account = session.execute(select(Account).where(Account.code == code)).scalar_one()
    assert (account.organisation_id, account.person_id, account.kind) == (org.id, None, "liability")
    assert ledger_check.check(session) == []


def test_signing_off_a_tranche_twice_is_refused_and_pays_once(session):
    fund(session)
    grant = grants.create_grant(session, wf.admin(session), grant_input(grantee(session)))
    grants.sign_off_tranche(session, wf.reviewer(session, "rev.eu", "EU"), grant.id, 1)
    lines = count(session, LedgerLine)
    with pytest.raises(Conflict, match=f"tranche 1 of grant {grant.id} was already signed off by rev.eu"):
        grants.sign_off_tranche(session, wf.reviewer(session, "rev.uk", "UK"), grant.id, 1)
    assert count(session, LedgerTransaction, LedgerTransaction.kind == "payable") == 1
    assert count(session, LedgerLine) == lines


def test_the_last_sign_off_completes_the_grant(session):
    pool = fund(session)
    gina = grantee(session)
    grant = grants.create_grant(session, wf.admin(session), grant_input(gina))
    reviewer = wf.reviewer(session, "rev.eu", "EU")
    for position in (3, 1, 2):  # milestones may be met in any order
        grants.sign_off_tranche(session, reviewer, grant.id, position)
    session.expire_all()
    assert session.get(Grant, grant.id).status == "completed"
    assert timeline(session, grant.id)[-1] == "grant.complete"
    assert balance(session, f"payable:person:{gina.id}:EUR") == eur("60000")
    assert balance(session, reserved_code(pool)) == eur("0")
    assert balance(session, funds.spent_code(pool)) == eur("60000")
    with pytest.raises(Conflict, match="already signed off"):
        grants.sign_off_tranche(session, reviewer, grant.id, 2)
    with pytest.raises(Conflict, match="a completed grant cannot be cancelled"):
        grants.cancel_grant(session, wf.admin(session), grant.id, "too late")
    assert ledger_check.check(session) == []


# Cancelling


def test_cancelling_releases_what_is_left_and_keeps_the_signed_off_payable(session):
    pool = fund(session)
    gina = grantee(session)
    admin = wf.admin(session)
    grant = grants.create_grant(session, admin, grant_input(gina))
    reviewer = wf.reviewer(session, "rev.eu", "EU")
    grants.sign_off_tranche(session, reviewer, grant.id, 1)
    with pytest.raises(InvalidInput, match="reason"):
        grants.cancel_grant(session, admin, grant.id, "  ")
    with pytest.raises(PermissionDenied):
        grants.cancel_grant(session, reviewer, grant.id, "no")
    grants.cancel_grant(session, admin, grant.id, "The grantee left the project")
    session.expire_all()
    cancelled = session.get(Grant, grant.id)
    assert cancelled.status == "cancelled"
    assert [t.status for t in cancelled.tranches] == ["signed_off", "cancelled", "cancelled"]
    assert balance(session, reserved_code(pool)) == eur("0")
    assert balance(session, funds.available_code(pool)) == eur("9980000")
    assert balance(session, f"payable:person:{gina.id}:EUR") == eur("20000")
    statuses = session.execute(select(Reservation.status).where(Reservation.purpose == "grant")
                               .order_by(Reservation.subject_id)).scalars().all()
    assert statuses == ["consumed", "released", "released"]
    [event] = [e for e in audit.events_for(session, "grant", grant.id) if e.action == "grant.cancel"]
    assert event.summary["released"] == "EUR 40000.00"
    assert event.summary["tranches_cancelled"] == [2, 3]
    with pytest.raises(Conflict, match="a cancelled grant cannot be cancelled"):
        grants.cancel_grant(session, admin, grant.id, "again")
    with pytest.raises(Conflict, match="cancelled"):
        grants.sign_off_tranche(session, reviewer, grant.id, 2)
    assert ledger_check.check(session) == []
    assert audit.verify(session) == []


# Reading


def test_overdue_milestones_are_listed(session):
    fund(session)
    admin = wf.admin(session)
    late = grants.create_grant(session, admin, grant_input(grantee(session), title="Late one"))
    grants.create_grant(session, admin, grant_input(grantee(session, "gus"), title="Later one",
                                                    tranches=tranches("60000", first_due=90)))
    day = TODAY + timedelta(days=45)  # tranche 1 of the first grant (due in 30 days) is overdue
    [overdue] = grant_queries.list_grants(session, admin, overdue_only=True, today=day)
    assert (overdue.id, overdue.overdue) == (late.id, True)
    assert [t.overdue for t in overdue.tranches] == [True, False, False]
    assert len(grant_queries.list_grants(session, admin, today=day)) == 2
    grants.sign_off_tranche(session, wf.reviewer(session, "rev.eu", "EU"), late.id, 1)
    assert grant_queries.list_grants(session, admin, overdue_only=True, today=day) == []
    assert [g.title for g in grant_queries.list_grants(session, admin, overdue_only=True,
                                                today=TODAY + timedelta(days=100))] == ["Later one",
                                                                                        "Late one"]
    assert grant_queries.list_grants(session, admin, overdue_only=True) == []


def test_who_sees_which_grants(session):
    fund(session)
    admin = wf.admin(session)
    org = organisation(session)
    gina = grantee(session)
    member = wf.person(session, "otto", ("contributor",), "EU")
    member.organisation_id = org.id
    session.commit()
    to_gina = grants.create_grant(session, admin, grant_input(gina))
    to_org = grants.create_grant(session, admin, grant_input(org=org))
    ids = {to_gina.id, to_org.id}
    for viewer in (admin, wf.reviewer(session, "rev.eu", "EU"), SYSTEM):
        assert {g.id for g in grant_queries.list_grants(session, viewer)} == ids
    assert [g.id for g in grant_queries.list_grants(session, wf.actor_of(gina))] == [to_gina.id]
    assert [g.id for g in grant_queries.list_grants(session, wf.actor_of(member))] == [to_org.id]
    stranger = wf.contributor(session, "stan")
    assert grant_queries.list_grants(session, stranger) == []
    assert grant_queries.list_grants(session, wf.ANONYMOUS) == []
    with pytest.raises(NotFound):
        grant_queries.get_grant(session, stranger, to_gina.id)
    with pytest.raises(NotFound):
        grant_queries.get_grant(session, wf.actor_of(member), to_gina.id)
    assert grant_queries.get_grant(session, wf.actor_of(gina), to_gina.id).id == to_gina.id


def test_list_by_status(session):
    fund(session)
    admin = wf.admin(session)
    kept = grants.create_grant(session, admin, grant_input(grantee(session)))
    dropped = grants.create_grant(session, admin, grant_input(grantee(session, "gus")))
    grants.cancel_grant(session, admin, dropped.id, "duplicate")
    assert [g.id for g in grant_queries.list_grants(session, admin, status="active")] == [kept.id]
    assert [g.id for g in grant_queries.list_grants(session, admin, status="cancelled")] == [dropped.id]
    assert [g.id for g in grant_queries.list_grants(session, admin)] == [dropped.id, kept.id]
    with pytest.raises(InvalidInput, match="status"):
        grant_queries.list_grants(session, admin, status="open")


# The race (PostgreSQL)

THREADS = 8


def _race(pg_url: str, body) -> Counter[str]:
    engine = make_engine(pg_url, pool_size=THREADS, max_overflow=0)
    factory = make_sessionmaker(engine)
    barrier = threading.Barrier(THREADS, timeout=60)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        with factory() as session:
            barrier.wait()
            try:
                outcome = body(i, session)
            except Exception as exc:  # every outcome is counted
                session.rollback()
                outcome = type(exc).__name__
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    return Counter(outcomes)


@pytest.mark.postgres
def test_simultaneous_sign_offs_of_one_tranche_end_with_one_payable(pg_url):
    engine = make_engine(pg_url)
    with make_sessionmaker(engine)() as session:
        fund(session)
        grant_id = grants.create_grant(session, wf.admin(session), grant_input(grantee(session))).id
        reviewers = [wf.reviewer(session, f"rev{i}", ("EU", "UK", "CA", "AU")[i % 4]) for i in range(THREADS)]

    def sign_off(i: int, session: Session) -> str:
        grants.sign_off_tranche(session, reviewers[i], grant_id, 1)
        return "signed off"

    assert _race(pg_url, sign_off) == Counter({"signed off": 1, "Conflict": THREADS - 1})
    with make_sessionmaker(engine)() as session:
        assert count(session, LedgerTransaction, LedgerTransaction.kind == "payable") == 1
        assert count(session, AuditEvent, AuditEvent.action == "tranche.sign_off") == 1
        statuses = [t.status for t in session.get(Grant, grant_id).tranches]
        assert statuses == ["signed_off", "pending", "pending"]
        assert ledger_check.check(session) == []
        assert audit.verify(session) == []
    engine.dispose()


@pytest.mark.postgres
def test_simultaneous_sign_offs_of_every_tranche_complete_the_grant_once(pg_url):
    engine = make_engine(pg_url)
    with make_sessionmaker(engine)() as session:
        fund(session)
        parts = tuple("1000" for _ in range(THREADS))
        grant_id = grants.create_grant(session, wf.admin(session), grant_input(
            grantee(session), total=str(1000 * THREADS), parts=parts)).id
        reviewers = [wf.reviewer(session, f"rev{i}", "EU") for i in range(THREADS)]

    def sign_off(i: int, session: Session) -> str:
        grants.sign_off_tranche(session, reviewers[i], grant_id, i + 1)
        return "signed off"

    assert _race(pg_url, sign_off) == Counter({"signed off": THREADS})
    with make_sessionmaker(engine)() as session:
        assert session.get(Grant, grant_id).status == "completed"
        assert count(session, AuditEvent, AuditEvent.action == "grant.complete") == 1
        assert count(session, LedgerTransaction, LedgerTransaction.kind == "payable") == THREADS
        assert ledger_check.check(session) == []
    engine.dispose()
