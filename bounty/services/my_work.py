"""The signed-in person's own work: their claims (newest first), what they earned by currency
and their ledger lines.

Read only: nothing here writes or commits. A claim's status is read as `bounty_queries` reads
it (an active claim past its limit has lapsed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from bounty.ledger import Money
from bounty.models import Account, Bounty, Claim, LedgerLine, LedgerTransaction, utcnow
from bounty.services.actors import Actor
from bounty.services.bounty_queries import effective_claim_status
from bounty.services.errors import PermissionDenied

PAYOUT_KIND = "payable"


@dataclass(frozen=True)
class MyClaim:
    claim_id: int
    bounty_id: int
    bounty_title: str
    status: str
    amount: Money
    claimed_at: datetime
    expires_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    remediation_due_at: datetime | None


@dataclass(frozen=True)
class LedgerLineView:
    transaction_id: int
    effective_on: date
    kind: str
    memo: str
    account_code: str
    amount: Money


@dataclass(frozen=True)
class MyWork:
    claims: list[MyClaim]
    earnings: dict[str, Money] = field(default_factory=dict)
    ledger_lines: list[LedgerLineView] = field(default_factory=list)


def my_work(session: Session, viewer: Actor, *, now: datetime | None = None) -> MyWork:
    """The signed-in person's claims (newest first), earnings by currency and ledger lines."""
    if viewer.person_id is None:
        raise PermissionDenied("sign in to see your work")
    now = now or utcnow()
    claims = [
        MyClaim(claim.id, bounty.id, bounty.title, effective_claim_status(claim, now),
                Money(bounty.amount_minor, bounty.currency), claim.claimed_at, claim.expires_at,
                claim.submitted_at, claim.decided_at, claim.remediation_due_at)
        for claim, bounty in session.execute(
            select(Claim, Bounty).join(Bounty, Bounty.id == Claim.bounty_id)
            .where(Claim.person_id == viewer.person_id).order_by(Claim.id.desc())
        ).all()
    ]
    original = aliased(LedgerTransaction)
    earned = session.execute(
        select(Account.currency, func.sum(LedgerLine.amount_minor))
        .join(LedgerLine, LedgerLine.account_id == Account.id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
        .outerjoin(original, original.id == LedgerTransaction.reverses_id)
        .where(Account.person_id == viewer.person_id, Account.code.startswith("payable:person:"),
               or_(LedgerTransaction.kind == PAYOUT_KIND, original.kind == PAYOUT_KIND))
        .group_by(Account.currency).order_by(Account.currency)
    ).all()
    lines = session.execute(
        select(LedgerTransaction.id, LedgerTransaction.effective_on, LedgerTransaction.kind,
               LedgerTransaction.memo, Account.code, LedgerLine.amount_minor, LedgerLine.currency)
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == LedgerLine.account_id)
        .where(Account.person_id == viewer.person_id)
        .order_by(LedgerTransaction.id.desc(), LedgerLine.id).limit(200)
    ).all()
    return MyWork(
        claims=claims,
        # Liabilities grow with credits: what was earned is the negated sum of the lines.
        earnings={currency: Money(-int(total), currency) for currency, total in earned},
        ledger_lines=[LedgerLineView(tid, on, kind, memo, code, Money(int(minor), currency))
                      for tid, on, kind, memo, code, minor, currency in lines],
    )
