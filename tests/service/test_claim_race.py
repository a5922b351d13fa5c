"""The 50-way claim race on PostgreSQL, and controls showing the harness sees a double claim.

Fifty threads, each with its own connection, wait at a barrier and then act at once. The
controls run the same harness against deliberately unguarded writes: if those did not
produce many "winners", a pass of the real race would prove nothing.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bounty.models import AuditEvent, Bounty, Claim
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import audit, claims, ledger_check
from bounty.services.errors import AlreadyClaimed
from tests import workflow_factories as wf

THREADS = 50

pytestmark = pytest.mark.postgres


@pytest.fixture
def race_engine(pg_url: str) -> Iterator[Engine]:
    # One connection per thread, all at once: the pool must not make them queue.
    engine = make_engine(pg_url, pool_size=THREADS, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.fixture
def setup(race_engine: Engine) -> tuple[int, list]:
    """An open bounty and fifty contributors."""
    with make_sessionmaker(race_engine)() as session:
        wf.reference(session)
        bounty = wf.open_bounty(session)
        contributors = [wf.contributor(session, f"racer{i:02d}", ("EU", "UK", "CA", "AU")[i % 4])
                        for i in range(THREADS)]
        return bounty.id, contributors


def race(engine: Engine, body: Callable[[int, Session, threading.Barrier], str]) -> Counter[str]:
    """Run `body(i, session, barrier)` in THREADS threads; count what each returned or raised."""
    barrier = threading.Barrier(THREADS, timeout=60)
    outcomes: list[str] = []
    lock = threading.Lock()
    factory = make_sessionmaker(engine)

    def run(i: int) -> None:
        with factory() as session:
            try:
                outcome = body(i, session, barrier)
            except Exception as exc:  # every outcome is counted, none is lost
                session.rollback()
                outcome = type(exc).__name__
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(outcomes)


def test_fifty_simultaneous_claims_end_with_exactly_one(race_engine, setup):
    bounty_id, contributors = setup

    def claim(i: int, session: Session, barrier: threading.Barrier) -> str:
        barrier.wait()
        try:
            claims.claim_bounty(session, contributors[i], bounty_id)
        except AlreadyClaimed as exc:
            assert str(exc) == "already claimed"
            return "already claimed"
        return "claimed"

    outcomes = race(race_engine, claim)
    assert outcomes == Counter({"claimed": 1, "already claimed": THREADS - 1})
    with make_sessionmaker(race_engine)() as session:
        [winner] = session.execute(select(Claim).where(Claim.bounty_id == bounty_id)).scalars()
        assert winner.status == "active"
        assert session.get(Bounty, bounty_id).status == "claimed"
        created = session.execute(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "claim.create")
        ).scalar_one()
        assert created == 1
        assert audit.verify(session) == []
        assert ledger_check.check(session) == []


def test_control_check_then_insert_without_a_guard_lets_everyone_claim(race_engine, setup):
    """Read "open", then record a claim in a table without constraints: all fifty "win"."""
    bounty_id, contributors = setup
    with race_engine.begin() as connection:
        connection.execute(text("CREATE TABLE race_scratch_claims (bounty_id bigint, person_id bigint)"))
    try:
        def naive(i: int, session: Session, barrier: threading.Barrier) -> str:
            status = session.execute(select(Bounty.status).where(Bounty.id == bounty_id)).scalar_one()
            barrier.wait()  # everyone has seen "open" before anyone writes
            if status != "open":
                return "already claimed"
            session.execute(text("INSERT INTO race_scratch_claims VALUES (:b, :p)"),
                            {"b": bounty_id, "p": contributors[i].person_id})
            session.commit()
            return "claimed"

        assert race(race_engine, naive) == Counter({"claimed": THREADS})
        with race_engine.connect() as connection:
            rows = connection.execute(text("SELECT count(*) FROM race_scratch_claims")).scalar_one()
        assert rows == THREADS
    finally:
        with race_engine.begin() as connection:
            connection.execute(text("DROP TABLE race_scratch_claims"))


def _status_race(engine: Engine, bounty_id: int, guarded: bool) -> Counter[str]:
    condition = " AND status = 'open'" if guarded else ""

    def set_status(i: int, session: Session, barrier: threading.Barrier) -> str:
        status = session.execute(select(Bounty.status).where(Bounty.id == bounty_id)).scalar_one()
        barrier.wait()
        if status != "open":
            return "already claimed"
        changed = session.execute(
            text(f"UPDATE bounties SET status = 'claimed' WHERE id = :id{condition}"), {"id": bounty_id}
        ).rowcount
        session.commit()
        return "claimed" if changed else "already claimed"

    return race(engine, set_status)


def test_control_setting_the_status_without_compare_and_set_lets_everyone_claim(race_engine, setup):
    bounty_id, _ = setup
    assert _status_race(race_engine, bounty_id, guarded=False) == Counter({"claimed": THREADS})


def test_compare_and_set_alone_lets_one_claim_even_after_everyone_read_open(race_engine, setup):
    bounty_id, _ = setup
    assert _status_race(race_engine, bounty_id, guarded=True) == Counter(
        {"claimed": 1, "already claimed": THREADS - 1})


def test_the_unique_index_alone_admits_one_live_claim(race_engine, setup):
    """Raw inserts that skip the status check entirely: the partial unique index still holds."""
    bounty_id, contributors = setup

    def insert(i: int, session: Session, barrier: threading.Barrier) -> str:
        barrier.wait()
        try:
            session.execute(text(
                "INSERT INTO claims (bounty_id, person_id, status, claimed_at, expires_at) "
                "VALUES (:b, :p, 'active', now(), now() + interval '1 day')"
            ), {"b": bounty_id, "p": contributors[i].person_id})
            session.commit()
        except IntegrityError:
            return "refused by the index"
        return "inserted"

    assert race(race_engine, insert) == Counter({"inserted": 1, "refused by the index": THREADS - 1})
