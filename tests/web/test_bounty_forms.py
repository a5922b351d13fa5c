"""Claim, submit and review through the bounty page's forms: the whole flow, and each refusal."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from bounty.models import AuditEvent, Bounty, Claim, ClaimLink, Review
from bounty.services import bounties
from tests import workflow_factories as wf
from tests.web.conftest import csrf_token_of
from tests.web.test_bounty_board import demo_app, demo_person, sends_to_sign_in, settle, signed_in

__all__ = ["demo_app"]


def post_form(client: FlaskClient, bounty_id: int, action: str, **data: str) -> TestResponse:
    """Load the bounty's page (for its CSRF token), then send one of its forms."""
    token = csrf_token_of(client.get(f"/bounties/{bounty_id}").get_data(as_text=True))
    return client.post(f"/bounties/{bounty_id}/{action}", data={"csrf_token": token, **data})


def claims_of(session: Session, bounty_id: int) -> list[tuple[str, int]]:
    rows = session.execute(select(Claim.status, Claim.person_id).where(Claim.bounty_id == bounty_id)
                           .order_by(Claim.id)).all()
    settle(session)
    return [tuple(row) for row in rows]


def test_claim_submit_review_to_approved(demo_app: Flask, session: Session) -> None:
    bounty = wf.open_bounty(session, title="Fix the VPC")
    settle(session)
    dora = demo_person(session, "dora", jurisdiction="CA")
    contributor = signed_in(demo_app, dora)

    claimed = post_form(contributor, bounty.id, "claim")

    assert claimed.status_code == 302 and claimed.headers["Location"] == f"/bounties/{bounty.id}"
    page = contributor.get(f"/bounties/{bounty.id}").get_data(as_text=True)
    assert "You have claimed this bounty." in page
    assert "<dd>Dora</dd>" in page
    assert 'name="merge_request_urls"' in page
    assert claims_of(session, bounty.id) == [("active", dora.id)]

    docs = f"{wf.GITLAB}/cloudstack/docs/-/merge_requests/7"
    wf.merged_work(session, wf.MERGE_REQUEST, person_id=dora.id)  # synced from GitLab already
    submitted = post_form(contributor, bounty.id, "submit",
                          merge_request_urls=f"{wf.MERGE_REQUEST}\n\n{docs}\n")

    assert submitted.status_code == 302
    page = contributor.get(f"/bounties/{bounty.id}").get_data(as_text=True)
    assert '<span class="badge status-submitted">Submitted</span>' in page
    assert '<span class="badge dco-signed">signed off</span>' in page
    assert '<span class="badge dco-not-yet-checked">not yet checked</span>' in page
    assert "not yet synced from GitLab" in page

    eu = signed_in(demo_app, demo_person(session, "rev.eu", ("contributor", "reviewer"), "EU"))
    uk = signed_in(demo_app, demo_person(session, "rev.uk", ("contributor", "reviewer"), "UK"))
    # The docs merge request is not synced yet: no approval.
    refused = post_form(eu, bounty.id, "review", verdict="approve", comment="Tested on KVM.")
    assert refused.status_code == 409
    assert f"Merge request {docs} is not yet synced from GitLab." in refused.get_data(as_text=True)
    assert session.execute(select(func.count(Review.id))).scalar_one() == 0
    settle(session)
    wf.merged_work(session, docs, person_id=dora.id)
    settle(session)
    first = post_form(eu, bounty.id, "review", verdict="approve", comment="Tested on KVM.")
    assert first.status_code == 302
    page = eu.get(f"/bounties/{bounty.id}").get_data(as_text=True)
    assert "Your review is recorded." in page
    assert '<span class="badge status-pending">Pending</span>' in page
    assert "Review the work" not in page  # one review per reviewer
    second = post_form(uk, bounty.id, "review", verdict="approve", comment="")
    assert second.status_code == 302

    page = contributor.get(f"/bounties/{bounty.id}").get_data(as_text=True)
    assert "<h1>Fix the VPC</h1>" in page
    assert '<span class="badge status-approved">Approved</span>' in page
    assert "Approvals so far: 2 (EU, UK)." in page
    assert "Tested on KVM." in page
    assert session.get(Bounty, bounty.id, populate_existing=True).status == "approved"
    settle(session)


def test_a_second_claim_is_409_already_claimed(demo_app: Flask, session: Session) -> None:
    bounty = wf.open_bounty(session)
    settle(session)
    first = signed_in(demo_app, demo_person(session, "dora"))
    second = signed_in(demo_app, demo_person(session, "emil"))
    # Both loaded the page while the bounty was open.
    token = csrf_token_of(second.get(f"/bounties/{bounty.id}").get_data(as_text=True))
    assert post_form(first, bounty.id, "claim").status_code == 302

    response = second.post(f"/bounties/{bounty.id}/claim", data={"csrf_token": token})

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Already claimed: someone else claimed this bounty first." in html
    assert "<dd>Dora</dd>" in html
    assert len(claims_of(session, bounty.id)) == 1


def test_a_bad_merge_request_link_is_shown_on_its_field(demo_app: Flask, session: Session) -> None:
    dora = demo_person(session, "dora")
    work = wf.claimed_bounty(session, wf.actor_of(dora))
    settle(session)
    client = signed_in(demo_app, dora)

    response = post_form(client, work.bounty.id, "submit",
                         merge_request_urls=f"{wf.MERGE_REQUEST}\nhttps://github.com/apache/cloudstack/pull/1")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<a href="#merge_request_urls">Merge-request links, one per line: ' in html
    assert 'id="merge_request_urls-error"' in html
    assert "is not a link to the cooperative" in html
    assert "https://github.com/apache/cloudstack/pull/1</textarea>" in html  # what was typed stays
    assert claims_of(session, work.bounty.id) == [("active", dora.id)]
    assert session.execute(select(func.count(ClaimLink.id))).scalar_one() == 0
    settle(session)


def test_an_empty_submission_is_refused_by_the_form(demo_app: Flask, session: Session) -> None:
    dora = demo_person(session, "dora")
    work = wf.claimed_bounty(session, wf.actor_of(dora))
    settle(session)

    response = post_form(signed_in(demo_app, dora), work.bounty.id, "submit", merge_request_urls="  \n")

    assert response.status_code == 400
    assert "Enter at least one merge-request link." in response.get_data(as_text=True)


def test_a_reject_needs_a_comment_and_then_reopens(demo_app: Flask, session: Session) -> None:
    work = wf.submitted_bounty(session)
    settle(session)
    reviewer = signed_in(demo_app, demo_person(session, "rita", ("contributor", "reviewer"), "UK"))

    refused = post_form(reviewer, work.bounty.id, "review", verdict="reject", comment=" ")

    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert '<a href="#comment">Comment: Say why you reject the work.</a>' in html
    assert session.execute(select(func.count(Review.id))).scalar_one() == 0
    settle(session)

    rejected = post_form(reviewer, work.bounty.id, "review", verdict="reject", comment="No tests.")

    assert rejected.status_code == 302
    page = reviewer.get(f"/bounties/{work.bounty.id}").get_data(as_text=True)
    assert '<span class="badge status-open">Open</span>' in page
    assert "Rejected" in page  # on the timeline


def test_a_missing_verdict_points_to_the_first_radio(demo_app: Flask, session: Session) -> None:
    work = wf.submitted_bounty(session)
    settle(session)
    reviewer = signed_in(demo_app, demo_person(session, "rita", ("contributor", "reviewer"), "UK"))

    response = post_form(reviewer, work.bounty.id, "review", comment="Fine")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<a href="#verdict-0">Verdict: Choose approve or reject.</a>' in html
    assert 'aria-describedby="verdict-error"' in html


def test_the_claimant_cannot_review_their_own_work(demo_app: Flask, session: Session) -> None:
    ria = demo_person(session, "ria", ("contributor", "reviewer"), "EU")
    work = wf.submitted_bounty(session, wf.actor_of(ria))
    settle(session)
    client = signed_in(demo_app, ria)
    token = csrf_token_of(client.get(f"/bounties/{work.bounty.id}").get_data(as_text=True))

    response = client.post(f"/bounties/{work.bounty.id}/review",
                           data={"csrf_token": token, "verdict": "approve", "comment": ""})

    assert response.status_code == 403
    assert session.execute(select(func.count(Review.id))).scalar_one() == 0
    settle(session)


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(demo_app: Flask, session: Session) -> None:
    bounty = wf.open_bounty(session)
    settle(session)
    events = session.execute(select(func.count(AuditEvent.id))).scalar_one()
    settle(session)
    client = signed_in(demo_app, demo_person(session, "dora"))

    response = client.post(f"/bounties/{bounty.id}/claim")

    assert response.status_code == 400
    assert "security token is missing or wrong" in response.get_data(as_text=True)
    assert claims_of(session, bounty.id) == []
    assert session.execute(select(func.count(AuditEvent.id))).scalar_one() == events
    settle(session)


def test_anonymous_posts_are_sent_to_sign_in(demo_app: Flask, session: Session) -> None:
    bounty = wf.open_bounty(session)
    settle(session)
    demo_person(session, "dora")  # so the sign-in page has a form, and a token to borrow
    client = demo_app.test_client()
    token = csrf_token_of(client.get("/dev/login").get_data(as_text=True))

    response = client.post(f"/bounties/{bounty.id}/claim", data={"csrf_token": token})

    assert sends_to_sign_in(response, None)  # a form cannot be replayed after signing in
    assert claims_of(session, bounty.id) == []


def test_a_cancelled_bounty_cannot_be_claimed(demo_app: Flask, session: Session) -> None:
    bounty = wf.open_bounty(session)
    client = signed_in(demo_app, demo_person(session, "dora"))
    token = csrf_token_of(client.get(f"/bounties/{bounty.id}").get_data(as_text=True))
    bounties.cancel_bounty(session, wf.admin(session), bounty.id, "Duplicate")
    settle(session)

    response = client.post(f"/bounties/{bounty.id}/claim", data={"csrf_token": token})

    assert response.status_code == 409
    assert "Refused: a cancelled bounty cannot be claimed." in response.get_data(as_text=True)
    assert claims_of(session, bounty.id) == []
