"""The approval gate: a claim is approved only when every linked merge request is synced from
GitLab, merged and DCO-clean; the refusal names the merge request and the reason."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bounty.ledger import Money
from bounty.models import Bounty, Claim, LedgerTransaction, Review
from bounty.services import claims, journal, ledger_check, submissions
from bounty.services.errors import Conflict
from tests import workflow_factories as wf

URL = f"{wf.GITLAB}/helm/helm/-/merge_requests/12"
OTHER = f"{wf.GITLAB}/helm/helm/-/merge_requests/13"


@pytest.fixture
def pool(session):
    return wf.reference(session)


def approve(session, name: str, jurisdiction: str, bounty_id: int) -> Review:
    return claims.review_claim(session, wf.reviewer(session, name, jurisdiction), bounty_id, "approve", "ok")


def reviews(session) -> int:
    return session.execute(select(func.count(Review.id))).scalar_one()


def fresh(session, model, id_):
    session.expire_all()
    return session.get(model, id_)


def test_an_unsynced_merge_request_refuses_the_approve_vote(session, pool):
    work = wf.submitted_bounty(session, urls=[URL], synced=False)

    with pytest.raises(submissions.MergeRequestNotReady,
                       match=f"^merge request {URL} is not yet synced from GitLab$") as refused:
        approve(session, "rev.eu", "EU", work.bounty.id)

    assert refused.value.work.problem == "unsynced"
    assert isinstance(refused.value, Conflict)  # the edges answer 409
    assert reviews(session) == 0
    # A reject needs no clean work.
    claims.review_claim(session, wf.reviewer(session, "rev.uk", "UK"), work.bounty.id, "reject",
                        "No merged work yet.")
    assert fresh(session, Bounty, work.bounty.id).status == "open"


def test_a_merge_request_failing_the_dco_is_named_with_its_reason(session, pool):
    merge_request = wf.merged_work(session, URL, dco_ok=False)
    [failing] = [c for c in merge_request.commits if not c.is_dco_ok]
    work = wf.submitted_bounty(session, urls=[URL])

    with pytest.raises(submissions.MergeRequestNotReady) as refused:
        approve(session, "rev.eu", "EU", work.bounty.id)

    assert str(refused.value) == ("merge request helm/helm!12 fails the DCO check: "
                                  f"commit {failing.sha[:8]}: The sign-off is missing.")
    assert reviews(session) == 0
    assert fresh(session, Claim, work.claim.id).status == "submitted"


def test_several_failing_commits_are_counted(session, pool):
    wf.merged_work(session, URL, dco_ok=False, failing_reasons=(
        wf.MISSING_SIGN_OFF, 'Expected "Carla <carla@example.org>", but got "C <c@example.org>".'))
    work = wf.submitted_bounty(session, urls=[URL])

    with pytest.raises(submissions.MergeRequestNotReady,
                       match=r"The sign-off is missing\. \(and 1 more failing commit\)$"):
        approve(session, "rev.eu", "EU", work.bounty.id)
    [item] = submissions.linked_work(session, work.claim.id)
    assert [c.reason for c in item.failing_commits] == [
        wf.MISSING_SIGN_OFF, 'Expected "Carla <carla@example.org>", but got "C <c@example.org>".']
    assert item.dco_status == "unsigned"


@pytest.mark.parametrize(("options", "reason"), [
    ({"dco_ok": None}, "has not been checked for the DCO yet"),
    ({"merged": False}, "is not merged"),
])
def test_unchecked_or_unmerged_work_is_refused(session, pool, options, reason):
    wf.merged_work(session, URL, **options)
    work = wf.submitted_bounty(session, urls=[URL])

    with pytest.raises(submissions.MergeRequestNotReady, match=f"^merge request helm/helm!12 {reason}$"):
        approve(session, "rev.eu", "EU", work.bounty.id)


def test_every_linked_merge_request_must_be_clean(session, pool):
    wf.merged_work(session, URL)
    wf.merged_work(session, OTHER, dco_ok=False)
    work = wf.submitted_bounty(session, urls=[URL, OTHER])

    with pytest.raises(submissions.MergeRequestNotReady, match="helm/helm!13 fails the DCO check"):
        approve(session, "rev.eu", "EU", work.bounty.id)
    assert [w.problem for w in submissions.linked_work(session, work.claim.id)] == [None, "dco"]


def test_clean_merged_work_is_approved_and_the_payable_posted(session, pool):
    work = wf.submitted_bounty(session, urls=[URL, OTHER], amount="1500")
    assert [w.dco_status for w in submissions.linked_work(session, work.claim.id)] == ["signed", "signed"]

    approve(session, "rev.eu", "EU", work.bounty.id)
    approve(session, "rev.uk", "UK", work.bounty.id)

    assert fresh(session, Bounty, work.bounty.id).status == "approved"
    assert fresh(session, Claim, work.claim.id).status == "approved"
    payable = f"payable:person:{work.claimant.person_id}:EUR"
    assert journal.balance(session, payable) == Money.parse("1500", "EUR")
    assert session.execute(select(LedgerTransaction).where(
        LedgerTransaction.idempotency_key == f"approve:claim:{work.claim.id}")).scalar_one() is not None
    assert ledger_check.check(session) == []


def test_work_synced_after_the_submission_unblocks_the_approval(session, pool):
    work = wf.submitted_bounty(session, urls=[URL], synced=False)
    with pytest.raises(submissions.MergeRequestNotReady):
        approve(session, "rev.eu", "EU", work.bounty.id)

    # The sync stores the merge request and attaches it: the pending link finds it.
    merge_request = wf.merged_work(session, URL)
    submissions.attach_merged_work(session, merge_request)
    session.commit()
    [link] = fresh(session, Claim, work.claim.id).links
    assert link.merge_request_id == merge_request.id

    approve(session, "rev.eu", "EU", work.bounty.id)
    approve(session, "rev.uk", "UK", work.bounty.id)
    assert fresh(session, Bounty, work.bounty.id).status == "approved"


def test_a_security_fix_needs_clean_work_for_the_council_too(session, pool):
    council = wf.reviewer(session, "sec", "CA", council=True)
    claimant = wf.reviewer(session, "sec.fixer", "EU", council=True)
    wf.merged_work(session, URL, dco_ok=False)
    work = wf.submitted_bounty(session, claimant, urls=[URL], **wf.security_fix())

    with pytest.raises(submissions.MergeRequestNotReady):
        claims.review_claim(session, council, work.bounty.id, "approve", "")
    assert reviews(session) == 0
