"""The ledger check: silent on a sound ledger, and naming every kind of corruption.

Each corruption is made by hand with plain SQL, as someone at a database prompt would.
Inserts and changes to reservations run on both databases (PostgreSQL's trigger guards
only UPDATE and DELETE of posted lines and transactions); changing a posted line runs on
SQLite, where nothing but the check stands in the way. Where the foreign keys would refuse
the change, they are switched off first, as they are by default in the sqlite3 shell.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from bounty.ledger import EntryDraft, Money, TransactionDraft
from bounty.ledger.entries import lines_digest
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import funds, journal, ledger_check, reservations
from bounty.services.actors import SYSTEM
from tests import factories


def eur(text_: str) -> Money:
    return Money.parse(text_, "EUR")


@pytest.fixture
def sqlite_session(sqlite_template, tmp_path) -> Iterator[Session]:
    target = tmp_path / "ledger.db"
    shutil.copyfile(sqlite_template, target)
    engine = make_engine(f"sqlite:///{target}")
    session = make_sessionmaker(engine)()
    yield session
    session.close()
    engine.dispose()


def open_accounts(session: Session) -> None:
    journal.ensure_account(session, "cash:EUR", "Cash (EUR)", "asset", "EUR")
    journal.ensure_account(session, "income:EUR", "Income (EUR)", "income", "EUR")
    journal.ensure_account(session, "cash:GBP", "Cash (GBP)", "asset", "GBP")
    journal.ensure_account(session, "income:GBP", "Income (GBP)", "income", "GBP")
    session.commit()


def transfer(session: Session, key: str, amount: Money, debit: str = "cash:EUR",
             credit: str = "income:EUR") -> int:
    return journal.post_once(session, TransactionDraft(
        kind="test", memo=key, idempotency_key=key,
        entries=[EntryDraft(debit, amount), EntryDraft(credit, -amount)],
    )).transaction_id


def tamper(session: Session, sql: str, **params: object) -> None:
    session.execute(text(sql), params)
    session.commit()


def tamper_without_foreign_keys(session: Session, sql: str, **params: object) -> None:
    """SQLite only: PRAGMA foreign_keys is ignored inside a transaction, so use a raw
    connection in autocommit mode, as the sqlite3 shell does."""
    session.commit()
    raw = session.get_bind().raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA foreign_keys=OFF")
        raw.driver_connection.execute(sql, params)
        raw.driver_connection.execute("PRAGMA foreign_keys=ON")
    finally:
        raw.close()


def insert_transaction(session: Session, key: str, lines: list[tuple[str, str, int]],
                       reverses_id: int | None = None, digest: str | None = None) -> int:
    """A transaction written with plain SQL, past the journal; its digest is right unless given."""
    transaction_id = session.execute(text(
        "INSERT INTO ledger_transactions (idempotency_key, kind, memo, effective_on, posted_at, "
        "reverses_id, lines_digest) VALUES (:key, 'manual', 'by hand', CURRENT_DATE, "
        "CURRENT_TIMESTAMP, :reverses_id, :digest) RETURNING id"
    ), {"key": key, "reverses_id": reverses_id, "digest": digest or lines_digest(lines)}).scalar_one()
    for code, currency, amount in lines:
        session.execute(text(
            "INSERT INTO ledger_lines (transaction_id, account_id, currency, amount_minor) "
            "SELECT :transaction_id, id, :currency, :amount FROM ledger_accounts WHERE code = :code"
        ), {"transaction_id": transaction_id, "currency": currency, "amount": amount, "code": code})
    session.commit()
    return transaction_id


def line_ids(session: Session, transaction_id: int) -> list[int]:
    ids = session.execute(text(
        "SELECT id FROM ledger_lines WHERE transaction_id = :t ORDER BY id"), {"t": transaction_id}
    ).scalars().all()
    session.commit()
    return list(ids)


def described(session: Session) -> list[str]:
    return [str(violation) for violation in ledger_check.check(session)]


# --- a sound ledger -------------------------------------------------------------------------

def test_an_empty_ledger_is_sound(session):
    result = ledger_check.report(session)
    assert (result.transactions, result.lines, result.violations, result.is_sound) == (0, 0, [], True)


def test_a_ledger_written_by_the_services_is_sound(session):
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "1000")
    held = reservations.reserve(session, SYSTEM, pool, "bounty", 1, eur("300"))
    reservations.reserve(session, SYSTEM, pool, "bounty", 2, eur("200"))
    reservations.release(session, SYSTEM, held, "cancelled")
    reservations.reserve(session, SYSTEM, pool, "bounty", 1, eur("100"))
    open_accounts(session)
    first = transfer(session, "t1", eur("12.34"))
    transfer(session, "t2", Money.parse("5", "GBP"), "cash:GBP", "income:GBP")
    journal.reverse(session, first, "rev:t1", "posted in error")
    session.commit()
    result = ledger_check.report(session)
    assert result.violations == []
    # funding, 4 reservation moves, 2 transfers, 1 reversal; funding has 4 members + the pool
    assert (result.transactions, result.lines) == (8, 5 + 4 * 2 + 2 * 2 + 2)


# --- transactions ---------------------------------------------------------------------------

def test_a_line_amount_changed_by_hand_names_the_transaction(sqlite_session):
    session = sqlite_session
    open_accounts(session)
    transfer(session, "before", eur("1"))
    target = transfer(session, "altered", eur("10"))
    first_line, _ = line_ids(session, target)
    tamper(session, "UPDATE ledger_lines SET amount_minor = 999 WHERE id = :id", id=first_line)
    found = ledger_check.check(session)
    assert {(v.subject, v.subject_id, v.label) for v in found} == {("transaction", target, "altered")}
    assert [v.problem for v in found] == [
        "does not balance: its lines sum to EUR -0.01",
        "its lines no longer match the digest stored when it was posted: "
        "a line was changed, added or removed after posting",
    ]
    assert str(found[0]).startswith(f"transaction {target} (altered): ")


def test_a_balanced_alteration_is_caught_by_the_digest(sqlite_session):
    session = sqlite_session
    open_accounts(session)
    target = transfer(session, "altered", eur("10"))
    debit, credit = line_ids(session, target)
    tamper(session, "UPDATE ledger_lines SET amount_minor = 2000 WHERE id = :id", id=debit)
    tamper(session, "UPDATE ledger_lines SET amount_minor = -2000 WHERE id = :id", id=credit)
    [violation] = ledger_check.check(session)
    assert (violation.subject_id, violation.label) == (target, "altered")
    assert "no longer match the digest" in violation.problem


def test_a_line_moved_to_another_account_is_caught_by_the_digest(sqlite_session):
    session = sqlite_session
    open_accounts(session)
    journal.ensure_account(session, "other:EUR", "Other (EUR)", "asset", "EUR")
    session.commit()
    target = transfer(session, "moved", eur("10"))
    debit, _ = line_ids(session, target)
    tamper(session, "UPDATE ledger_lines SET account_id = "
                    "(SELECT id FROM ledger_accounts WHERE code = 'other:EUR') WHERE id = :id", id=debit)
    assert described(session) == [
        f"transaction {target} (moved): its lines no longer match the digest stored when it was "
        "posted: a line was changed, added or removed after posting",
    ]


def test_a_deleted_line_leaves_a_one_line_unbalanced_transaction(sqlite_session):
    session = sqlite_session
    open_accounts(session)
    target = transfer(session, "halved", eur("10"))
    _, credit = line_ids(session, target)
    tamper(session, "DELETE FROM ledger_lines WHERE id = :id", id=credit)
    problems = [(v.subject_id, v.problem.split(":")[0]) for v in ledger_check.check(session)]
    assert problems == [
        (target, "has 1 line(s)"), (target, "does not balance"),
        (target, "its lines no longer match the digest stored when it was posted"),
    ]


def test_lines_added_to_a_posted_transaction_are_caught_by_the_digest(session):
    """An INSERT is not refused by PostgreSQL's trigger; the digest still shows it."""
    open_accounts(session)
    target = transfer(session, "padded", eur("10"))
    for amount in (500, -500):
        tamper(session, "INSERT INTO ledger_lines (transaction_id, account_id, currency, amount_minor) "
                        "SELECT :t, id, 'EUR', :amount FROM ledger_accounts WHERE code = 'cash:EUR'",
               t=target, amount=amount)
    [violation] = ledger_check.check(session)
    assert (violation.subject, violation.subject_id, violation.label) == ("transaction", target, "padded")
    assert "no longer match the digest" in violation.problem


def test_an_unbalanced_transaction_inserted_by_hand_is_named(session):
    open_accounts(session)
    target = insert_transaction(session, "lopsided", [
        ("cash:EUR", "EUR", 1000), ("income:EUR", "EUR", -900),
        ("cash:GBP", "GBP", 5), ("income:GBP", "GBP", -5),
    ])
    assert described(session) == [
        f"transaction {target} (lopsided): does not balance: its lines sum to EUR 1.00"
    ]


def test_a_transaction_with_a_single_line_is_named(session):
    open_accounts(session)
    target = insert_transaction(session, "lonely", [("cash:EUR", "EUR", 1000)])
    assert described(session)[0] == (
        f"transaction {target} (lonely): has 1 line(s): a transaction needs at least two"
    )


def test_a_transaction_without_lines_is_named(session):
    target = insert_transaction(session, "empty", [])
    assert described(session) == [
        f"transaction {target} (empty): has 0 line(s): a transaction needs at least two"
    ]


def test_a_line_in_another_currency_than_its_account_is_named(sqlite_session):
    session = sqlite_session
    open_accounts(session)
    target = transfer(session, "relabelled", Money.parse("5", "GBP"), "cash:GBP", "income:GBP")
    debit, _ = line_ids(session, target)
    tamper_without_foreign_keys(
        session, "UPDATE ledger_lines SET currency = 'EUR' WHERE id = :id", id=debit)
    problems = described(session)
    assert problems == [
        f"transaction {target} (relabelled): does not balance: its lines sum to EUR 5.00, GBP -5.00",
        f"transaction {target} (relabelled): its lines no longer match the digest stored when it was "
        "posted: a line was changed, added or removed after posting",
        f"transaction {target} (relabelled): line {debit} is in EUR but account cash:GBP holds GBP",
    ]


def test_a_line_on_an_account_that_does_not_exist_is_named(sqlite_session):
    session = sqlite_session
    open_accounts(session)
    target = transfer(session, "orphaned", eur("3"))
    debit, _ = line_ids(session, target)
    tamper_without_foreign_keys(session, "UPDATE ledger_lines SET account_id = 4242 WHERE id = :id", id=debit)
    assert f"transaction {target} (orphaned): line {debit} is on account id 4242, which does not exist" \
        in described(session)


# --- guarded accounts and pools -------------------------------------------------------------

def test_an_over_committed_pool_is_named(session):
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "1000")
    insert_transaction(session, "overspend", [
        (funds.available_code(pool), "EUR", 150000), ("member:EU:pledged", "EUR", -150000),
    ])
    account_id = session.execute(text("SELECT id FROM ledger_accounts WHERE code = :c"),
                                 {"c": funds.available_code(pool)}).scalar_one()
    session.commit()
    assert described(session) == [
        f"account {account_id} (pool:2026:bounty_pool:available): may not go below zero but stands "
        f"at EUR -500.00 on its credit side: pool {pool.id} is over-committed",
    ]


def test_held_reservations_out_of_step_with_the_reserved_account_are_named(session):
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "1000")
    held = reservations.reserve(session, SYSTEM, pool, "bounty", 7, eur("600"))
    tamper(session, "UPDATE reservations SET amount_minor = 60001 WHERE id = :id", id=held.id)
    assert described(session) == [
        f"pool {pool.id} (Bounty Pool 2026): held reservations total EUR 600.01 but its reserved "
        "account pool:2026:bounty_pool:reserved holds EUR 600.00",
    ]


def test_a_reservation_held_in_a_pool_without_a_reserved_account_is_named(session):
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "1000")
    held = reservations.reserve(session, SYSTEM, pool, "bounty", 7, eur("10"))
    tamper(session, "UPDATE ledger_accounts SET code = 'renamed' WHERE code = :c",
           c=funds.reserved_code(pool))
    assert described(session) == [
        # The digest covers account codes, so the renamed account shows on its transactions too.
        f"transaction {held.reserve_transaction_id} (reserve:bounty:7:1): its lines no longer match "
        "the digest stored when it was posted: a line was changed, added or removed after posting",
        f"pool {pool.id} (Bounty Pool 2026): held reservations total EUR 10.00 but its reserved "
        "account pool:2026:bounty_pool:reserved holds EUR 0.00",
    ]


def test_a_reservation_whose_reserve_transaction_is_gone_is_named(sqlite_session):
    session = sqlite_session
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "1000")
    held = reservations.reserve(session, SYSTEM, pool, "grant", 3, eur("10"))
    tamper_without_foreign_keys(
        session, "UPDATE reservations SET reserve_transaction_id = 9999 WHERE id = :id", id=held.id)
    assert described(session) == [
        f"reservation {held.id} (grant 3): its reserve transaction 9999 does not exist",
    ]


def test_a_released_reservation_without_a_closing_transaction_is_named(session):
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "1000")
    held = reservations.reserve(session, SYSTEM, pool, "bounty", 5, eur("10"))
    reservations.release(session, SYSTEM, held, "cancelled")
    tamper(session, "UPDATE reservations SET close_transaction_id = NULL WHERE id = :id", id=held.id)
    assert described(session) == [
        f"reservation {held.id} (bounty 5): is released but has no closing transaction: none is recorded",
    ]


def test_a_consumed_reservation_pointing_at_a_missing_transaction_is_named(sqlite_session):
    session = sqlite_session
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "1000")
    held = reservations.reserve(session, SYSTEM, pool, "bounty", 5, eur("10"))
    reservations.release(session, SYSTEM, held, "cancelled")
    tamper_without_foreign_keys(
        session, "UPDATE reservations SET status = 'consumed', close_transaction_id = 777 WHERE id = :id",
        id=held.id)
    assert described(session) == [
        f"reservation {held.id} (bounty 5): is consumed but has no closing transaction: "
        "transaction 777 does not exist",
    ]


def test_a_reservation_marked_held_again_after_release_is_named(session):
    factories.jurisdictions(session)
    pool = factories.funded_pool(session, "1000")
    held = reservations.reserve(session, SYSTEM, pool, "bounty", 5, eur("10"))
    released = reservations.release(session, SYSTEM, held, "cancelled")
    tamper(session, "UPDATE reservations SET status = 'held' WHERE id = :id", id=held.id)
    problems = described(session)
    assert f"reservation {held.id} (bounty 5): is held but names closing transaction " \
           f"{released.close_transaction_id}" in problems
    assert f"pool {pool.id} (Bounty Pool 2026): held reservations total EUR 10.00 but its reserved " \
           "account pool:2026:bounty_pool:reserved holds EUR 0.00" in problems


# --- reversals ------------------------------------------------------------------------------

def test_a_reversal_that_does_not_mirror_its_original_is_named(session):
    open_accounts(session)
    original = transfer(session, "original", eur("10"))
    fake = insert_transaction(session, "fake-reversal", [
        ("income:EUR", "EUR", 1000), ("cash:EUR", "EUR", -900), ("cash:EUR", "EUR", -100),
    ], reverses_id=original)
    assert described(session) == [
        f"transaction {fake} (fake-reversal): does not mirror transaction {original}, which it reverses: "
        "2 of its line(s) have no counterpart there, 1 line(s) there are not negated here",
    ]


def test_a_reversal_that_repeats_its_original_instead_of_negating_it_is_named(session):
    open_accounts(session)
    original = transfer(session, "original", eur("10"))
    fake = insert_transaction(session, "same-direction", [
        ("cash:EUR", "EUR", 1000), ("income:EUR", "EUR", -1000),
    ], reverses_id=original)
    [violation] = ledger_check.check(session)
    assert (violation.subject_id, violation.label) == (fake, "same-direction")
    assert violation.problem.startswith(f"does not mirror transaction {original}")


def test_a_reversal_written_by_hand_that_mirrors_exactly_passes(session):
    open_accounts(session)
    original = transfer(session, "original", eur("10"))
    insert_transaction(session, "hand-reversal", [
        ("income:EUR", "EUR", 1000), ("cash:EUR", "EUR", -1000),
    ], reverses_id=original)
    assert ledger_check.check(session) == []
