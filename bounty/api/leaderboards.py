"""The leaderboards endpoints of `/api/v1`: leaderboards, badges and public-listing consent.

The leaderboard and a person's badges are public reads (a bearer token is optional) and follow
the pages' privacy rule: someone who has not agreed to be listed is an anonymous row of the
leaderboard (no name, username, organisation or identifier), and their badges do not exist
(404) except to themself and to callers who may read everything. Consent is one's own
(`PUT /me/listing`, bearer token with SET_OWN_LISTING); it takes effect at once.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from sqlalchemy import select

from bounty.api import errors
from bounty.api.auth import bearer_optional, bearer_required
from bounty.api.error_docs import error_docs
from bounty.api.leaderboards_schemas import BadgesOut, LeaderboardArgs, LeaderboardOut, ListingIn, ListingOut
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.models import Person, utcnow
from bounty.services import badges, leaderboard_charts, leaderboards, listing_consent
from bounty.services.actors import Actor
from bounty.services.errors import NotFound

blp = Blueprint("api_leaderboards", __name__, description="Leaderboards, badges and public-listing consent.")
errors.register_handlers(blp)

DESCRIPTIONS = {
    401: "No bearer token, or one that is not valid",
    403: "The caller may not do this",
    404: "No such person, or one who has not agreed to be listed publicly",
    409: "The account was merged into another",
    422: "Invalid input, by field",
}


_documented_errors = error_docs(blp, DESCRIPTIONS)


@blp.get("/leaderboards")
@bearer_optional
@blp.arguments(LeaderboardArgs, location="query")
@blp.response(200, LeaderboardOut)
@_documented_errors(401, 422)
def get_leaderboard(args: dict[str, Any], *, actor: Actor) -> Any:
    """Read a leaderboard

    Contributors ranked by score over a period (all time, a year or a quarter), overall or for
    one jurisdiction, working group or organisation. Ties: the higher score first, then whoever
    reached it first, then the username. People who have not agreed to be listed appear as
    anonymous rows in their true place; auditors and program admins see every name.
    """
    session = db.session
    period = leaderboards.parse_period(args["period"] or str(utcnow().year))
    # An unknown key is a wrong value of the query (422 on `key`), not a missing resource.
    leaderboard_charts.check_view(session, args["view"], args["key"])
    board = leaderboards.leaderboard(session, period, view=args["view"], key=args["key"],
                                     limit=args["limit"], offset=args["offset"], viewer=actor)
    return {
        "period": period.text, "view": board.view, "key": board.key, "total": board.total,
        "limit": args["limit"], "offset": args["offset"],
        "rows": [{
            "rank": row.rank, "is_anonymous": row.name is None, "name": row.name, "username": row.username,
            "jurisdiction_code": row.jurisdiction_code, "organisation_name": row.organisation_name,
            "merged_mrs": row.merged_mrs, "earnings_eur": row.earnings_eur,
            "approved_hours": f"{row.approved_hours:.2f}", "reviews_given": row.reviews_given,
            "awards_won": row.awards_won, "score": str(row.score),
        } for row in board.rows],
    }


@blp.get("/people/<string(maxlength=120):username>/badges")
@bearer_optional
@blp.response(200, BadgesOut)
@_documented_errors(401, 404)
def get_badges(username: str, *, actor: Actor) -> Any:
    """List a person's badges

    The badges a person earned, each with when. Only for people who agreed to be listed
    publicly; the person themself and auditors also see those of someone who did not.
    """
    person = db.session.execute(select(Person).where(Person.username == username)).scalar_one_or_none()
    visible = person is not None and person.merged_into_id is None and (
        person.is_public_listing or actor.person_id == person.id or actor.can(Permission.READ_EVERYTHING))
    if person is None or not visible:
        raise NotFound(f"no listed person {username!r}")
    return {"username": person.username, "name": person.display_name, "badges": [
        {"code": b.code, "name": b.name, "name_fr": b.name_fr, "description": b.description,
         "description_fr": b.description_fr, "earned_at": b.earned_at}
        for b in badges.badges_of(db.session, person.id)]}


@blp.put("/me/listing")
@bearer_required(Permission.SET_OWN_LISTING)
@blp.arguments(ListingIn)
@blp.response(200, ListingOut)
@_documented_errors(401, 403, 409, 422)
def put_listing(data: dict[str, Any], *, actor: Actor) -> Any:
    """Set my public listing

    `public: true` names the caller on public pages (leaderboards, award winners, badge holders,
    the annual report); `public: false` withdraws that at once. Each change is recorded with
    its time; asking for the consent already in force changes nothing (`changed: false`).
    """
    change = listing_consent.record_public_listing(db.session, actor, data["public"], source="api")
    person = change.person
    return {"public": person.is_public_listing, "changed": change.changed,
            "changed_at": person.public_listing_changed_at}
