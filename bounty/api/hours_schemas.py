"""The API's schemas of contribution hours: what comes in (`HoursIn`, `HoursReviewIn`,
`HoursListArgs`) and what goes out (`HoursOut`, `HoursListOut`, `HoursQueueOut`).

Hours are never a JSON number: they travel as a decimal string in quarter-hour steps
("1.25"), as money does, so no client loses a quarter to a float. The rules (quarter steps,
24 hours a day, the backdating window, who reviews) are the service's; these schemas only
check shapes and bounds.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from bounty.api.schemas import Text, _not_blank
from bounty.governance.reviews import VERDICTS
from bounty.models.hours import ACTIVITIES, HOURS_STATUSES
from bounty.services.hours import MAX_COMMENT, MAX_DESCRIPTION

# Up to 24 with at most two decimals; the service checks the quarter-hour step and the bounds.
HOURS_PATTERN = r"^[0-9]{1,2}(\.[0-9]{1,2})?$"
FIRST_YEAR, LAST_YEAR = 2000, 9998


class HoursIn(Schema):
    """Hours worked on one day, for one activity in one working group; they wait for a reviewer."""

    worked_on = fields.Date(required=True, metadata={"description": "The day worked (UTC), not in the "
                                                                    "future nor older than the "
                                                                    "programme's backdating window"})
    hours = Text(required=True, validate=validate.Regexp(HOURS_PATTERN),
                 metadata={"description": "A decimal string in quarter-hour steps, 0.25 to 24; "
                                          "never a JSON number.", "example": "1.25"})
    activity = Text(required=True, validate=validate.OneOf(ACTIVITIES))
    working_group_code = Text(required=True, validate=validate.Length(min=1, max=8),
                              metadata={"example": "WG4"})
    description = Text(required=True, validate=[validate.Length(min=1, max=MAX_DESCRIPTION), _not_blank])
    merge_request_url = Text(load_default=None, allow_none=True, validate=validate.Length(max=500),
                             metadata={"description": "A merge request on the cooperative's GitLab"})


class HoursReviewIn(Schema):
    """A reviewer's verdict on pending hours; a rejection needs a comment saying why."""

    verdict = Text(required=True, validate=validate.OneOf(VERDICTS))
    comment = Text(load_default="", validate=validate.Length(max=MAX_COMMENT))


class HoursListArgs(Schema):
    """Which year of the caller's hours (the current year when none is given)."""

    year = fields.Integer(validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR),
                          metadata={"example": 2026})


class HoursQueueArgs(Schema):
    """Narrow the review queue to one of the caller's working groups."""

    working_group = Text(validate=validate.Length(min=1, max=8),
                         metadata={"description": "Working group code, e.g. WG4"})


class HoursOut(Schema):
    """One entry of contribution hours with its review."""

    id = fields.Integer(required=True)
    person_username = fields.String(required=True)
    person_name = fields.String(required=True)
    worked_on = fields.Date(required=True)
    hours = fields.String(required=True, metadata={"example": "1.25"})
    quarter_hours = fields.Integer(required=True)
    activity = fields.String(required=True, validate=validate.OneOf(ACTIVITIES))
    working_group_code = fields.String(required=True)
    working_group_name = fields.String(required=True)
    description = fields.String(required=True)
    merge_request_url = fields.String(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(HOURS_STATUSES))
    reviewer_username = fields.String(allow_none=True)
    reviewer_name = fields.String(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    review_comment = fields.String(required=True)


class HoursListOut(Schema):
    """The caller's entries of a year, every status, oldest day first, with totals by status."""

    year = fields.Integer(required=True)
    items = fields.List(fields.Nested(HoursOut), required=True)
    approved_hours = fields.String(required=True, metadata={"example": "12.50"})
    pending_hours = fields.String(required=True, metadata={"example": "2.00"})
    rejected_hours = fields.String(required=True, metadata={"example": "0.00"})


class HoursQueueOut(Schema):
    """Pending entries of the working groups the caller leads or reviews, not their own."""

    items = fields.List(fields.Nested(HoursOut), required=True)



