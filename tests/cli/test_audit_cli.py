"""`bounty audit verify | show` against a real database of each kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from sqlalchemy import text

from bounty import create_app
from bounty.cli import cli
from bounty.models import AuditEvent
from bounty.services import audit
from bounty.services.actors import Actor

Run = Callable[..., Result]
ADMIN = Actor(label="alice", roles=frozenset({"program-admin"}))


@pytest.fixture
def run(db_url, session) -> Iterator[Run]:
    app = create_app({"DATABASE_URL": db_url, "ENV": "testing"})
    runner = app.test_cli_runner()

    def invoke(*args: str) -> Result:
        # Release the test's connection first: on SQLite an open transaction holds the file lock.
        session.close()
        return runner.invoke(cli, list(args))

    yield invoke
    app.extensions["bounty.db"].engine.dispose()


@pytest.fixture
def events(session) -> list[AuditEvent]:
    recorded = [
        audit.record(session, ADMIN, "pool.create", "pool", 1, {"year": 2026}),
        audit.record(session, ADMIN, "pool.fund", "pool", 1, {"amount": "EUR 1000.00"}),
        audit.record(session, ADMIN, "share.set", "jurisdiction", "UK", {"to": "0.25"}),
        audit.record(session, ADMIN, "pool.create", "pool", 2, {"year": 2027}),
    ]
    session.commit()
    return recorded


def tamper(session, sql: str) -> None:
    session.execute(text(sql))
    session.commit()


def test_verify_an_unchanged_log(run, events):
    result = run("audit", "verify")
    assert (result.exit_code, result.stdout) == (0, "audit log ok: 4 events\n")


def test_verify_names_a_changed_event_and_exits_1(run, session, events):
    tamper(session, "UPDATE audit_events SET summary = '{\"amount\": \"EUR 1.00\"}' WHERE seq = 2")
    result = run("audit", "verify")
    assert result.exit_code == 1
    assert result.stdout == f"event #2 (id {events[1].id}): changed: its content no longer matches its hash\n"
    assert result.stderr == "audit log broken: 1 problem(s)\n"


def test_verify_names_a_removed_event_and_removed_newest_events(run, session, events):
    tamper(session, "DELETE FROM audit_events WHERE seq IN (2, 4)")
    result = run("audit", "verify")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "event #2: missing: the event was removed",
        "event #4: missing: the newest events were removed",
    ]


def test_show_lists_events_of_one_object(run, events):
    result = run("audit", "show", "--object", "pool:1")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["#1", "#2"]
    assert lines[1].endswith(' alice pool.fund pool:1 {"amount": "EUR 1000.00"}')


def test_show_limits_to_the_newest(run, events):
    result = run("audit", "show", "--limit", "2")
    assert [line.split(" ")[0] for line in result.stdout.splitlines()] == ["#3", "#4"]


def test_show_of_an_object_without_events(run, events):
    assert run("audit", "show", "--object", "pool:99").stdout == "no audit events for pool:99\n"


@pytest.mark.parametrize(("args", "message"), [
    (["--object", "pool"], "error: --object must be TYPE:ID such as pool:3, got 'pool'\n"),
    (["--object", ":3"], "error: --object must be TYPE:ID such as pool:3, got ':3'\n"),
    (["--limit", "0"], "error: --limit must be a whole number of at least 1, got '0'\n"),
    (["--limit", "many"], "error: --limit must be a whole number of at least 1, got 'many'\n"),
])
def test_show_refuses_bad_input_with_exit_2(run, args, message):
    result = run("audit", "show", *args)
    assert (result.exit_code, result.stderr) == (2, message)
