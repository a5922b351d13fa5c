"""The API's schemas of leaderboards, badges and public-listing consent: what comes in
(`LeaderboardArgs`, `ListingIn`) and what goes out (`LeaderboardOut`, `BadgesOut`, `ListingOut`).

Scores and hours are decimal strings and earnings a `MoneyOut`, never JSON numbers. A row of
someone who has not agreed to be listed carries no name, username or organisation, and no
identifier: it is an anonymous contributor in its true place. The period's syntax and the
view's key are checked by the services (422 naming the field).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from bounty.api.schemas import MoneyOut, Text
from bounty.services.errors import InvalidInput
from bounty.services.leaderboards import VIEWS, parse_period

DEFAULT_LIMIT, MAX_LIMIT = 25, 100


def _period(text: str) -> None:
    try:
        parse_period(text)
    except InvalidInput as refusal:
        raise ValidationError(refusal.reason) from None


class LeaderboardArgs(Schema):
    """Which leaderboard, and which slice of it."""

    period = Text(load_default=None, validate=[validate.Length(min=1, max=16), _period], metadata={
        "description": "`all`, a calendar year (`2026`) or a quarter (`2026-Q3`); the current year "
                       "when left out", "example": "2026"})
    view = Text(load_default="overall", validate=validate.OneOf(VIEWS))
    key = Text(load_default=None, validate=validate.Length(min=1, max=16), metadata={
        "description": "For the jurisdiction view a jurisdiction code (`EU`), for the working-group "
                       "view a group code (`WG1`), for the organisation view an organisation id"})
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))


class LeaderboardRowOut(Schema):
    """One ranked contributor; name, username and organisation are null for an anonymous one."""

    rank = fields.Integer(required=True)
    is_anonymous = fields.Boolean(required=True, metadata={
        "description": "True when the person has not agreed to be named publicly"})
    name = fields.String(allow_none=True, required=True)
    username = fields.String(allow_none=True, required=True)
    jurisdiction_code = fields.String(allow_none=True, required=True)
    organisation_name = fields.String(allow_none=True, required=True)
    merged_mrs = fields.Integer(required=True)
    earnings_eur = fields.Nested(MoneyOut, required=True)
    approved_hours = fields.String(required=True, metadata={"example": "12.50"})
    reviews_given = fields.Integer(required=True)
    awards_won = fields.Integer(required=True)
    score = fields.String(required=True, metadata={"description": "A decimal string", "example": "142.5"})


class LeaderboardOut(Schema):
    """A page of the ranking: rows offset+1 .. offset+limit of `total`."""

    period = fields.String(required=True, metadata={"example": "2026"})
    view = fields.String(required=True, validate=validate.OneOf(VIEWS))
    key = fields.String(allow_none=True, required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)
    rows = fields.List(fields.Nested(LeaderboardRowOut), required=True)


class BadgeOut(Schema):
    """A badge the person holds, with when it was earned."""

    code = fields.String(required=True, metadata={"example": "first_dco_merge"})
    name = fields.String(required=True)
    name_fr = fields.String(required=True)
    description = fields.String(required=True)
    description_fr = fields.String(required=True)
    earned_at = fields.DateTime(required=True)


class BadgesOut(Schema):
    """A person's badges, in the badges' order."""

    username = fields.String(required=True)
    name = fields.String(required=True)
    badges = fields.List(fields.Nested(BadgeOut), required=True)


class JsonBoolean(fields.Boolean):
    """JSON true or false only: no "yes", 1 or "true" taken for a consent."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class ListingIn(Schema):
    """Be named on public pages (true) or appear as an anonymous contributor (false)."""

    public = JsonBoolean(required=True)


class ListingOut(Schema):
    """The consent in force after the call."""

    public = fields.Boolean(required=True)
    changed = fields.Boolean(required=True, metadata={
        "description": "False when the consent asked for was already in force (nothing recorded)"})
    changed_at = fields.DateTime(allow_none=True, required=True, metadata={
        "description": "When the consent in force was given or withdrawn; null if never"})
