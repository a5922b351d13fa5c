"""Reserving and releasing pool money, on both databases, and the over-commitment race."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, insert, select

from bounty.ledger import InsufficientFunds, Money
from bounty.models import Account, LedgerLine, LedgerTransaction, Reservation, utcnow
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import funds, journal, reservations
from bounty.services.actors import SYSTEM, Actor
from bounty.services.errors import Conflict, PermissionDenied
from tests import factories
from tests import workflow_factories as wf


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def test_funding_posts_each_members_share(session):
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "10000000", kind="development_fund")
    assert journal.balance(session, "member:EU:pledged") == eur("5000000")
    assert journal.balance(session, "member:UK:pledged") == eur("2500000")
    assert journal.balance(session, "member:CA:pledged") == eur("1500000")
    assert journal.balance(session, "member:AU:pledged") == eur("1000000")
    assert journal.balance(session, funds.available_code(pool)) == eur("10000000")


def test_funding_twice_with_the_same_key_changes_nothing(session):
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "500000")
    lines = session.execute(select(func.count(LedgerLine.id))).scalar_one()
    again = funds.fund_pool(session, SYSTEM, pool)
    assert again.created is False
    assert session.execute(select(func.count(LedgerLine.id))).scalar_one() == lines


def test_reserve_moves_money_to_reserved_and_release_gives_it_back(session):
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "1000")
    held = reservations.reserve(session, SYSTEM, pool, "bounty", 7, eur("600"))
    [status] = funds.pool_statuses(session, 2026)
    assert (status.available, status.reserved, status.funded) == (eur("400"), eur("600"), eur("1000"))
    reservations.release(session, SYSTEM, held, "cancelled")
    [status] = funds.pool_statuses(session, 2026)
    assert (status.available, status.reserved) == (eur("1000"), eur("0"))
    assert session.get(Reservation, held.id).status == "released"


def test_reserving_more_than_is_left_is_refused_and_writes_nothing(session):
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "1000")
    reservations.reserve(session, SYSTEM, pool, "bounty", 1, eur("700"))
    lines = session.execute(select(func.count(LedgerLine.id))).scalar_one()
    with pytest.raises(InsufficientFunds, match=r"cannot cover EUR 300.01: only EUR 300.00 is available"):
        reservations.reserve(session, SYSTEM, pool, "bounty", 2, eur("300.01"))
    assert session.execute(select(func.count(LedgerLine.id))).scalar_one() == lines
    assert reservations.held_for(session, "bounty", 2) is None


def test_a_subject_holds_one_reservation_at_a_time(session):
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "1000")
    reservations.reserve(session, SYSTEM, pool, "bounty", 1, eur("10"))
    with pytest.raises(Conflict, match="already holds a reservation"):
        reservations.reserve(session, SYSTEM, pool, "bounty", 1, eur("10"))


def test_releasing_twice_is_refused(session):
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "1000")
    held = reservations.reserve(session, SYSTEM, pool, "grant", 3, eur("10"))
    reservations.release(session, SYSTEM, held, "cancelled")
    with pytest.raises(Conflict, match="already released"):
        reservations.release(session, SYSTEM, held, "again")


def test_a_contributor_cannot_reserve(session):
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "1000")
    contributor = Actor(label="alice", roles=frozenset({"contributor"}), person_id=None)
    with pytest.raises(PermissionDenied):
        reservations.reserve(session, contributor, pool, "bounty", 1, eur("10"))


@pytest.mark.postgres
@pytest.mark.parametrize("round_", range(5))
def test_two_simultaneous_reservations_exceeding_the_pool_end_with_one_success(pg_url, round_):
    engine = make_engine(pg_url, pool_size=4)
    make_session = make_sessionmaker(engine)
    with make_session() as session:
        factories.jurisdictions(session)
        pool = factories.funded_pool(session, "1000")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(subject_id: int) -> None:
        with make_session() as session:
            barrier.wait()
            try:
                reservations.reserve(session, SYSTEM, pool, "bounty", subject_id, eur("600"))
                outcomes.append("reserved")
            except InsufficientFunds:
                outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "reserved"]
    with make_session() as session:
        [status] = funds.pool_statuses(session, 2026)
        assert status.available == eur("400")
        assert status.reserved == eur("600")
    engine.dispose()



@pytest.mark.postgres
def test_the_race_harness_sees_a_double_commitment_when_nothing_locks(pg_url):
    """Negative control: read-then-write with plain inserts and no lock lets both threads
    through, so the race test above would fail if reservations lost their lock."""
    engine = make_engine(pg_url, pool_size=4)
    make_session = make_sessionmaker(engine)
    with make_session() as session:
        factories.jurisdictions(session)
        pool = factories.funded_pool(session, "1000")
        accounts = dict(session.execute(
            select(Account.code, Account.id).where(Account.pool_id == pool.id)
        ).all())
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def naive_attempt(subject_id: int) -> None:
        with make_session() as session:
            barrier.wait()
            available = journal.balance(session, funds.available_code(pool))
            barrier.wait()  # both have read before either writes: the interleaving a lock prevents
            if available < eur("600"):
                outcomes.append("refused")
                return
            txn = session.execute(insert(LedgerTransaction).returning(LedgerTransaction.id), [{
                "idempotency_key": f"naive:{subject_id}", "kind": "reservation", "memo": "naive",
                "effective_on": date(2026, 1, 1), "posted_at": utcnow(), "lines_digest": "-",
            }]).scalar_one()
            session.execute(insert(LedgerLine), [
                {"transaction_id": txn, "account_id": accounts[funds.available_code(pool)],
                 "currency": "EUR", "amount_minor": 60000},
                {"transaction_id": txn, "account_id": accounts[funds.reserved_code(pool)],
                 "currency": "EUR", "amount_minor": -60000},
            ])
            session.commit()
            outcomes.append("reserved")

    threads = [threading.Thread(target=naive_attempt, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["reserved", "reserved"]
    with make_session() as session:
        assert journal.balance(session, funds.available_code(pool)) == eur("-200")
    engine.dispose()


def test_what_a_pool_was_funded_with_stays_the_same_after_a_payout(session):
    pool = wf.reference(session)
    before = next(s for s in funds.pool_statuses(session, pool.year) if s.pool_id == pool.id)
    wf.approved_bounty(session)
    after = next(s for s in funds.pool_statuses(session, pool.year) if s.pool_id == pool.id)
    assert after.funded == before.funded
    assert after.spent == eur("1000") and before.spent == eur("0")
    assert after.available + after.reserved + after.spent == after.funded
