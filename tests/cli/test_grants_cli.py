"""`bounty grants list` and `bounty grants show` against a real database of each kind.

The commands are invoked on the `grants` group itself, so these tests do not depend on where
the group is registered in the `bounty` command.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from click.testing import Result

from bounty import create_app
from bounty.cli import grants as grants_cli
from bounty.models import utcnow
from bounty.services import grants
from bounty.services.grants import GrantInput, TrancheInput
from tests import workflow_factories as wf

Run = Callable[..., Result]
TODAY = utcnow().date()


@pytest.fixture
def run(db_url, session) -> Iterator[Run]:
    app = create_app({"DATABASE_URL": db_url, "ENV": "testing"})
    runner = app.test_cli_runner()

    def invoke(*args: str) -> Result:
        # Release the test's connection first: on SQLite an open transaction holds the file lock.
        session.close()
        return runner.invoke(grants_cli.group, list(args))

    yield invoke
    app.extensions["bounty.db"].engine.dispose()


def make_grants(session) -> tuple[int, int]:
    """Two grants: one with milestones due in 10 and 40 days (its first signed off later in
    some tests), one due in 90 days."""
    wf.reference(session)
    admin = wf.admin(session)
    gina = wf.person(session, "gina", ("contributor",), "UK", display_name="Gina Grant")
    soon = grants.create_grant(session, admin, GrantInput(
        title="KVM agent upkeep", total="30000", currency="EUR", grantee_person_id=gina.id,
        tranches=[TrancheInput("Design", TODAY + timedelta(days=10), "10000"),
                  TrancheInput("Release", TODAY + timedelta(days=40), "20000")]))
    later = grants.create_grant(session, admin, GrantInput(
        title="OpenTofu provider", total="5000", currency="GBP", grantee_person_id=gina.id,
        tranches=[TrancheInput("Provider 1.0", TODAY + timedelta(days=90), "5000")]))
    return soon.id, later.id


def test_list_shows_every_grant_with_its_next_milestone(session, run):
    soon, later = make_grants(session)
    result = run("list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "status", "grantee", "total", "signed", "off", "next", "due", "title"]
    assert str(later) in lines[1] and "GBP 5000.00" in lines[1] and "OpenTofu provider" in lines[1]
    assert lines[2].startswith(str(soon)) and "EUR 30000.00" in lines[2] and "Gina Grant" in lines[2]
    assert (TODAY + timedelta(days=10)).isoformat() in lines[2] and "OVERDUE" not in result.output


def test_list_overdue_marks_and_filters(session, run):
    soon, _ = make_grants(session)
    day = (TODAY + timedelta(days=20)).isoformat()
    result = run("list", "--overdue", "--today", day)
    assert result.exit_code == 0, result.output
    [_header, row] = result.output.splitlines()
    assert row.startswith(str(soon)) and f"{(TODAY + timedelta(days=10)).isoformat()} OVERDUE" in row
    assert run("list", "--overdue").output == "no overdue grants\n"


def test_list_as_json(session, run):
    soon, later = make_grants(session)
    grants.sign_off_tranche(session, wf.reviewer(session, "rev.eu", "EU"), soon, 1)
    result = run("list", "--format", "json", "--today", (TODAY + timedelta(days=50)).isoformat())
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [g["id"] for g in listed] == [later, soon]
    first = listed[1]
    assert (first["status"], first["overdue"], first["grantee"]["name"]) == ("active", True, "Gina Grant")
    assert first["total"] == {"amount": "30000.00", "currency": "EUR"}
    assert first["signed_off"] == {"amount": "10000.00", "currency": "EUR"}
    assert [(t["status"], t["overdue"], t["signed_off_by"]) for t in first["tranches"]] == [
        ("signed_off", False, "rev.eu"), ("pending", True, None)]
    assert first["tranches"][0]["payable_transaction_id"] is not None
    # GBP 5000 / 0.8531 (the seeded rate) = EUR 5860.98
    assert listed[0]["total_eur"] == {"amount": "5860.98", "currency": "EUR"}


def test_list_by_status(session, run):
    _soon, later = make_grants(session)
    grants.cancel_grant(session, wf.admin(session), later, "Duplicate")
    result = run("list", "--status", "cancelled", "--format", "json")
    assert [g["id"] for g in json.loads(result.output)] == [later]


def test_show_one_grant(session, run):
    soon, _ = make_grants(session)
    result = run("show", str(soon), "--today", (TODAY + timedelta(days=11)).isoformat())
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"grant {soon}: KVM agent upkeep"
    assert lines[3].endswith("EUR 10000.00 pending OVERDUE: Design")
    assert lines[4].endswith("EUR 20000.00 pending: Release")
    as_json = json.loads(run("show", str(soon), "--format", "json").output)
    assert as_json["id"] == soon and len(as_json["tranches"]) == 2


def test_refusals_exit_2_with_one_line(session, run):
    wf.reference(session)
    missing = run("show", "999")
    assert (missing.exit_code, missing.output) == (2, "error: no grant 999\n")
    bad_day = run("list", "--today", "tomorrow")
    assert bad_day.exit_code == 2
    assert bad_day.output == "error: --today must be a date such as 2026-12-31, got 'tomorrow'\n"
