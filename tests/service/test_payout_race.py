"""Finance users creating batches at once, on PostgreSQL: overlapping selections ("all",
"EUR only", "GBP only", "UK only", ...) started together at a barrier never put one item in
two live batches, and lose nothing; the same selection at once yields one batch.

A control shows the harness can see a double batching: without the service's serialisation
and without the unique index (plain inserts into a scratch table), overlapping selections
take the same item several times.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from bounty.models import AuditEvent, PayoutBatch, PayoutItem
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import audit, ledger_check, payouts
from bounty.services.errors import Conflict
from bounty.services.payout_queries import collect_payables
from tests import payout_factories as pf

pytestmark = pytest.mark.postgres

# (currency, jurisdiction) of each racer: overlapping selections, some repeated.
SELECTIONS = [(None, None), ("EUR", None), ("GBP", None), (None, "UK"), (None, None), ("EUR", None),
              ("CAD", None), (None, "EU"), (None, None), ("GBP", "UK")]


@pytest.fixture
def race_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url, pool_size=len(SELECTIONS) + 2, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.fixture
def world(race_engine: Engine) -> pf.World:
    with make_sessionmaker(race_engine)() as session:
        made = pf.world(session)
        pf.approved(session, made.eu, "EUR", "1500")
        pf.approved(session, made.uk, "GBP", "800")
        pf.approved(session, made.ca, "CAD", "2500")
        return made


def race(engine: Engine, body: Callable[[int, Session, threading.Barrier], str]) -> list[str]:
    barrier = threading.Barrier(len(SELECTIONS), timeout=60)
    outcomes: list[str] = [""] * len(SELECTIONS)
    factory = make_sessionmaker(engine)

    def run(i: int) -> None:
        with factory() as session:
            try:
                outcomes[i] = body(i, session, barrier)
            except Exception as exc:  # every outcome is kept, none is lost
                session.rollback()
                outcomes[i] = type(exc).__name__

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(SELECTIONS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("round_", range(3))
def test_simultaneous_overlapping_batches_never_share_an_item_and_lose_none(race_engine, world, round_):
    with make_sessionmaker(race_engine)() as session:
        before = {(p.kind, p.subject_id) for p in collect_payables(session)}
    assert len(before) == 8

    def create(i: int, session: Session, barrier: threading.Barrier) -> str:
        currency, jurisdiction = SELECTIONS[i]
        barrier.wait()
        try:
            batch = payouts.create_batch(session, world.finance, currency=currency, jurisdiction=jurisdiction)
        except Conflict as exc:
            assert "nothing is payable" in str(exc)
            return "empty"
        return f"batch {batch.id}"

    outcomes = race(race_engine, create)
    assert all(o == "empty" or o.startswith("batch ") for o in outcomes), outcomes
    with make_sessionmaker(race_engine)() as session:
        live = session.execute(
            select(PayoutItem.kind, PayoutItem.subject_id, PayoutItem.batch_id).where(PayoutItem.is_live)
        ).all()
        # No item in two live batches, and every payable is in one: nothing lost.
        assert Counter((kind, subject) for kind, subject, _ in live).most_common(1)[0][1] == 1
        assert {(kind, subject) for kind, subject, _ in live} == before
        assert collect_payables(session) == []
        batches = {b.id: b for b in session.execute(select(PayoutBatch)).scalars()}
        assert {f"batch {b}" for b in batches} == {o for o in outcomes if o != "empty"}
        # Racers asking for the same selection got the same batch.
        by_selection: dict[str, set[str]] = {}
        for (currency, jurisdiction), outcome in zip(SELECTIONS, outcomes, strict=True):
            by_selection.setdefault(payouts.selection_key(currency, jurisdiction), set()).add(outcome)
        assert all(len(got) == 1 for got in by_selection.values()), by_selection
        # Each batch holds only what its selection allows.
        for batch_id, batch in batches.items():
            view = payouts.get_batch(session, world.finance, batch_id)
            assert view.items
            if batch.currency:
                assert {i.amount.currency for i in view.items} == {batch.currency}
        created = session.execute(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "payout_batch.create")).scalar_one()
        assert created == len(batches)
        assert audit.verify(session) == []
        assert ledger_check.check(session) == []


def test_control_unserialised_batching_takes_items_twice(race_engine, world):
    """Read the payables, wait for everyone, then write them to a table without a unique index."""
    with race_engine.begin() as connection:
        connection.execute(text("CREATE TABLE race_scratch_items (kind text, subject_id bigint)"))
    try:
        def naive(i: int, session: Session, barrier: threading.Barrier) -> str:
            currency, jurisdiction = SELECTIONS[i]
            chosen = collect_payables(session, currency, jurisdiction)
            barrier.wait()  # everyone has read the same payables before anyone writes
            for payable in chosen:
                session.execute(text("INSERT INTO race_scratch_items VALUES (:k, :s)"),
                                {"k": payable.kind, "s": payable.subject_id})
            session.commit()
            return "batched"

        assert race(race_engine, naive) == ["batched"] * len(SELECTIONS)
        with race_engine.connect() as connection:
            worst = connection.execute(text(
                "SELECT max(n) FROM (SELECT count(*) AS n FROM race_scratch_items "
                "GROUP BY kind, subject_id) t"
            )).scalar_one()
        assert worst > 1
    finally:
        with race_engine.begin() as connection:
            connection.execute(text("DROP TABLE race_scratch_items"))
