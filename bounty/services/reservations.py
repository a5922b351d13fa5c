"""Reserving money in a pool for a bounty or a grant, and releasing it.

A pool is never over-committed: the pool's available account is locked (row lock on
PostgreSQL, BEGIN IMMEDIATE on SQLite) before what is left is read, so of two concurrent
reservations that together exceed it exactly one succeeds.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.ledger import Conversion, EntryDraft, InsufficientFunds, Money, TransactionDraft
from bounty.models import Account, LedgerLine, Pool, Reservation, utcnow
from bounty.services import audit, journal
from bounty.services.actors import Actor
from bounty.services.errors import Conflict, InvalidInput, NotFound
from bounty.services.funds import available_code, reserved_code

PURPOSE_PERMISSION = {"bounty": Permission.MANAGE_BOUNTIES, "grant": Permission.MANAGE_FUNDS}


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


def reserve(
    session: Session, actor: Actor, pool: Pool, purpose: str, subject_id: int, amount: Money,
    conversion: Conversion | None = None,
) -> Reservation:
    """Set `amount` (in the pool's currency) aside in `pool` for a bounty or grant (commits).

    `conversion` records how the amount was converted from the subject's own currency.
    Raises InsufficientFunds when the pool cannot cover it, Conflict when the subject
    already holds a reservation.
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
    try:
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
        audit.record(session, actor, "reservation.hold", purpose, subject_id,
                     {"pool": pool.id, "amount": str(amount), "reservation": reservation.id,
                      "converted_from": str(original) if original else None,
                      "rate": str(conversion.rate) if conversion else None,
                      "rate_date": conversion.rate_date.isoformat() if conversion else None,
                      "rate_source": conversion.rate_source if conversion else None})
        session.commit()
        return reservation
    except IntegrityError:
        session.rollback()
        raise Conflict(f"{purpose} {subject_id} already holds a reservation") from None
    except BaseException:
        session.rollback()
        raise


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
    actor.require(PURPOSE_PERMISSION[reservation.purpose])
    try:
        # Re-read under lock: a concurrent release or consumption must not run twice.
        current = session.execute(
            select(Reservation).where(Reservation.id == reservation.id).with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
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
        audit.record(session, actor, "reservation.release", current.purpose, current.subject_id,
                     {"reservation": current.id, "amount": str(amount), "reason": reason})
        session.commit()
        return current
    except BaseException:
        session.rollback()
        raise
