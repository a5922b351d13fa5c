"""Pools, jurisdiction shares, funding pools by share and splitting costs by share.

Chart of accounts for a pool (all in the pool's currency, EUR):
  member:<J>:pledged                 asset   what jurisdiction J committed into the pools
  pool:<year>:<kind>:available       equity  money in the pool not yet set aside (never < 0)
  pool:<year>:<kind>:reserved        equity  money set aside for bounties and grants (never < 0)
Funding a pool debits each member's pledge by its share and credits the pool's available
account; a reservation moves money from available to reserved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.ledger import EntryDraft, InvalidShares, Money, TransactionDraft, allocate
from bounty.ledger.allocation import normalise_shares
from bounty.models import Account, Jurisdiction, JurisdictionShare, LedgerLine, Pool, Reservation
from bounty.services import audit, journal, seed_files
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput, NotFound


def available_code(pool: Pool) -> str:
    return f"pool:{pool.year}:{pool.kind}:available"


def reserved_code(pool: Pool) -> str:
    return f"pool:{pool.year}:{pool.kind}:reserved"


def spent_code(pool: Pool) -> str:
    """What the pool has paid out: its consumed reservations (see docs/ledger.md, Payouts)."""
    return f"pool:{pool.year}:{pool.kind}:spent"


def bank_code(currency: str) -> str:
    """The cooperative's settlement account in `currency`: members pay into it, payouts leave it."""
    return f"bank:{currency}"


def pledged_code(jurisdiction_code: str) -> str:
    return f"member:{jurisdiction_code}:pledged"


def shares_for_year(session: Session, year: int) -> dict[str, Decimal]:
    """Each jurisdiction's share in force in `year`: its newest row from `year` or before.

    Raises InvalidShares when no shares are on record or they do not sum to 1.
    """
    newest = (
        select(JurisdictionShare.jurisdiction_code, func.max(JurisdictionShare.year).label("year"))
        .where(JurisdictionShare.year <= year)
        .group_by(JurisdictionShare.jurisdiction_code)
        .subquery()
    )
    rows = session.execute(
        select(JurisdictionShare.jurisdiction_code, JurisdictionShare.share).join(
            newest,
            (JurisdictionShare.jurisdiction_code == newest.c.jurisdiction_code)
            & (JurisdictionShare.year == newest.c.year),
        )
    ).all()
    shares = {code: Decimal(share).normalize() for code, share in rows if share > 0}
    if not shares:
        raise InvalidShares(f"no jurisdiction shares are on record for {year}: run `bounty seed`")
    normalise_shares(shares)
    return shares


def shares_in_force(session: Session, year: int) -> dict[str, Decimal]:
    """The shares of `year` as recorded in the database; on a database not yet migrated or
    seeded, the shares published in `seed/jurisdictions.toml` for that year."""
    # The session's own connection: a second one would wait on SQLite's lock while this
    # session holds a write transaction.
    if inspect(session.connection()).has_table("jurisdiction_shares"):
        recorded = session.execute(
            select(func.count(JurisdictionShare.id)).where(JurisdictionShare.year <= year)
        ).scalar_one()
        if recorded:
            return shares_for_year(session, year)
    try:
        return seed_files.published_shares(year)
    except LookupError as exc:
        raise InvalidShares(str(exc)) from None


def set_share(
    session: Session, actor: Actor, jurisdiction_code: str, year: int, share: Decimal
) -> JurisdictionShare:
    """Record a jurisdiction's share from `year` on (commits). Earlier years keep theirs."""
    actor.require(Permission.MANAGE_FUNDS)
    if session.get(Jurisdiction, jurisdiction_code) is None:
        raise InvalidInput("jurisdiction", f"unknown jurisdiction {jurisdiction_code!r}")
    row = session.execute(
        select(JurisdictionShare).where(JurisdictionShare.jurisdiction_code == jurisdiction_code,
                                        JurisdictionShare.year == year)
    ).scalar_one_or_none()
    before = str(row.share) if row else None
    if row is None:
        row = JurisdictionShare(jurisdiction_code=jurisdiction_code, year=year, share=share)
        session.add(row)
    else:
        row.share = share
    session.flush()
    if before != str(share):
        audit.record(session, actor, "share.set", "jurisdiction", jurisdiction_code,
                     {"year": year, "from": before, "to": str(share)})
    session.commit()
    return row


def split(amount: Money, shares: Mapping[str, Decimal | Fraction | str]) -> dict[str, Money]:
    """`amount` split by `shares` exactly (largest remainder); see `bounty.ledger.allocation`."""
    return allocate(amount, shares)


def split_cost(session: Session, amount: Money, year: int) -> dict[str, Money]:
    """Which part of a payout of `amount` each jurisdiction carries, by the shares of `year`."""
    return allocate(amount, shares_for_year(session, year))


def get_pool(session: Session, year: int, kind: str) -> Pool:
    pool = session.execute(select(Pool).where(Pool.year == year, Pool.kind == kind)).scalar_one_or_none()
    if pool is None:
        raise NotFound(f"no {kind.replace('_', ' ')} for {year}")
    return pool


def ensure_pool(session: Session, actor: Actor, year: int, kind: str, name: str, planned: Money) -> Pool:
    """The pool of `kind` for `year`, created with its ledger accounts when missing (commits)."""
    actor.require(Permission.MANAGE_FUNDS)
    if planned.is_negative():
        raise InvalidInput("planned", "a pool's planned size cannot be negative")
    pool = session.execute(select(Pool).where(Pool.year == year, Pool.kind == kind)).scalar_one_or_none()
    if pool is None:
        pool = Pool(year=year, kind=kind, name=name, currency=planned.currency, planned_minor=planned.minor)
        session.add(pool)
        session.flush()
        audit.record(session, actor, "pool.create", "pool", pool.id,
                     {"year": year, "kind": kind, "planned": str(planned)})
    _ensure_pool_accounts(session, pool)
    session.commit()
    return pool


def _ensure_pool_accounts(session: Session, pool: Pool) -> None:
    for code, label in ((available_code(pool), "available"), (reserved_code(pool), "reserved")):
        journal.ensure_account(session, code, f"{pool.name} {pool.year} ({label})", "equity",
                               pool.currency, pool_id=pool.id, is_negative_allowed=False)


def fund_pool(session: Session, actor: Actor, pool: Pool, amount: Money | None = None,
              key: str = "planned") -> journal.Posted:
    """Post each member's contribution into `pool` by the shares of the pool's year (commits).

    `amount` defaults to the pool's planned size. Idempotent per (`pool`, `key`): funding
    twice with the same key changes nothing.
    """
    actor.require(Permission.MANAGE_FUNDS)
    total = amount or Money(pool.planned_minor, pool.currency)
    if total.currency != pool.currency:
        raise InvalidInput("currency", f"{pool.name} is kept in {pool.currency}")
    if total.minor <= 0:
        raise InvalidInput("amount", "funding must be a positive amount")
    parts = allocate(total, shares_for_year(session, pool.year))
    for code in parts:
        journal.ensure_account(session, pledged_code(code), f"{code} pledged contributions", "asset",
                               pool.currency, jurisdiction_code=code)
    entries = [EntryDraft(pledged_code(code), part) for code, part in parts.items() if part.minor]
    entries.append(EntryDraft(available_code(pool), -total))
    draft = TransactionDraft(
        kind="pool_funding", memo=f"{pool.name} {pool.year}: contributions by share",
        entries=entries, idempotency_key=f"pool-funding:{pool.id}:{key}",
    )
    posted = journal.post(session, draft, actor.person_id)
    if posted.created:
        audit.record(session, actor, "pool.fund", "pool", pool.id,
                     {"amount": str(total), "parts": {c: p.amount_str() for c, p in parts.items()},
                      "transaction": posted.transaction_id})
    session.commit()
    return posted


@dataclass(frozen=True)
class PoolStatus:
    """A pool as the landing page and the finance pages show it: funded is what members put
in, which is what is available plus what is reserved plus what was spent."""

    pool_id: int
    year: int
    kind: str
    name: str
    planned: Money
    funded: Money
    reserved: Money
    available: Money
    spent: Money


def pool_statuses(session: Session, year: int) -> list[PoolStatus]:
    """Every pool of `year` with what was put in, what is reserved and what is available."""
    pools = session.execute(select(Pool).where(Pool.year == year).order_by(Pool.id)).scalars().all()
    if not pools:
        return []
    sums = dict(session.execute(
        select(Account.code, func.coalesce(func.sum(LedgerLine.amount_minor), 0))
        .join(LedgerLine, LedgerLine.account_id == Account.id, isouter=True)
        .where(Account.pool_id.in_([p.id for p in pools]))
        .group_by(Account.code)
    ).all())
    statuses = []
    for pool in pools:
        available = -int(sums.get(available_code(pool), 0))
        reserved = -int(sums.get(reserved_code(pool), 0))
        spent = -int(sums.get(spent_code(pool), 0))
        statuses.append(PoolStatus(
            pool.id, pool.year, pool.kind, pool.name, Money(pool.planned_minor, pool.currency),
            Money(available + reserved + spent, pool.currency), Money(reserved, pool.currency),
            Money(available, pool.currency), Money(spent, pool.currency),
        ))
    return statuses


def held_reservations_total(session: Session, pool: Pool) -> int:
    return int(session.execute(
        select(func.coalesce(func.sum(Reservation.amount_minor), 0))
        .where(Reservation.pool_id == pool.id, Reservation.status == "held")
    ).scalar_one())


MAX_REFERENCE = 100


def record_member_payment(session: Session, actor: Actor, jurisdiction_code: str, amount: Money, *,
                          paid_on: date, reference: str) -> journal.Posted:
    """Money a member paid in against what it owes by its shares (commits).

    Debits the settlement account `bank:<CUR>` and credits `member:<J>:pledged`, in the
    currency the member's pledges are kept in. Idempotent per (member, bank reference):
    recording the same payment twice changes nothing; the same reference with another
    amount is refused.
    """
    actor.require(Permission.MANAGE_FUNDS)
    code = (jurisdiction_code or "").strip().upper()
    try:
        if session.get(Jurisdiction, code) is None:
            raise InvalidInput("jurisdiction", f"unknown jurisdiction {jurisdiction_code!r}")
        reference = " ".join((reference or "").split())
        if not reference:
            raise InvalidInput("reference", "give the bank reference of the payment")
        if len(reference) > MAX_REFERENCE:
            raise InvalidInput("reference", f"at most {MAX_REFERENCE} characters")
        if amount.minor <= 0:
            raise InvalidInput("amount", "a payment is a positive amount")
        pledged = session.execute(
            select(Account).where(Account.code == pledged_code(code))).scalar_one_or_none()
        currency = pledged.currency if pledged is not None else "EUR"
        if amount.currency != currency:
            raise InvalidInput("currency", f"{code}'s contributions are kept in {currency}")
        journal.ensure_account(session, pledged_code(code), f"{code} pledged contributions", "asset",
                               currency, jurisdiction_code=code)
        journal.ensure_account(session, bank_code(currency), f"Bank settlement account ({currency})",
                               "asset", currency)
        posted = journal.post(session, TransactionDraft(
            kind="member_payment", memo=f"{code} paid in: {reference}",
            entries=[EntryDraft(bank_code(currency), amount), EntryDraft(pledged_code(code), -amount)],
            idempotency_key=f"member-payment:{code}:{reference}", effective_on=paid_on,
        ), actor.person_id)
        if posted.created:
            audit.record(session, actor, "member.payment", "jurisdiction", code,
                         {"amount": str(amount), "paid_on": paid_on.isoformat(), "reference": reference,
                          "transaction": posted.transaction_id})
        session.commit()
        return posted
    except BaseException:
        session.rollback()
        raise
