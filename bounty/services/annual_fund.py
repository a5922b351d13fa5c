"""The annual awards report's fund by jurisdiction: for the year's pools, what each member put
in by its share (its pledges posted by the pool fundings), its share of what is reserved
(largest remainder, so the parts add up) and its part of what was spent (its `borne` lines).

Read only; `bounty.services.annual_report` assembles it into the report and owns who may read it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.ledger import Money, allocate
from bounty.models import Account, LedgerLine, LedgerTransaction
from bounty.services import funds


@dataclass(frozen=True)
class FundRow:
    """One member's part of the year's pools (jurisdiction_code None: the total)."""

    jurisdiction_code: str | None
    share: Decimal
    allocated: Money
    reserved: Money
    spent: Money

    @property
    def available(self) -> Money:
        return self.allocated - self.reserved - self.spent


def fund_by_jurisdiction(session: Session, year: int,
                         shares: dict[str, Decimal]) -> tuple[list[FundRow], FundRow, list[funds.PoolStatus]]:
    """Allocated (pledges posted by the fundings of the year's pools), reserved (each pool's
    reserved balance split by its year's shares) and spent (the `borne` lines of the payouts
    and reversals touching the pools' `spent` accounts), per member."""
    statuses = funds.pool_statuses(session, year)
    pool_ids = [status.pool_id for status in statuses]
    allocated = _member_lines(session, pool_ids, "pledged", LedgerTransaction.kind == "pool_funding",
                              ":available")
    spent = _member_lines(session, pool_ids, "borne", None, ":spent")
    reserved: dict[str, int] = defaultdict(int)
    for status in statuses:
        if status.reserved.minor and shares:
            for code, part in allocate(status.reserved, shares).items():
                reserved[code] += part.minor
    codes = list(shares) + sorted((set(allocated) | set(spent) | set(reserved)) - set(shares))
    rows = [FundRow(code, shares.get(code, Decimal(0)), _eur(allocated.get(code, 0)),
                    _eur(reserved.get(code, 0)), _eur(spent.get(code, 0))) for code in codes]
    total = FundRow(None, sum((row.share for row in rows), Decimal(0)),
                    *(_eur(sum(getattr(status, name).minor for status in statuses))
                      for name in ("funded", "reserved", "spent")))
    return rows, total, statuses


def _eur(minor: int) -> Money:
    return Money(int(minor), "EUR")


def _member_lines(session: Session, pool_ids: list[int], role: str, kind: Any,
                  pool_suffix: str) -> dict[str, int]:
    """The sum of `member:<J>:<role>` lines per member, in the transactions that move one of
    the pools' accounts ending in `pool_suffix` (and are of `kind`, when given)."""
    if not pool_ids:
        return {}
    touching = (select(LedgerLine.transaction_id)
                .join(Account, Account.id == LedgerLine.account_id)
                .where(Account.pool_id.in_(pool_ids), Account.code.like(f"%{pool_suffix}")))
    query = (select(Account.jurisdiction_code, func.sum(LedgerLine.amount_minor))
             .select_from(LedgerLine)
             .join(Account, Account.id == LedgerLine.account_id)
             .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
             .where(LedgerLine.transaction_id.in_(touching), Account.code.like(f"member:%:{role}"))
             .group_by(Account.jurisdiction_code))
    if kind is not None:
        query = query.where(kind)
    return {code: int(total) for code, total in session.execute(query).all() if code}
