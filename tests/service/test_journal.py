"""Posting to the journal on both databases: balance, currencies, idempotency, reversals,
balances by date, the trial balance, guarded accounts, and PostgreSQL's append-only trigger."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from bounty.ledger import (
    EntryDraft,
    InsufficientFunds,
    LedgerError,
    Money,
    TransactionDraft,
    UnbalancedTransaction,
)
from bounty.models import LedgerLine, LedgerTransaction
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import journal, ledger_check
from bounty.services.errors import Conflict, InvalidInput, NotFound


def eur(text_: str) -> Money:
    return Money.parse(text_, "EUR")


def gbp(text_: str) -> Money:
    return Money.parse(text_, "GBP")


def open_accounts(session) -> None:
    journal.ensure_account(session, "cash:EUR", "Cash (EUR)", "asset", "EUR")
    journal.ensure_account(session, "income:EUR", "Income (EUR)", "income", "EUR")
    journal.ensure_account(session, "cash:GBP", "Cash (GBP)", "asset", "GBP")
    journal.ensure_account(session, "income:GBP", "Income (GBP)", "income", "GBP")
    journal.ensure_account(session, "vault:EUR", "Vault (EUR)", "equity", "EUR", is_negative_allowed=False)
    session.commit()


def draft(key: str, amount: Money, debit: str = "cash:EUR", credit: str = "income:EUR",
          on: date | None = None) -> TransactionDraft:
    return TransactionDraft(kind="test", memo=key, idempotency_key=key, effective_on=on,
                            entries=[EntryDraft(debit, amount), EntryDraft(credit, -amount)])


def counts(session) -> tuple[int, int]:
    transactions = session.execute(select(func.count(LedgerTransaction.id))).scalar_one()
    lines = session.execute(select(func.count(LedgerLine.id))).scalar_one()
    session.commit()
    return transactions, lines


def test_a_post_writes_its_lines_and_moves_both_balances(session):
    open_accounts(session)
    posted = journal.post_once(session, draft("t1", eur("10.50")))
    assert posted.created is True
    assert journal.balance(session, "cash:EUR") == eur("10.50")
    assert journal.balance(session, "income:EUR") == eur("10.50")  # on its credit side
    assert counts(session) == (1, 2)


def test_an_unbalanced_draft_is_refused_and_nothing_is_written(session):
    open_accounts(session)
    with pytest.raises(UnbalancedTransaction, match="EUR off by 1 minor units"):
        TransactionDraft(kind="test", memo="off", idempotency_key="off",
                         entries=[EntryDraft("cash:EUR", eur("10.00")),
                                  EntryDraft("income:EUR", eur("-9.99"))])
    assert counts(session) == (0, 0)


def test_a_draft_balanced_in_one_currency_only_is_refused(session):
    with pytest.raises(UnbalancedTransaction, match="GBP off by"):
        TransactionDraft(kind="test", memo="fx", idempotency_key="fx",
                         entries=[EntryDraft("cash:EUR", eur("10")), EntryDraft("income:GBP", gbp("-10"))])


def test_a_line_in_another_currency_than_its_account_is_refused_and_nothing_is_written(session):
    open_accounts(session)
    wrong = TransactionDraft(kind="test", memo="gbp on eur", idempotency_key="wrong",
                             entries=[EntryDraft("cash:EUR", gbp("5")), EntryDraft("income:GBP", gbp("-5"))])
    with pytest.raises(InvalidInput, match="account cash:EUR holds EUR, not GBP"):
        journal.post_once(session, wrong)
    assert counts(session) == (0, 0)


def test_a_post_to_an_unknown_account_is_refused(session):
    open_accounts(session)
    with pytest.raises(NotFound, match="no ledger account nowhere:EUR"):
        journal.post_once(session, draft("t", eur("1"), debit="nowhere:EUR"))
    assert counts(session) == (0, 0)


def test_repeating_an_idempotency_key_returns_the_original_and_writes_nothing(session):
    open_accounts(session)
    first = journal.post_once(session, draft("same", eur("3")))
    again = journal.post_once(session, draft("same", eur("3")))
    assert (again.transaction_id, again.created) == (first.transaction_id, False)
    assert counts(session) == (1, 2)
    assert journal.balance(session, "cash:EUR") == eur("3")


def test_the_same_key_with_different_lines_is_a_conflict(session):
    open_accounts(session)
    first = journal.post_once(session, draft("same", eur("3")))
    expected = f"already used for different lines \\(transaction {first.transaction_id}\\)"
    with pytest.raises(Conflict, match=expected):
        journal.post_once(session, draft("same", eur("4")))
    assert counts(session) == (1, 2)


def test_reverse_posts_the_mirror_and_balances_go_back(session):
    open_accounts(session)
    original = journal.post_once(session, draft("t1", eur("7.25")))
    journal.post_once(session, draft("t2", gbp("2"), "cash:GBP", "income:GBP"))
    reversal = journal.reverse(session, original.transaction_id, "rev:t1", "posted in error")
    session.commit()
    assert journal.balance(session, "cash:EUR") == eur("0")
    assert journal.balance(session, "income:EUR") == eur("0")
    assert journal.balance(session, "cash:GBP") == gbp("2")
    def lines_of(transaction_id: int, sign: int) -> list[tuple[int, int]]:
        return sorted((account, sign * amount) for account, amount in session.execute(
            select(LedgerLine.account_id, LedgerLine.amount_minor)
            .where(LedgerLine.transaction_id == transaction_id)
        ))

    assert lines_of(reversal.transaction_id, 1) == lines_of(original.transaction_id, -1)
    stored = session.get(LedgerTransaction, reversal.transaction_id)
    assert (stored.kind, stored.reverses_id) == ("reversal", original.transaction_id)
    assert ledger_check.check(session) == []


def test_reversing_twice_is_refused_and_repeating_the_reversal_is_a_no_op(session):
    open_accounts(session)
    original = journal.post_once(session, draft("t1", eur("5")))
    first = journal.reverse(session, original.transaction_id, "rev:1", "error")
    session.commit()
    again = journal.reverse(session, original.transaction_id, "rev:1", "error")
    assert (again.transaction_id, again.created) == (first.transaction_id, False)
    with pytest.raises(Conflict, match=f"already reversed by transaction {first.transaction_id}"):
        journal.reverse(session, original.transaction_id, "rev:2", "error again")
    session.rollback()
    assert counts(session) == (2, 4)
    assert journal.balance(session, "cash:EUR") == eur("0")


def test_the_database_itself_refuses_a_second_reversal(session):
    """The unique `reverses_id` holds even for a writer that skips the journal's check."""
    open_accounts(session)
    original = journal.post_once(session, draft("t1", eur("5")))
    journal.reverse(session, original.transaction_id, "rev:1", "error")
    session.commit()
    with pytest.raises(DBAPIError):
        session.execute(text(
            "INSERT INTO ledger_transactions (idempotency_key, kind, memo, effective_on, posted_at, "
            "reverses_id, lines_digest) VALUES ('rev:2', 'reversal', 'again', CURRENT_DATE, "
            "CURRENT_TIMESTAMP, :original, 'x')"
        ), {"original": original.transaction_id})
    session.rollback()
    assert counts(session) == (2, 4)


def test_a_reversal_cannot_itself_be_reversed(session):
    open_accounts(session)
    original = journal.post_once(session, draft("t1", eur("5")))
    reversal = journal.reverse(session, original.transaction_id, "rev:1", "error")
    session.commit()
    with pytest.raises(LedgerError, match="is itself a reversal"):
        journal.reverse(session, reversal.transaction_id, "rev:rev:1", "undo")


def test_reversing_an_unknown_transaction_is_not_found(session):
    with pytest.raises(NotFound, match="no ledger transaction 999"):
        journal.reverse(session, 999, "rev:999", "error")


def test_balance_as_of_respects_effective_dates(session):
    open_accounts(session)
    journal.post_once(session, draft("jan", eur("100"), on=date(2026, 1, 15)))
    journal.post_once(session, draft("mar", eur("20"), on=date(2026, 3, 1)))
    assert journal.balance(session, "cash:EUR", as_of=date(2026, 1, 14)) == eur("0")
    assert journal.balance(session, "cash:EUR", as_of=date(2026, 1, 15)) == eur("100")
    assert journal.balance(session, "cash:EUR", as_of=date(2026, 2, 28)) == eur("100")
    assert journal.balance(session, "cash:EUR", as_of=date(2026, 3, 1)) == eur("120")
    assert journal.balance(session, "cash:EUR") == eur("120")


def test_balance_of_an_unknown_account_is_not_found(session):
    with pytest.raises(NotFound, match="no ledger account nowhere"):
        journal.balance(session, "nowhere")


def test_trial_balance_debits_equal_credits_per_currency(session):
    open_accounts(session)
    journal.post_once(session, draft("e1", eur("100"), on=date(2026, 1, 1)))
    journal.post_once(session, draft("e2", eur("30"), "cash:EUR", "vault:EUR", on=date(2026, 2, 1)))
    journal.post_once(session, draft("g1", gbp("12.34"), "cash:GBP", "income:GBP", on=date(2026, 2, 1)))
    rows = journal.trial_balance(session)
    assert [(r.code, r.debit_minor, r.credit_minor) for r in rows] == [
        ("cash:EUR", 13000, 0), ("income:EUR", 0, 10000), ("vault:EUR", 0, 3000),
        ("cash:GBP", 1234, 0), ("income:GBP", 0, 1234),
    ]
    assert journal.trial_balance_totals(rows) == {"EUR": (13000, 13000), "GBP": (1234, 1234)}
    january = journal.trial_balance(session, as_of=date(2026, 1, 31))
    assert journal.trial_balance_totals(january) == {"EUR": (10000, 10000)}


def test_a_post_taking_a_guarded_account_below_zero_is_refused_and_writes_nothing(session):
    open_accounts(session)
    journal.post_once(session, draft("fill", eur("50"), "cash:EUR", "vault:EUR"))
    before = counts(session)
    refusal = r"Vault \(EUR\) cannot cover EUR 50.01: only EUR 50.00 is available"
    with pytest.raises(InsufficientFunds, match=refusal):
        journal.post_once(session, draft("drain", eur("50.01"), "vault:EUR", "cash:EUR"))
    assert counts(session) == before
    assert journal.balance(session, "vault:EUR") == eur("50")
    exactly = journal.post_once(session, draft("drain", eur("50"), "vault:EUR", "cash:EUR"))
    assert exactly.created is True
    assert journal.balance(session, "vault:EUR") == eur("0")


def test_money_can_always_be_put_into_a_guarded_account(session):
    open_accounts(session)
    posted = journal.post_once(session, draft("fill", eur("1"), "cash:EUR", "vault:EUR"))
    assert posted.created is True
    assert journal.balance(session, "vault:EUR") == eur("1")


@pytest.mark.postgres
def test_twenty_concurrent_posts_of_one_key_end_with_one_transaction(pg_url):
    engine = make_engine(pg_url, pool_size=25)
    make_session = make_sessionmaker(engine)
    with make_session() as session:
        open_accounts(session)
    barrier = threading.Barrier(20)
    outcomes: list[journal.Posted] = []
    errors: list[BaseException] = []

    def attempt() -> None:
        with make_session() as session:
            barrier.wait()
            try:
                outcomes.append(journal.post_once(session, draft("raced", eur("9.99"))))
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(outcomes) == 20
    assert len({posted.transaction_id for posted in outcomes}) == 1
    assert sum(posted.created for posted in outcomes) == 1
    with make_session() as session:
        assert counts(session) == (1, 2)
        assert journal.balance(session, "cash:EUR") == eur("9.99")
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("statement", [
    "UPDATE ledger_lines SET amount_minor = amount_minor + 1",
    "DELETE FROM ledger_lines",
    "TRUNCATE ledger_lines",
    "UPDATE ledger_transactions SET memo = 'rewritten'",
    "DELETE FROM ledger_transactions",
    "TRUNCATE ledger_transactions CASCADE",
])
def test_postgres_refuses_changing_posted_lines_and_transactions(pg_url, statement):
    engine = make_engine(pg_url)
    with make_sessionmaker(engine)() as session:
        open_accounts(session)
        journal.post_once(session, draft("t1", eur("1")))
        with pytest.raises(DBAPIError, match="ledger is append-only"):
            session.execute(text(statement))
        session.rollback()
        assert counts(session) == (1, 2)
        assert journal.balance(session, "cash:EUR") == eur("1")
        assert ledger_check.check(session) == []
    engine.dispose()
