"""The bounty lifecycle a program admin drives, on both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bounty.ledger import InsufficientFunds, Money
from bounty.models import AuditEvent, Bounty, Claim, LedgerLine, Reservation, utcnow
from bounty.services import audit, bounties, claims, funds, fx, journal, ledger_check, reservations
from bounty.services.actors import SYSTEM
from bounty.services.errors import Conflict, InvalidInput, PermissionDenied
from tests import workflow_factories as wf


@pytest.fixture
def pool(session):
    return wf.reference(session)


def timeline(session, bounty_id: int) -> list[str]:
    return [event.action for event in audit.events_for(session, "bounty", bounty_id)]


def counts(session) -> tuple[int, int, int, int]:
    return tuple(session.execute(select(func.count(model.id))).scalar_one()  # type: ignore[return-value]
                 for model in (LedgerLine, Reservation, AuditEvent, Bounty))


def test_create_makes_a_draft_that_holds_nothing(session, pool):
    bounty = wf.draft_bounty(session, capability_slug="load-balancers", working_group_code=None,
                             gitlab_project_path="demo/cloudstack", gitlab_issue_iid=42)
    assert bounty.status == "draft"
    assert (bounty.amount_minor, bounty.currency) == (100000, "EUR")
    assert bounty.working_group_id is not None  # taken from the capability's working group
    assert bounty.pool_id == pool.id
    assert reservations.held_for(session, "bounty", bounty.id) is None
    assert timeline(session, bounty.id) == ["bounty.create"]
    assert ledger_check.check(session) == []


@pytest.mark.parametrize(("amount", "currency"), [("5000.01", "GBP"), ("499.99", "GBP"), ("6000", "EUR")])
def test_an_amount_outside_the_band_is_refused_naming_the_band(session, pool, amount, currency):
    with pytest.raises(InvalidInput) as refused:
        wf.draft_bounty(session, amount=amount, currency=currency)
    assert refused.value.field == "amount"
    assert "outside the Bug fix band of GBP 500.00 to GBP 5000.00" in refused.value.reason
    assert session.execute(select(func.count(Bounty.id))).scalar_one() == 0


def test_the_band_is_compared_in_eur_at_the_rate_in_force(session, pool):
    # GBP 5000 is EUR 5860.98 at the snapshot's 0.8531 (half-up): EUR 5860.98 is inside,
    # 5860.99 is not; GBP 500 is EUR 586.10.
    assert wf.draft_bounty(session, amount="5860.98", currency="EUR").amount_minor == 586098
    assert wf.draft_bounty(session, amount="586.10", currency="EUR").amount_minor == 58610
    with pytest.raises(InvalidInput, match=r"EUR 5860.99 is outside .* \(EUR 586.10 to EUR 5860.98\)"):
        wf.draft_bounty(session, amount="5860.99", currency="EUR")
    with pytest.raises(InvalidInput, match=r"EUR 586\.09 is outside"):
        wf.draft_bounty(session, amount="586.09", currency="EUR")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"category_code": "nonsense"}, "category_code"),
    ({"working_group_code": "WG9"}, "working_group_code"),
    ({"capability_slug": "no-such-thing"}, "capability_slug"),
    ({"capability_slug": "object-storage"}, "capability_slug"),  # WG3's, not WG4's
    ({"claim_hours": 0}, "claim_hours"),
    ({"claim_hours": -3}, "claim_hours"),
    ({"claim_hours": 90 * 24 + 1}, "claim_hours"),
    ({"claim_hours": True}, "claim_hours"),
    ({"amount": "ten"}, "amount"),
    ({"amount": "-1000"}, "amount"),
    ({"amount": "1000.001"}, "amount"),
    ({"currency": "XXX"}, "currency"),
    ({"currency": "JPY", "amount": "1000"}, "amount"),
    ({"currency": "CYP"}, "currency"),  # a currency without a rate on record
    ({"title": "   "}, "title"),
    ({"gitlab_issue_iid": 4}, "gitlab_project_path"),
    ({"gitlab_project_path": "no spaces/allowed here"}, "gitlab_project_path"),
    ({"gitlab_project_path": "demo/x", "gitlab_issue_iid": 0}, "gitlab_issue_iid"),
])
def test_bad_input_is_refused_naming_the_field(session, pool, overrides, field):
    with pytest.raises(InvalidInput) as refused:
        wf.draft_bounty(session, **overrides)
    assert refused.value.field == field
    assert session.execute(select(func.count(Bounty.id))).scalar_one() == 0


def test_claim_hours_up_to_ninety_days_are_accepted(session, pool):
    assert wf.draft_bounty(session, claim_hours=90 * 24).claim_hours == 2160
    assert wf.draft_bounty(session, claim_hours=1).claim_hours == 1


def test_only_program_admins_manage_bounties(session, pool):
    carla = wf.contributor(session)
    with pytest.raises(PermissionDenied):
        bounties.create_bounty(session, carla, wf.bounty_input())
    draft = wf.draft_bounty(session)
    for call in (lambda: bounties.publish_bounty(session, carla, draft.id),
                 lambda: bounties.cancel_bounty(session, carla, draft.id, "no"),
                 lambda: bounties.update_bounty(session, carla, draft.id, wf.bounty_input())):
        with pytest.raises(PermissionDenied):
            call()


def test_publishing_a_gbp_bounty_reserves_eur_at_the_recorded_rate(session, pool):
    draft = wf.draft_bounty(session, amount="4000", currency="GBP")
    before = funds.pool_statuses(session, pool.year)
    bounty = bounties.publish_bounty(session, wf.admin(session), draft.id)
    assert bounty.status == "open" and bounty.published_at is not None
    held = reservations.held_for(session, "bounty", bounty.id)
    rate = fx.rate_on(session, "GBP", utcnow().date())
    expected = fx.to_eur(session, Money.parse("4000", "GBP"), utcnow().date()).target
    assert expected == Money.parse("4688.78", "EUR")  # 4000 / 0.8531, half-up to the cent
    assert held is not None
    assert (held.amount_minor, held.currency) == (expected.minor, "EUR")
    assert (held.rate_id, held.original_minor, held.original_currency) == (rate.id, 400000, "GBP")
    assert held.pool_id == pool.id
    after = {s.kind: s for s in funds.pool_statuses(session, pool.year)}["bounty_pool"]
    was = {s.kind: s for s in before}["bounty_pool"]
    assert was.available - after.available == expected
    assert after.reserved - was.reserved == expected
    assert timeline(session, bounty.id) == ["bounty.create", "bounty.publish", "reservation.hold"]
    assert ledger_check.check(session) == []


def test_publishing_a_eur_bounty_reserves_the_amount_itself(session, pool):
    bounty = wf.open_bounty(session, amount="1500.50")
    held = reservations.held_for(session, "bounty", bounty.id)
    assert held is not None
    assert (held.amount_minor, held.rate_id, held.original_minor) == (150050, None, None)


def test_publishing_when_the_pool_is_short_is_refused_and_writes_nothing(session, pool):
    left = funds.pool_statuses(session, pool.year)
    available = {s.kind: s for s in left}["bounty_pool"].available
    # A grant takes all but EUR 1000 of the bounty pool.
    reservations.reserve(session, SYSTEM, pool, "grant", 1, available - Money.parse("1000", "EUR"))
    draft = wf.draft_bounty(session, amount="1000.01")
    before = counts(session)
    with pytest.raises(InsufficientFunds, match=r"cannot cover EUR 1000\.01: only EUR 1000\.00 is available"):
        bounties.publish_bounty(session, wf.admin(session), draft.id)
    assert counts(session) == before
    session.expire_all()
    assert session.get(Bounty, draft.id).status == "draft"
    assert ledger_check.check(session) == []
    # EUR 1000 exactly still fits.
    fits = wf.draft_bounty(session, amount="1000")
    assert bounties.publish_bounty(session, wf.admin(session), fits.id).status == "open"
    assert ledger_check.check(session) == []


def test_only_a_draft_is_published(session, pool):
    bounty = wf.open_bounty(session)
    with pytest.raises(Conflict, match="only a draft can be published"):
        bounties.publish_bounty(session, wf.admin(session), bounty.id)
    assert session.execute(select(func.count(Reservation.id))).scalar_one() == 1


def test_a_draft_may_change_anything(session, pool):
    draft = wf.draft_bounty(session)
    changed = bounties.update_bounty(session, wf.admin(session), draft.id, wf.bounty_input(
        title="Documentation of zones", category_code="documentation", amount="3000", currency="GBP",
        working_group_code="WG1", claim_hours=48))
    assert (changed.title, changed.amount_minor, changed.currency, changed.claim_hours) == (
        "Documentation of zones", 300000, "GBP", 48)
    [event] = [e for e in audit.events_for(session, "bounty", draft.id) if e.action == "bounty.update"]
    assert event.summary["changed"]["amount_minor"] == [100000, 300000]
    # An edit that changes nothing records nothing.
    bounties.update_bounty(session, wf.admin(session), draft.id, wf.bounty_input(
        title="Documentation of zones", category_code="documentation", amount="3000", currency="GBP",
        working_group_code="WG1", claim_hours=48))
    assert timeline(session, draft.id).count("bounty.update") == 1


@pytest.mark.parametrize(("overrides", "field"), [
    ({"amount": "1200"}, "amount"),
    ({"currency": "GBP"}, "currency"),
    ({"category_code": "documentation", "amount": "1000"}, "category_code"),
])
def test_an_open_bounty_keeps_category_amount_and_currency(session, pool, overrides, field):
    bounty = wf.open_bounty(session)
    with pytest.raises(InvalidInput) as refused:
        bounties.update_bounty(session, wf.admin(session), bounty.id, wf.bounty_input(**overrides))
    assert refused.value.field == field
    session.expire_all()
    assert session.get(Bounty, bounty.id).amount_minor == 100000


def test_an_open_bounty_may_change_its_text_and_time_limit(session, pool):
    bounty = wf.open_bounty(session)
    changed = bounties.update_bounty(session, wf.admin(session), bounty.id,
                                     wf.bounty_input(title="Clearer title", claim_hours=72))
    assert (changed.title, changed.claim_hours, changed.status) == ("Clearer title", 72, "open")
    assert ledger_check.check(session) == []


def test_a_claimed_bounty_can_no_longer_be_edited(session, pool):
    work = wf.claimed_bounty(session)
    with pytest.raises(Conflict, match="a claimed bounty can no longer be edited"):
        bounties.update_bounty(session, wf.admin(session), work.bounty.id, wf.bounty_input(title="x y"))


def test_cancelling_an_open_bounty_releases_its_reserve(session, pool):
    was = {s.kind: s for s in funds.pool_statuses(session, pool.year)}["bounty_pool"]
    bounty = wf.open_bounty(session, amount="2500")
    cancelled = bounties.cancel_bounty(session, wf.admin(session), bounty.id, "duplicate of another")
    assert cancelled.status == "cancelled" and cancelled.closed_at is not None
    now = {s.kind: s for s in funds.pool_statuses(session, pool.year)}["bounty_pool"]
    assert (now.available, now.reserved) == (was.available, was.reserved)
    [held] = session.execute(select(Reservation).where(Reservation.subject_id == bounty.id)).scalars()
    assert held.status == "released" and held.close_transaction_id is not None
    assert timeline(session, bounty.id)[-2:] == ["reservation.release", "bounty.cancel"]
    assert ledger_check.check(session) == []


def test_cancelling_a_claimed_bounty_withdraws_the_claim(session, pool):
    work = wf.claimed_bounty(session)
    bounties.cancel_bounty(session, wf.admin(session), work.bounty.id, "no longer needed")
    session.expire_all()
    claim = session.get(Claim, work.claim.id)
    assert claim.status == "withdrawn" and claim.decided_at is not None
    assert reservations.held_for(session, "bounty", work.bounty.id) is None
    assert timeline(session, work.bounty.id)[-3:] == [
        "claim.withdraw", "reservation.release", "bounty.cancel"]
    # The bounty cannot be claimed again.
    with pytest.raises(Conflict, match="a cancelled bounty cannot be claimed"):
        claims.claim_bounty(session, wf.contributor(session, "dora"), work.bounty.id)
    assert ledger_check.check(session) == []


def test_cancelling_a_draft_moves_no_money_and_approved_bounties_cannot_be_cancelled(session, pool):
    draft = wf.draft_bounty(session)
    lines = session.execute(select(func.count(LedgerLine.id))).scalar_one()
    bounties.cancel_bounty(session, wf.admin(session), draft.id, "never mind")
    assert session.execute(select(func.count(LedgerLine.id))).scalar_one() == lines
    approved = wf.approved_bounty(session)
    with pytest.raises(Conflict, match=r"an? approved bounty cannot be cancelled"):
        bounties.cancel_bounty(session, wf.admin(session), approved.bounty.id, "too late")
    with pytest.raises(InvalidInput) as refused:
        bounties.cancel_bounty(session, wf.admin(session), wf.open_bounty(session).id, "  ")
    assert refused.value.field == "reason"


def test_the_pool_balance_follows_every_step(session, pool):
    reserved = funds.reserved_code(pool)
    start = journal.balance(session, reserved)
    bounty = wf.open_bounty(session, amount="1200")
    assert journal.balance(session, reserved) - start == Money.parse("1200", "EUR")
    bounties.cancel_bounty(session, wf.admin(session), bounty.id, "gone")
    assert journal.balance(session, reserved) == start
    assert date.today().year == pool.year or pool.year == utcnow().year
