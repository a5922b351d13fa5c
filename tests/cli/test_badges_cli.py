"""`bounty badges award` against a real database of each kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import Result
from sqlalchemy import func, select

from bounty import create_app
from bounty.cli import badges as badges_cli
from bounty.models import PersonBadge
from tests import badge_factories as bf
from tests import workflow_factories as wf

Run = Callable[..., Result]
T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


@pytest.fixture
def run(db_url, session) -> Iterator[Run]:
    app = create_app({"DATABASE_URL": db_url, "ENV": "testing"})
    runner = app.test_cli_runner()

    def invoke(*args: str) -> Result:
        session.close()  # on SQLite an open transaction holds the file lock
        return runner.invoke(badges_cli.group, list(args))

    yield invoke
    app.extensions["bounty.db"].engine.dispose()


def test_award_prints_what_it_awarded_and_a_second_run_awards_nothing(run, session):
    wf.reference(session)
    carla, dora = wf.person(session, "carla"), wf.person(session, "dora")
    for n in range(10):
        bf.merge(session, carla.id, T0 + timedelta(days=n))
    bf.merge(session, dora.id, T0)
    result = run("award")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "carla: first_merge (earned 2026-03-02 08:30 UTC)",
        "carla: merges_10 (earned 2026-03-11 08:30 UTC)",
        "dora: first_merge (earned 2026-03-02 08:30 UTC)",
        "awarded 3 badges",
    ]
    again = run("award")
    assert again.exit_code == 0
    assert again.output.strip() == "no new badges: everyone already holds what they have earned"
    assert session.execute(select(func.count(PersonBadge.id))).scalar_one() == 3


def test_award_for_one_person_leaves_the_others_alone(run, session):
    wf.reference(session)
    carla, dora = wf.person(session, "carla"), wf.person(session, "dora")
    bf.merge(session, carla.id, T0)
    bf.merge(session, dora.id, T0)
    result = run("award", "--person", "dora")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["dora: first_merge (earned 2026-03-02 08:30 UTC)",
                                          "awarded 1 badge"]
    holders = session.execute(select(PersonBadge.person_id)).scalars().all()
    assert holders == [dora.id]


def test_an_unknown_person_is_refused_with_exit_code_2(run, session):
    wf.reference(session)
    result = run("award", "--person", "nobody")
    assert result.exit_code == 2
    assert "no one is called 'nobody'" in result.output
