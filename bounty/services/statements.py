"""Finance statements read from the ledger: per jurisdiction and period, and the trial balance.

The full journal, streamed, is `bounty.services.journal_export`; organisation activity for
the fast-track procurement bonus is `bounty.services.activity`.

Everything here reads; nothing writes. Who may read (docs/finance.md): finance
(MANAGE_PAYOUTS), program admins (MANAGE_FUNDS) and auditors (READ_EVERYTHING); the system
(the `bounty finance` commands) too.

A jurisdiction's statement comes from its two ledger accounts (docs/ledger.md):
- `member:<J>:pledged`: a pool funding debits it with the member's part (what it owes into
  that pool by its share); any other posting to it, a credit, is money the member paid in.
- `member:<J>:borne`: the approval of a bounty or the sign-off of a grant tranche debits it
  with the member's part of the payout (largest remainder, `funds.split_cost`); a clawback's
  reversal credits it back.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.ledger import Money
from bounty.models import (
    Account,
    Jurisdiction,
    LedgerLine,
    LedgerTransaction,
    Pool,
)
from bounty.services import journal
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput, NotFound, PermissionDenied
from bounty.services.funds import pledged_code, shares_for_year
from bounty.services.reservations import borne_code

READERS = (Permission.MANAGE_PAYOUTS, Permission.MANAGE_FUNDS, Permission.READ_EVERYTHING)


def require_reader(actor: Actor) -> None:
    """Refuse anyone who may not read finance statements (see the module)."""
    if not any(actor.can(permission) for permission in READERS):
        raise PermissionDenied(f"{actor.label} may not read finance statements")


@dataclass(frozen=True)
class Period:
    """Both ends included."""

    start: date
    end: date

    def label(self) -> str:
        """"2026" for a calendar year, else "2026-01-01 to 2026-06-30"."""
        if (self.start, self.end) == (date(self.start.year, 1, 1), date(self.start.year, 12, 31)):
            return str(self.start.year)
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def period(year: int | None = None, start: date | None = None, end: date | None = None) -> Period:
    """A calendar year, or the days from `start` to `end` (both included); InvalidInput on
    a mix of both, a missing end, or an end before the start."""
    if year is not None:
        if start is not None or end is not None:
            raise InvalidInput("period", "give a year or from/to dates, not both")
        if isinstance(year, bool) or not 2000 <= year <= 9998:
            raise InvalidInput("year", "give a year from 2000 on, such as 2026")
        return Period(date(year, 1, 1), date(year, 12, 31))
    if start is None or end is None:
        raise InvalidInput("period", "give a year, or both a from and a to date")
    if end < start:
        raise InvalidInput("to", f"{end.isoformat()} is before {start.isoformat()}")
    return Period(start, end)


# --- the statement of one jurisdiction -------------------------------------------------------

@dataclass(frozen=True)
class PoolShare:
    """One pool as one member sees it over the period."""

    pool_id: int
    year: int
    kind: str
    name: str
    share: Decimal      # the member's share in the pool's year
    funded: Money       # what all members put into the pool in the period
    owed: Money         # this member's part of it, by its share
    spent: Money        # what the pool paid out in the period
    borne: Money        # this member's part of those payouts


@dataclass(frozen=True)
class Payment:
    """A posting that credits the member's pledge: money it paid in (negative if refunded)."""

    effective_on: date
    transaction_id: int
    idempotency_key: str
    memo: str
    amount: Money


@dataclass(frozen=True)
class PayoutShare:
    """One payout (or its reversal) and this member's part of its cost."""

    effective_on: date
    transaction_id: int
    idempotency_key: str
    kind: str
    memo: str
    pool_id: int | None
    total: Money               # the payout's cost to the pool (its `spent` line), in the pool's currency
    part: Money                # this member's `borne` line
    payable: Money | None      # what the payee is owed, in the payee's currency
    payee_account: str | None


@dataclass(frozen=True)
class JurisdictionStatement:
    """What one member owed, paid in and carried over a period, and where it stands at its end."""

    jurisdiction_code: str
    jurisdiction_name: str
    period: Period
    currency: str
    pools: list[PoolShare]
    payments: list[Payment]
    payouts: list[PayoutShare]
    owed: Money                 # period: sum of pools' owed
    paid_in: Money              # period: sum of payments
    borne: Money                # period: sum of payouts' parts
    owed_to_date: Money         # everything up to the period's end
    paid_in_to_date: Money
    borne_to_date: Money

    @property
    def outstanding(self) -> Money:
        """What the member committed up to the period's end but has not paid in."""
        return self.owed_to_date - self.paid_in_to_date

    @property
    def balance(self) -> Money:
        """The member's part of what is still in the pools at the period's end: what it
        committed minus its part of what was paid out."""
        return self.owed_to_date - self.borne_to_date


def _account(session: Session, code: str) -> Row[Any] | None:
    return session.execute(select(Account.id, Account.currency).where(Account.code == code)).first()


def _pool_accounts(session: Session) -> dict[int, tuple[int, str]]:
    """Every pool account: id -> (pool id, role: available, reserved or spent)."""
    rows = session.execute(
        select(Account.id, Account.pool_id, Account.code).where(Account.pool_id.is_not(None)))
    return {row.id: (row.pool_id, row.code.rsplit(":", 1)[-1]) for row in rows}


def _lines_of_transactions_touching(session: Session, account_id: int, start: date | None, end: date) -> Any:
    """Every line of the transactions that move `account_id` in the period, with the
    transaction's fields, in posting order."""
    touching = (
        select(LedgerLine.transaction_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
        .where(LedgerLine.account_id == account_id, LedgerTransaction.effective_on <= end)
    )
    if start is not None:
        touching = touching.where(LedgerTransaction.effective_on >= start)
    return session.execute(
        select(LedgerTransaction.id, LedgerTransaction.effective_on, LedgerTransaction.idempotency_key,
               LedgerTransaction.kind, LedgerTransaction.memo, LedgerLine.account_id, Account.code,
               LedgerLine.currency, LedgerLine.amount_minor)
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == LedgerLine.account_id)
        .where(LedgerTransaction.id.in_(touching))
        .order_by(LedgerTransaction.id, LedgerLine.id)
    )


def _grouped(rows: Any) -> Iterator[list[Row[Any]]]:
    """Rows of consecutive lines, one list per transaction."""
    for _, lines in itertools.groupby(rows, key=lambda row: row.id):
        yield list(lines)


def jurisdiction_statement(session: Session, actor: Actor, jurisdiction_code: str,
                           span: Period) -> JurisdictionStatement:
    """The statement of `jurisdiction_code` over `span` (see JurisdictionStatement)."""
    require_reader(actor)
    jurisdiction = session.get(Jurisdiction, jurisdiction_code.strip().upper())
    if jurisdiction is None:
        raise NotFound(f"no jurisdiction {jurisdiction_code.strip()!r}")
    code = jurisdiction.code
    pledged, borne = _account(session, pledged_code(code)), _account(session, borne_code(code))
    currency = pledged.currency if pledged else borne.currency if borne else "EUR"
    pool_accounts = _pool_accounts(session)
    funded: dict[int, int] = defaultdict(int)
    owed: dict[int, int] = defaultdict(int)
    spent: dict[int, int] = {}
    borne_by_pool: dict[int, int] = defaultdict(int)
    payments: list[Payment] = []
    owed_to_date = paid_to_date = 0
    if pledged is not None:
        # From the beginning: the figures to date need all of it; funding postings are few.
        for lines in _grouped(_lines_of_transactions_touching(session, pledged.id, None, span.end)):
            mine = sum(line.amount_minor for line in lines if line.account_id == pledged.id)
            pools = {pool_accounts[line.account_id][0] for line in lines if line.account_id in pool_accounts}
            first = lines[0]
            in_period = first.effective_on >= span.start
            if pools:
                pool_id = min(pools)
                owed_to_date += mine
                if in_period:
                    owed[pool_id] += mine
                    funded[pool_id] -= sum(line.amount_minor for line in lines
                                           if pool_accounts.get(line.account_id, (None,))[0] == pool_id)
            else:
                paid_to_date -= mine
                if in_period:
                    payments.append(Payment(first.effective_on, first.id, first.idempotency_key, first.memo,
                                            Money(-mine, currency)))
    payouts: list[PayoutShare] = []
    if borne is not None:
        for lines in _grouped(_lines_of_transactions_touching(session, borne.id, span.start, span.end)):
            payouts.append(_payout(lines, borne.id, pool_accounts, currency))
        for payout in payouts:
            if payout.pool_id is not None:
                borne_by_pool[payout.pool_id] += payout.part.minor
        spent = _spent(session, set(borne_by_pool), span)
    borne_to_date = journal.balance(session, borne_code(code), span.end).minor if borne else 0
    pools = _pool_shares(session, code, set(owed) | set(spent), funded, owed, spent, borne_by_pool, currency)
    return JurisdictionStatement(
        jurisdiction_code=code, jurisdiction_name=jurisdiction.name, period=span, currency=currency,
        pools=pools, payments=payments, payouts=payouts,
        owed=Money(sum(owed.values()), currency),
        paid_in=Money(sum(p.amount.minor for p in payments), currency),
        borne=Money(sum(p.part.minor for p in payouts), currency),
        owed_to_date=Money(owed_to_date, currency), paid_in_to_date=Money(paid_to_date, currency),
        borne_to_date=Money(borne_to_date, currency),
    )


def _payout(lines: list[Row[Any]], borne_id: int, pool_accounts: dict[int, tuple[int, str]],
            currency: str) -> PayoutShare:
    first = lines[0]
    part = sum(line.amount_minor for line in lines if line.account_id == borne_id)
    spent_lines = [line for line in lines if pool_accounts.get(line.account_id, (0, ""))[1] == "spent"]
    payables = [line for line in lines if line.code.startswith("payable:")]
    payable = payables[0] if len(payables) == 1 else None
    return PayoutShare(
        effective_on=first.effective_on, transaction_id=first.id, idempotency_key=first.idempotency_key,
        kind=first.kind, memo=first.memo,
        pool_id=pool_accounts[spent_lines[0].account_id][0] if spent_lines else None,
        total=Money(-sum(line.amount_minor for line in spent_lines), currency),
        part=Money(part, currency),
        payable=Money(-payable.amount_minor, payable.currency) if payable else None,
        payee_account=payable.code if payable else None,
    )


def _pool_shares(session: Session, code: str, pool_ids: set[int], funded: dict[int, int],
                 owed: dict[int, int], spent: dict[int, int], borne: dict[int, int],
                 currency: str) -> list[PoolShare]:
    if not pool_ids:
        return []
    shares: dict[int, dict[str, Decimal]] = {}
    result = []
    chosen = select(Pool).where(Pool.id.in_(pool_ids)).order_by(Pool.year, Pool.id)
    for pool in session.execute(chosen).scalars():
        if pool.year not in shares:
            shares[pool.year] = shares_for_year(session, pool.year)
        result.append(PoolShare(
            pool.id, pool.year, pool.kind, pool.name, shares[pool.year].get(code, Decimal(0)),
            Money(funded[pool.id], currency), Money(owed[pool.id], currency),
            Money(spent.get(pool.id, 0), currency), Money(borne[pool.id], currency),
        ))
    return result


def _spent(session: Session, pool_ids: set[int], span: Period) -> dict[int, int]:
    """What each pool paid out in the period (its `spent` account, all payouts)."""
    return {pool_id: -int(total) for pool_id, total in session.execute(
        select(Account.pool_id, func.sum(LedgerLine.amount_minor))
        .join(LedgerLine, LedgerLine.account_id == Account.id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
        .where(Account.pool_id.in_(pool_ids), Account.code.like("%:spent"),
               LedgerTransaction.effective_on >= span.start, LedgerTransaction.effective_on <= span.end)
        .group_by(Account.pool_id))}


# --- the trial balance and the journal ------------------------------------------------------

def trial_balance(session: Session, actor: Actor, as_of: date | None = None) -> list[journal.TrialBalanceRow]:
    """Every account with a balance on or before `as_of`: its net debit or credit, by currency then code."""
    require_reader(actor)
    return journal.trial_balance(session, as_of)
