"""The hours endpoints of `/api/v1`: log hours, my hours of a year, the review queue, review.

Each view authenticates the caller (`bounty.api.auth`), parses the request with a schema,
calls one function of `bounty.services.hours` (which checks the permission again and owns the
transaction) and answers with a schema. The reads are about the caller's own hours, so they
need a token too, and the OpenAPI document says so.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from bounty.api import errors
from bounty.api.auth import ANONYMOUS, bearer_required, caller
from bounty.api.error_docs import error_docs
from bounty.api.hours_schemas import (
    HoursIn,
    HoursListArgs,
    HoursListOut,
    HoursOut,
    HoursQueueArgs,
    HoursQueueOut,
    HoursReviewIn,
)
from bounty.api.schemas import MAX_ID
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.models import HoursEntry, Person, WorkingGroup, utcnow
from bounty.services import hours
from bounty.services.actors import Actor
from bounty.services.claims import DEFAULT_GITLAB_URL

blp = Blueprint("api_hours", __name__, description="Contribution hours: log, list, review.")
errors.register_handlers(blp)

ENTRY_PATH = f"/hours/<int(min=1, max={MAX_ID}):entry_id>"
DESCRIPTIONS = {
    401: "No bearer token, or one that is not valid",
    403: "The caller may not do this (the auditor logs no hours; only leads and reviewers of the "
         "entry's working group review it, never their own)",
    404: "No such entry",
    409: "The entry was already reviewed",
    422: "Invalid input, by field",
}


_documented_errors = error_docs(blp, DESCRIPTIONS)


def _signed_in(actor: Actor) -> Actor:
    """The caller, who must have sent a token: hours are always someone's own."""
    if actor is ANONYMOUS or actor.person_id is None:
        return caller(required=True)
    return actor


def entry_out(view: hours.HoursView) -> dict[str, Any]:
    """What HoursOut dumps."""
    return {"id": view.id, "person_username": view.person_username, "person_name": view.person_name,
            "worked_on": view.worked_on, "hours": f"{view.hours:.2f}", "quarter_hours": view.quarter_hours,
            "activity": view.activity, "working_group_code": view.working_group_code,
            "working_group_name": view.working_group_name, "description": view.description,
            "merge_request_url": view.merge_request_url, "status": view.status,
            "reviewer_username": view.reviewer_username, "reviewer_name": view.reviewer_name,
            "reviewed_at": view.reviewed_at, "review_comment": view.review_comment}


def _view_of(entry: HoursEntry) -> hours.HoursView:
    """The view of an entry the service just wrote."""
    session = db.session
    person, group = session.get(Person, entry.person_id), session.get(WorkingGroup, entry.working_group_id)
    reviewer = session.get(Person, entry.reviewer_id) if entry.reviewer_id else None
    assert person is not None and group is not None
    return hours.HoursView(
        id=entry.id, person_username=person.username, person_name=person.display_name,
        worked_on=entry.worked_on, quarter_hours=entry.quarter_hours, activity=entry.activity,
        working_group_code=group.code, working_group_name=group.name, description=entry.description,
        merge_request_url=entry.merge_request_url, status=entry.status,
        reviewer_username=reviewer.username if reviewer else None,
        reviewer_name=reviewer.display_name if reviewer else None,
        reviewed_at=entry.reviewed_at, review_comment=entry.review_comment or "")


@blp.post("/hours")
@bearer_required(Permission.LOG_HOURS)
@blp.arguments(HoursIn)
@blp.response(201, HoursOut)
@_documented_errors(401, 403, 422)
def log_hours(data: dict[str, Any], *, actor: Actor) -> Any:
    """Log hours

    Hours of one day in quarter-hour steps; at most 24 a day per person (pending and approved
    entries count), not in the future, not older than the programme's backdating window. The
    entry waits for a lead or reviewer of the working group.
    """
    gitlab = current_app.config.get("GITLAB_URL") or DEFAULT_GITLAB_URL
    entry = hours.log_hours(db.session, actor, hours.HoursInput(**data),
                            backdate_days=int(current_app.config["HOURS_BACKDATE_DAYS"]),
                            gitlab_base_url=gitlab)
    return entry_out(_view_of(entry)), 201


@blp.get("/hours")
@bearer_required()
@blp.arguments(HoursListArgs, location="query")
@blp.response(200, HoursListOut)
@_documented_errors(401, 403, 422)
def my_hours(args: dict[str, Any], *, actor: Actor) -> Any:
    """List my hours of a year

    The caller's entries of `year` (the current year by default), every status, oldest day
    first, with the year's totals by status.
    """
    actor = _signed_in(actor)
    year = args.get("year") or utcnow().year
    rows = hours.my_hours(db.session, actor, year)

    def total(status: str) -> str:
        return f"{hours.hours_of(sum(r.quarter_hours for r in rows if r.status == status)):.2f}"

    return {"year": year, "items": [entry_out(row) for row in rows], "approved_hours": total("approved"),
            "pending_hours": total("pending"), "rejected_hours": total("rejected")}


@blp.get("/hours/review-queue")
@bearer_required()
@blp.arguments(HoursQueueArgs, location="query")
@blp.response(200, HoursQueueOut)
@_documented_errors(401, 403, 422)
def review_queue(args: dict[str, Any], *, actor: Actor) -> Any:
    """List the hours waiting for my review

    Pending entries of the working groups the caller leads or reviews, not their own, oldest
    day first; `working_group` keeps one group's.
    """
    actor = _signed_in(actor)
    group = (args.get("working_group") or "").strip().upper()
    rows = [row for row in hours.review_queue(db.session, actor)
            if not group or row.working_group_code == group]
    return {"items": [entry_out(row) for row in rows]}


@blp.post(f"{ENTRY_PATH}/review")
@bearer_required(Permission.REVIEW_WORK)
@blp.arguments(HoursReviewIn)
@blp.response(200, HoursOut)
@_documented_errors(401, 403, 404, 409, 422)
def review_hours(data: dict[str, Any], entry_id: int, *, actor: Actor) -> Any:
    """Review hours

    Approve or reject (a rejection needs a comment) a pending entry of a working group the
    caller leads or reviews; never their own hours, and only once.
    """
    entry = hours.review_hours(db.session, actor, entry_id, data["verdict"], data["comment"])
    return entry_out(_view_of(entry))
