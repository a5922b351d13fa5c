"""The hash-chained audit log on both databases: appending, verifying, and what tampering shows."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from bounty.models import AuditEvent
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import audit
from bounty.services.actors import SYSTEM, Actor
from bounty.services.errors import InvalidInput, PermissionDenied

ALICE = Actor(label="alice", roles=frozenset({"program-admin"}))


def record_events(session, count: int) -> list[AuditEvent]:
    events = [audit.record(session, ALICE, f"thing.step{n}", "thing", n, {"n": n, "note": "é"})
              for n in range(1, count + 1)]
    session.commit()
    return events


def tamper(session, sql: str, **params: object) -> None:
    session.execute(text(sql), params)
    session.commit()


def test_an_unchanged_log_verifies(session):
    events = record_events(session, 4)
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[1].prev_hash == events[0].hash
    assert audit.verify(session) == []
    assert audit.count_events(session) == 4


def test_an_empty_log_verifies(session):
    assert audit.verify(session) == []
    assert audit.count_events(session) == 0


def test_a_changed_summary_is_named_by_seq_and_id(session):
    events = record_events(session, 3)
    tamper(session, "UPDATE audit_events SET summary = :s WHERE seq = 2", s='{"n": 99, "note": "é"}')
    problems = audit.verify(session)
    assert [str(p) for p in problems] == [
        f"event #2 (id {events[1].id}): changed: its content no longer matches its hash",
    ]


def test_a_changed_action_is_named(session):
    events = record_events(session, 3)
    tamper(session, "UPDATE audit_events SET action = 'thing.erased' WHERE seq = 3")
    [problem] = audit.verify(session)
    assert (problem.seq, problem.event_id) == (3, events[2].id)


def test_an_event_rehashed_after_a_change_breaks_the_link_to_the_next(session):
    events = record_events(session, 3)
    forged = audit.event_hash(2, events[1].occurred_at, None, "alice", "thing.forged", "thing", "2",
                              {"n": 2, "note": "é"}, events[1].prev_hash)
    tamper(session, "UPDATE audit_events SET action = 'thing.forged', hash = :h WHERE seq = 2", h=forged)
    assert [str(p) for p in audit.verify(session)] == [
        f"event #3 (id {events[2].id}): does not follow the event before it",
    ]


def test_a_removed_event_in_the_middle_is_named(session):
    record_events(session, 5)
    tamper(session, "DELETE FROM audit_events WHERE seq = 3")
    assert [str(p) for p in audit.verify(session)] == ["event #3: missing: the event was removed"]


def test_removed_last_events_are_caught_through_the_chain_head(session):
    record_events(session, 4)
    tamper(session, "DELETE FROM audit_events WHERE seq >= 3")
    assert [str(p) for p in audit.verify(session)] == [
        "event #3: missing: the newest events were removed",
        "event #4: missing: the newest events were removed",
    ]


def test_a_removed_chain_head_is_named(session):
    record_events(session, 2)
    tamper(session, "DELETE FROM audit_chain_head")
    assert [str(p) for p in audit.verify(session)] == ["event #2: the chain head was removed"]


def test_a_chain_head_pointing_elsewhere_is_named(session):
    record_events(session, 2)
    tamper(session, "UPDATE audit_chain_head SET hash = :h", h="f" * 64)
    assert [str(p) for p in audit.verify(session)] == [
        "event #2: the chain head does not match the last event",
    ]


def test_writers_in_two_sessions_continue_one_chain(engine, session):
    """A session whose view of the head is older than another's commit must not reuse a seq."""
    other = make_sessionmaker(engine)()
    record_events(session, 1)
    audit.record(other, SYSTEM, "other.step", "thing", 1)
    other.commit()
    other.close()
    audit.record(session, SYSTEM, "again", "thing", 1)
    session.commit()
    assert audit.count_events(session) == 3
    assert audit.verify(session) == []


def test_recent_events_of_one_object_oldest_first(session):
    record_events(session, 3)
    audit.record(session, ALICE, "pool.fund", "pool", 9, {})
    session.commit()
    assert [e.action for e in audit.recent_events(session, SYSTEM, limit=2)] == ["thing.step3", "pool.fund"]
    assert [e.action for e in audit.recent_events(session, SYSTEM, "thing", "2")] == ["thing.step2"]
    assert [e.seq for e in audit.recent_events(session, SYSTEM, "thing")] == [1, 2, 3]
    assert [e.seq for e in audit.events_for(session, "pool", 9)] == [4]


def test_reading_the_log_needs_the_permission(session):
    record_events(session, 1)
    auditor = Actor(label="audrey", roles=frozenset({"auditor"}))
    contributor = Actor(label="carl", roles=frozenset({"contributor"}))
    assert len(audit.recent_events(session, auditor)) == 1
    with pytest.raises(PermissionDenied):
        audit.recent_events(session, contributor)
    with pytest.raises(InvalidInput, match="limit"):
        audit.recent_events(session, auditor, limit=0)


@pytest.mark.postgres
def test_first_writers_on_an_empty_log_queue_on_the_head(pg_url):
    engine = make_engine(pg_url, pool_size=10)
    make_session = make_sessionmaker(engine)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        with make_session() as session:
            barrier.wait()
            try:
                audit.record(session, SYSTEM, "first", "thing", n)
                session.commit()
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with make_session() as session:
        assert audit.count_events(session) == 8
        assert audit.verify(session) == []
    engine.dispose()
