"""`bounty ledger check | balance | trial-balance` against a real database of each kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from click.testing import Result
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bounty import create_app
from bounty.cli import cli
from bounty.ledger import EntryDraft, Money, TransactionDraft
from bounty.models.engine import is_postgres, make_engine, make_sessionmaker
from bounty.services import journal
from tests import factories

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


def post(session, key: str, amount: str, on: date | None = None) -> int:
    money = Money.parse(amount, "EUR")
    return journal.post_once(session, TransactionDraft(
        kind="test", memo=key, idempotency_key=key, effective_on=on,
        entries=[EntryDraft("cash:EUR", money), EntryDraft("income:EUR", -money)],
    )).transaction_id


@pytest.fixture
def ledger(session) -> list[int]:
    journal.ensure_account(session, "cash:EUR", "Cash", "asset", "EUR")
    journal.ensure_account(session, "income:EUR", "Income", "income", "EUR")
    session.commit()
    return [post(session, "jan", "100", date(2026, 1, 10)), post(session, "feb", "25.50", date(2026, 2, 10))]


def test_check_on_a_sound_ledger_says_ok_and_exits_0(run, session):
    factories.jurisdictions(session)
    factories.funded_pool(session, "1000")
    result = run("ledger", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout == "ledger ok: 1 transactions, 5 lines checked\n"


def test_check_on_an_empty_ledger_says_ok(run):
    result = run("ledger", "check")
    assert (result.exit_code, result.stdout) == (0, "ledger ok: 0 transactions, 0 lines checked\n")


def test_a_line_changed_by_hand_fails_the_check_on_sqlite_and_is_refused_on_postgres(run, session, ledger):
    jan, _ = ledger
    line_id = session.execute(
        text("SELECT min(id) FROM ledger_lines WHERE transaction_id = :t"), {"t": jan}
    ).scalar_one()
    statement = text("UPDATE ledger_lines SET amount_minor = 12345 WHERE id = :id")
    if is_postgres(session):
        with pytest.raises(DBAPIError, match="ledger is append-only: UPDATE on ledger_lines refused"):
            session.execute(statement, {"id": line_id})
        session.rollback()
        result = run("ledger", "check")
        assert (result.exit_code, result.stdout) == (0, "ledger ok: 2 transactions, 4 lines checked\n")
        return
    session.execute(statement, {"id": line_id})
    session.commit()
    result = run("ledger", "check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines == [
        f"transaction {jan} (jan): does not balance: its lines sum to EUR 23.45",
        f"transaction {jan} (jan): its lines no longer match the digest stored when it was posted: "
        "a line was changed, added or removed after posting",
    ]
    assert result.stderr == "ledger check failed: 2 violation(s)\n"


@pytest.mark.postgres
@pytest.mark.parametrize("statement", [
    "DELETE FROM ledger_lines WHERE id = (SELECT min(id) FROM ledger_lines)",
    "TRUNCATE ledger_lines",
    "UPDATE ledger_transactions SET lines_digest = 'x'",
])
def test_postgres_refuses_deleting_and_truncating_lines(pg_url, statement):
    engine = make_engine(pg_url)
    with make_sessionmaker(engine)() as session:
        journal.ensure_account(session, "cash:EUR", "Cash", "asset", "EUR")
        journal.ensure_account(session, "income:EUR", "Income", "income", "EUR")
        session.commit()
        post(session, "jan", "100")
        with pytest.raises(DBAPIError, match="ledger is append-only"):
            session.execute(text(statement))
        session.rollback()
    engine.dispose()
    app = create_app({"DATABASE_URL": pg_url, "ENV": "testing"})
    result = app.test_cli_runner().invoke(cli, ["ledger", "check"])
    app.extensions["bounty.db"].engine.dispose()
    assert (result.exit_code, result.stdout) == (0, "ledger ok: 1 transactions, 2 lines checked\n")


def test_balance_of_an_account_now_and_as_of_a_date(run, ledger):
    assert run("ledger", "balance", "cash:EUR").stdout == "cash:EUR EUR 125.50\n"
    result = run("ledger", "balance", "income:EUR", "--as-of", "2026-01-31")
    assert (result.exit_code, result.stdout) == (0, "income:EUR EUR 100.00\n")


@pytest.mark.parametrize(("args", "message"), [
    (["ledger", "balance", "nowhere"], "error: no ledger account nowhere\n"),
    (["ledger", "balance", "cash:EUR", "--as-of", "31/01/2026"],
     "error: --as-of must be a date such as 2026-12-31, got '31/01/2026'\n"),
    (["ledger", "trial-balance", "--as-of", "yesterday"],
     "error: --as-of must be a date such as 2026-12-31, got 'yesterday'\n"),
])
def test_bad_input_exits_2_with_one_line(run, ledger, args, message):
    result = run(*args)
    assert (result.exit_code, result.stderr, result.stdout) == (2, message, "")


def test_trial_balance_table_totals_each_currency(run, ledger):
    result = run("ledger", "trial-balance")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "account     cur   debit  credit",
        "cash:EUR    EUR  125.50        ",
        "income:EUR  EUR          125.50",
        "-------------------------------",
        "total       EUR  125.50  125.50",
    ]


def test_trial_balance_csv_as_of_a_date(run, ledger):
    result = run("ledger", "trial-balance", "--format", "csv", "--as-of", "2026-01-31")
    assert result.exit_code == 0
    assert result.stdout == (
        "account,name,currency,debit,credit\n"
        "cash:EUR,Cash,EUR,100.00,\n"
        "income:EUR,Income,EUR,,100.00\n"
    )


def test_trial_balance_of_an_empty_ledger(run):
    assert run("ledger", "trial-balance", "--as-of", "2026-01-01").stdout == (
        "no ledger lines effective on or before 2026-01-01\n"
    )
