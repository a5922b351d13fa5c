"""`bounty claims expire` against a real database of each kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from click.testing import Result

from bounty import create_app
from bounty.cli import cli
from bounty.models import Bounty, Claim, utcnow
from bounty.services import audit
from tests import workflow_factories as wf

Run = Callable[..., Result]


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


def test_expire_lapses_claims_past_their_limit_and_says_how_many(session, run):
    wf.reference(session)
    old = utcnow() - timedelta(hours=3)
    lapsing = [wf.claimed_bounty(session, wf.contributor(session, f"c{i}"), now=old, claim_hours=2,
                                 title=f"Old claim {i}") for i in range(2)]
    running = wf.claimed_bounty(session, wf.contributor(session, "c9"), title="Fresh claim")
    result = run("claims", "expire")
    assert result.exit_code == 0, result.output
    assert result.output == "2 claims lapsed\n"
    session.expire_all()
    for work in lapsing:
        assert session.get(Claim, work.claim.id).status == "lapsed"
        assert session.get(Bounty, work.bounty.id).status == "open"
        events = audit.events_for(session, "bounty", work.bounty.id)
        [event] = [e for e in events if e.action == "claim.lapse"]
        assert event.actor_label.startswith("cli:")
    assert session.get(Claim, running.claim.id).status == "active"
    again = run("claims", "expire")
    assert (again.exit_code, again.output) == (0, "0 claims lapsed\n")


def test_expire_with_one_claim_uses_the_singular(session, run):
    wf.reference(session)
    wf.claimed_bounty(session, now=utcnow() - timedelta(hours=2), claim_hours=1)
    result = run("claims", "expire")
    assert (result.exit_code, result.output) == (0, "1 claim lapsed\n")
