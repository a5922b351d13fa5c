"""The demo's payments (seed/demo/payouts.toml): what the demo approved is paid as finance pays
it, so statements, the journal and the awards report have payments to show.

The demo's finance person puts everything payable in one payout batch
(`payouts.create_batch`), marks it exported, and imports the bank's confirmation of every item
(`payouts.import_confirmation`), dated the day of seeding: never before an item became
payable, never after today. The demo pays once: when any payout batch exists, nothing is done.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.ledger import Money
from bounty.models import LedgerTransaction, PayoutBatch, PayoutItem, Person, utcnow
from bounty.services import payouts, seed_files
from bounty.services.actors import Actor, person_actor
from bounty.services.errors import Conflict, InvalidInput

FINANCE_ROLE = "finance"


def _payer(seed_dir: Path, people: dict[str, Person]) -> Person:
    """The demo person of `paid_by`, who must hold the finance role."""
    try:
        data = seed_files.read_toml("demo/payouts.toml", seed_dir)
    except (OSError, ValueError) as exc:
        raise InvalidInput("demo/payouts.toml", f"cannot read it: {exc}") from None
    name = data.get("paid_by")
    person = people.get(name) if isinstance(name, str) else None
    if person is None:
        raise InvalidInput("demo/payouts.toml", f"paid_by: {name!r} is not a demo person")
    if FINANCE_ROLE not in (person.roles or ()):
        raise InvalidInput("demo/payouts.toml", f"paid_by: {name} does not hold the finance role")
    return person


def confirmation_file(session: Session, batch: PayoutBatch, paid_on_at_most: datetime) -> bytes:
    """The bank's confirmation (end_to_end_id, amount, date) paying every live item of `batch`
    on the day of `paid_on_at_most` (or today when that is later), or on the day the last of
    them became payable when that is later still."""
    live = [item for item in batch.items if item.is_live]
    payable_since = session.execute(
        select(func.max(LedgerTransaction.effective_on))
        .join(PayoutItem, PayoutItem.payable_transaction_id == LedgerTransaction.id)
        .where(PayoutItem.id.in_([item.id for item in live]))).scalar_one()
    paid_on = min(paid_on_at_most.date(), utcnow().date())
    if payable_since is not None:
        paid_on = max(paid_on, payable_since)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("end_to_end_id", "amount", "date"))
    for item in live:
        writer.writerow((item.end_to_end_id, Money(item.amount_minor, item.currency).amount_str(),
                         paid_on.isoformat()))
    return out.getvalue().encode()


def seed_demo_payouts(session: Session, actor: Actor, seed_dir: Path, people: dict[str, Person],
                      now: datetime, count: Callable[[str, bool], None]) -> None:
    """Pay what the demo approved, once; commits what it adds."""
    actor.require(Permission.SEED_DATA)
    payer = _payer(seed_dir, people)
    already = session.execute(select(PayoutBatch.id).limit(1)).scalar_one_or_none() is not None
    count("demo payout batches", not already)
    if already:
        return
    finance = person_actor(payer)
    try:
        batch = payouts.create_batch(session, finance)
    except Conflict:
        return  # nothing payable: the demo approved nothing
    payouts.mark_exported(session, finance, batch.id)
    result = payouts.import_confirmation(session, finance, batch.id, confirmation_file(session, batch, now))
    for _paid in result.paid:
        count("demo payments", True)
