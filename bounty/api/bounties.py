"""The bounty endpoints of `/api/v1`: list, read, create, edit, publish, cancel, claim,
submit and review.

Each view authenticates the caller (`bounty.api.auth`), parses the request with a schema,
calls one service (which re-checks the permission and owns the transaction) and answers
with a schema. What a caller may see is decided by `bounty_queries` alone, so an embargoed
security fix is absent from a contributor's list and total, and 404 on its own URL.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask_smorest import Blueprint

from bounty.api import errors
from bounty.api.auth import bearer_optional, bearer_required
from bounty.api.error_docs import error_docs
from bounty.api.schemas import (
    MAX_ID,
    BountyIn,
    BountyListArgs,
    BountyListOut,
    BountyOut,
    CancelIn,
    ClaimOut,
    ReviewIn,
    ReviewOut,
    SubmitIn,
)
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.models import Claim, Person, Review
from bounty.services import bounties, bounty_queries, claims, submissions
from bounty.services.actors import Actor
from bounty.services.bounties import BountyInput

blp = Blueprint("api_bounties", __name__, description="Bounties: the board, their lifecycle, "
                                                      "claims and reviews.")
errors.register_handlers(blp)

# Ids beyond the databases' 32-bit integers are no route at all (404), never a database error.
BOUNTY_PATH = f"/bounties/<int(min=1, max={MAX_ID}):bounty_id>"
# Who a timeline step names when its person has not agreed to be named publicly.
ANONYMOUS = "Anonymous contributor"


DESCRIPTIONS = {
    401: "No bearer token, or one that is not valid",
    403: "The caller may not do this",
    404: "No such bounty, or not one the caller may see",
    409: "The bounty's state does not allow this (already claimed, not a draft, ...)",
    422: "Invalid input, by field",
}
_documented_errors = error_docs(blp, DESCRIPTIONS)


# ------------------------------------------------------------------------------ presenting


def bounty_out(detail: bounty_queries.BountyDetail) -> dict[str, Any]:
    """What BountyOut dumps: the bounty page as data."""
    bounty, row = detail.bounty, detail.row
    claim = None
    if detail.claim is not None:
        claim = {**_claim_fields(detail.claim), "bounty_id": bounty.id,
                 "links": _links(detail.claim.id)}
    return {
        "id": bounty.id, "title": bounty.title, "description": bounty.description,
        "status": row.status, "category_code": row.category_code, "category_name": row.category_name,
        "is_embargoed": row.is_embargoed, "working_group_code": row.working_group_code,
        "capability_slug": detail.capability.slug if detail.capability else None,
        "amount": row.amount, "eur_amount": row.eur_amount,
        "gitlab_project_path": bounty.gitlab_project_path, "gitlab_issue_iid": bounty.gitlab_issue_iid,
        "claim_hours": bounty.claim_hours, "created_at": bounty.created_at,
        "published_at": bounty.published_at, "closed_at": bounty.closed_at,
        "claim": claim,
        "reviews": [_review_fields(review, detail.claim.id if detail.claim else None)
                    for review in detail.reviews],
        "actions": sorted(detail.actions),
        "timeline": [{"occurred_at": event.occurred_at, "action": event.action,
                      "actor": ANONYMOUS if event.actor_id in detail.hidden_people else event.actor_label,
                      "summary": event.summary}
                     for event in detail.timeline],
    }


def _claim_fields(claim: bounty_queries.ClaimView) -> dict[str, Any]:
    return {"id": claim.id, "status": claim.status, "claimant_id": claim.person_id,
            "claimant_name": None if claim.claimant_hidden else claim.claimant_name,
            "claimed_at": claim.claimed_at,
            "expires_at": claim.expires_at, "submitted_at": claim.submitted_at,
            "decided_at": claim.decided_at, "remediation_due_at": claim.remediation_due_at,
            "remediation_breached_at": claim.remediation_breached_at}


def _review_fields(review: bounty_queries.ReviewView, claim_id: int | None) -> dict[str, Any]:
    return {"claim_id": claim_id, "reviewer_id": review.reviewer_id,
            "reviewer_name": None if review.reviewer_hidden else review.reviewer_name,
            "verdict": review.verdict, "comment": review.comment,
            "jurisdiction": review.jurisdiction, "is_security_council": review.is_security_council,
            "created_at": review.created_at}


def _detail(actor: Actor, bounty_id: int) -> dict[str, Any]:
    return bounty_out(bounty_queries.get_bounty(db.session, actor, bounty_id))


def _claim_out(claim: Claim) -> dict[str, Any]:
    """What ClaimOut dumps for a claim just made or submitted (its links included)."""
    claimant = db.session.get(Person, claim.person_id)
    return {"id": claim.id, "bounty_id": claim.bounty_id, "status": claim.status,
            "claimant_id": claim.person_id,
            "claimant_name": claimant.display_name if claimant else None,
            "claimed_at": claim.claimed_at, "expires_at": claim.expires_at,
            "submitted_at": claim.submitted_at, "decided_at": claim.decided_at,
            "remediation_due_at": claim.remediation_due_at,
            "remediation_breached_at": claim.remediation_breached_at,
            "links": _links(claim.id)}


def _links(claim_id: int) -> list[dict[str, Any]]:
    """The claim's merge requests with their verdicts (the caller may see the claim)."""
    return [{"url": work.url, "dco_status": work.dco_status, "merge_request": work.reference,
             "title": work.title, "merged_at": work.merged_at, "synced": work.problem != "unsynced",
             "approvable": work.problem is None,
             "failing_commits": [{"sha": c.sha, "reason": c.reason} for c in work.failing_commits]}
            for work in submissions.linked_work(db.session, claim_id)]


def _review_out(review: Review) -> dict[str, Any]:
    reviewer = db.session.get(Person, review.reviewer_id)
    return {"claim_id": review.claim_id, "reviewer_id": review.reviewer_id,
            "reviewer_name": reviewer.display_name if reviewer else None,
            "verdict": review.verdict, "comment": review.comment,
            "jurisdiction": review.reviewer_jurisdiction_code,
            "is_security_council": review.is_security_council, "created_at": review.created_at}


def _location(bounty_id: int) -> dict[str, str]:
    return {"Location": url_for("api_bounties.get_bounty", bounty_id=bounty_id)}


# ----------------------------------------------------------------------------------- reads


@blp.get("/bounties")
@bearer_optional
@blp.arguments(BountyListArgs, location="query")
@blp.response(200, BountyListOut)
@_documented_errors(401)
def list_bounties(args: dict[str, Any], *, actor: Actor) -> Any:
    """List bounties

    The bounties the caller may see, filtered, sorted and a page at a time. Anonymous
    callers see open bounties that are not under embargo.
    """
    filters = bounty_queries.BountyFilter(
        working_group=args.get("working_group"), category=args.get("category"),
        status=args.get("status"), currency=args.get("currency"), text=args.get("q"),
        sort=args["sort"],
    )
    return bounty_queries.list_bounties(db.session, actor, filters, page=args["page"],
                                        per_page=args["per_page"])


@blp.get(BOUNTY_PATH)
@bearer_optional
@blp.response(200, BountyOut)
@_documented_errors(401, 404)
def get_bounty(bounty_id: int, *, actor: Actor) -> Any:
    """Read a bounty

    The bounty with its current claim, merge requests, reviews, timeline, and the
    `actions` the caller may take next.
    """
    return _detail(actor, bounty_id)


# ---------------------------------------------------------------------------------- writes


@blp.post("/bounties")
@bearer_required(Permission.MANAGE_BOUNTIES)
@blp.arguments(BountyIn)
@blp.response(201, BountyOut)
@_documented_errors(401, 403, 422)
def create_bounty(data: dict[str, Any], *, actor: Actor) -> Any:
    """Create a bounty (draft)

    Programme administrators only. The amount must lie inside the category's band once
    both are converted to EUR at the rate in force.
    """
    bounty = bounties.create_bounty(db.session, actor, BountyInput(**data))
    return _detail(actor, bounty.id), 201, _location(bounty.id)


@blp.put(BOUNTY_PATH)
@bearer_required(Permission.MANAGE_BOUNTIES)
@blp.arguments(BountyIn)
@blp.response(200, BountyOut)
@_documented_errors(401, 403, 404, 409, 422)
def update_bounty(data: dict[str, Any], bounty_id: int, *, actor: Actor) -> Any:
    """Edit a bounty

    A draft can change in full; an open bounty in all but its category, amount and currency.
    """
    bounties.update_bounty(db.session, actor, bounty_id, BountyInput(**data))
    return _detail(actor, bounty_id)


@blp.post(f"{BOUNTY_PATH}/publish")
@bearer_required(Permission.MANAGE_BOUNTIES)
@blp.response(200, BountyOut)
@_documented_errors(401, 403, 404, 409)
def publish_bounty(bounty_id: int, *, actor: Actor) -> Any:
    """Publish a draft

    Reserves the amount, converted to EUR at a recorded rate, in this year's bounty pool;
    409 `insufficient_funds` when the pool cannot cover it.
    """
    bounties.publish_bounty(db.session, actor, bounty_id)
    return _detail(actor, bounty_id)


@blp.post(f"{BOUNTY_PATH}/cancel")
@bearer_required(Permission.MANAGE_BOUNTIES)
@blp.arguments(CancelIn)
@blp.response(200, BountyOut)
@_documented_errors(401, 403, 404, 409, 422)
def cancel_bounty(data: dict[str, Any], bounty_id: int, *, actor: Actor) -> Any:
    """Cancel a bounty

    Releases its reserve and withdraws a live claim.
    """
    bounties.cancel_bounty(db.session, actor, bounty_id, data["reason"])
    return _detail(actor, bounty_id)


@blp.post(f"{BOUNTY_PATH}/claim")
@bearer_required(Permission.CLAIM_BOUNTY)
@blp.response(201, ClaimOut)
@_documented_errors(401, 403, 404, 409)
def claim_bounty(bounty_id: int, *, actor: Actor) -> Any:
    """Claim a bounty

    Exclusive: when someone holds the claim the answer is 409 `already_claimed`.
    """
    claim = claims.claim_bounty(db.session, actor, bounty_id)
    return _claim_out(claim), 201, _location(bounty_id)


@blp.post(f"{BOUNTY_PATH}/submit")
@bearer_required(Permission.CLAIM_BOUNTY)
@blp.arguments(SubmitIn)
@blp.response(200, ClaimOut)
@_documented_errors(401, 403, 404, 409, 422)
def submit_claim(data: dict[str, Any], bounty_id: int, *, actor: Actor) -> Any:
    """Submit the work

    The claimant links the merge requests (of the cooperative's GitLab) that do the work.
    """
    gitlab = current_app.config.get("GITLAB_URL") or claims.DEFAULT_GITLAB_URL
    claim = claims.submit_claim(db.session, actor, bounty_id, data["merge_request_urls"],
                                gitlab_base_url=gitlab)
    return _claim_out(claim)


@blp.post(f"{BOUNTY_PATH}/reviews")
@bearer_required(Permission.REVIEW_WORK)
@blp.arguments(ReviewIn)
@blp.response(201, ReviewOut)
@_documented_errors(401, 403, 404, 409, 422)
def review_claim(data: dict[str, Any], bounty_id: int, *, actor: Actor) -> Any:
    """Review the submitted work

    Approve or reject (a rejection needs a comment). Approval needs two approvals from
    reviewers of two jurisdictions, none of them the claimant, and for a security fix one
    from the security council.
    """
    review = claims.review_claim(db.session, actor, bounty_id, data["verdict"], data["comment"])
    return _review_out(review), 201
