"""The awards endpoints of `/api/v1`: awards: rounds, nominations, votes, results.

Each view authenticates the caller (`bounty.api.auth`), parses the request with a schema
(`bounty.api.awards_schemas`), calls one function of `bounty.services.awards` or
`award_queries` (which check the permission again; the writes own their transaction) and
answers with a schema. Reads are public: names follow `award_queries`' privacy rule, so an
anonymous caller sees "null" where a nominee or voter has not opted in to public listing.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from bounty.api import errors
from bounty.api.auth import bearer_optional, bearer_required
from bounty.api.awards_schemas import (
    AwardResultsOut,
    AwardRoundIn,
    AwardYearOut,
    CastVoteOut,
    NominationIn,
    NominationOut,
    OpenVoteIn,
    RoundOut,
    VoteIn,
)
from bounty.api.error_docs import error_docs
from bounty.api.schemas import MAX_ID
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.models import AwardCategory, AwardRound, Nomination
from bounty.services import award_queries, awards
from bounty.services.actors import Actor
from bounty.services.award_queries import NominationView, VoteView
from bounty.services.errors import NotFound

blp = Blueprint("api_awards", __name__, description="Awards: rounds, nominations, votes, results.")
errors.register_handlers(blp)

YEAR_PATH = "/awards/<int(min=2000, max=2100):year>"
NOMINATION_PATH = f"/awards/nominations/<int(min=1, max={MAX_ID}):nomination_id>"
DESCRIPTIONS = {
    401: "No bearer token, or one that is not valid",
    403: "The caller may not do this (opening rounds and votes is for program admins)",
    404: "No round for this year, or no such nomination",
    409: "The round's state does not allow this (the window is not open, a round or vote already "
         "opened, a second nomination in the category, a nominee already nominated)",
    422: "Invalid input, by field",
}


_documented_errors = error_docs(blp, DESCRIPTIONS)


def round_out(award_round: AwardRound) -> dict[str, Any]:
    """What RoundOut dumps."""
    return {"year": award_round.year, "phase": award_queries.round_phase(award_round),
            "nominations_open_at": award_round.nominations_open_at,
            "nominations_close_at": award_round.nominations_close_at,
            "voting_opens_at": award_round.voting_opens_at, "voting_closes_at": award_round.voting_closes_at}


def category_out(category: AwardCategory) -> dict[str, Any]:
    """What CategoryOut dumps."""
    return {"code": category.code, "name": category.name, "name_fr": category.name_fr,
            "eligibility": category.eligibility, "eligibility_fr": category.eligibility_fr,
            "eligibility_rule": category.eligibility_rule, "decision_rule": category.decision_rule,
            "jurisdiction_code": category.jurisdiction_code,
            "is_for_organisations": category.is_for_organisations}


def vote_out(vote: VoteView) -> dict[str, Any]:
    """What VoteOut dumps."""
    return {"id": vote.id, "voter_id": vote.voter_id, "voter_name": vote.voter_name, "value": vote.value,
            "is_binding": vote.is_binding, "non_binding_reason": vote.non_binding_reason,
            "reason": vote.reason, "cast_at": vote.cast_at, "is_veto": vote.is_veto,
            "is_void_veto": vote.is_void_veto}


def nomination_out(view: NominationView) -> dict[str, Any]:
    """What NominationOut dumps; a tally gives counts of vetoes, never the voters."""
    tally = view.tally
    return {
        "id": view.id, "year": view.year, "category_code": view.category_code,
        "nominee_kind": "organisation" if view.nominee_organisation_id is not None else "person",
        "nominee_person_id": view.nominee_person_id, "nominee_organisation_id": view.nominee_organisation_id,
        "nominee_name": view.nominee_name, "nominator_id": view.nominator_id,
        "nominator_name": view.nominator_name, "citation": view.citation, "created_at": view.created_at,
        "votes": [vote_out(vote) for vote in view.votes],
        "tally": {"rule": tally.rule, "passed": tally.passed, "binding": tally.binding,
                  "non_binding": tally.non_binding, "vetoes": len(tally.vetoes),
                  "void_vetoes": len(tally.void_vetoes)},
    }


def _round(year: int) -> AwardRound:
    award_round = award_queries.round_of(db.session, year)
    if award_round is None:
        raise NotFound(f"no awards round for {year}")
    return award_round


def _nomination(actor: Actor, nomination_id: int) -> NominationView:
    """The nomination as `actor` may see it, with its votes and tally."""
    nomination = db.session.get(Nomination, nomination_id)
    if nomination is None:
        raise NotFound(f"no nomination {nomination_id}")
    award_round = db.session.get(AwardRound, nomination.round_id)
    assert award_round is not None
    views = award_queries.nominations(db.session, actor, award_round.year)
    return next(view for view in views if view.id == nomination_id)


@blp.get(YEAR_PATH)
@bearer_optional
@blp.response(200, AwardYearOut)
@_documented_errors(401, 404)
def get_year(year: int, *, actor: Actor) -> Any:
    """Read a year's round

    The round (its windows and phase), every category with who may be nominated, and the
    nominations with their citations, votes and running tallies. Names per the privacy rule.
    """
    award_round = _round(year)
    return {"round": round_out(award_round),
            "categories": [category_out(c) for c in award_queries.categories(db.session)],
            "nominations": [nomination_out(v) for v in award_queries.nominations(db.session, actor, year)]}


@blp.get(f"{YEAR_PATH}/results")
@bearer_optional
@blp.response(200, AwardResultsOut)
@_documented_errors(401, 404)
def get_results(year: int, *, actor: Actor) -> Any:
    """Read a year's results

    Per category the nominations with their tallies and, once the vote has closed, the
    winner (null: no award that year). The passing nomination with the most binding +1 wins,
    then the fewest binding -1, then the earliest nomination.
    """
    found = award_queries.results(db.session, actor, year)
    return {"round": round_out(found.round), "decided": found.decided,
            "categories": [{"category": category_out(r.category), "decided": r.decided,
                            "winner": nomination_out(r.winner) if r.winner else None,
                            "nominations": [nomination_out(v) for v in r.nominations]}
                           for r in found.categories]}


@blp.post("/awards")
@bearer_required(Permission.MANAGE_AWARDS)
@blp.arguments(AwardRoundIn)
@blp.response(201, RoundOut)
@_documented_errors(401, 403, 409, 422)
def open_round(data: dict[str, Any], *, actor: Actor) -> Any:
    """Open a year's round

    Program admins only. Nominations open now and close at `nominations_close_at`; one round
    per year (409 when the year already has one).
    """
    award_round = awards.open_round(db.session, actor, data["year"], data["nominations_close_at"])
    return round_out(award_round)


@blp.post(f"{YEAR_PATH}/vote")
@bearer_required(Permission.MANAGE_AWARDS)
@blp.arguments(OpenVoteIn)
@blp.response(200, RoundOut)
@_documented_errors(401, 403, 404, 409, 422)
def open_vote(data: dict[str, Any], year: int, *, actor: Actor) -> Any:
    """Open the vote

    Program admins only, once the nominations have closed. The vote opens now and closes at
    `closes_at`, at least 72 hours away (422 otherwise); it opens once (409).
    """
    return round_out(awards.open_vote(db.session, actor, year, data["closes_at"]))


@blp.post(f"{YEAR_PATH}/nominations")
@bearer_required(Permission.NOMINATE)
@blp.arguments(NominationIn)
@blp.response(201, NominationOut)
@_documented_errors(401, 403, 404, 409, 422)
def nominate(data: dict[str, Any], year: int, *, actor: Actor) -> Any:
    """Nominate

    While nominations are open, a contributor nominates a person (never themselves) or an
    organisation who is eligible in the category for the year, with a citation of at least
    50 characters. One nomination per nominator per category; a nominee already nominated in
    the category is refused (409): support that nomination with a +1 instead.
    """
    nomination = awards.nominate(db.session, actor, year, data["category_code"], data["citation"],
                                 nominee_person_id=data["nominee_person_id"],
                                 nominee_organisation_id=data["nominee_organisation_id"])
    return nomination_out(_nomination(actor, nomination.id))


@blp.post(f"{NOMINATION_PATH}/votes")
@bearer_required(Permission.VOTE_ON_AWARDS)
@blp.arguments(VoteIn)
@blp.response(200, CastVoteOut)
@_documented_errors(401, 403, 404, 409, 422)
def cast_vote(data: dict[str, Any], nomination_id: int, *, actor: Actor) -> Any:
    """Vote on a nomination

    While the vote is open: +1, +0, -0 or -1, changeable until it closes. The vote binds
    only for the awards committee without a conflict of interest (not the nominee, the
    nominator or a member of the nominee organisation); otherwise it is recorded as
    non-binding with the reason. A binding -1 in a lazy-consensus category needs a reason to
    be a veto; without one it is recorded as a void veto and not counted.
    """
    vote = awards.cast_vote(db.session, actor, nomination_id, data["value"], data["reason"])
    view = _nomination(actor, nomination_id)
    mine = next(v for v in view.votes if v.id == vote.id)
    return {"vote": vote_out(mine), "nomination": nomination_out(view)}
