"""Importing the bank's confirmation of a batch: all or nothing, problems line by line, the
same file again changes nothing, each matched item posts its payment; and a small year walked
through from funded pools to paid payables. On both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bounty.ledger import Money
from bounty.models import (
    Account,
    AuditEvent,
    BankConfirmation,
    Bounty,
    LedgerLine,
    LedgerTransaction,
    PayoutItem,
    Tranche,
    utcnow,
)
from bounty.services import audit, journal, ledger_check, payouts, statements
from bounty.services.actors import SYSTEM
from bounty.services.errors import Conflict, PermissionDenied
from bounty.services.payouts import ConfirmationRejected
from tests import payout_factories as pf

TODAY = utcnow().date()


def count(session, model) -> int:
    return session.execute(select(func.count(model.id))).scalar_one()


def batch_of(session, world, **selection):
    batch = payouts.create_batch(session, world.finance, **selection)
    payouts.mark_exported(session, world.finance, batch.id)
    return payouts.get_batch(session, world.finance, batch.id)


def rejected(session, world, batch_id: int, data: bytes) -> list[str]:
    """The problems of a refused file, after checking that nothing was applied."""
    before = (count(session, LedgerTransaction), count(session, BankConfirmation), count(session, AuditEvent))
    with pytest.raises(ConfirmationRejected) as refusal:
        payouts.import_confirmation(session, world.finance, batch_id, data)
    assert (count(session, LedgerTransaction), count(session, BankConfirmation),
            count(session, AuditEvent)) == before
    assert "nothing was applied" in str(refusal.value)
    return [str(p) for p in refusal.value.problems]


def test_a_confirmation_pays_every_item_once(session):
    world = pf.world(session)
    view = batch_of(session, world)
    result = payouts.import_confirmation(session, world.finance, view.id, pf.confirmation_csv(view))
    assert not result.already_imported and result.batch_status == "paid"
    assert len(result.paid) == len(view.items) == 5 and result.unchanged == 0
    after = payouts.get_batch(session, world.finance, view.id)
    assert after.status == "paid" and after.paid_at is not None
    for item, paid in zip(after.items, result.paid, strict=True):
        assert (item.status, item.paid_on, item.paid_transaction_id) == ("paid", TODAY, paid.transaction_id)
        payment = session.get(LedgerTransaction, item.paid_transaction_id)
        assert (payment.kind, payment.idempotency_key, payment.effective_on) == (
            "payment", f"payout:item:{item.id}", TODAY)
        lines = {line.account.code: line.amount_minor for line in payment.lines}
        payee = f"payable:{item.payee_kind}:{item.payee_id}:{item.amount.currency}"
        assert lines == {payee: item.amount.minor, f"bank:{item.amount.currency}": -item.amount.minor}
    for work in world.works.values():
        assert session.get(Bounty, work.bounty.id, populate_existing=True).status == "paid"
    for grant in (world.person_grant, world.org_grant):
        assert session.get(Tranche, grant.tranches[0].id, populate_existing=True).status == "paid"
    assert ledger_check.check(session) == []
    assert audit.verify(session) == []
    bounty_id = str(world.works["GBP"].bounty.id)
    timeline = session.execute(select(AuditEvent.action).where(
        AuditEvent.object_type == "bounty", AuditEvent.object_id == bounty_id)).scalars()
    assert "bounty.paid" in list(timeline)


def test_importing_the_same_file_again_changes_nothing_and_says_so(session):
    world = pf.world(session, grants_too=False)
    view = batch_of(session, world)
    data = pf.confirmation_csv(view)
    first = payouts.import_confirmation(session, world.finance, view.id, data)
    before = (count(session, LedgerTransaction), count(session, AuditEvent), count(session, BankConfirmation))
    again = payouts.import_confirmation(session, world.finance, view.id, data)
    assert again.already_imported and "already imported" in again.summary()
    assert again.paid == first.paid and again.digest == first.digest
    assert (count(session, LedgerTransaction), count(session, AuditEvent),
            count(session, BankConfirmation)) == before
    assert payouts.payable_items(session, world.finance) == []  # everything was paid
    second_world_item = pf.approved(session, world.eu, "EUR", "650")
    second = batch_of(session, world)
    assert [i.subject_id for i in second.items] == [second_world_item.claim.id]
    with pytest.raises(Conflict, match=f"already imported for payout batch {view.id}"):
        payouts.import_confirmation(session, world.finance, second.id, data)


def test_a_partial_confirmation_then_the_rest_pays_the_batch(session):
    world = pf.world(session, grants_too=False)
    view = batch_of(session, world)
    first_item = view.items[0]
    result = payouts.import_confirmation(session, world.finance, view.id,
                                         pf.confirmation_csv(view, only={first_item.id}))
    assert [p.item_id for p in result.paid] == [first_item.id] and result.batch_status == "exported"
    # A cumulative statement repeats the paid line (same date): counted as already paid.
    result = payouts.import_confirmation(session, world.finance, view.id, pf.confirmation_csv(view))
    assert len(result.paid) == 2 and result.unchanged == 1 and result.batch_status == "paid"
    assert ledger_check.check(session) == []


def test_every_bad_line_is_reported_and_nothing_is_applied(session):
    world = pf.world(session, grants_too=False)
    view = batch_of(session, world, currency="EUR")
    other = batch_of(session, world, currency="GBP")
    eur, gbp = view.items[0], other.items[0]
    day = TODAY.isoformat()
    data = "\n".join([
        "end_to_end_id,amount,date",
        f"{eur.end_to_end_id},999.99,{day}",                       # 2: amount mismatch
        f"BTY-B-999-1,10.00,{day}",                                 # 3: unknown
        f"{gbp.end_to_end_id},{gbp.amount.amount_str()},{day}",     # 4: another batch
        f"{eur.end_to_end_id},{eur.amount.amount_str()},22/11/2026",  # 5: duplicate + bad date
        f"BTY-X-1-1,1.000.00,{day}",                                # 6: unknown + malformed amount
        f"BTY-X-2-1,10.00,{(TODAY + timedelta(days=3)).isoformat()}",  # 7: unknown + future
        ",,",                                                       # blank: skipped
        f"BTY-X-3-1,,{day}",                                        # 9: unknown + no amount
    ]).encode()
    problems = rejected(session, world, view.id, data)
    assert problems == [
        f"line 2: amount EUR 999.99 does not match the EUR 1000.00 of {eur.end_to_end_id}",
        "line 3: unknown end-to-end id 'BTY-B-999-1'",
        f"line 4: {gbp.end_to_end_id} belongs to payout batch {other.id}, not {view.id}",
        f"line 5: {eur.end_to_end_id} is already on line 2",
        "line 5: date '22/11/2026' is not an ISO date (YYYY-MM-DD)",
        "line 6: unknown end-to-end id 'BTY-X-1-1'",
        "line 6: amount '1.000.00' is not an amount (digits and a decimal point, e.g. 1250.00)",
        "line 7: unknown end-to-end id 'BTY-X-2-1'",
        f"line 7: date {(TODAY + timedelta(days=3)).isoformat()} is in the future",
        "line 9: unknown end-to-end id 'BTY-X-3-1'",
        "line 9: no amount",
    ]
    assert {i.status for i in payouts.get_batch(session, world.finance, view.id).items} == {"pending"}


@pytest.mark.parametrize(("data", "problem"), [
    (b"", "line 1: the file is empty"),
    (b"end_to_end_id,amount,date\n", "line 1: the file has a header but no payment lines"),
    (b"e2e,amount\nBTY-B-1-1,1000.00\n",
     "line 1: the header must name the columns end_to_end_id, amount, date (missing: end_to_end_id, date)"),
    (b"BTY-B-1-1,1000.00,2026-11-22\n", "line 1: the header must name the columns"),
    (b"end_to_end_id,amount,date\n\xff\xfe,1,2\n", "line 1: the file is not UTF-8 text"),
    (b"end_to_end_id,amount,date\nBTY-B-1-1,1000.001,2026-11-22\n",
     "line 2: amount '1000.001' has too many decimals for EUR"),
    (b"end_to_end_id,amount,date\nBTY-B-1-1,1000.00,2026-02-30\n",
     "line 2: date '2026-02-30' is not a date of the calendar"),
    (b"end_to_end_id,amount,date\nBTY-B-1-1,1000.00,2000-01-01\n", "line 2: date 2000-01-01 is before"),
    (b"end_to_end_id,amount,date,currency\nBTY-B-1-1,1000.00,{today},GBP\n",
     "line 2: currency 'GBP' is not the EUR of BTY-B-1-1"),
    (b"end_to_end_id,amount,date\nBTY-B-1-1\n", "line 2: no date"),
])
def test_malformed_files_are_refused_naming_the_line(session, data, problem):
    world = pf.world(session, grants_too=False)
    view = batch_of(session, world, currency="EUR")
    assert view.items[0].end_to_end_id == "BTY-B-1-1"
    problems = rejected(session, world, view.id, data.replace(b"{today}", TODAY.isoformat().encode()))
    assert any(p.startswith(problem) for p in problems), problems


def test_bank_formats_with_a_bom_semicolons_and_extra_columns_are_read(session):
    world = pf.world(session, grants_too=False)
    view = batch_of(session, world, currency="EUR")
    [item] = view.items
    data = ("\ufeffEnd-To-End-Id;Amount;Date;Currency;Remittance\n"
            f"{item.end_to_end_id};{item.amount.amount_str()};{TODAY.isoformat()};EUR;thanks\n").encode()
    result = payouts.import_confirmation(session, world.finance, view.id, data)
    assert [p.item_id for p in result.paid] == [item.id]


def test_cancelled_batches_and_non_finance_are_refused(session):
    world = pf.world(session, grants_too=False)
    view = batch_of(session, world, currency="EUR")
    with pytest.raises(PermissionDenied):
        payouts.import_confirmation(session, world.eu, view.id, pf.confirmation_csv(view))
    payouts.cancel_batch(session, world.finance, view.id, "wrong batch")
    with pytest.raises(Conflict, match="is cancelled"):
        payouts.import_confirmation(session, world.finance, view.id, pf.confirmation_csv(view))
    assert count(session, BankConfirmation) == 0


def _balance(session, code: str) -> int:
    return journal.balance(session, code).minor


def test_a_small_year_from_funded_pools_to_paid_payables(session):
    """Fund the pools by share, approve bounties in EUR, GBP and CAD, sign off tranches, batch
    everything, build the bank's confirmation from the batch, import it: all paid, payables
    zero, the ledger sound and each member's statement carrying its part of every payout."""
    world = pf.world(session)
    view = batch_of(session, world)
    assert {i.amount.currency for i in view.items} == {"EUR", "GBP", "CAD"}
    assert {i.kind for i in view.items} == {"bounty", "tranche"}
    for item in view.items:
        assert sum(p.minor for p in item.shares.values()) == item.eur.minor
    result = payouts.import_confirmation(session, world.finance, view.id, pf.confirmation_csv(view))
    assert result.batch_status == "paid" and len(result.paid) == 5
    assert ledger_check.check(session) == []
    assert audit.verify(session) == []
    payables = session.execute(select(Account.code).where(Account.code.like("payable:%"))).scalars().all()
    assert payables and all(_balance(session, code) == 0 for code in payables)
    for currency, total in view.totals.items():
        # The bank account is an asset: paying out credits it.
        assert _balance(session, f"bank:{currency}") == -total.minor
    assert payouts.payable_items(session, world.finance) == []
    paid = select(func.count(PayoutItem.id)).where(PayoutItem.status == "paid")
    assert session.execute(paid).scalar_one() == 5
    # Each member's statement holds its part of every payout; the parts add up to the EUR cost.
    span = statements.period(year=TODAY.year)
    borne = {code: statements.jurisdiction_statement(session, SYSTEM, code, span).borne.minor
             for code in ("EU", "UK", "CA", "AU")}
    assert sum(borne.values()) == view.eur_total.minor
    for code in borne:
        assert borne[code] == sum(item.shares[code].minor for item in view.items)
    # Trial balance per currency still nets to zero after the payments.
    lines = session.execute(select(LedgerLine.currency, func.sum(LedgerLine.amount_minor))
                            .group_by(LedgerLine.currency)).all()
    assert all(int(total) == 0 for _, total in lines)
    assert Money(sum(i.eur.minor for i in view.items), "EUR") == view.eur_total
