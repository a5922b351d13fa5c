"""Posting to the double-entry ledger: accounts, balanced transactions, balances.

`post` is the only code that writes ledger lines. It checks the draft balances per
currency, that each line's currency is its account's, that accounts which may not go
negative stay at or above zero (their rows locked first, in id order, so concurrent posts
queue instead of over-committing), and it makes a repeat of an idempotency key a no-op
that returns the original transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Row, bindparam, event, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bounty.ledger import EntryDraft, InsufficientFunds, LedgerError, Money, TransactionDraft
from bounty.ledger.entries import lines_digest
from bounty.models import Account, LedgerLine, LedgerTransaction, utcnow
from bounty.services.errors import Conflict, InvalidInput, NotFound

# Normal side of each account kind: assets and expenses grow with debits.
NORMAL_SIDE = {"asset": "debit", "expense": "debit", "liability": "credit", "equity": "credit",
               "income": "credit"}


@dataclass(frozen=True)
class Posted:
    """The outcome of a post: the transaction id, and False when the key was already used."""

    transaction_id: int
    idempotency_key: str
    created: bool


def ensure_account(
    session: Session, code: str, name: str, kind: str, currency: str, *,
    pool_id: int | None = None, person_id: int | None = None, organisation_id: int | None = None,
    jurisdiction_code: str | None = None, is_negative_allowed: bool = True,
) -> Account:
    """The account with `code`, created when missing (flushes)."""
    account = session.execute(select(Account).where(Account.code == code)).scalar_one_or_none()
    if account is not None:
        if account.currency != currency:
            raise InvalidInput("currency", f"account {code} is in {account.currency}, not {currency}")
        return account
    account = Account(
        code=code, name=name, kind=kind, normal_side=NORMAL_SIDE[kind], currency=currency,
        pool_id=pool_id, person_id=person_id, organisation_id=organisation_id,
        jurisdiction_code=jurisdiction_code, is_negative_allowed=is_negative_allowed,
    )
    session.add(account)
    session.flush()
    return account


_ACCOUNTS = Account.__table__
_TRANSACTIONS = LedgerTransaction.__table__
_LINES = LedgerLine.__table__

# Statements built once: building and cache-keying a statement per post costs as much CPU as
# running it. Core tables, not ORM entities: no bulk-persistence or identity-map work.
_SELECT_ACCOUNTS = select(
    _ACCOUNTS.c.id, _ACCOUNTS.c.code, _ACCOUNTS.c.name, _ACCOUNTS.c.currency,
    _ACCOUNTS.c.normal_side, _ACCOUNTS.c.is_negative_allowed,
).where(_ACCOUNTS.c.code.in_(bindparam("codes", expanding=True)))
# A repeated idempotency key inserts nothing and returns no id: one round trip instead of a
# SELECT before every INSERT; a concurrent duplicate waits for the winner, then yields.
_INSERT_TRANSACTION = {
    name: dialect_insert(_TRANSACTIONS)
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(_TRANSACTIONS.c.id)
    for name, dialect_insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}
_SELECT_BY_KEY = select(_TRANSACTIONS.c.id, _TRANSACTIONS.c.lines_digest).where(
    _TRANSACTIONS.c.idempotency_key == bindparam("key")
)
# With RETURNING, SQLAlchemy sends all lines as one multi-row INSERT ("insertmanyvalues").
_INSERT_LINES = insert(_LINES).returning(_LINES.c.id)


_ACCOUNT_CACHE = "bounty.journal.accounts"


@event.listens_for(Session, "after_rollback")
def _forget_accounts(session: Session) -> None:
    # An account created in a transaction that rolled back must not be remembered.
    session.info.pop(_ACCOUNT_CACHE, None)


def _accounts_by_code(session: Session, connection: Connection, codes: Iterable[str]) -> dict[str, Row]:
    """The accounts named by `codes`, remembered per session: an account's id, currency and
    guard never change once created, and one lookup less per post is a large part of its cost."""
    cache: dict[str, Row] = session.info.setdefault(_ACCOUNT_CACHE, {})
    wanted = set(codes)
    unknown = wanted - cache.keys()
    if unknown:
        for row in connection.execute(_SELECT_ACCOUNTS, {"codes": sorted(unknown)}):
            cache[row.code] = row
    found = {code: cache[code] for code in wanted if code in cache}
    missing = wanted - found.keys()
    if missing:
        raise NotFound(f"no ledger account {', '.join(sorted(missing))}")
    return found


def _fingerprint(draft: TransactionDraft) -> str:
    return lines_digest((e.account, e.amount.currency, e.amount.minor) for e in draft.entries)


def post(session: Session, draft: TransactionDraft, actor_id: int | None = None) -> Posted:
    """Write `draft` in the caller's transaction (flushes; the caller commits).

    A draft whose idempotency key was posted before returns the original when its lines are
    the same, and raises Conflict when they differ.
    """
    digest = _fingerprint(draft)
    # Core statements on the session's connection skip the ORM execute path; flush first, as
    # session.execute would, so rows the caller added are visible to them.
    session.flush()
    connection = session.connection()
    accounts = _accounts_by_code(session, connection, (e.account for e in draft.entries))
    for entry in draft.entries:
        account = accounts[entry.account]
        if account.currency != entry.amount.currency:
            raise InvalidInput(
                "currency", f"account {account.code} holds {account.currency}, not {entry.amount.currency}"
            )
    guarded = sorted({a.id for a in accounts.values() if not a.is_negative_allowed})
    if guarded:
        # Lock before reading balances so two posts cannot both spend the same money.
        session.execute(select(Account.id).where(Account.id.in_(guarded)).order_by(Account.id).with_for_update())

    transaction_id = connection.execute(_INSERT_TRANSACTION[connection.dialect.name], {
        "idempotency_key": draft.idempotency_key, "kind": draft.kind, "memo": draft.memo[:500],
        "effective_on": draft.effective_on or utcnow().date(), "posted_at": utcnow(),
        "actor_id": actor_id, "reverses_id": draft.reverses_id, "lines_digest": digest,
    }).scalar_one_or_none()
    if transaction_id is None:
        existing = connection.execute(_SELECT_BY_KEY, {"key": draft.idempotency_key}).one()
        return _replayed(draft, existing.id, existing.lines_digest, digest)
    lines = [_line_row(transaction_id, accounts[e.account], e) for e in draft.entries]
    connection.execute(_INSERT_LINES, lines).all()
    if guarded:
        _refuse_negative(session, [a for a in accounts.values() if a.id in guarded], draft)
    return Posted(transaction_id, draft.idempotency_key, True)


def _line_row(transaction_id: int, account: Account | Row, entry: EntryDraft) -> dict[str, object]:
    return {
        "transaction_id": transaction_id, "account_id": account.id, "currency": account.currency,
        "amount_minor": entry.amount.minor, "rate_id": entry.rate_id,
        "original_minor": entry.original.minor if entry.original else None,
        "original_currency": entry.original.currency if entry.original else None,
    }


def _replayed(draft: TransactionDraft, existing_id: int, existing_digest: str, digest: str) -> Posted:
    if existing_digest != digest:
        raise Conflict(
            f"idempotency key {draft.idempotency_key!r} was already used for different lines "
            f"(transaction {existing_id})"
        )
    return Posted(existing_id, draft.idempotency_key, False)


def _refuse_negative(session: Session, accounts: Sequence[Account | Row], draft: TransactionDraft) -> None:
    """Refuse a post that takes a guarded account below zero on its normal side.

    Only a post that lowers the account is refused, so money can always be put back into
    an account that is short; the message says what the post takes and what was there.
    """
    totals = dict(session.execute(
        select(LedgerLine.account_id, func.coalesce(func.sum(LedgerLine.amount_minor), 0))
        .where(LedgerLine.account_id.in_([a.id for a in accounts]))
        .group_by(LedgerLine.account_id)
    ).all())
    for account in accounts:
        moved = sum(e.amount.minor for e in draft.entries if e.account == account.code)
        change = normal_balance(account, moved)
        after = normal_balance(account, int(totals.get(account.id, 0)))
        if change < 0 and after < 0:
            before = Money(after - change, account.currency)
            raise InsufficientFunds(account.name, str(Money(-change, account.currency)), str(before))


def post_once(session: Session, draft: TransactionDraft, actor_id: int | None = None) -> Posted:
    """`post` and commit, settling a race on the same idempotency key.

    When a concurrent post of the same key commits first, this one's insert fails on the
    unique key; it then returns (or refuses, if the lines differ) the winner's transaction.
    """
    try:
        posted = post(session, draft, actor_id)
        session.commit()
        return posted
    except IntegrityError:
        session.rollback()
        existing = session.execute(
            select(LedgerTransaction.id, LedgerTransaction.lines_digest)
            .where(LedgerTransaction.idempotency_key == draft.idempotency_key)
        ).first()
        if existing is None:
            raise
        return _replayed(draft, existing.id, existing.lines_digest, _fingerprint(draft))
    except BaseException:
        session.rollback()
        raise


def normal_balance(account: Account | Row, debit_total: int) -> int:
    """A signed debit total expressed on the account's normal side."""
    return debit_total if account.normal_side == "debit" else -debit_total


def balance(session: Session, code: str, as_of: date | None = None) -> Money:
    """The balance of account `code` on its normal side, including `as_of` (default: all)."""
    account = session.execute(select(Account).where(Account.code == code)).scalar_one_or_none()
    if account is None:
        raise NotFound(f"no ledger account {code}")
    query = (
        select(func.coalesce(func.sum(LedgerLine.amount_minor), 0))
        .where(LedgerLine.account_id == account.id)
    )
    if as_of is not None:
        query = query.join(LedgerTransaction).where(LedgerTransaction.effective_on <= as_of)
    return Money(normal_balance(account, int(session.execute(query).scalar_one())), account.currency)


@dataclass(frozen=True)
class TrialBalanceRow:
    code: str
    name: str
    currency: str
    debit_minor: int
    credit_minor: int


def trial_balance(session: Session, as_of: date | None = None) -> list[TrialBalanceRow]:
    """Every account with a balance: its net on the debit or the credit side, by code.

    Per currency, total debits equal total credits when the ledger is sound.
    """
    query = (
        select(Account.code, Account.name, Account.currency, func.sum(LedgerLine.amount_minor))
        .join(LedgerLine, LedgerLine.account_id == Account.id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
        .group_by(Account.code, Account.name, Account.currency)
        .order_by(Account.currency, Account.code)
    )
    if as_of is not None:
        query = query.where(LedgerTransaction.effective_on <= as_of)
    rows = []
    for code, name, currency, total in session.execute(query):
        total = int(total)
        rows.append(TrialBalanceRow(code, name, currency, max(total, 0), max(-total, 0)))
    return rows


def trial_balance_totals(rows: Iterable[TrialBalanceRow]) -> dict[str, tuple[int, int]]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        totals[row.currency][0] += row.debit_minor
        totals[row.currency][1] += row.credit_minor
    return {currency: (d, c) for currency, (d, c) in totals.items()}


def reverse(session: Session, transaction_id: int, idempotency_key: str, memo: str,
            actor_id: int | None = None) -> Posted:
    """Post the correcting transaction of `transaction_id` (flushes; the caller commits)."""
    original = session.get(LedgerTransaction, transaction_id)
    if original is None:
        raise NotFound(f"no ledger transaction {transaction_id}")
    if original.kind == "reversal":
        raise LedgerError(
            f"transaction {transaction_id} is itself a reversal: post a new transaction instead"
        )
    earlier = session.execute(
        select(LedgerTransaction.id, LedgerTransaction.idempotency_key)
        .where(LedgerTransaction.reverses_id == transaction_id)
    ).first()
    if earlier is not None and earlier.idempotency_key != idempotency_key:
        # A repeat under the same key replays in `post`; another key would reverse twice.
        raise Conflict(f"transaction {transaction_id} was already reversed by transaction {earlier.id}")
    rows = session.execute(
        select(Account.code, LedgerLine.amount_minor, LedgerLine.currency, LedgerLine.rate_id,
               LedgerLine.original_minor, LedgerLine.original_currency)
        .join(Account, Account.id == LedgerLine.account_id)
        .where(LedgerLine.transaction_id == transaction_id)
    ).all()
    draft = TransactionDraft(
        kind="reversal", memo=memo, idempotency_key=idempotency_key, reverses_id=transaction_id,
        entries=[
            EntryDraft(code, Money(-amount, currency), rate_id,
                       Money(-orig, orig_cur) if orig is not None and orig_cur else None)
            for code, amount, currency, rate_id, orig, orig_cur in rows
        ],
    )
    return post(session, draft, actor_id)
