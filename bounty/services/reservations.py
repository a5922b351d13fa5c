"""Reserving money in a pool for a bounty or a grant, releasing it, and consuming it into a
payable when the work is approved.

A pool is never over-committed: the pool's available account is locked (row lock on
PostgreSQL, BEGIN IMMEDIATE on SQLite) before what is left is read, so of two concurrent
reservations that together exceed it exactly one succeeds.

The subject of a reservation depends on its purpose: a bounty (purpose "bounty", subject
the bounty's id) or a grant's tranche (purpose "grant", subject the tranche's id: a grant
holds one reservation per tranche, so each tranche is consumed or released whole; see
docs/grants.md). A reservation is always consumed or released whole. Its audit events are
recorded on the subject, or on the object the caller names (`audit_object`), e.g. the grant
a tranche belongs to. A payable goes to a person or to an organisation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.ledger import Conversion, EntryDraft, InsufficientFunds, Money, TransactionDraft
from bounty.models import Account, LedgerLine, LedgerTransaction, Pool, Reservation, utcnow
from bounty.services import audit, funds, journal
from bounty.services.actors import Actor
from bounty.services.errors import Conflict, InvalidInput, NotFound
from bounty.services.funds import available_code, reserved_code, spent_code

PURPOSE_PERMISSION = {"bounty": Permission.MANAGE_BOUNTIES, "grant": Permission.MANAGE_FUNDS}

# Where an audit event about a reservation is recorded: (object type, object id).
AuditObject = tuple[str, int]


def _audit_target(purpose: str, subject_id: int, audit_object: AuditObject | None,
                  summary: dict[str, Any]) -> tuple[str, int]:
    """The object an event is recorded on; when the caller names one, the summary also
    names the reservation's own subject so nothing is lost."""
    if audit_object is None:
        return purpose, subject_id
    summary["subject"] = f"{purpose} {subject_id}"
    return audit_object


def _available_locked(session: Session, pool: Pool) -> Money:
    account_id = session.execute(
        select(Account.id).where(Account.code == available_code(pool)).with_for_update()
    ).scalar_one_or_none()
    if account_id is None:
        raise NotFound(f"{pool.name} {pool.year} has no ledger accounts: run `bounty seed`")
    credit_total = -int(session.execute(
        select(func.coalesce(func.sum(LedgerLine.amount_minor), 0)).where(LedgerLine.account_id == account_id)
    ).scalar_one())
    return Money(credit_total, pool.currency)


def available_locked(session: Session, pool: Pool) -> Money:
    """What is left in `pool`, its available account locked until the caller's transaction
    ends: a check of a total against it holds until the caller's reservations are posted."""
    return _available_locked(session, pool)


def reserve(
    session: Session, actor: Actor, pool: Pool, purpose: str, subject_id: int, amount: Money,
    conversion: Conversion | None = None,
) -> Reservation:
    """Set `amount` (in the pool's currency) aside in `pool` for a bounty or grant (commits).

    `conversion` records how the amount was converted from the subject's own currency.
    Raises InsufficientFunds when the pool cannot cover it, Conflict when the subject
    already holds a reservation.
    """
    try:
        reservation = hold(session, actor, pool, purpose, subject_id, amount, conversion)
        session.commit()
        return reservation
    except IntegrityError:
        session.rollback()
        raise Conflict(f"{purpose} {subject_id} already holds a reservation") from None
    except BaseException:
        session.rollback()
        raise


def hold(
    session: Session, actor: Actor, pool: Pool, purpose: str, subject_id: int, amount: Money,
    conversion: Conversion | None = None, *, audit_object: AuditObject | None = None,
) -> Reservation:
    """`reserve` inside the caller's transaction (flushes; the caller commits or rolls back).

    A second held reservation of the same subject fails on the unique index (IntegrityError).
    `audit_object` records the event on another object than the subject (see the module).
    """
    if purpose not in PURPOSE_PERMISSION:
        raise InvalidInput("purpose", f"must be one of {', '.join(PURPOSE_PERMISSION)}")
    actor.require(PURPOSE_PERMISSION[purpose])
    if amount.currency != pool.currency:
        raise InvalidInput("currency", f"{pool.name} is kept in {pool.currency}: convert the amount first")
    if amount.minor <= 0:
        raise InvalidInput("amount", "a reservation must be a positive amount")
    if conversion is not None and conversion.target != amount:
        raise InvalidInput("amount", "the amount is not the result of the conversion given")
    available = _available_locked(session, pool)
    if available < amount:
        raise InsufficientFunds(f"{pool.name} {pool.year}", str(amount), str(available))
    key = f"reserve:{purpose}:{subject_id}:{_count_for(session, purpose, subject_id) + 1}"
    rate_id = conversion.rate_id if conversion else None
    original = conversion.source if conversion else None
    posted = journal.post(session, TransactionDraft(
        kind="reservation", memo=f"reserve for {purpose} {subject_id}", idempotency_key=key,
        entries=[EntryDraft(available_code(pool), amount, rate_id, original),
                 EntryDraft(reserved_code(pool), -amount, rate_id, -original if original else None)],
    ), actor.person_id)
    reservation = Reservation(
        pool_id=pool.id, purpose=purpose, subject_id=subject_id, amount_minor=amount.minor,
        currency=amount.currency, status="held", rate_id=rate_id,
        original_minor=original.minor if original else None,
        original_currency=original.currency if original else None,
        reserve_transaction_id=posted.transaction_id,
    )
    session.add(reservation)
    session.flush()
    summary: dict[str, Any] = {
        "pool": pool.id, "amount": str(amount), "reservation": reservation.id,
        "converted_from": str(original) if original else None,
        "rate": str(conversion.rate) if conversion else None,
        "rate_date": conversion.rate_date.isoformat() if conversion else None,
        "rate_source": conversion.rate_source if conversion else None}
    object_type, object_id = _audit_target(purpose, subject_id, audit_object, summary)
    audit.record(session, actor, "reservation.hold", object_type, object_id, summary)
    return reservation


def _count_for(session: Session, purpose: str, subject_id: int) -> int:
    return int(session.execute(
        select(func.count(Reservation.id))
        .where(Reservation.purpose == purpose, Reservation.subject_id == subject_id)
    ).scalar_one())


def held_for(session: Session, purpose: str, subject_id: int) -> Reservation | None:
    return session.execute(
        select(Reservation).where(Reservation.purpose == purpose, Reservation.subject_id == subject_id,
                                  Reservation.status == "held")
    ).scalar_one_or_none()


def release(session: Session, actor: Actor, reservation: Reservation, reason: str) -> Reservation:
    """Give a held reservation back to the pool's available money (commits)."""
    try:
        released = give_back(session, actor, reservation, reason)
        session.commit()
        return released
    except BaseException:
        session.rollback()
        raise


def give_back(session: Session, actor: Actor, reservation: Reservation, reason: str, *,
              audit_object: AuditObject | None = None) -> Reservation:
    """`release` inside the caller's transaction (flushes; the caller commits)."""
    actor.require(PURPOSE_PERMISSION[reservation.purpose])
    current = _locked(session, reservation.id)
    if current.status != "held":
        raise Conflict(f"reservation {current.id} is already {current.status}")
    pool = session.get(Pool, current.pool_id)
    assert pool is not None
    amount = Money(current.amount_minor, current.currency)
    posted = journal.post(session, TransactionDraft(
        kind="release", memo=f"release {current.purpose} {current.subject_id}: {reason}"[:500],
        idempotency_key=f"release:{current.id}",
        entries=[EntryDraft(reserved_code(pool), amount), EntryDraft(available_code(pool), -amount)],
    ), actor.person_id)
    current.status, current.closed_at = "released", utcnow()
    current.close_transaction_id = posted.transaction_id
    summary: dict[str, Any] = {"reservation": current.id, "amount": str(amount), "reason": reason}
    object_type, object_id = _audit_target(current.purpose, current.subject_id, audit_object, summary)
    audit.record(session, actor, "reservation.release", object_type, object_id, summary)
    return current


def _locked(session: Session, reservation_id: int) -> Reservation:
    # Re-read under lock: a concurrent release or consumption must not run twice.
    return session.execute(
        select(Reservation).where(Reservation.id == reservation_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def payable_code(person_id: int, currency: str) -> str:
    return f"payable:person:{person_id}:{currency}"


def organisation_payable_code(organisation_id: int, currency: str) -> str:
    """What the cooperative owes an organisation (a grantee) in `currency`."""
    return f"payable:organisation:{organisation_id}:{currency}"


def borne_code(jurisdiction_code: str) -> str:
    return f"member:{jurisdiction_code}:borne"


def clearing_code(currency: str) -> str:
    return f"fx:clearing:{currency}"


def consume(
    session: Session, actor: Actor, reservation: Reservation, payee_person_id: int | None, payable: Money,
    idempotency_key: str, memo: str, *, payee_organisation_id: int | None = None,
    audit_object: AuditObject | None = None,
) -> journal.Posted:
    """Turn a held reservation into a payable to a person (flushes; the caller commits).

    The payee is the person `payee_person_id`, or, when that is None, the organisation
    `payee_organisation_id` (account `payable:organisation:<id>:<CUR>`); exactly one is given.

    One transaction (see docs/ledger.md, "Payouts"): the reserved amount leaves the pool's
    reserved account; the payee's payable is credited with `payable` in its own currency,
    through the FX clearing accounts at the rate recorded with the reservation when that is
    not the pool's currency; each jurisdiction's part of the cost (largest remainder, shares
    of the pool's year) is debited to its `borne` account against the pool's `spent`.

    `payable` must be what was reserved: the reserved amount itself, or the original amount
    the reservation was converted from. No permission check: the caller decides who may
    trigger a payout (the review rule, for bounties). Repeating the same `idempotency_key`
    returns the first transaction and changes nothing; a held reservation is needed otherwise.
    """
    if (payee_person_id is None) == (payee_organisation_id is None):
        raise InvalidInput("payee", "a payable goes to exactly one person or organisation")
    payee = (payable_code(payee_person_id, payable.currency) if payee_person_id is not None
             else organisation_payable_code(payee_organisation_id or 0, payable.currency))
    current = _locked(session, reservation.id)
    if current.status == "consumed" and current.close_transaction_id is not None:
        key = session.execute(
            select(LedgerTransaction.idempotency_key)
            .where(LedgerTransaction.id == current.close_transaction_id)
        ).scalar_one()
        if key == idempotency_key:
            return journal.Posted(current.close_transaction_id, key, False)
    if current.status != "held":
        raise Conflict(f"reservation {current.id} is already {current.status}")
    pool = session.get(Pool, current.pool_id)
    assert pool is not None
    reserved = Money(current.amount_minor, current.currency)
    entries = [EntryDraft(reserved_code(pool), reserved)]
    if payable.currency == reserved.currency:
        if payable != reserved:
            raise InvalidInput("amount", f"{payable} is not the {reserved} reserved")
        entries.append(EntryDraft(payee, -payable))
    else:
        if (current.original_currency, current.original_minor) != (payable.currency, payable.minor):
            raise InvalidInput("amount", f"{payable} is not the amount the reservation of "
                                         f"{reserved} was converted from")
        rate_id = current.rate_id
        entries += [
            EntryDraft(clearing_code(reserved.currency), -reserved, rate_id, -payable),
            EntryDraft(clearing_code(payable.currency), payable, rate_id, reserved),
            EntryDraft(payee, -payable),
        ]
    parts = funds.split_cost(session, reserved, pool.year)
    entries += [EntryDraft(borne_code(code), part) for code, part in parts.items() if part.minor]
    entries.append(EntryDraft(spent_code(pool), -reserved))
    _ensure_payout_accounts(session, pool, payee, payee_person_id, payee_organisation_id, payable,
                            reserved, parts)
    posted = journal.post(session, TransactionDraft(
        kind="payable", memo=memo, entries=entries, idempotency_key=idempotency_key,
    ), actor.person_id)
    current.status, current.closed_at = "consumed", utcnow()
    current.close_transaction_id = posted.transaction_id
    session.flush()
    summary: dict[str, Any] = {
        "reservation": current.id, "amount": str(reserved), "payable": str(payable),
        "payee": payee_person_id, "transaction": posted.transaction_id,
        "borne": {code: part.amount_str() for code, part in parts.items()}}
    if payee_organisation_id is not None:
        summary["payee_organisation"] = payee_organisation_id
    object_type, object_id = _audit_target(current.purpose, current.subject_id, audit_object, summary)
    audit.record(session, actor, "reservation.consume", object_type, object_id, summary)
    return posted


def _ensure_payout_accounts(session: Session, pool: Pool, payee: str, person_id: int | None,
                            organisation_id: int | None, payable: Money, reserved: Money,
                            parts: dict[str, Money]) -> None:
    whom = f"person {person_id}" if person_id is not None else f"organisation {organisation_id}"
    journal.ensure_account(session, payee, f"Payable to {whom} ({payable.currency})", "liability",
                           payable.currency, person_id=person_id, organisation_id=organisation_id)
    if payable.currency != reserved.currency:
        for currency in (reserved.currency, payable.currency):
            journal.ensure_account(session, clearing_code(currency),
                                   f"Currency exchange position ({currency})", "equity", currency)
    journal.ensure_account(session, spent_code(pool), f"{pool.name} {pool.year} (spent)", "equity",
                           pool.currency, pool_id=pool.id)
    for code in parts:
        journal.ensure_account(session, borne_code(code), f"{code} share of payouts borne",
                               "expense", pool.currency, jurisdiction_code=code)
