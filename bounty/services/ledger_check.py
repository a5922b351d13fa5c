"""Checking the stored ledger against its invariants: what `bounty ledger check` runs.

The journal refuses bad posts, and on PostgreSQL a trigger refuses changes to posted
lines; this module finds what got past both: rows inserted by hand, lines altered on
SQLite, reservations edited out of step with the pools. Each check is one SQL aggregate,
so it reads one consistent snapshot even while others post; only the line digest is
recomputed in Python (SHA-256 is not portable SQL), streaming the lines in order.

Reading only: nothing here writes, so the caller's session is left as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby

from sqlalchemy import case, func, literal_column, select, union_all
from sqlalchemy.orm import Session, aliased

from bounty.ledger import LedgerError, Money
from bounty.ledger.entries import lines_digest
from bounty.models import Account, LedgerLine, LedgerTransaction, Pool, Reservation
from bounty.services.funds import reserved_code

# Lines are streamed in batches of this size for the digest check.
_DIGEST_BATCH = 2000


@dataclass(frozen=True)
class Violation:
    """One broken invariant: which object (`subject` and its id), named, and what is wrong.

    `label` is what a person recognises: a transaction's idempotency key, an account's
    code, a pool's name and year, or a reservation's purpose and subject.
    """

    subject: str
    subject_id: int
    label: str
    problem: str

    def __str__(self) -> str:
        return f"{self.subject} {self.subject_id} ({self.label}): {self.problem}"


@dataclass(frozen=True)
class CheckReport:
    """How much was checked, and every violation found (empty when the ledger is sound)."""

    transactions: int
    lines: int
    violations: list[Violation] = field(default_factory=list)

    @property
    def is_sound(self) -> bool:
        return not self.violations


def check(session: Session) -> list[Violation]:
    """Every violation of the ledger's invariants; an empty list means the ledger is sound."""
    return report(session).violations


def report(session: Session) -> CheckReport:
    """Run every check and count the transactions and lines covered."""
    violations = [
        *_too_few_lines(session),
        *_unbalanced(session),
        *_digest_mismatches(session),
        *_line_currency_mismatches(session),
        *_guarded_accounts_below_zero(session),
        *_pools_out_of_step(session),
        *_reservation_transactions(session),
        *_reversals_not_mirrored(session),
    ]
    transactions = session.execute(select(func.count(LedgerTransaction.id))).scalar_one()
    lines = session.execute(select(func.count(LedgerLine.id))).scalar_one()
    return CheckReport(int(transactions), int(lines), violations)


def _money(minor: int, currency: str) -> str:
    """An amount for a message; a corrupted currency code must not stop the check."""
    try:
        return str(Money(int(minor), currency))
    except LedgerError:
        return f"{minor} minor units of {currency!r}"


def _transaction(transaction_id: int, key: str, problem: str) -> Violation:
    return Violation("transaction", transaction_id, key, problem)


def _too_few_lines(session: Session) -> Iterator[Violation]:
    count = func.count(LedgerLine.id)
    rows = session.execute(
        select(LedgerTransaction.id, LedgerTransaction.idempotency_key, count)
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id, isouter=True)
        .group_by(LedgerTransaction.id, LedgerTransaction.idempotency_key)
        .having(count < 2)
        .order_by(LedgerTransaction.id)
    )
    for transaction_id, key, lines in rows:
        yield _transaction(transaction_id, key, f"has {lines} line(s): a transaction needs at least two")


def _unbalanced(session: Session) -> Iterator[Violation]:
    total = func.sum(LedgerLine.amount_minor)
    rows = session.execute(
        select(LedgerTransaction.id, LedgerTransaction.idempotency_key, LedgerLine.currency, total)
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .group_by(LedgerTransaction.id, LedgerTransaction.idempotency_key, LedgerLine.currency)
        .having(total != 0)
        .order_by(LedgerTransaction.id, LedgerLine.currency)
    ).all()
    for (transaction_id, key), group in groupby(rows, key=lambda row: (row[0], row[1])):
        detail = ", ".join(_money(off, currency) for _, _, currency, off in group)
        yield _transaction(transaction_id, key, f"does not balance: its lines sum to {detail}")


def _digest_mismatches(session: Session) -> Iterator[Violation]:
    """Recompute each transaction's line digest; a line changed by hand no longer matches."""
    rows = session.execute(
        select(LedgerTransaction.id, LedgerTransaction.idempotency_key, LedgerTransaction.lines_digest,
               LedgerLine.id, Account.code, LedgerLine.currency, LedgerLine.amount_minor)
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id, isouter=True)
        .join(Account, Account.id == LedgerLine.account_id, isouter=True)
        .order_by(LedgerTransaction.id, LedgerLine.id)
        .execution_options(yield_per=_DIGEST_BATCH)
    )
    for (transaction_id, key, stored), group in groupby(rows, key=lambda row: (row[0], row[1], row[2])):
        lines = [(code or "", currency, int(amount))
                 for _, _, _, line_id, code, currency, amount in group if line_id is not None]
        if lines_digest(lines) != stored:
            yield _transaction(
                transaction_id, key,
                "its lines no longer match the digest stored when it was posted: "
                "a line was changed, added or removed after posting",
            )


def _line_currency_mismatches(session: Session) -> Iterator[Violation]:
    rows = session.execute(
        select(LedgerTransaction.id, LedgerTransaction.idempotency_key, LedgerLine.id,
               LedgerLine.account_id, LedgerLine.currency, Account.code, Account.currency)
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == LedgerLine.account_id, isouter=True)
        .where(Account.id.is_(None) | (LedgerLine.currency != Account.currency))
        .order_by(LedgerTransaction.id, LedgerLine.id)
    )
    for transaction_id, key, line_id, account_id, currency, code, account_currency in rows:
        if code is None:
            problem = f"line {line_id} is on account id {account_id}, which does not exist"
        else:
            problem = f"line {line_id} is in {currency} but account {code} holds {account_currency}"
        yield _transaction(transaction_id, key, problem)


def _guarded_accounts_below_zero(session: Session) -> Iterator[Violation]:
    """Accounts that may not go negative (a pool's available and reserved money) are not."""
    debits = func.sum(LedgerLine.amount_minor)
    on_normal_side = case((Account.normal_side == "debit", debits), else_=-debits)
    rows = session.execute(
        select(Account.id, Account.code, Account.currency, Account.normal_side, Account.pool_id,
               on_normal_side)
        .join(LedgerLine, LedgerLine.account_id == Account.id)
        .where(Account.is_negative_allowed.is_(False))
        .group_by(Account.id, Account.code, Account.currency, Account.normal_side, Account.pool_id)
        .having(on_normal_side < 0)
        .order_by(Account.id)
    )
    for account_id, code, currency, side, pool_id, balance in rows:
        problem = f"may not go below zero but stands at {_money(balance, currency)} on its {side} side"
        if pool_id is not None:
            problem += f": pool {pool_id} is over-committed"
        yield Violation("account", account_id, code, problem)


def _pools_out_of_step(session: Session) -> Iterator[Violation]:
    """Per pool, the held reservations add up to the balance of the pool's reserved account.

    One statement (a UNION ALL of both sides, summed per pool), so a reservation committed
    between two reads cannot make a sound pool look out of step.
    """
    pools = {pool.id: pool for pool in session.execute(select(Pool)).scalars()}
    reserved_accounts = dict(session.execute(
        select(Account.id, Account.code).where(Account.code.in_([reserved_code(p) for p in pools.values()]))
    ).all())
    pool_of_code = {reserved_code(pool): pool_id for pool_id, pool in pools.items()}
    held = (
        select(Reservation.pool_id.label("pool_id"), Reservation.amount_minor.label("held"),
               literal_column("0").label("booked"))
        .where(Reservation.status == "held")
    )
    parts = [held]
    if reserved_accounts:
        pool_of_account = {account_id: pool_of_code[code] for account_id, code in reserved_accounts.items()}
        parts.append(
            # The reserved account is credit-normal: a reservation credits it.
            select(case(pool_of_account, value=LedgerLine.account_id).label("pool_id"),
                   literal_column("0").label("held"), (-LedgerLine.amount_minor).label("booked"))
            .where(LedgerLine.account_id.in_(list(pool_of_account)))
        )
    both = union_all(*parts).subquery()
    rows = session.execute(
        select(both.c.pool_id, func.sum(both.c.held), func.sum(both.c.booked))
        .group_by(both.c.pool_id)
        .having(func.sum(both.c.held) != func.sum(both.c.booked))
        .order_by(both.c.pool_id)
    )
    for pool_id, held_total, booked_total in rows:
        pool = pools.get(pool_id)
        if pool is None:
            yield Violation("pool", pool_id, "missing", "reservations are held in a pool that does not exist")
            continue
        yield Violation(
            "pool", pool_id, f"{pool.name} {pool.year}",
            f"held reservations total {_money(held_total, pool.currency)} but its reserved account "
            f"{reserved_code(pool)} holds {_money(booked_total, pool.currency)}",
        )


def _reservation_transactions(session: Session) -> Iterator[Violation]:
    """Every reservation was posted, and exactly the closed ones have a closing transaction."""
    reserve_tx = aliased(LedgerTransaction)
    close_tx = aliased(LedgerTransaction)
    rows = session.execute(
        select(Reservation.id, Reservation.purpose, Reservation.subject_id, Reservation.status,
               Reservation.reserve_transaction_id, reserve_tx.id, Reservation.close_transaction_id,
               close_tx.id)
        .join(reserve_tx, reserve_tx.id == Reservation.reserve_transaction_id, isouter=True)
        .join(close_tx, close_tx.id == Reservation.close_transaction_id, isouter=True)
        .where(
            reserve_tx.id.is_(None)
            | ((Reservation.status != "held") & close_tx.id.is_(None))
            | ((Reservation.status == "held") & Reservation.close_transaction_id.is_not(None))
        )
        .order_by(Reservation.id)
    )
    for res_id, purpose, subject_id, status, reserve_ref, reserve_found, close_ref, close_found in rows:
        label = f"{purpose} {subject_id}"
        if reserve_found is None:
            yield Violation("reservation", res_id, label,
                            f"its reserve transaction {reserve_ref} does not exist")
        if status != "held" and close_found is None:
            what = "none is recorded" if close_ref is None else f"transaction {close_ref} does not exist"
            yield Violation("reservation", res_id, label,
                            f"is {status} but has no closing transaction: {what}")
        if status == "held" and close_ref is not None:
            yield Violation("reservation", res_id, label,
                            f"is held but names closing transaction {close_ref}")


def _reversals_not_mirrored(session: Session) -> Iterator[Violation]:
    """A reversal negates its original line for line (same account, currency, opposite amount).

    Both sides go into one multiset per reversal, counted +1 for the reversal's lines and -1
    for the original's negated lines; any (account, currency, amount) that does not cancel
    out is a line without its mirror.
    """
    reversal = aliased(LedgerTransaction)
    own = (
        select(reversal.id.label("reversal_id"), LedgerLine.account_id, LedgerLine.currency,
               LedgerLine.amount_minor.label("amount"), literal_column("1").label("n"))
        .join(LedgerLine, LedgerLine.transaction_id == reversal.id)
        .where(reversal.reverses_id.is_not(None))
    )
    mirrored = (
        select(reversal.id.label("reversal_id"), LedgerLine.account_id, LedgerLine.currency,
               (-LedgerLine.amount_minor).label("amount"), literal_column("-1").label("n"))
        .join(LedgerLine, LedgerLine.transaction_id == reversal.reverses_id)
        .where(reversal.reverses_id.is_not(None))
    )
    both = union_all(own, mirrored).subquery()
    unmatched = (
        select(both.c.reversal_id, func.sum(both.c.n).label("excess"))
        .group_by(both.c.reversal_id, both.c.account_id, both.c.currency, both.c.amount)
        .having(func.sum(both.c.n) != 0)
        .subquery()
    )
    rows = session.execute(
        select(LedgerTransaction.id, LedgerTransaction.idempotency_key, LedgerTransaction.reverses_id,
               func.sum(case((unmatched.c.excess > 0, unmatched.c.excess), else_=0)),
               func.sum(case((unmatched.c.excess < 0, -unmatched.c.excess), else_=0)))
        .join(unmatched, unmatched.c.reversal_id == LedgerTransaction.id)
        .group_by(LedgerTransaction.id, LedgerTransaction.idempotency_key, LedgerTransaction.reverses_id)
        .order_by(LedgerTransaction.id)
    )
    for transaction_id, key, original_id, extra, missing in rows:
        yield _transaction(
            transaction_id, key,
            f"does not mirror transaction {original_id}, which it reverses: {int(extra)} of its "
            f"line(s) have no counterpart there, {int(missing)} line(s) there are not negated here",
        )
