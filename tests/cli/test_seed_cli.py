"""`bounty seed` and `bounty seed --demo` against a real database of each kind."""

from __future__ import annotations

from click.testing import CliRunner, Result
from sqlalchemy import func, select

from bounty.cli import cli
from bounty.models import AuditEvent, Bounty, LedgerLine, Person, Pool, WorkingGroup
from bounty.models.engine import make_engine, make_sessionmaker


def run(db_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"BOUNTY_DATABASE_URL": db_url})


def counts(db_url: str) -> dict[str, int]:
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            return {model.__tablename__: session.execute(select(func.count(model.id))).scalar_one()
                    for model in (WorkingGroup, Pool, LedgerLine, AuditEvent, Person, Bounty)}
    finally:
        engine.dispose()


def test_seed_loads_the_reference_data_and_says_what_it_did(db_url):
    result = run(db_url, "seed")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "reference data loaded"
    assert "working groups 8" in lines[1] and "categories 4" in lines[1]
    funded = [line.strip() for line in lines if line.strip().startswith("funded by share:")]
    assert len(funded) == 1 and "Sovereign Cloud Development Fund 2026 EUR 10000000.00" in funded[0]
    assert any("snapshot: 29 rates added" in line for line in lines)
    assert len(lines) <= 6
    after = counts(db_url)
    assert (after["working_groups"], after["pools"], after["people"]) == (8, 3, 0)


def test_seed_twice_changes_nothing_and_says_so(db_url):
    run(db_url, "seed")
    before = counts(db_url)
    result = run(db_url, "seed")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "reference data already loaded"
    assert counts(db_url) == before


def test_seed_demo_runs_the_reference_seed_then_the_demo(db_url):
    result = run(db_url, "seed", "--demo")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "reference data loaded"
    assert "demo data loaded" in lines
    assert any("people 13" in line and "bounties 10" in line for line in lines)
    loaded = counts(db_url)
    # Ten bounties of demo/bounties.toml, seven approved ones of demo/recognition.toml.
    assert (loaded["people"], loaded["bounties"]) == (13, 17)
    again = run(db_url, "seed", "--demo")
    assert again.exit_code == 0
    assert "demo data already loaded" in again.stdout.splitlines()
    assert counts(db_url) == loaded
