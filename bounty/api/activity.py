"""The activity endpoints of `/api/v1`: organisation activity per period, for the fast-track
procurement bonus.

A bearer token is required (401 without one); who may read is the service's call
(`bounty.services.activity`: finance, program admins and auditors), refused with 403. A bad
period answers 422 in the one error shape, naming `year`, `start` or `end`.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from bounty.api import errors
from bounty.api.activity_schemas import ActivityArgs, ActivityOut
from bounty.api.auth import bearer_required
from bounty.api.error_docs import error_docs
from bounty.extensions import db
from bounty.models import utcnow
from bounty.services import activity
from bounty.services.actors import Actor

blp = Blueprint("api_activity", __name__, description="Organisation activity per period.")
errors.register_handlers(blp)

DESCRIPTIONS = {
    401: "No bearer token, or one that is not valid",
    403: "The caller may not read organisation activity (finance, program admins and auditors may)",
    422: "Invalid period, by field (`year`, `start`, `end`)",
}


_documented_errors = error_docs(blp, DESCRIPTIONS)


def _figures(row: activity.OrganisationActivity | activity.ActivityTotals) -> dict[str, Any]:
    return {"active_contributors": row.active_contributors,
            "merged_merge_requests": row.merged_merge_requests,
            "approved_hours": f"{row.approved_hours:f}"}


@blp.get("/activity")
@bearer_required()
@blp.arguments(ActivityArgs, location="query")
@blp.response(200, ActivityOut)
@_documented_errors(401, 403, 422)
def get_activity(args: dict[str, Any], *, actor: Actor) -> Any:
    """Read organisation activity

    Each organisation's active contributors, merged DCO-clean merge requests and approved
    hours over a calendar year (`year`) or the days from `start` to `end`, both included
    (UTC days); neither: this calendar year. Finance, program admins and auditors.
    """
    activity.require_reader(actor)  # the refusal before any complaint about the period
    year, start, end = args.get("year"), args.get("start"), args.get("end")
    if year is None and start is None and end is None:
        year = utcnow().year
    span = activity.activity_period(year, start, end)
    rows = activity.organisation_activity(db.session, actor, span)
    return {
        "period_start": span.start, "period_end": span.end,
        "organisations": [{"organisation_id": row.organisation_id, "name": row.name,
                           "jurisdiction": row.jurisdiction_code, "kind": row.kind or None, **_figures(row)}
                          for row in rows],
        "totals": _figures(activity.totals(rows)),
    }
