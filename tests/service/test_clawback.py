"""Clawing back a paid item: a reversal of its payable transaction tied to it, the reserve
back in the pool, the members' parts credited back, the payee owing what was paid; never an
edit, refused for unpaid items, idempotent. On both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bounty.models import AuditEvent, LedgerTransaction, PayoutItem, Reservation
from bounty.services import audit, funds, journal, ledger_check, payouts, statements
from bounty.services.actors import SYSTEM
from bounty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bounty.services.reservations import borne_code
from tests import payout_factories as pf

MEMBERS = ("EU", "UK", "CA", "AU")


def paid_batch(session, world, **selection):
    batch = payouts.create_batch(session, world.finance, **selection)
    view = payouts.get_batch(session, world.finance, batch.id)
    payouts.import_confirmation(session, world.finance, batch.id, pf.confirmation_csv(view))
    return payouts.get_batch(session, world.finance, batch.id)


def balances(session, codes) -> dict[str, int]:
    return {code: journal.balance(session, code).minor for code in codes}


def pool_of(session, item) -> object:
    reservation = session.execute(select(Reservation).where(
        Reservation.close_transaction_id == item.payable_transaction_id)).scalar_one()
    return next(p for p in funds.pool_statuses(session, 2026) if p.pool_id == reservation.pool_id)


@pytest.mark.parametrize("currency", ["EUR", "GBP", "CAD"])
def test_claw_back_reverses_the_payable_and_returns_the_reserve(session, currency):
    world = pf.world(session, grants_too=False)
    view = paid_batch(session, world, currency=currency)
    [item] = view.items
    payee = f"payable:person:{item.payee_id}:{currency}"
    borne_before = balances(session, [borne_code(m) for m in MEMBERS])
    pool_before = pool_of(session, item)
    transactions_before = session.execute(select(func.count(LedgerTransaction.id))).scalar_one()

    clawed = payouts.claw_back(session, world.finance, item.id, "the fix was reverted upstream")

    assert clawed.status == "clawed_back"
    reversal = session.get(LedgerTransaction, clawed.clawback_transaction_id)
    assert (reversal.kind, reversal.reverses_id, reversal.idempotency_key) == (
        "reversal", item.payable_transaction_id, f"payout:clawback:{item.id}")
    original = session.get(LedgerTransaction, item.payable_transaction_id)
    assert sorted((line.account_id, -line.amount_minor) for line in original.lines) == sorted(
        (line.account_id, line.amount_minor) for line in reversal.lines)
    # Two new transactions: the reversal and the reserve's return to available money.
    assert session.execute(select(func.count(LedgerTransaction.id))).scalar_one() == transactions_before + 2
    # The members' parts are credited back; the pool is whole again, its money available.
    borne_after = balances(session, [borne_code(m) for m in MEMBERS])
    assert {m: borne_before[m] - borne_after[m] for m in borne_before} == {
        borne_code(m): item.shares[m].minor for m in MEMBERS}
    pool_after = pool_of(session, item)
    assert pool_after.funded == pool_before.funded
    assert pool_after.spent.minor == pool_before.spent.minor - item.eur.minor
    assert pool_after.available.minor == pool_before.available.minor + item.eur.minor
    assert pool_after.reserved == pool_before.reserved
    # The payee now owes what was paid: the payable account is a receivable (debit balance).
    assert journal.balance(session, payee).minor == -item.amount.minor
    assert journal.balance(session, f"bank:{currency}").minor == -item.amount.minor
    assert ledger_check.check(session) == []
    assert audit.verify(session) == []
    [event] = session.execute(select(AuditEvent).where(AuditEvent.action == "payout_item.clawback")).scalars()
    assert event.summary["reason"] == "the fix was reverted upstream"
    assert event.summary["reverses"] == item.payable_transaction_id


def test_a_clawed_back_payout_reads_as_a_negative_part_in_each_statement(session):
    world = pf.world(session, grants_too=False)
    view = paid_batch(session, world, currency="GBP")
    [item] = view.items
    payouts.claw_back(session, world.finance, item.id, "reverted")
    span = statements.period(year=2026)
    for member in MEMBERS:
        statement = statements.jurisdiction_statement(session, SYSTEM, member, span)
        parts = [p.part.minor for p in statement.payouts if p.transaction_id in (
            item.payable_transaction_id, session.get(PayoutItem, item.id).clawback_transaction_id)]
        assert parts == [item.shares[member].minor, -item.shares[member].minor]


def test_a_tranche_of_an_organisation_is_clawed_back_the_same_way(session):
    world = pf.world(session)
    view = paid_batch(session, world)
    item = next(i for i in view.items if i.payee_kind == "organisation")
    payouts.claw_back(session, world.finance, item.id, "milestone not delivered after all")
    assert journal.balance(session, f"payable:organisation:{item.payee_id}:EUR").minor == -item.amount.minor
    assert ledger_check.check(session) == []
    timeline = session.execute(select(AuditEvent.action).where(
        AuditEvent.object_type == "grant", AuditEvent.object_id == str(world.org_grant.id))).scalars().all()
    assert "tranche.clawback" in timeline


def test_clawing_back_twice_changes_nothing(session):
    world = pf.world(session, grants_too=False)
    [item] = paid_batch(session, world, currency="EUR").items
    first = payouts.claw_back(session, world.finance, item.id, "reverted")
    counts = (session.execute(select(func.count(LedgerTransaction.id))).scalar_one(),
              session.execute(select(func.count(AuditEvent.id))).scalar_one())
    again = payouts.claw_back(session, world.finance, item.id, "reverted again")
    assert again.clawback_transaction_id == first.clawback_transaction_id
    # A clawed-back item is never payable again.
    assert [p.subject_id for p in payouts.payable_items(session, world.finance)] == [
        world.works[c].claim.id for c in ("GBP", "CAD")]
    assert (session.execute(select(func.count(LedgerTransaction.id))).scalar_one(),
            session.execute(select(func.count(AuditEvent.id))).scalar_one()) == counts


def test_only_paid_items_are_clawed_back_by_finance_with_a_reason(session):
    world = pf.world(session, grants_too=False)
    batch = payouts.create_batch(session, world.finance, currency="EUR")
    [item] = payouts.get_batch(session, world.finance, batch.id).items
    with pytest.raises(Conflict, match="is pending: only a paid item"):
        payouts.claw_back(session, world.finance, item.id, "too early")
    with pytest.raises(PermissionDenied):
        payouts.claw_back(session, world.eu, item.id, "mine")
    with pytest.raises(NotFound):
        payouts.claw_back(session, world.finance, 999, "nothing")
    payouts.cancel_batch(session, world.finance, batch.id, "redo")
    with pytest.raises(Conflict, match="is withdrawn"):
        payouts.claw_back(session, world.finance, item.id, "withdrawn")
    [paid] = paid_batch(session, world, currency="EUR").items
    with pytest.raises(InvalidInput) as bad:
        payouts.claw_back(session, world.finance, paid.id, " ")
    assert bad.value.field == "reason"
    assert session.get(PayoutItem, paid.id, populate_existing=True).status == "paid"
    assert ledger_check.check(session) == []
