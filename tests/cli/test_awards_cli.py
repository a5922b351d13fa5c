"""`bounty awards open`, `open-vote` and `results` against a real database of each kind.

The commands are invoked on the `awards` group itself, so these tests do not depend on where
the group is registered in the `bounty` command. The operator acts as the system: opening is
audited under their login name, and the results name every winner.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty import create_app
from bounty.cli import awards as awards_cli
from bounty.models import AuditEvent, AwardRound
from bounty.services import awards
from tests import award_factories as af
from tests import workflow_factories as wf
from tests.web.test_awards_pages import BEST, EU, NOW, SECURITY, YEAR, actor, cast, closed_round

Run = Callable[..., Result]


@pytest.fixture
def run(db_url: str, session: Session) -> Iterator[Run]:
    app = create_app({"DATABASE_URL": db_url, "ENV": "testing"})
    runner = app.test_cli_runner()

    def invoke(*args: str) -> Result:
        # Release the test's connection first: on SQLite an open transaction holds the file lock.
        session.close()
        return runner.invoke(awards_cli.group, list(args))

    yield invoke
    app.extensions["bounty.db"].engine.dispose()


def rounds(session: Session) -> list[AwardRound]:
    found = list(session.execute(select(AwardRound).execution_options(populate_existing=True)).scalars())
    session.commit()
    return found


def test_open_a_round_with_a_close_date(session: Session, run: Run) -> None:
    af.setup(session)
    close = (NOW + timedelta(days=9)).date()
    result = run("open", "--year", str(NOW.year), "--nominations-close", close.isoformat())
    assert result.exit_code == 0, result.output
    midnight = datetime(close.year, close.month, close.day, tzinfo=UTC)
    assert result.output == f"awards {NOW.year}: nominations open until {midnight.isoformat()}\n"
    [award_round] = rounds(session)
    assert (award_round.year, award_round.nominations_close_at) == (NOW.year, midnight)
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "award_round.open")).scalar_one()
    assert event.actor_label.startswith("cli:")
    again = run("open", "--year", str(NOW.year), "--nominations-close", close.isoformat())
    assert (again.exit_code, again.output) == (2, f"error: the awards round for {NOW.year} is already open\n")


def test_open_refusals_exit_2_with_one_line(session: Session, run: Run) -> None:
    af.setup(session)
    bad_year = run("open", "--year", "twenty", "--nominations-close", "2026-12-01")
    assert bad_year.exit_code == 2
    assert bad_year.output == "error: --year must be a year such as 2026, got 'twenty'\n"
    bad_day = run("open", "--year", str(NOW.year), "--nominations-close", "December")
    assert bad_day.exit_code == 2
    assert bad_day.output == ("error: --nominations-close must be a date or a moment such as 2026-12-01, "
                              "got 'December'\n")
    yesterday = (NOW - timedelta(days=1)).date().isoformat()
    past = run("open", "--year", str(NOW.year), "--nominations-close", yesterday)
    assert (past.exit_code, past.output) == (2, "error: nominations_close_at: must be after now\n")
    assert rounds(session) == []


def test_open_the_vote_for_at_least_72_hours(session: Session, run: Run) -> None:
    af.setup(session)
    awards.open_round(session, wf.admin(session), YEAR, NOW - timedelta(hours=1),
                      now=NOW - timedelta(hours=30))
    short = (NOW + timedelta(hours=48)).strftime("%Y-%m-%dT%H:%MZ")
    result = run("open-vote", "--year", str(YEAR), "--closes", short)
    assert (result.exit_code, result.output) == (2, "error: closes_at: a vote stays open at least 72 hours\n")
    assert run("open-vote", "--year", str(YEAR + 1), "--closes", short).output == (
        f"error: no awards round for {YEAR + 1}\n")
    bad = run("open-vote", "--year", str(YEAR), "--closes", "next week")
    assert bad.exit_code == 2 and bad.output.count("\n") == 1 and "--closes" in bad.output

    closes = (NOW + timedelta(hours=96)).replace(second=0, microsecond=0)
    result = run("open-vote", "--year", str(YEAR), "--closes", closes.strftime("%Y-%m-%dT%H:%MZ"))
    assert result.exit_code == 0, result.output
    assert result.output == f"awards {YEAR}: the vote is open until {closes.isoformat()}\n"
    [award_round] = rounds(session)
    assert award_round.voting_closes_at == closes
    # A moment without an offset is UTC.
    again = run("open-vote", "--year", str(YEAR), "--closes", closes.strftime("%Y-%m-%dT%H:%M"))
    assert (again.exit_code, again.output) == (2, f"error: the vote of {YEAR} was already opened\n")


def test_results_as_text_and_json(session: Session, run: Run) -> None:
    af.setup(session)
    people = cast(session, wf.person)
    closed_round(session, people)
    result = run("results", "--year", str(YEAR))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"awards {YEAR}: decided"
    # The operator sees every name, Nina's included.
    assert f"{BEST} (lazy_two_thirds): winner Nina" in lines
    assert f"{SECURITY} (lazy_consensus): winner Pia" in lines
    assert f"{EU} (lazy_majority): no award" in lines
    security = lines[lines.index(f"{SECURITY} (lazy_consensus): winner Pia") + 1]
    assert security.endswith("Pia: passed; binding +1:3 +0:0 -0:0 -1:0; non-binding +1:0 +0:0 -0:0 -1:0; "
                             "vetoes 0; void vetoes 1")

    as_json = json.loads(run("results", "--year", str(YEAR), "--format", "json").output)
    assert (as_json["year"], as_json["decided"], as_json["phase"]) == (YEAR, True, "closed")
    by_code = {c["code"]: c for c in as_json["categories"]}
    assert by_code[BEST]["winner"]["nominee"] == {"person_id": people.nina.id, "organisation_id": None,
                                                  "name": "Nina"}
    assert by_code[SECURITY]["winner"]["void_vetoes"] == 1
    assert by_code[EU]["winner"] is None and by_code[EU]["nominations"][0]["passed"] is False


def test_results_refusals(session: Session, run: Run) -> None:
    af.setup(session)
    missing = run("results", "--year", str(YEAR))
    assert (missing.exit_code, missing.output) == (2, f"error: no awards round for {YEAR}\n")
    awards.open_round(session, actor(wf.person(session, "admin", ("contributor", "program-admin"))), YEAR,
                      NOW + timedelta(days=3), now=NOW - timedelta(hours=1))
    early = run("results", "--year", str(YEAR))
    assert early.exit_code == 0 and early.output.splitlines()[0] == f"awards {YEAR}: not decided (nominating)"
    bad = run("results", "--year", str(YEAR), "--format", "xml")
    assert (bad.exit_code, bad.output) == (2, "error: --format must be text or json, got 'xml'\n")
