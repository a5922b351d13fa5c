"""Merged work from GitLab submits bounties: `attach_merged_work` as the sync calls it, with
merge requests built as the sync stores them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bounty.models import AuditEvent, Bounty, Claim, ClaimLink, MergeRequest, utcnow
from bounty.services import audit, bounty_queries, claims, submissions
from tests import workflow_factories as wf

PROJECT = "helm/helm"
MR = f"{wf.GITLAB}/{PROJECT}/-/merge_requests/12"


@pytest.fixture
def pool(session):
    return wf.reference(session)


def issue_bounty(session, claimant=None, *, project: str = PROJECT, issue: int = 7, **overrides):
    """A bounty on GitLab issue `project#issue`, claimed by `claimant` (default: carla)."""
    return wf.claimed_bounty(session, claimant, gitlab_project_path=project, gitlab_issue_iid=issue,
                             **overrides)


def merged(session, person_id, description: str, url: str = MR, **options) -> MergeRequest:
    return wf.merged_work(session, url, person_id=person_id, description=description, **options)


def attach(session, merge_request, **options) -> list[int]:
    moved = submissions.attach_merged_work(session, merge_request, **options)
    session.commit()
    return moved


def events(session, bounty_id: int, action: str) -> list[AuditEvent]:
    return [e for e in audit.events_for(session, "bounty", bounty_id) if e.action == action]


def fresh(session, model, id_):
    session.expire_all()
    return session.get(model, id_)


def test_a_merged_clean_merge_request_of_the_claimant_submits_the_bounty(session, pool):
    work = issue_bounty(session)
    mr = merged(session, work.claimant.person_id, "Reworks the probe.\n\nCloses #7")

    assert attach(session, mr) == [work.bounty.id]

    claim = fresh(session, Claim, work.claim.id)
    assert claim.status == "submitted" and claim.submitted_at is not None
    assert fresh(session, Bounty, work.bounty.id).status == "submitted"
    assert [(link.url, link.merge_request_id) for link in claim.links] == [(MR, mr.id)]
    [event] = events(session, work.bounty.id, "claim.submit")
    assert event.actor_label == "system" and event.actor_id is None
    assert event.summary["source"] == "gitlab" and event.summary["merge_request"] == "helm/helm!12"
    assert event.summary["merge_requests"] == [MR]
    assert "from GitLab" in event.summary["note"]
    assert audit.verify(session) == []


@pytest.mark.parametrize(("mr_project", "text"), [
    ("helm/charts", "Fixes helm/helm#7"),
    ("helm/charts", "Relates to helm#7"),  # a project of the same namespace
    ("tools/bot", "Resolves https://gitlab.example.org/helm/helm/-/issues/7"),
    (PROJECT, "Implements #3, #7 and #9"),
])
def test_references_from_other_projects_and_lists_attach(session, pool, mr_project, text):
    work = issue_bounty(session)
    url = f"{wf.GITLAB}/{mr_project}/-/merge_requests/40"
    mr = merged(session, work.claimant.person_id, text, url=url)

    assert attach(session, mr) == [work.bounty.id]
    assert fresh(session, Claim, work.claim.id).status == "submitted"


@pytest.mark.parametrize("text", [
    "#7 is related",  # a mention, not a closing sentence
    "Closes #8",  # another issue
    "Suffix #7",
    "Closes other/project#7",  # the same number in another project
    "Closes https://github.com/helm/helm/issues/7",
])
def test_merge_requests_not_referencing_the_issue_attach_nothing(session, pool, text):
    work = issue_bounty(session)
    mr = merged(session, work.claimant.person_id, text)

    assert attach(session, mr) == []
    assert fresh(session, Claim, work.claim.id).status == "active"
    assert session.execute(select(func.count(ClaimLink.id))).scalar_one() == 0


def test_the_same_issue_number_of_another_project_is_not_this_bounty(session, pool):
    work = issue_bounty(session)
    url = f"{wf.GITLAB}/helm/charts/-/merge_requests/5"
    mr = merged(session, work.claimant.person_id, "Closes #7", url=url)  # helm/charts#7

    assert attach(session, mr) == []
    assert fresh(session, Bounty, work.bounty.id).status == "claimed"


def test_project_paths_compare_regardless_of_case(session, pool):
    work = issue_bounty(session, project="Helm/Helm")
    mr = merged(session, work.claimant.person_id, "Closes #7")

    assert attach(session, mr) == [work.bounty.id]


def test_someone_elses_merge_request_attaches_nothing(session, pool):
    work = issue_bounty(session)
    dora = wf.contributor(session, "dora")
    mr = merged(session, dora.person_id, "Closes #7")

    assert attach(session, mr) == []
    assert fresh(session, Claim, work.claim.id).status == "active"
    assert not events(session, work.bounty.id, "claim.submit")


def test_a_merge_request_credited_to_nobody_attaches_nothing(session, pool):
    work = issue_bounty(session)
    mr = merged(session, None, "Closes #7")

    assert attach(session, mr) == []
    assert fresh(session, Claim, work.claim.id).status == "active"


@pytest.mark.parametrize("options", [{"dco_ok": False}, {"dco_ok": None}, {"merged": False}])
def test_work_that_does_not_count_attaches_nothing(session, pool, options):
    work = issue_bounty(session)
    mr = merged(session, work.claimant.person_id, "Closes #7", **options)

    assert attach(session, mr) == []
    assert fresh(session, Claim, work.claim.id).status == "active"


def test_an_expired_claim_is_not_submitted(session, pool):
    past = utcnow() - timedelta(hours=30)
    work = issue_bounty(session, now=past, claim_hours=24)
    mr = merged(session, work.claimant.person_id, "Closes #7")

    assert attach(session, mr) == []
    assert fresh(session, Claim, work.claim.id).status == "active"  # reads as lapsed
    assert session.execute(select(func.count(ClaimLink.id))).scalar_one() == 0
    detail = bounty_queries.get_bounty(session, wf.admin(session), work.bounty.id)
    assert detail.row.status == "open" and detail.claim is None


def test_a_second_sync_changes_nothing(session, pool):
    work = issue_bounty(session)
    mr = merged(session, work.claimant.person_id, "Closes #7")
    assert attach(session, mr) == [work.bounty.id]
    counts = [session.execute(select(func.count(m.id))).scalar_one() for m in (ClaimLink, AuditEvent)]

    assert attach(session, mr) == []
    assert attach(session, mr) == []

    assert [session.execute(select(func.count(m.id))).scalar_one() for m in (ClaimLink, AuditEvent)] == counts
    assert fresh(session, Claim, work.claim.id).status == "submitted"


def test_a_further_merge_request_joins_a_submitted_claim_without_changing_it(session, pool):
    work = issue_bounty(session)
    first = merged(session, work.claimant.person_id, "Closes #7")
    attach(session, first)
    submitted_at = fresh(session, Claim, work.claim.id).submitted_at
    second_url = f"{wf.GITLAB}/{PROJECT}/-/merge_requests/13"
    second = merged(session, work.claimant.person_id, "Relates to #7: the follow-up", url=second_url)

    assert attach(session, second) == []

    claim = fresh(session, Claim, work.claim.id)
    assert (claim.status, claim.submitted_at) == ("submitted", submitted_at)
    assert [(link.url, link.merge_request_id) for link in claim.links] == [(MR, first.id),
                                                                          (second_url, second.id)]
    [linked] = events(session, work.bounty.id, "claim.link")
    assert linked.actor_label == "system" and linked.summary["merge_request"] == "helm/helm!13"
    assert len(events(session, work.bounty.id, "claim.submit")) == 1


def test_one_merge_request_submits_several_bounties(session, pool):
    carla = wf.contributor(session)
    one = issue_bounty(session, carla, issue=7, title="First")
    two = issue_bounty(session, carla, issue=8, title="Second")
    mr = merged(session, carla.person_id, "Closes #7 and #8")

    assert sorted(attach(session, mr)) == sorted([one.bounty.id, two.bounty.id])


def test_a_link_submitted_before_the_sync_is_resolved_by_it(session, pool):
    work = issue_bounty(session)
    claims.submit_claim(session, work.claimant, work.bounty.id, [MR], gitlab_base_url=wf.GITLAB)
    [link] = fresh(session, Claim, work.claim.id).links
    assert link.merge_request_id is None
    # Credited to nobody yet and referencing nothing: the link still finds its merge request.
    mr = merged(session, None, "No reference at all")

    assert attach(session, mr) == []

    assert fresh(session, ClaimLink, link.id).merge_request_id == mr.id
    assert not events(session, work.bounty.id, "claim.link")


def test_submitting_a_synced_merge_request_links_it_at_once(session, pool):
    work = issue_bounty(session)
    mr = merged(session, work.claimant.person_id, "No reference")
    claims.submit_claim(session, work.claimant, work.bounty.id, [MR + "/"], gitlab_base_url=wf.GITLAB)

    [link] = fresh(session, Claim, work.claim.id).links
    assert link.merge_request_id == mr.id


def test_a_rejected_merge_request_is_not_brought_back_to_a_new_claim(session, pool):
    work = issue_bounty(session)
    mr = merged(session, work.claimant.person_id, "Closes #7")
    attach(session, mr)
    claims.review_claim(session, wf.reviewer(session, "rev.eu", "EU"), work.bounty.id, "reject",
                        "Does not fix the probe.")
    again = claims.claim_bounty(session, work.claimant, work.bounty.id)

    assert attach(session, mr) == []
    assert fresh(session, Claim, again.id).status == "active"


def test_an_embargoed_security_fix_is_submitted_and_its_late_clock_recorded(session, pool):
    council = wf.reviewer(session, "sec", "UK", council=True)
    work = issue_bounty(session, council, **wf.security_fix())
    claim = fresh(session, Claim, work.claim.id)
    late = claim.remediation_due_at + timedelta(hours=2)
    mr = merged(session, council.person_id, "Closes #7")

    assert attach(session, mr, now=late) == [work.bounty.id]

    claim = fresh(session, Claim, work.claim.id)
    assert claim.status == "submitted" and claim.submitted_at == late
    assert claim.remediation_breached_at == claim.remediation_due_at
    assert len(events(session, work.bounty.id, "claim.remediation_breach")) == 1
    # Still embargoed: nobody else learns of it.
    for viewer in (wf.ANONYMOUS, wf.contributor(session, "dora"), wf.reviewer(session, "rev.eu", "EU")):
        assert not bounty_queries.can_view(session, viewer, work.bounty.id)
        assert work.bounty.id not in [row.id for row in bounty_queries.list_bounties(
            session, viewer, bounty_queries.BountyFilter()).items]


def test_a_security_fix_submitted_in_time_records_no_breach(session, pool):
    council = wf.reviewer(session, "sec", "UK", council=True)
    work = issue_bounty(session, council, **wf.security_fix())
    mr = merged(session, council.person_id, "Fixes #7")

    assert attach(session, mr) == [work.bounty.id]
    claim = fresh(session, Claim, work.claim.id)
    assert claim.status == "submitted" and claim.remediation_breached_at is None


@pytest.mark.parametrize("submitted", [
    "https://gitlab.example.org/Helm/Helm/-/merge_requests/12",  # letter case of the path
    "https://gitlab.example.org/helm/helm/-/merge_requests/12/",
])
def test_a_link_written_differently_still_finds_its_merge_request(session, pool, submitted):
    work = issue_bounty(session)
    claims.submit_claim(session, work.claimant, work.bounty.id, [submitted], gitlab_base_url=wf.GITLAB)
    [link] = fresh(session, Claim, work.claim.id).links
    assert link.merge_request_id is None
    mr = merged(session, None, "")

    attach(session, mr)

    assert fresh(session, ClaimLink, link.id).merge_request_id == mr.id
    assert submissions.merge_request_at(session, submitted).id == mr.id


def test_a_link_to_another_merge_request_is_left_alone(session, pool):
    work = issue_bounty(session)
    other = f"{wf.GITLAB}/helm/helm/-/merge_requests/112"  # ends like !12's URL, but is !112
    claims.submit_claim(session, work.claimant, work.bounty.id, [other], gitlab_base_url=wf.GITLAB)
    mr = merged(session, None, "")

    attach(session, mr)

    [link] = fresh(session, Claim, work.claim.id).links
    assert link.merge_request_id is None
    assert submissions.merge_request_at(session, other) is None
    assert submissions.merge_request_at(session, f"{wf.GITLAB}/x/y/-/merge_requests/99999999999") is None
    assert submissions.merge_request_at(session, f"{wf.GITLAB}/other/helm/-/merge_requests/12") is None
