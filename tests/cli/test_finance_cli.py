"""`bounty finance` against a real database of each kind: files written and parsed back, and
bad input refused with exit code 2 and one line.

The commands are invoked on the `finance` group itself, so these tests do not depend on where
the group is registered in the `bounty` command.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from click.testing import Result
from openpyxl import load_workbook

from bounty import create_app
from bounty.cli import finance as finance_cli
from bounty.models import Organisation
from tests import workflow_factories as wf
from tests.service.test_statements import approve_three, merged, org_person

Run = Callable[..., Result]
YEAR = "2026"


@pytest.fixture
def run(db_url, session) -> Iterator[Run]:
    app = create_app({"DATABASE_URL": db_url, "ENV": "testing"})
    runner = app.test_cli_runner()

    def invoke(*args: str) -> Result:
        # Release the test's connection first: on SQLite an open transaction holds the file lock.
        session.close()
        return runner.invoke(finance_cli.group, list(args))

    yield invoke
    app.extensions["bounty.db"].engine.dispose()


@pytest.fixture
def year(session) -> None:
    """The reference seed (2026 pools funded) and approved bounties in EUR, GBP and CAD."""
    wf.reference(session)
    approve_three(session)


def read_csv(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_journal_to_csv(run, year, tmp_path):
    target = tmp_path / "journal.csv"
    result = run("journal", "--output", str(target))
    assert result.exit_code == 0, result.output
    rows = read_csv(target)
    assert result.output == f"wrote {target}: {len(rows)} ledger lines\n"
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row["transaction_id"], row["currency"]] += Decimal(row["amount"])
    assert set(totals.values()) == {Decimal(0)}
    assert {row["currency"] for row in rows} == {"EUR", "GBP", "CAD"}
    assert {row["kind"] for row in rows} >= {"pool_funding", "reservation", "payable"}
    # A day with nothing posted: a header only.
    empty = tmp_path / "empty.csv"
    result = run("journal", "--output", str(empty), "--from", "2001-01-01", "--to", "2001-01-31")
    assert result.exit_code == 0, result.output
    assert empty.read_bytes() == b"date,transaction_id,kind,idempotency_key,memo,account,currency,amount\r\n"
    assert "0 ledger lines" in result.output


def test_trial_balance_to_csv_and_xlsx(run, year, tmp_path):
    target = tmp_path / "tb.csv"
    result = run("trial-balance", "--output", str(target))
    assert result.exit_code == 0, result.output
    rows = read_csv(target)
    assert result.output == f"wrote {target}: {len(rows)} accounts\n"
    for currency in ("EUR", "GBP", "CAD"):
        mine = [r for r in rows if r["currency"] == currency]
        assert sum(Decimal(r["debit"]) for r in mine) == sum(Decimal(r["credit"]) for r in mine) > 0
    book_path = tmp_path / "tb.xlsx"
    assert run("trial-balance", "--output", str(book_path), "--as-of", "2026-12-31").exit_code == 0
    book = load_workbook(book_path)
    assert book.sheetnames == ["Trial balance", "Totals"]
    assert book["Trial balance"].max_row == len(rows) + 1


def test_statement_to_csv_and_xlsx(run, year, tmp_path):
    target = tmp_path / "eu.csv"
    result = run("statement", "--jurisdiction", "eu", "--year", YEAR, "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        f"wrote {target}: EU 2026, owed EUR 5375000.00, paid in EUR 0.00, borne EUR ")
    assert "in 3 payouts, balance EUR " in result.output
    rows = read_csv(target)
    assert {row["section"] for row in rows} == {"owed", "spent", "borne", "total"}
    totals = {row["description"]: Decimal(row["amount"]) for row in rows if row["section"] == "total"}
    assert totals["owed"] == Decimal("5375000.00")
    book_path = tmp_path / "uk.xlsx"
    result = run("statement", "--jurisdiction", "UK", "--from", "2026-01-01", "--to", "2026-12-31",
                 "--output", str(book_path))
    assert result.exit_code == 0, result.output
    assert "UK 2026, owed EUR 2687500.00" in result.output
    book = load_workbook(book_path)
    assert book["Payouts"].max_row == 4 and book["Pools"].max_row == 4


def test_activity_table_and_files(run, session, tmp_path):
    wf.reference(session)
    acme = Organisation(name="Acme Cloud GmbH", jurisdiction_code="EU", kind="supplier")
    session.add_all([acme, Organisation(name="Idle Corp", jurisdiction_code="CA", kind="supplier")])
    session.commit()
    merged(session, org_person(session, "ann", acme), 1)
    result = run("activity", "--year", YEAR)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Organisation activity, 2026"
    assert lines[1].split() == ["organisation", "jur", "contributors", "merged", "MRs", "hours"]
    assert lines[2].split() == ["Acme", "Cloud", "GmbH", "EU", "1", "1", "0.00"]
    assert len(lines) == 3  # the idle organisation only with --all
    assert "Idle Corp" in run("activity", "--year", YEAR, "--all").output
    assert run("activity", "--year", "2001").output == "no organisation activity in 2001\n"
    target = tmp_path / "activity.csv"
    result = run("activity", "--year", YEAR, "--output", str(target))
    assert result.exit_code == 0 and result.output == f"wrote {target}: 2 organisations, 2026\n"
    assert [row["organisation"] for row in read_csv(target)] == ["Acme Cloud GmbH", "Idle Corp"]
    book_path = tmp_path / "activity.xlsx"
    assert run("activity", "--year", YEAR, "--output", str(book_path)).exit_code == 0
    assert load_workbook(book_path)["Activity"].max_row == 3


@pytest.mark.parametrize(("args", "message"), [
    (["journal", "--output", "x.xlsx"], "error: --output: 'x.xlsx': write to a .csv file"),
    (["journal", "--output", "j.csv", "--from", "2026-13-01"],
     "error: --from must be a date such as 2026-12-31, got '2026-13-01'"),
    (["journal", "--output", "j.csv", "--from", "2026-02-01", "--to", "2026-01-01"],
     "error: to: 2026-01-01 is before 2026-02-01"),
    (["trial-balance", "--output", "tb.pdf"], "error: --output: 'tb.pdf': write to a .csv or .xlsx file"),
    (["statement", "--jurisdiction", "XX", "--year", "2026", "--output", "s.csv"],
     "error: no jurisdiction 'XX'"),
    (["statement", "--jurisdiction", "EU", "--year", "twenty", "--output", "s.csv"],
     "error: --year: 'twenty' is not a year such as 2026"),
    (["statement", "--jurisdiction", "EU", "--year", "2026", "--from", "2026-01-01", "--output", "s.csv"],
     "error: period: give a year or from/to dates, not both"),
    (["statement", "--jurisdiction", "EU", "--output", "s.csv"],
     "error: period: give a year, or both a from and a to date"),
    (["activity", "--year", "1999"], "error: year: give a year from 2000 on, such as 2026"),
])
def test_bad_input_exits_2_with_one_line(run, session, tmp_path, monkeypatch, args, message):
    wf.reference(session)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.output == message + "\n"
    assert list(out.iterdir()) == []  # nothing written, not even a partial file
