"""Reading payouts: what is payable now, and batches with their items as exports show them.

Payable (docs/payouts.md): every approved bounty claim and every signed-off grant tranche
whose reservation was consumed into a payable (`reservations.consume`, keys
`approve:claim:<claim id>` and `signoff:tranche:<tranche id>`) and that has no live payout
item (none in a batch that is open, exported or paid). Subjects: the claim's id (kind
"bounty") or the tranche's id (kind "tranche").

Who reads: finance (MANAGE_PAYOUTS) and auditors (READ_EVERYTHING); the system.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import String, and_, cast, exists, literal, select
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.ledger import LedgerError, Money
from bounty.models import (
    Account,
    Bounty,
    Claim,
    ExchangeRate,
    Grant,
    Jurisdiction,
    LedgerLine,
    LedgerTransaction,
    Organisation,
    PayoutBatch,
    PayoutItem,
    Person,
    Reservation,
    Tranche,
)
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput, NotFound, PermissionDenied
from bounty.services.fx import plain

READERS = (Permission.MANAGE_PAYOUTS, Permission.READ_EVERYTHING)
BOUNTY_KEY = "approve:claim:"
TRANCHE_KEY = "signoff:tranche:"


def require_reader(viewer: Actor) -> None:
    """Refuse anyone but finance, auditors and the system."""
    if not any(viewer.can(permission) for permission in READERS):
        raise PermissionDenied(f"{viewer.label} may not see payouts")


@dataclass(frozen=True)
class PayableView:
    """Something payable not yet in a live batch: who is owed what, and what it cost in EUR."""

    kind: str
    subject_id: int
    description: str
    payee_kind: str
    payee_id: int
    payee_name: str
    payee_jurisdiction: str | None
    amount: Money
    eur: Money
    rate_id: int | None
    rate: Decimal | None
    rate_date: date | None
    shares: dict[str, Money]
    payable_transaction_id: int
    created_at: datetime


@dataclass(frozen=True)
class BatchItemView:
    """One item of a batch, as the exports read it; `shares` sum to `eur`."""

    id: int
    kind: str
    subject_id: int
    description: str
    payee_kind: str
    payee_id: int
    payee_name: str
    amount: Money
    eur: Money
    rate: Decimal | None
    rate_date: date | None
    shares: dict[str, Money]
    end_to_end_id: str
    status: str
    paid_on: date | None
    created_at: datetime
    payable_transaction_id: int
    paid_transaction_id: int | None
    clawback_transaction_id: int | None
    is_live: bool


@dataclass(frozen=True)
class BatchView:
    """A batch with its items; totals count the live items, per currency and in EUR."""

    id: int
    selection_key: str
    currency: str | None
    jurisdiction_code: str | None
    status: str
    created_at: datetime
    created_by_id: int | None
    exported_at: datetime | None
    paid_at: datetime | None
    items: list[BatchItemView]

    @property
    def live_items(self) -> list[BatchItemView]:
        return [item for item in self.items if item.is_live]

    @property
    def totals(self) -> dict[str, Money]:
        sums: dict[str, int] = defaultdict(int)
        for item in self.live_items:
            sums[item.amount.currency] += item.amount.minor
        return {currency: Money(minor, currency) for currency, minor in sorted(sums.items())}

    @property
    def eur_total(self) -> Money:
        return Money(sum(item.eur.minor for item in self.live_items), "EUR")


def check_filters(session: Session, currency: str | None,
                  jurisdiction: str | None) -> tuple[str | None, str | None]:
    """The filters normalised (upper case, None for "all"); InvalidInput on an unknown one."""
    cur = (currency or "").strip().upper() or None
    if cur is not None:
        try:
            Money.zero(cur)
        except LedgerError:
            raise InvalidInput("currency", f"unknown currency {currency!r}") from None
    code = (jurisdiction or "").strip().upper() or None
    if code is not None and session.get(Jurisdiction, code) is None:
        raise InvalidInput("jurisdiction", f"unknown jurisdiction {jurisdiction!r}")
    return cur, code


def _not_live(kind: str, subject: object) -> object:
    return ~exists(select(PayoutItem.id).where(
        PayoutItem.kind == kind, PayoutItem.subject_id == subject, PayoutItem.is_live.is_(True)))


def _rates(session: Session, ids: Iterable[int | None]) -> dict[int, ExchangeRate]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(ExchangeRate).where(ExchangeRate.id.in_(wanted))).scalars()
    return {rate.id: rate for rate in rows}


def shares_of(session: Session, transaction_ids: Iterable[int]) -> dict[int, dict[str, Money]]:
    """Per payable transaction, each jurisdiction's EUR part (its `member:<J>:borne` line)."""
    wanted = set(transaction_ids)
    result: dict[int, dict[str, Money]] = {i: {} for i in wanted}
    if not wanted:
        return result
    rows = session.execute(
        select(LedgerLine.transaction_id, Account.code, LedgerLine.amount_minor, LedgerLine.currency)
        .join(Account, Account.id == LedgerLine.account_id)
        .where(LedgerLine.transaction_id.in_(wanted), Account.code.like("member:%:borne"))
        .order_by(Account.code)
    )
    for transaction_id, code, minor, currency in rows:
        result[transaction_id][code.split(":")[1]] = Money(int(minor), currency)
    return result


def _payees(session: Session, person_ids: set[int], organisation_ids: set[int]) -> tuple[dict, dict]:
    people = ({p.id: p for p in session.execute(select(Person).where(Person.id.in_(person_ids))).scalars()}
              if person_ids else {})
    orgs = ({o.id: o for o in session.execute(
        select(Organisation).where(Organisation.id.in_(organisation_ids))).scalars()}
            if organisation_ids else {})
    return people, orgs


def collect_payables(session: Session, currency: str | None = None,
                     jurisdiction: str | None = None) -> list[PayableView]:
    """What is payable now, oldest payable first (filters already normalised; no permission check)."""
    bounty_rows = session.execute(
        select(Claim, Bounty, Reservation, LedgerTransaction)
        .join(Bounty, Bounty.id == Claim.bounty_id)
        .join(Reservation, and_(Reservation.purpose == "bounty", Reservation.subject_id == Bounty.id,
                                Reservation.status == "consumed"))
        .join(LedgerTransaction, LedgerTransaction.id == Reservation.close_transaction_id)
        .where(Claim.status == "approved",
               LedgerTransaction.idempotency_key == literal(BOUNTY_KEY) + cast(Claim.id, String),
               _not_live("bounty", Claim.id))
    ).all()
    tranche_rows = session.execute(
        select(Tranche, Grant, Reservation, LedgerTransaction)
        .join(Grant, Grant.id == Tranche.grant_id)
        .join(Reservation, and_(Reservation.purpose == "grant", Reservation.subject_id == Tranche.id,
                                Reservation.status == "consumed"))
        .join(LedgerTransaction, LedgerTransaction.id == Reservation.close_transaction_id)
        .where(Tranche.status == "signed_off",
               LedgerTransaction.idempotency_key == literal(TRANCHE_KEY) + cast(Tranche.id, String),
               _not_live("tranche", Tranche.id))
    ).all()
    people, orgs = _payees(
        session, {c.person_id for c, *_ in bounty_rows} | {g.grantee_person_id for _, g, *_ in tranche_rows
                                                           if g.grantee_person_id is not None},
        {g.grantee_organisation_id for _, g, *_ in tranche_rows if g.grantee_organisation_id is not None})
    reservations = [r for *_, r, _ in bounty_rows] + [r for *_, r, _ in tranche_rows]
    rates = _rates(session, (r.rate_id for r in reservations))
    shares = shares_of(session, [t.id for *_, t in bounty_rows] + [t.id for *_, t in tranche_rows])
    found: list[PayableView] = []

    def add(kind: str, subject_id: int, description: str, person_id: int | None, org_id: int | None,
            amount: Money, reservation: Reservation, payable: LedgerTransaction) -> None:
        payee = people[person_id] if person_id is not None else orgs[org_id]
        name = payee.display_name if person_id is not None else payee.name
        rate = rates.get(reservation.rate_id) if reservation.rate_id is not None else None
        found.append(PayableView(
            kind, subject_id, description[:300], "person" if person_id is not None else "organisation",
            payee.id, name, payee.jurisdiction_code, amount,
            Money(reservation.amount_minor, reservation.currency), reservation.rate_id,
            plain(Decimal(rate.rate)) if rate else None, rate.rate_date if rate else None,
            shares[payable.id], payable.id, payable.posted_at))

    for claim, bounty, reservation, payable in bounty_rows:
        add("bounty", claim.id, f"Bounty {bounty.id}: {bounty.title}", claim.person_id, None,
            Money(bounty.amount_minor, bounty.currency), reservation, payable)
    for tranche, grant, reservation, payable in tranche_rows:
        add("tranche", tranche.id, f"Grant {grant.id} tranche {tranche.position}: {tranche.milestone}",
            grant.grantee_person_id, grant.grantee_organisation_id,
            Money(tranche.amount_minor, grant.currency), reservation, payable)
    chosen = [p for p in found if (currency is None or p.amount.currency == currency)
              and (jurisdiction is None or p.payee_jurisdiction == jurisdiction)]
    return sorted(chosen, key=lambda p: (p.payable_transaction_id, p.kind, p.subject_id))


def payable_items(session: Session, viewer: Actor, *, currency: str | None = None,
                  jurisdiction: str | None = None) -> list[PayableView]:
    """Everything payable and not yet in a live batch, optionally of one currency or one
    jurisdiction (the payee person's, or the organisation's)."""
    require_reader(viewer)
    cur, code = check_filters(session, currency, jurisdiction)
    return collect_payables(session, cur, code)


def _views(session: Session, batches: list[PayoutBatch]) -> list[BatchView]:
    items = [item for batch in batches for item in batch.items]
    people, orgs = _payees(session, {i.payee_person_id for i in items if i.payee_person_id is not None},
                           {i.payee_organisation_id for i in items if i.payee_organisation_id is not None})
    rates = _rates(session, (i.rate_id for i in items))
    shares = shares_of(session, (i.payable_transaction_id for i in items))
    posted = dict(session.execute(
        select(LedgerTransaction.id, LedgerTransaction.posted_at)
        .where(LedgerTransaction.id.in_({i.payable_transaction_id for i in items}))
    ).all()) if items else {}
    views = []
    for batch in batches:
        item_views = []
        for item in batch.items:
            rate = rates.get(item.rate_id) if item.rate_id is not None else None
            is_person = item.payee_person_id is not None
            payee = people[item.payee_person_id] if is_person else orgs[item.payee_organisation_id]
            item_views.append(BatchItemView(
                item.id, item.kind, item.subject_id, item.description,
                "person" if is_person else "organisation", payee.id,
                payee.display_name if is_person else payee.name,
                Money(item.amount_minor, item.currency), Money(item.eur_minor, "EUR"),
                plain(Decimal(rate.rate)) if rate else None, rate.rate_date if rate else None,
                shares[item.payable_transaction_id], item.end_to_end_id, item.status, item.paid_on,
                posted[item.payable_transaction_id], item.payable_transaction_id,
                item.paid_transaction_id, item.clawback_transaction_id, item.is_live))
        views.append(BatchView(batch.id, batch.selection_key, batch.currency, batch.jurisdiction_code,
                               batch.status, batch.created_at, batch.created_by_id, batch.exported_at,
                               batch.paid_at, item_views))
    return views


def batch_view(session: Session, batch: PayoutBatch) -> BatchView:
    """`batch` as a view (no permission check: for services that already checked)."""
    return _views(session, [batch])[0]


def get_batch(session: Session, viewer: Actor, batch_id: int) -> BatchView:
    """One batch with its items (withdrawn ones included, `is_live` False)."""
    require_reader(viewer)
    batch = session.get(PayoutBatch, batch_id, populate_existing=True)
    if batch is None:
        raise NotFound(f"no payout batch {batch_id}")
    session.refresh(batch, ["items"])
    return batch_view(session, batch)


def list_batches(session: Session, viewer: Actor, *, status: str | None = None) -> list[BatchView]:
    """Every batch, newest first, optionally of one status."""
    require_reader(viewer)
    query = select(PayoutBatch).order_by(PayoutBatch.id.desc())
    if status:
        query = query.where(PayoutBatch.status == status)
    return _views(session, list(session.execute(query).scalars()))
