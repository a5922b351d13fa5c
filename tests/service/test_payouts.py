"""Payout batches: what is payable, creating a batch (idempotent per selection, filters, empty
selections refused), the items' amounts, rates, shares and end-to-end ids, exporting and
cancelling; on both databases."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from bounty.ledger import Money
from bounty.models import AuditEvent, Bounty, PayoutBatch, PayoutItem, Tranche
from bounty.services import audit, payouts
from bounty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests import payout_factories as pf
from tests import workflow_factories as wf

SEPA_SAFE = re.compile(r"^[A-Za-z0-9/\-?:().,'+ ]{1,35}$")


def events(session, action: str) -> int:
    return session.execute(select(func.count(AuditEvent.id)).where(AuditEvent.action == action)).scalar_one()


def test_payable_items_are_approved_bounties_and_signed_off_tranches(session):
    world = pf.world(session)
    wf.submitted_bounty(session, pf.payee(session, "sam"), urls=[f"{wf.GITLAB}/a/b/-/merge_requests/7"])
    items = payouts.payable_items(session, world.finance)
    subjects = {(p.kind, p.subject_id) for p in items}
    assert subjects == {("bounty", world.works[c].claim.id) for c in ("EUR", "GBP", "CAD")} | {
        ("tranche", world.person_grant.tranches[0].id), ("tranche", world.org_grant.tranches[0].id)}
    # The second tranche of the person's grant is pending, the submitted bounty not approved.
    assert world.person_grant.tranches[1].status == "pending"
    gbp = next(p for p in items if p.kind == "bounty" and p.amount.currency == "GBP")
    assert gbp.amount == Money.parse("2000", "GBP")
    assert gbp.payee_kind == "person" and gbp.payee_id == world.uk.person_id and gbp.payee_name == "Uma"
    assert gbp.rate is not None and gbp.rate_date is not None
    # Converted at the rate recorded with the reservation, rounded half-up once.
    assert gbp.eur == Money(int((Decimal(200000) / gbp.rate).quantize(Decimal(1), ROUND_HALF_UP)), "EUR")
    for item in items:
        assert sum(part.minor for part in item.shares.values()) == item.eur.minor
        assert set(item.shares) == {"EU", "UK", "CA", "AU"}
        assert item.payable_transaction_id
    eur = next(p for p in items if p.kind == "bounty" and p.amount.currency == "EUR")
    assert eur.eur == eur.amount and eur.rate is None


def test_payables_filtered_by_currency_and_by_jurisdiction(session):
    world = pf.world(session)
    gbp = payouts.payable_items(session, world.finance, currency="gbp")
    assert {p.amount.currency for p in gbp} == {"GBP"} and len(gbp) == 2
    uk = payouts.payable_items(session, world.finance, jurisdiction="UK")
    assert {p.payee_id for p in uk} == {world.uk.person_id} and len(uk) == 2
    # An organisation's jurisdiction counts for its tranches.
    eu = payouts.payable_items(session, world.finance, jurisdiction="EU")
    assert {(p.payee_kind, p.payee_id) for p in eu} == {("person", world.eu.person_id),
                                                        ("organisation", world.org.id)}
    assert payouts.payable_items(session, world.finance, currency="EUR", jurisdiction="CA") == []
    with pytest.raises(InvalidInput) as bad:
        payouts.payable_items(session, world.finance, currency="XYZ")
    assert bad.value.field == "currency"
    with pytest.raises(InvalidInput) as bad:
        payouts.payable_items(session, world.finance, jurisdiction="US")
    assert bad.value.field == "jurisdiction"


def test_only_finance_and_auditors_see_payables(session):
    world = pf.world(session, grants_too=False)
    assert len(payouts.payable_items(session, pf.auditor(session))) == 3
    with pytest.raises(PermissionDenied):
        payouts.payable_items(session, world.eu)
    with pytest.raises(PermissionDenied):
        payouts.create_batch(session, world.eu)
    with pytest.raises(PermissionDenied):
        payouts.create_batch(session, pf.auditor(session))
    assert session.execute(select(func.count(PayoutBatch.id))).scalar_one() == 0


def test_a_batch_holds_every_payable_with_its_money_and_end_to_end_ids(session):
    world = pf.world(session)
    payables = payouts.payable_items(session, world.finance)
    batch = payouts.create_batch(session, world.finance)
    view = payouts.get_batch(session, world.finance, batch.id)
    assert view.status == "open" and view.selection_key == "currency=*;jurisdiction=*"
    assert [(i.kind, i.subject_id) for i in view.items] == [(p.kind, p.subject_id) for p in payables]
    for item, payable in zip(view.items, payables, strict=True):
        assert (item.amount, item.eur, item.rate, item.rate_date, item.shares) == (
            payable.amount, payable.eur, payable.rate, payable.rate_date, payable.shares)
        assert item.payable_transaction_id == payable.payable_transaction_id
        assert item.status == "pending" and item.is_live and item.paid_on is None
        assert SEPA_SAFE.match(item.end_to_end_id)
        assert item.end_to_end_id == f"BTY-{item.kind[0].upper()}-{item.subject_id}-1"
    assert len({i.end_to_end_id for i in view.items}) == len(view.items)
    assert view.totals == {"CAD": Money.parse("3000", "CAD"), "EUR": Money.parse("26000", "EUR"),
                           "GBP": Money.parse("17000.50", "GBP")}
    assert view.eur_total == Money(sum(i.eur.minor for i in view.items), "EUR")
    assert payouts.payable_items(session, world.finance) == []
    assert events(session, "payout_batch.create") == 1
    assert [b.id for b in payouts.list_batches(session, world.finance)] == [batch.id]


def test_the_same_selection_while_open_returns_the_same_batch(session):
    world = pf.world(session, grants_too=False)
    first = payouts.create_batch(session, world.finance, currency="GBP")
    # A new GBP payable arrives; the open batch is returned unchanged.
    pf.approved(session, pf.payee(session, "ulla", "UK"), "GBP", "900")
    again = payouts.create_batch(session, world.finance, currency=" gbp ")
    assert again.id == first.id
    assert len(payouts.get_batch(session, world.finance, first.id).items) == 1
    assert events(session, "payout_batch.create") == 1
    # Another selection takes what is left of its own.
    everything = payouts.create_batch(session, world.finance)
    assert everything.id != first.id
    view = payouts.get_batch(session, world.finance, everything.id)
    assert sorted(i.amount.currency for i in view.items) == ["CAD", "EUR", "GBP"]


def test_an_empty_selection_is_refused_clearly(session):
    world = pf.world(session, grants_too=False)
    with pytest.raises(Conflict, match="nothing is payable for currency AUD"):
        payouts.create_batch(session, world.finance, currency="AUD")
    payouts.create_batch(session, world.finance)
    with pytest.raises(Conflict, match="already in a batch or paid"):
        payouts.create_batch(session, world.finance, currency="EUR")
    assert session.execute(select(func.count(PayoutBatch.id))).scalar_one() == 1


def test_exporting_closes_the_selection_and_a_new_batch_takes_only_new_payables(session):
    world = pf.world(session, grants_too=False)
    batch = payouts.create_batch(session, world.finance)
    exported = payouts.mark_exported(session, world.finance, batch.id)
    assert exported.status == "exported" and exported.exported_at is not None
    assert payouts.mark_exported(session, world.finance, batch.id).exported_at == exported.exported_at
    assert events(session, "payout_batch.export") == 1
    with pytest.raises(Conflict):
        payouts.create_batch(session, world.finance)
    late = pf.approved(session, world.eu, "EUR", "700")
    second = payouts.create_batch(session, world.finance)
    assert second.id != batch.id
    items = payouts.get_batch(session, world.finance, second.id).items
    assert [i.subject_id for i in items] == [late.claim.id]


def test_cancelling_withdraws_the_items_which_may_be_batched_again(session):
    world = pf.world(session, grants_too=False)
    batch = payouts.create_batch(session, world.finance, currency="EUR")
    with pytest.raises(InvalidInput) as bad:
        payouts.cancel_batch(session, world.finance, batch.id, "  ")
    assert bad.value.field == "reason"
    cancelled = payouts.cancel_batch(session, world.finance, batch.id, "wrong value date")
    assert cancelled.status == "cancelled"
    [item] = payouts.get_batch(session, world.finance, batch.id).items
    assert (item.status, item.is_live) == ("withdrawn", False)
    again = payouts.create_batch(session, world.finance, currency="EUR")
    assert again.id != batch.id
    [new_item] = payouts.get_batch(session, world.finance, again.id).items
    assert new_item.subject_id == item.subject_id
    assert new_item.end_to_end_id == f"BTY-B-{item.subject_id}-2"
    with pytest.raises(Conflict):
        payouts.cancel_batch(session, world.finance, batch.id, "again")
    with pytest.raises(Conflict):
        payouts.mark_exported(session, world.finance, batch.id)
    with pytest.raises(NotFound):
        payouts.cancel_batch(session, world.finance, 999, "nothing")
    [event] = session.execute(select(AuditEvent).where(AuditEvent.action == "payout_batch.cancel")).scalars()
    assert event.summary["withdrawn"] == [item.end_to_end_id]
    assert event.summary["reason"] == "wrong value date"


def test_cancelling_a_partly_paid_batch_keeps_the_paid_items_and_ends_paid(session):
    world = pf.world(session, grants_too=False)
    batch = payouts.create_batch(session, world.finance)
    view = payouts.get_batch(session, world.finance, batch.id)
    first = view.items[0]
    payouts.import_confirmation(session, world.finance, batch.id, pf.confirmation_csv(view, only={first.id}))
    ended = payouts.cancel_batch(session, world.finance, batch.id, "the rest is paid by cheque")
    assert ended.status == "paid"
    after = payouts.get_batch(session, world.finance, batch.id)
    assert [(i.status, i.is_live) for i in after.items] == [("paid", True), ("withdrawn", False),
                                                            ("withdrawn", False)]
    assert len(payouts.payable_items(session, world.finance)) == 2


def test_a_bounty_stays_approved_and_a_tranche_signed_off_until_paid(session):
    world = pf.world(session)
    payouts.create_batch(session, world.finance)
    assert session.get(Bounty, world.works["EUR"].bounty.id, populate_existing=True).status == "approved"
    tranche = session.get(Tranche, world.org_grant.tranches[0].id, populate_existing=True)
    assert tranche.status == "signed_off"


def test_the_database_admits_one_live_item_per_subject(session):
    world = pf.world(session, grants_too=False)
    batch = payouts.create_batch(session, world.finance, currency="EUR")
    [item] = session.execute(select(PayoutItem).where(PayoutItem.batch_id == batch.id)).scalars()
    other = PayoutBatch(selection_key="manual", status="exported")
    session.add(other)
    session.flush()
    session.add(PayoutItem(
        batch_id=other.id, kind=item.kind, subject_id=item.subject_id, payee_person_id=item.payee_person_id,
        description="twice", amount_minor=item.amount_minor, currency=item.currency, eur_minor=item.eur_minor,
        payable_transaction_id=item.payable_transaction_id, end_to_end_id="MANUAL-1"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    # Once withdrawn, the subject may be live in another batch.
    session.execute(text("UPDATE payout_items SET is_live = false WHERE id = :id"), {"id": item.id})
    other = PayoutBatch(selection_key="manual", status="exported")
    session.add(other)
    session.flush()
    session.add(PayoutItem(
        batch_id=other.id, kind=item.kind, subject_id=item.subject_id, payee_person_id=item.payee_person_id,
        description="again", amount_minor=item.amount_minor, currency=item.currency, eur_minor=item.eur_minor,
        payable_transaction_id=item.payable_transaction_id, end_to_end_id="MANUAL-2"))
    session.commit()
    assert audit.verify(session) == []


def test_unknown_batches_are_not_found(session):
    world = pf.world(session, grants_too=False)
    with pytest.raises(NotFound):
        payouts.get_batch(session, world.finance, 42)
    with pytest.raises(NotFound):
        payouts.mark_exported(session, world.finance, 42)
