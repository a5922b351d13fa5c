"""The API's schemas of awards: what comes in (`AwardRoundIn`, `OpenVoteIn`, `NominationIn`,
`VoteIn`) and what goes out (`AwardYearOut`, `AwardResultsOut`, `NominationOut`, `CastVoteOut`).

Moments are ISO 8601 with their offset; one sent without an offset is taken as UTC. Names
follow the privacy rule of `bounty.services.award_queries`: a nominee, nominator or voter who
has not opted in to public listing has a null name and id (shown as "Anonymous contributor")
unless the caller may see names; a tally says how many vetoes there were, never whose. The
rules (windows, eligibility, the 72-hour vote, one nomination per category) are the service's;
these schemas only check shapes and bounds.
"""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields, validate

from bounty.api.schemas import MAX_ID, Text, _not_blank
from bounty.governance.votes import VALUES
from bounty.models.awards import DECISION_RULES, ELIGIBILITY_RULES, NON_BINDING_REASONS
from bounty.services.award_queries import CLOSED, NOMINATING, VOTING, WAITING
from bounty.services.awards import FIRST_YEAR, MAX_CITATION, MAX_REASON, MIN_CITATION

LAST_YEAR = 2100
PHASES = (NOMINATING, WAITING, VOTING, CLOSED)


class AwardRoundIn(Schema):
    """A year's round to open: nominations open now and close at `nominations_close_at`."""

    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR),
                          metadata={"description": "Not later than the current year", "example": 2026})
    nominations_close_at = fields.AwareDateTime(
        required=True, default_timezone=UTC,
        metadata={"description": "After now; without an offset, UTC", "example": "2026-12-01T00:00:00Z"})


class OpenVoteIn(Schema):
    """When the vote closes; it opens now and stays open at least 72 hours."""

    closes_at = fields.AwareDateTime(
        required=True, default_timezone=UTC,
        metadata={"description": "At least 72 hours from now; without an offset, UTC",
                  "example": "2026-12-10T12:00:00Z"})


class NominationIn(Schema):
    """A nomination: the category, exactly one nominee and a citation of at least 50 characters."""

    category_code = Text(required=True, validate=validate.Length(min=1, max=64),
                         metadata={"example": "contributor_of_the_year"})
    nominee_person_id = fields.Integer(load_default=None, allow_none=True, strict=True,
                                       validate=validate.Range(min=1, max=MAX_ID),
                                       metadata={"description": "Not the caller"})
    nominee_organisation_id = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "For the categories for organisations"})
    citation = Text(required=True, validate=[validate.Length(min=1, max=MAX_CITATION), _not_blank],
                    metadata={"description": f"At least {MIN_CITATION} characters once trimmed"})


class VoteIn(Schema):
    """A vote (or a changed vote) on a nomination."""

    value = Text(required=True, validate=validate.OneOf(VALUES))
    reason = Text(load_default="", validate=validate.Length(max=MAX_REASON),
                  metadata={"description": "Needed for a binding -1 to be a veto in a lazy-consensus "
                                           "category; without it the -1 is a void veto"})


class RoundOut(Schema):
    """A year's round: its windows and its phase now."""

    year = fields.Integer(required=True)
    phase = fields.String(required=True, validate=validate.OneOf(PHASES))
    nominations_open_at = fields.DateTime(required=True)
    nominations_close_at = fields.DateTime(required=True)
    voting_opens_at = fields.DateTime(allow_none=True)
    voting_closes_at = fields.DateTime(allow_none=True)


class CategoryOut(Schema):
    """An award category: who may be nominated and how its vote is decided."""

    code = fields.String(required=True)
    name = fields.String(required=True)
    name_fr = fields.String(required=True)
    eligibility = fields.String(required=True)
    eligibility_fr = fields.String(required=True)
    eligibility_rule = fields.String(required=True, validate=validate.OneOf(ELIGIBILITY_RULES))
    decision_rule = fields.String(required=True, validate=validate.OneOf(DECISION_RULES))
    jurisdiction_code = fields.String(allow_none=True)
    is_for_organisations = fields.Boolean(required=True)


class CountsOut(Schema):
    """Votes counted by value."""

    plus_one = fields.Integer(required=True, attribute="+1", data_key="+1")
    plus_zero = fields.Integer(required=True, attribute="+0", data_key="+0")
    minus_zero = fields.Integer(required=True, attribute="-0", data_key="-0")
    minus_one = fields.Integer(required=True, attribute="-1", data_key="-1")


class TallyOut(Schema):
    """A nomination's tally under its category's rule; only binding votes decide."""

    rule = fields.String(required=True, validate=validate.OneOf(DECISION_RULES))
    passed = fields.Boolean(required=True)
    binding = fields.Nested(CountsOut, required=True,
                            metadata={"description": "Binding votes that count (a void veto does not)"})
    non_binding = fields.Nested(CountsOut, required=True)
    vetoes = fields.Integer(required=True,
                            metadata={"description": "Binding -1 with a reason (lazy consensus)"})
    void_vetoes = fields.Integer(
        required=True, metadata={"description": "Binding -1 without a reason: recorded, not counted"})


class VoteOut(Schema):
    """A vote: binding, or non-binding with why (not on the committee, conflict of interest)."""

    id = fields.Integer(required=True)
    voter_id = fields.Integer(allow_none=True, metadata={"description": "Null when the name is withheld"})
    voter_name = fields.String(allow_none=True, metadata={"description": "Null: an anonymous contributor"})
    value = fields.String(required=True, validate=validate.OneOf(VALUES))
    is_binding = fields.Boolean(required=True)
    non_binding_reason = fields.String(allow_none=True, validate=validate.OneOf(NON_BINDING_REASONS))
    reason = fields.String(allow_none=True, metadata={"description": "Null when the nominee is not named"})
    cast_at = fields.DateTime(required=True)
    is_veto = fields.Boolean(required=True)
    is_void_veto = fields.Boolean(required=True)


class NominationOut(Schema):
    """A nomination with its votes and their tally; names per the privacy rule."""

    id = fields.Integer(required=True)
    year = fields.Integer(required=True)
    category_code = fields.String(required=True)
    nominee_kind = fields.String(required=True, validate=validate.OneOf(("person", "organisation")))
    nominee_person_id = fields.Integer(allow_none=True)
    nominee_organisation_id = fields.Integer(allow_none=True)
    nominee_name = fields.String(allow_none=True, metadata={"description": "Null: an anonymous contributor"})
    nominator_id = fields.Integer(allow_none=True)
    nominator_name = fields.String(allow_none=True)
    citation = fields.String(allow_none=True, metadata={"description": "Null when the nominee is not named"})
    created_at = fields.DateTime(required=True)
    votes = fields.List(fields.Nested(VoteOut), required=True)
    tally = fields.Nested(TallyOut, required=True)


class AwardYearOut(Schema):
    """A year's round, the categories and the nominations (in category order)."""

    round = fields.Nested(RoundOut, required=True)
    categories = fields.List(fields.Nested(CategoryOut), required=True)
    nominations = fields.List(fields.Nested(NominationOut), required=True)


class CategoryResultOut(Schema):
    """A category's nominations and, once the vote has closed, its winner (null: no award)."""

    category = fields.Nested(CategoryOut, required=True)
    decided = fields.Boolean(required=True)
    winner = fields.Nested(NominationOut, allow_none=True)
    nominations = fields.List(fields.Nested(NominationOut), required=True)


class AwardResultsOut(Schema):
    """The results of a year: decided once the vote has closed."""

    round = fields.Nested(RoundOut, required=True)
    decided = fields.Boolean(required=True)
    categories = fields.List(fields.Nested(CategoryResultOut), required=True)


class CastVoteOut(Schema):
    """The caller's vote as recorded, and the nomination with its tally after it."""

    vote = fields.Nested(VoteOut, required=True)
    nomination = fields.Nested(NominationOut, required=True)
