"""Paying what was approved: payout batches, the bank's confirmation, and claw-backs.

Rules chosen here (issue 5; the reasons are in docs/payouts.md):
- Finance (MANAGE_PAYOUTS) creates a batch of everything payable (`payout_queries`),
  optionally of one currency or one jurisdiction. An item is in at most one live batch (a
  partial unique index over live items); batch creation is serialised (an advisory lock on
  PostgreSQL, BEGIN IMMEDIATE on SQLite), so of two finance users at once the second sees the
  first's items as taken and batches only the rest. The same selection while its batch is
  open returns that batch; an empty selection is refused.
- Cancelling a batch withdraws its unpaid items (they may be batched again, under a new
  end-to-end id); a batch with paid items then ends as paid.
- The bank's confirmation (CSV: end_to_end_id, amount, date) is applied all or nothing: any
  bad line refuses the whole file (ConfirmationRejected, problems line by line). Each matched
  item posts its payment (debit the payable, credit `bank:<CUR>`, key `payout:item:<id>`),
  becomes paid, and so does its bounty or tranche; the batch is paid when every live item is.
  The same file again (SHA-256 digest) changes nothing and returns the first result.
- A paid item is clawed back by reversing its payable transaction (`journal.reverse`, tied to
  it by `reverses_id`) and returning the reserve to the pool: the members' parts are credited
  back and the payee's payable account turns into a receivable of what was paid.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.ledger import EntryDraft, Money, TransactionDraft
from bounty.models import (
    BankConfirmation,
    Bounty,
    Claim,
    Grant,
    PayoutBatch,
    PayoutItem,
    Pool,
    Reservation,
    Tranche,
    utcnow,
)
from bounty.services import audit, journal
from bounty.services.actors import Actor
from bounty.services.errors import Conflict, InvalidInput, NotFound
from bounty.services.funds import available_code, bank_code, reserved_code
from bounty.services.payout_confirmations import (
    ConfirmationLine,
    ConfirmationRejected,
    ConfirmationResult,
    LineProblem,
    PaidLine,
    parse_confirmation,
)
from bounty.services.payout_queries import (
    BatchItemView,
    BatchView,
    PayableView,
    batch_view,
    check_filters,
    collect_payables,
    get_batch,
    list_batches,
    payable_items,
)
from bounty.services.reservations import organisation_payable_code, payable_code

__all__ = ["BatchItemView", "BatchView", "ConfirmationRejected", "ConfirmationResult", "LineProblem",
           "PaidLine", "PayableView", "bank_code", "batch_view", "cancel_batch", "claw_back", "create_batch",
           "get_batch", "import_confirmation", "list_batches", "mark_exported", "payable_items",
           "selection_key"]

# pg_advisory_xact_lock key serialising batch creation ("bpay").
_BATCH_LOCK = 0x62706179
LIVE_BATCH_STATUSES = ("open", "exported", "paid")


def selection_key(currency: str | None, jurisdiction: str | None) -> str:
    return f"currency={currency or '*'};jurisdiction={jurisdiction or '*'}"


def _end_to_end_id(session: Session, kind: str, subject_id: int) -> str:
    """"BTY-B-<claim>-<n>" or "BTY-T-<tranche>-<n>", n counting the subject's items so far:
    deterministic, unique, at most 35 SEPA-safe characters."""
    earlier = session.execute(select(func.count(PayoutItem.id)).where(
        PayoutItem.kind == kind, PayoutItem.subject_id == subject_id)).scalar_one()
    return f"BTY-{kind[0].upper()}-{subject_id}-{int(earlier) + 1}"


def _serialise_batching(session: Session) -> None:
    # SQLite writers are already serialised by BEGIN IMMEDIATE.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_BATCH_LOCK)))


def create_batch(session: Session, actor: Actor, *, currency: str | None = None,
                 jurisdiction: str | None = None) -> PayoutBatch:
    """A batch of everything payable in the selection, or the open batch of that selection (commits).

    Raises InvalidInput for an unknown filter, Conflict when nothing is payable.
    """
    actor.require(Permission.MANAGE_PAYOUTS)
    try:
        _serialise_batching(session)
        cur, code = check_filters(session, currency, jurisdiction)
        key = selection_key(cur, code)
        existing = session.execute(
            select(PayoutBatch).where(PayoutBatch.selection_key == key, PayoutBatch.status == "open")
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if existing is not None:
            session.commit()
            return existing
        payables = collect_payables(session, cur, code)
        if not payables:
            raise Conflict(f"nothing is payable for {_describe(cur, code)}: every approved bounty and "
                           "signed-off tranche is already in a batch or paid")
        batch = PayoutBatch(selection_key=key, currency=cur, jurisdiction_code=code, status="open",
                            created_by_id=actor.person_id)
        session.add(batch)
        session.flush()
        for payable in payables:
            session.add(_item(session, batch, payable))
            session.flush()  # the next end-to-end id counts this one
        totals: dict[str, int] = {}
        for payable in payables:
            totals[payable.amount.currency] = totals.get(payable.amount.currency, 0) + payable.amount.minor
        audit.record(session, actor, "payout_batch.create", "payout_batch", batch.id, {
            "selection": key, "items": len(payables),
            "totals": {c: str(Money(m, c)) for c, m in sorted(totals.items())},
            "eur": str(Money(sum(p.eur.minor for p in payables), "EUR")),
            "subjects": [f"{p.kind} {p.subject_id}" for p in payables]})
        session.commit()
        session.refresh(batch, ["items"])
        return batch
    except IntegrityError:
        session.rollback()
        raise Conflict("another batch took some of these items at the same moment: ask again") from None
    except BaseException:
        session.rollback()
        raise


def _describe(currency: str | None, jurisdiction: str | None) -> str:
    parts = [f"currency {currency}" if currency else "",
             f"jurisdiction {jurisdiction}" if jurisdiction else ""]
    return ", ".join(p for p in parts if p) or "the whole selection"


def _item(session: Session, batch: PayoutBatch, payable: PayableView) -> PayoutItem:
    return PayoutItem(
        batch_id=batch.id, kind=payable.kind, subject_id=payable.subject_id,
        payee_person_id=payable.payee_id if payable.payee_kind == "person" else None,
        payee_organisation_id=payable.payee_id if payable.payee_kind == "organisation" else None,
        description=payable.description, amount_minor=payable.amount.minor,
        currency=payable.amount.currency, eur_minor=payable.eur.minor, rate_id=payable.rate_id,
        payable_transaction_id=payable.payable_transaction_id,
        end_to_end_id=_end_to_end_id(session, payable.kind, payable.subject_id),
        status="pending", is_live=True)


def _locked_batch(session: Session, batch_id: int) -> PayoutBatch:
    batch = session.execute(
        select(PayoutBatch).where(PayoutBatch.id == batch_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if batch is None:
        raise NotFound(f"no payout batch {batch_id}")
    session.refresh(batch, ["items"])
    return batch


def mark_exported(session: Session, actor: Actor, batch_id: int) -> PayoutBatch:
    """Record that an open batch was exported for the bank (commits); already exported or paid:
    unchanged. A cancelled batch is refused (Conflict)."""
    actor.require(Permission.MANAGE_PAYOUTS)
    try:
        batch = _locked_batch(session, batch_id)
        if batch.status == "cancelled":
            raise Conflict(f"payout batch {batch_id} is cancelled: create a new batch")
        if batch.status == "open":
            batch.status, batch.exported_at = "exported", utcnow()
            session.flush()
            audit.record(session, actor, "payout_batch.export", "payout_batch", batch.id,
                         {"items": sum(1 for i in batch.items if i.is_live)})
        session.commit()
        return batch
    except BaseException:
        session.rollback()
        raise


def cancel_batch(session: Session, actor: Actor, batch_id: int, reason: str) -> PayoutBatch:
    """Withdraw the unpaid items of a batch, which may then be batched again (commits).

    The batch becomes cancelled, or paid when some of its items were already paid.
    """
    actor.require(Permission.MANAGE_PAYOUTS)
    try:
        reason = " ".join((reason or "").split())
        if not reason:
            raise InvalidInput("reason", "say why the batch is cancelled")
        batch = _locked_batch(session, batch_id)
        if batch.status in ("cancelled", "paid"):
            raise Conflict(f"payout batch {batch_id} is {batch.status}: there is nothing left to cancel")
        withdrawn = [item for item in batch.items if item.is_live and item.status == "pending"]
        for item in withdrawn:
            item.status, item.is_live = "withdrawn", False
        kept = [item for item in batch.items if item.is_live]
        batch.status = "paid" if kept else "cancelled"
        if kept:
            batch.paid_at = utcnow()
        session.flush()
        audit.record(session, actor, "payout_batch.cancel", "payout_batch", batch.id, {
            "reason": reason, "withdrawn": [i.end_to_end_id for i in withdrawn],
            "kept_paid": [i.end_to_end_id for i in kept], "status": batch.status})
        session.commit()
        return batch
    except BaseException:
        session.rollback()
        raise


# --- the bank's confirmation ----------------------------------------------------------------

def import_confirmation(session: Session, actor: Actor, batch_id: int, data: bytes) -> ConfirmationResult:
    """Apply the bank's confirmation of a batch, all or nothing (commits).

    Raises ConfirmationRejected (problems line by line, nothing applied), Conflict for a
    cancelled batch or a file already imported for another batch, NotFound.
    """
    actor.require(Permission.MANAGE_PAYOUTS)
    digest = hashlib.sha256(data).hexdigest()
    try:
        batch = _locked_batch(session, batch_id)
        earlier = session.execute(
            select(BankConfirmation).where(BankConfirmation.digest == digest)).scalar_one_or_none()
        if earlier is not None:
            if earlier.batch_id != batch.id:
                raise Conflict(f"this file was already imported for payout batch {earlier.batch_id}")
            session.commit()
            return ConfirmationResult.from_json(batch.id, digest, earlier.summary, batch.status)
        if batch.status == "cancelled":
            raise Conflict(f"payout batch {batch_id} is cancelled: nothing in it can be confirmed")
        lines, problems = parse_confirmation(session, batch, data)
        if problems:
            raise ConfirmationRejected(batch.id, problems)
        paid, unchanged = [], 0
        for line in lines:
            if line.item.status == "paid":
                unchanged += 1
                continue
            paid.append(_pay(session, actor, batch, line))
        if batch.status != "paid" and all(item.status != "pending" for item in batch.items if item.is_live):
            batch.status, batch.paid_at = "paid", utcnow()
        result = ConfirmationResult(batch.id, digest, len(lines), tuple(paid), unchanged, batch.status)
        session.add(BankConfirmation(batch_id=batch.id, digest=digest, lines=len(lines),
                                     imported_by_id=actor.person_id, summary=result.to_json()))
        session.flush()
        audit.record(session, actor, "payout_batch.confirm", "payout_batch", batch.id, {
            "digest": digest, "lines": len(lines), "unchanged": unchanged, "status": batch.status,
            "paid": [{"item": p.item_id, "end_to_end_id": p.end_to_end_id, "amount": str(p.amount),
                      "paid_on": p.paid_on.isoformat(), "transaction": p.transaction_id} for p in paid]})
        session.commit()
        return result
    except IntegrityError:
        session.rollback()
        raise Conflict("this file was imported at the same moment by someone else: import it again "
                       "to see the result") from None
    except BaseException:
        session.rollback()
        raise


def _payee_code(item: PayoutItem) -> str:
    if item.payee_person_id is not None:
        return payable_code(item.payee_person_id, item.currency)
    return organisation_payable_code(item.payee_organisation_id or 0, item.currency)


def _pay(session: Session, actor: Actor, batch: PayoutBatch, line: ConfirmationLine) -> PaidLine:
    item = line.item
    amount = Money(item.amount_minor, item.currency)
    journal.ensure_account(session, bank_code(item.currency), f"Bank settlement account ({item.currency})",
                           "asset", item.currency)
    posted = journal.post(session, TransactionDraft(
        kind="payment", memo=f"payout batch {batch.id}: {item.end_to_end_id} {item.description}"[:500],
        idempotency_key=f"payout:item:{item.id}", effective_on=line.paid_on,
        entries=[EntryDraft(_payee_code(item), amount), EntryDraft(bank_code(item.currency), -amount)],
    ), actor.person_id)
    item.status, item.paid_on, item.paid_transaction_id = "paid", line.paid_on, posted.transaction_id
    summary = {"item": item.id, "batch": batch.id, "end_to_end_id": item.end_to_end_id,
               "amount": str(amount), "paid_on": line.paid_on.isoformat(),
               "transaction": posted.transaction_id}
    _subject_event(session, actor, item, "paid", summary)
    session.flush()
    return PaidLine(item.id, item.end_to_end_id, amount, line.paid_on, posted.transaction_id)


def _subject_event(session: Session, actor: Actor, item: PayoutItem, verb: str,
                   summary: dict[str, Any]) -> None:
    """Set the bounty or tranche paid (on payment) and record the event on its timeline."""
    if item.kind == "bounty":
        claim = session.get(Claim, item.subject_id)
        assert claim is not None
        bounty = session.get(Bounty, claim.bounty_id)
        assert bounty is not None
        if verb == "paid":
            bounty.status, bounty.closed_at = "paid", utcnow()
        audit.record(session, actor, f"bounty.{verb}", "bounty", bounty.id, {"claim": claim.id, **summary})
        return
    tranche = session.get(Tranche, item.subject_id)
    assert tranche is not None
    if verb == "paid":
        tranche.status = "paid"
    grant = session.get(Grant, tranche.grant_id)
    assert grant is not None
    audit.record(session, actor, f"tranche.{verb}", "grant", grant.id,
                 {"tranche": tranche.id, "position": tranche.position, **summary})


# --- claw-back ------------------------------------------------------------------------------

def claw_back(session: Session, actor: Actor, item_id: int, reason: str) -> PayoutItem:
    """Claw back a paid item (commits): reverse its payable transaction and return the reserve
    to the pool; the payee then owes what was paid. A clawed-back item is returned unchanged;
    an unpaid one is refused (Conflict)."""
    actor.require(Permission.MANAGE_PAYOUTS)
    try:
        reason = " ".join((reason or "").split())
        if not reason:
            raise InvalidInput("reason", "say why the payment is clawed back")
        item = session.execute(
            select(PayoutItem).where(PayoutItem.id == item_id).with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if item is None:
            raise NotFound(f"no payout item {item_id}")
        if item.status == "clawed_back":
            session.commit()
            return item
        if item.status != "paid":
            raise Conflict(f"payout item {item_id} ({item.end_to_end_id}) is {item.status}: "
                           "only a paid item can be clawed back")
        reservation = session.execute(
            select(Reservation).where(Reservation.close_transaction_id == item.payable_transaction_id)
        ).scalar_one()
        pool = session.get(Pool, reservation.pool_id)
        assert pool is not None
        amount, reserved = Money(item.amount_minor, item.currency), Money(reservation.amount_minor, "EUR")
        summary: dict[str, Any] = {"item": item.id, "end_to_end_id": item.end_to_end_id,
                                   "amount": str(amount), "reason": reason}
        # The audit chain before the pool's accounts: the order every service locks them in.
        _subject_event(session, actor, item, "clawback", summary)
        reversal = journal.reverse(session, item.payable_transaction_id, f"payout:clawback:{item.id}",
                                   f"claw-back of {item.end_to_end_id}: {reason}"[:500], actor.person_id)
        returned = journal.post(session, TransactionDraft(
            kind="clawback_release",
            memo=f"claw-back of {item.end_to_end_id}: reserve back to the pool"[:500],
            idempotency_key=f"payout:clawback-release:{item.id}",
            entries=[EntryDraft(reserved_code(pool), reserved), EntryDraft(available_code(pool), -reserved)],
        ), actor.person_id)
        item.status, item.clawback_transaction_id = "clawed_back", reversal.transaction_id
        session.flush()
        audit.record(session, actor, "payout_item.clawback", "payout_item", item.id, {
            **summary, "batch": item.batch_id, "reverses": item.payable_transaction_id,
            "reversal": reversal.transaction_id, "release": returned.transaction_id,
            "eur_returned": str(reserved), "receivable": _payee_code(item)})
        session.commit()
        return item
    except BaseException:
        session.rollback()
        raise

