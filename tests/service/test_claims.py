"""Claiming, submitting, reviewing and lapsing, and the payable an approval posts."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bounty.ledger import Money
from bounty.models import (
    Account,
    AuditEvent,
    Bounty,
    Claim,
    ClaimLink,
    LedgerLine,
    LedgerTransaction,
    Reservation,
    Review,
    utcnow,
)
from bounty.services import audit, bounty_queries, claims, funds, fx, journal, ledger_check, reservations
from bounty.services import my_work as my_work_queries
from bounty.services.actors import SYSTEM
from bounty.services.errors import AlreadyClaimed, Conflict, InvalidInput, NotFound, PermissionDenied
from tests import workflow_factories as wf


@pytest.fixture
def pool(session):
    return wf.reference(session)


def actions(session, bounty_id: int, action: str) -> list[AuditEvent]:
    return [e for e in audit.events_for(session, "bounty", bounty_id) if e.action == action]


def fresh(session, model, id_):
    session.expire_all()
    return session.get(model, id_)


def test_a_claim_is_exclusive(session, pool):
    bounty = wf.open_bounty(session, claim_hours=72)
    carla = wf.contributor(session)
    claim = claims.claim_bounty(session, carla, bounty.id)
    assert claim.status == "active" and claim.person_id == carla.person_id
    assert claim.expires_at - claim.claimed_at == timedelta(hours=72)
    assert claim.remediation_due_at is None
    assert fresh(session, Bounty, bounty.id).status == "claimed"
    with pytest.raises(AlreadyClaimed, match="already claimed"):
        claims.claim_bounty(session, wf.contributor(session, "dora"), bounty.id)
    with pytest.raises(AlreadyClaimed):
        claims.claim_bounty(session, carla, bounty.id)
    assert session.execute(select(func.count(Claim.id))).scalar_one() == 1
    assert len(actions(session, bounty.id, "claim.create")) == 1
    assert ledger_check.check(session) == []


def test_only_signed_in_contributors_claim_and_drafts_do_not_exist_for_them(session, pool):
    bounty = wf.open_bounty(session)
    with pytest.raises(PermissionDenied):
        claims.claim_bounty(session, wf.ANONYMOUS, bounty.id)
    auditor = wf.actor_of(wf.person(session, "audrey", ("auditor",)))
    with pytest.raises(PermissionDenied):
        claims.claim_bounty(session, auditor, bounty.id)
    draft = wf.draft_bounty(session)
    with pytest.raises(NotFound):
        claims.claim_bounty(session, wf.contributor(session), draft.id)
    with pytest.raises(NotFound):
        claims.claim_bounty(session, wf.contributor(session), 9999)


def test_a_claim_lapses_after_its_time_limit_without_a_submission(session, pool):
    start = utcnow() - timedelta(hours=30)
    work = wf.claimed_bounty(session, now=start, claim_hours=24)
    assert claims.expire_claims(session, SYSTEM, now=start + timedelta(hours=23)) == 0
    assert fresh(session, Claim, work.claim.id).status == "active"
    assert claims.expire_claims(session, SYSTEM, now=start + timedelta(hours=24)) == 1
    claim = fresh(session, Claim, work.claim.id)
    assert claim.status == "lapsed" and claim.decided_at == claim.expires_at
    assert fresh(session, Bounty, work.bounty.id).status == "open"
    assert len(actions(session, work.bounty.id, "claim.lapse")) == 1
    assert claims.expire_claims(session, SYSTEM) == 0
    assert len(actions(session, work.bounty.id, "claim.lapse")) == 1
    # The reserve stays for the next claimant.
    assert reservations.held_for(session, "bounty", work.bounty.id) is not None
    again = claims.claim_bounty(session, wf.contributor(session, "dora"), work.bounty.id)
    assert again.status == "active"
    assert ledger_check.check(session) == []


def test_only_program_admins_or_the_system_expire_claims(session, pool):
    with pytest.raises(PermissionDenied):
        claims.expire_claims(session, wf.contributor(session))
    assert claims.expire_claims(session, wf.admin(session)) == 0


def test_an_expired_claim_reads_as_lapsed_before_it_is_recorded(session, pool):
    start = utcnow() - timedelta(hours=5)
    work = wf.claimed_bounty(session, now=start, claim_hours=2)
    dora = wf.contributor(session, "dora")
    detail = bounty_queries.get_bounty(session, dora, work.bounty.id)
    assert detail.row.status == "open" and detail.claim is None and "claim" in detail.actions
    assert detail.row.claimant_name is None
    mine = my_work_queries.my_work(session, work.claimant)
    assert [c.status for c in mine.claims] == ["lapsed"]
    # Reading wrote nothing.
    assert fresh(session, Claim, work.claim.id).status == "active"
    # The claimant may not submit any more; the next claim records the lapse and wins.
    with pytest.raises(Conflict, match="no active claim"):
        claims.submit_claim(session, work.claimant, work.bounty.id, [wf.MERGE_REQUEST],
                            gitlab_base_url=wf.GITLAB)
    claim = claims.claim_bounty(session, dora, work.bounty.id)
    assert claim.person_id == dora.person_id
    assert fresh(session, Claim, work.claim.id).status == "lapsed"
    assert [e.action for e in audit.events_for(session, "bounty", work.bounty.id)][-2:] == [
        "claim.lapse", "claim.create"]


def test_a_security_fix_runs_a_48_hour_clock_and_records_its_breach_once(session, pool):
    council = wf.reviewer(session, "cora", "UK", council=True)
    start = utcnow() - timedelta(hours=60)
    work = wf.claimed_bounty(session, council, now=start, **wf.security_fix())
    assert work.claim.remediation_due_at == start + timedelta(hours=48)
    assert claims.expire_claims(session, SYSTEM, now=start + timedelta(hours=47)) == 0
    assert fresh(session, Claim, work.claim.id).remediation_breached_at is None
    assert claims.expire_claims(session, SYSTEM, now=start + timedelta(hours=49)) == 0
    claim = fresh(session, Claim, work.claim.id)
    assert claim.remediation_breached_at == start + timedelta(hours=48)
    assert claim.status == "active"  # the claim runs on to its own limit
    assert claims.expire_claims(session, SYSTEM) == 0
    [breach] = actions(session, work.bounty.id, "claim.remediation_breach")
    assert breach.summary["claim"] == work.claim.id
    # A late submission does not record it again.
    claims.submit_claim(session, council, work.bounty.id, [wf.MERGE_REQUEST], gitlab_base_url=wf.GITLAB)
    assert len(actions(session, work.bounty.id, "claim.remediation_breach")) == 1


def test_a_security_fix_submitted_in_time_is_no_breach_and_a_late_one_is(session, pool):
    council = wf.reviewer(session, "cora", "UK", council=True)
    in_time = wf.submitted_bounty(session, council, **wf.security_fix())
    assert claims.expire_claims(session, SYSTEM, now=utcnow() + timedelta(hours=100)) == 0
    assert fresh(session, Claim, in_time.claim.id).remediation_breached_at is None
    late = wf.claimed_bounty(session, council, now=utcnow() - timedelta(hours=50),
                             **wf.security_fix(title="CVE-2026-0002 remediation"))
    claims.submit_claim(session, council, late.bounty.id, [wf.MERGE_REQUEST], gitlab_base_url=wf.GITLAB)
    claim = fresh(session, Claim, late.claim.id)
    assert claim.remediation_breached_at == claim.remediation_due_at
    assert len(actions(session, late.bounty.id, "claim.remediation_breach")) == 1


@pytest.mark.parametrize("url", [
    "https://github.com/apache/cloudstack/pull/1",
    "ftp://gitlab.example.org/a/b/-/merge_requests/1",
    "https://gitlab.example.org/a/b/-/issues/1",
    "https://gitlab.example.org/a/b/-/merge_requests/0",
    "https://gitlab.example.org:8443/a/b/-/merge_requests/1",
    "https://gitlab.example.org.evil.test/a/b/-/merge_requests/1",
    "not a url",
])
def test_submissions_link_merge_requests_of_the_cooperatives_gitlab(session, pool, url):
    work = wf.claimed_bounty(session)
    with pytest.raises(InvalidInput) as refused:
        claims.submit_claim(session, work.claimant, work.bounty.id, [url], gitlab_base_url=wf.GITLAB)
    assert refused.value.field == "merge_request_urls"
    assert fresh(session, Claim, work.claim.id).status == "active"


def test_the_claimant_submits_once(session, pool):
    work = wf.claimed_bounty(session)
    with pytest.raises(PermissionDenied, match="only the claimant"):
        claims.submit_claim(session, wf.contributor(session, "dora"), work.bounty.id, [wf.MERGE_REQUEST],
                            gitlab_base_url=wf.GITLAB)
    with pytest.raises(InvalidInput, match="at least one"):
        claims.submit_claim(session, work.claimant, work.bounty.id, ["  "], gitlab_base_url=wf.GITLAB)
    second = f"{wf.GITLAB}/cloudstack/cloudstack/-/merge_requests/102"
    claim = claims.submit_claim(session, work.claimant, work.bounty.id,
                                [wf.MERGE_REQUEST, second, wf.MERGE_REQUEST], gitlab_base_url=wf.GITLAB)
    assert claim.status == "submitted" and claim.submitted_at is not None
    assert [link.url for link in session.execute(select(ClaimLink).order_by(ClaimLink.id)).scalars()] == [
        wf.MERGE_REQUEST, second]
    assert fresh(session, Bounty, work.bounty.id).status == "submitted"
    with pytest.raises(Conflict, match="already submitted"):
        claims.submit_claim(session, work.claimant, work.bounty.id, [second], gitlab_base_url=wf.GITLAB)
    # Submitted work does not lapse.
    assert claims.expire_claims(session, SYSTEM, now=utcnow() + timedelta(days=365)) == 0


def test_a_gitlab_under_a_path_is_respected(session, pool):
    work = wf.claimed_bounty(session)
    base = "https://code.example.net/gitlab"
    with pytest.raises(InvalidInput):
        claims.submit_claim(session, work.claimant, work.bounty.id,
                            ["https://code.example.net/a/b/-/merge_requests/3"], gitlab_base_url=base)
    claim = claims.submit_claim(session, work.claimant, work.bounty.id,
                                [f"{base}/a/b/-/merge_requests/3"], gitlab_base_url=base)
    assert claim.status == "submitted"


def test_reviews_follow_the_rule_and_the_claimant_never_reviews(session, pool):
    claimant = wf.reviewer(session, "rita", "EU")  # a reviewer may claim, never review their own
    work = wf.submitted_bounty(session, claimant)
    with pytest.raises(PermissionDenied, match="nobody reviews their own claim"):
        claims.review_claim(session, claimant, work.bounty.id, "approve", "mine is great")
    with pytest.raises(PermissionDenied):
        claims.review_claim(session, wf.contributor(session), work.bounty.id, "approve", "")
    eu, eu2, uk = (wf.reviewer(session, "eve", "EU"), wf.reviewer(session, "emil", "EU"),
                   wf.reviewer(session, "ursula", "UK"))
    claims.review_claim(session, eu, work.bounty.id, "approve", "")
    with pytest.raises(Conflict, match="already reviewed"):
        claims.review_claim(session, eu, work.bounty.id, "approve", "again")
    claims.review_claim(session, eu2, work.bounty.id, "approve", "fine")
    assert fresh(session, Bounty, work.bounty.id).status == "submitted"  # one jurisdiction so far
    claims.review_claim(session, uk, work.bounty.id, "approve", "fine")
    assert fresh(session, Bounty, work.bounty.id).status == "approved"
    assert fresh(session, Claim, work.claim.id).status == "approved"
    with pytest.raises(Conflict, match="no submitted work"):
        claims.review_claim(session, wf.reviewer(session, "carl", "CA"), work.bounty.id, "approve", "")
    assert session.execute(select(func.count(Review.id))).scalar_one() == 3
    assert [e.action for e in audit.events_for(session, "bounty", work.bounty.id)] == [
        "bounty.create", "bounty.publish", "reservation.hold", "claim.create", "claim.submit",
        "claim.review", "claim.review", "claim.review", "reservation.consume", "claim.approve"]
    assert ledger_check.check(session) == []


def test_a_reject_needs_a_comment_and_reopens_the_bounty(session, pool):
    work = wf.submitted_bounty(session)
    eu = wf.reviewer(session, "eve", "EU")
    with pytest.raises(InvalidInput) as refused:
        claims.review_claim(session, eu, work.bounty.id, "reject", "   ")
    assert refused.value.field == "comment"
    with pytest.raises(InvalidInput) as refused:
        claims.review_claim(session, eu, work.bounty.id, "maybe", "hmm")
    assert refused.value.field == "verdict"
    claims.review_claim(session, wf.reviewer(session, "ursula", "UK"), work.bounty.id, "approve", "")
    claims.review_claim(session, eu, work.bounty.id, "reject", "Does not build.")
    assert fresh(session, Claim, work.claim.id).status == "rejected"
    assert fresh(session, Bounty, work.bounty.id).status == "open"
    assert reservations.held_for(session, "bounty", work.bounty.id) is not None
    [event] = actions(session, work.bounty.id, "claim.reject")
    assert event.summary["reasons"] == [f"rejected by reviewer {eu.person_id} (EU)"]
    # Open again: anyone, the same contributor included, may claim it.
    assert claims.claim_bounty(session, work.claimant, work.bounty.id).status == "active"
    assert ledger_check.check(session) == []


def transaction_lines(session, key: str) -> list[tuple[str, Money, int | None]]:
    rows = session.execute(
        select(Account.code, LedgerLine.amount_minor, LedgerLine.currency, LedgerLine.rate_id)
        .join(LedgerLine, LedgerLine.account_id == Account.id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
        .where(LedgerTransaction.idempotency_key == key).order_by(LedgerLine.id)
    ).all()
    return [(code, Money(int(minor), currency), rate) for code, minor, currency, rate in rows]


def test_approval_posts_the_payable_and_each_members_part(session, pool):
    work = wf.approved_bounty(session, amount="1000.01")
    person_id = work.claimant.person_id
    lines = dict((code, amount) for code, amount, _ in
                 transaction_lines(session, f"approve:claim:{work.claim.id}"))
    cost = Money.parse("1000.01", "EUR")
    year = pool.year
    assert lines[f"pool:{year}:bounty_pool:reserved"] == cost
    assert lines[f"payable:person:{person_id}:EUR"] == -cost
    assert lines[f"pool:{year}:bounty_pool:spent"] == -cost
    parts = {code: lines[f"member:{code}:borne"] for code in ("EU", "UK", "CA", "AU")}
    assert parts == funds.split_cost(session, cost, year)
    assert parts == {"EU": Money(50001, "EUR"), "UK": Money(25000, "EUR"), "CA": Money(15000, "EUR"),
                     "AU": Money(10000, "EUR")}
    assert sum(p.minor for p in parts.values()) == cost.minor
    assert journal.balance(session, f"payable:person:{person_id}:EUR") == cost
    [held] = session.execute(select(Reservation).where(Reservation.subject_id == work.bounty.id)).scalars()
    assert held.status == "consumed" and held.close_transaction_id is not None
    assert ledger_check.check(session) == []


def test_repeating_the_approval_changes_nothing(session, pool):
    work = wf.approved_bounty(session)
    [held] = session.execute(select(Reservation).where(Reservation.subject_id == work.bounty.id)).scalars()
    before = [session.execute(select(func.count(m.id))).scalar_one()
              for m in (LedgerLine, LedgerTransaction, AuditEvent)]
    again = reservations.consume(session, SYSTEM, held, work.claimant.person_id,
                                 Money(work.bounty.amount_minor, work.bounty.currency),
                                 f"approve:claim:{work.claim.id}", "again")
    session.commit()
    assert again.created is False and again.transaction_id == held.close_transaction_id
    assert [session.execute(select(func.count(m.id))).scalar_one()
            for m in (LedgerLine, LedgerTransaction, AuditEvent)] == before
    # Under another key it is refused: the reserve is spent.
    with pytest.raises(Conflict, match="already consumed"):
        reservations.consume(session, SYSTEM, held, work.claimant.person_id,
                             Money(work.bounty.amount_minor, work.bounty.currency), "approve:other", "x")
    session.rollback()
    assert ledger_check.check(session) == []


def test_a_gbp_payable_is_in_gbp_and_the_fx_legs_balance_per_currency(session, pool):
    work = wf.approved_bounty(session, amount="4000", currency="GBP")
    lines = transaction_lines(session, f"approve:claim:{work.claim.id}")
    [held] = session.execute(select(Reservation).where(Reservation.subject_id == work.bounty.id)).scalars()
    eur = Money(held.amount_minor, "EUR")
    gbp = Money.parse("4000", "GBP")
    by_code = {code: amount for code, amount, _ in lines}
    assert by_code[f"payable:person:{work.claimant.person_id}:GBP"] == -gbp
    assert by_code["fx:clearing:GBP"] == gbp
    assert by_code["fx:clearing:EUR"] == -eur
    assert eur == Money.parse("4688.78", "EUR")
    rates = {code: rate for code, _, rate in lines}
    # Both legs at the rate recorded with the reservation, the rate in force for GBP.
    assert held.rate_id == fx.rate_on(session, "GBP", utcnow().date()).id
    assert rates["fx:clearing:GBP"] == rates["fx:clearing:EUR"] == held.rate_id
    totals: dict[str, int] = defaultdict(int)
    for _, amount, _ in lines:
        totals[amount.currency] += amount.minor
    assert totals == {"EUR": 0, "GBP": 0}
    borne = [amount for code, amount, _ in lines if code.endswith(":borne")]
    assert sum(a.minor for a in borne) == eur.minor
    assert my_work_queries.my_work(session, work.claimant).earnings == {"GBP": gbp}
    assert ledger_check.check(session) == []


def test_a_security_fix_needs_a_council_approval(session, pool):
    claimant = wf.reviewer(session, "cora", "UK", council=True)
    work = wf.submitted_bounty(session, claimant, **wf.security_fix())
    eu, uk = wf.reviewer(session, "eve", "EU"), wf.reviewer(session, "ursula", "UK")
    # Embargoed: reviewers outside the council cannot even see it.
    with pytest.raises(NotFound):
        claims.review_claim(session, eu, work.bounty.id, "approve", "")
    # Once disclosed they can, but two of them are not enough.
    bounty = fresh(session, Bounty, work.bounty.id)
    bounty.disclosed_at = utcnow()
    session.commit()
    claims.review_claim(session, eu, work.bounty.id, "approve", "")
    claims.review_claim(session, uk, work.bounty.id, "approve", "")
    assert fresh(session, Bounty, work.bounty.id).status == "submitted"
    detail = bounty_queries.get_bounty(session, eu, work.bounty.id)
    assert detail.review_status is not None
    assert detail.review_status.reasons == ["a security fix needs an approval from the security council"]
    claims.review_claim(session, wf.reviewer(session, "carl", "CA", council=True), work.bounty.id,
                        "approve", "")
    assert fresh(session, Bounty, work.bounty.id).status == "approved"
    assert ledger_check.check(session) == []
