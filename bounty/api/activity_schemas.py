"""The API's schemas of organisation activity: the period asked for (`ActivityArgs`) and the
figures per organisation (`ActivityOut`).

Hours are decimal strings with two decimals ("12.50"), never JSON numbers. The period's
rules (a year or both days, in order, within 2000-01-01 to 9998-12-31) are the service's
(`bounty.services.activity.activity_period`); these schemas check shapes and bounds.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from bounty.services.activity import FIRST_DAY, LAST_DAY

DAYS = validate.Range(min=FIRST_DAY, max=LAST_DAY,
                      error=f"Must be a day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}.")


class ActivityArgs(Schema):
    """A calendar year, or the first and last days (both included); neither: this year (UTC)."""

    year = fields.Integer(strict=False, validate=validate.Range(min=FIRST_DAY.year, max=LAST_DAY.year),
                          metadata={"description": "A calendar year, instead of start and end",
                                    "example": 2026})
    start = fields.Date(validate=DAYS, metadata={"description": "The first day (with end)",
                                                 "example": "2026-01-01"})
    end = fields.Date(validate=DAYS, metadata={"description": "The last day, included (with start)",
                                               "example": "2026-06-30"})


class FiguresOut(Schema):
    """What is counted over the period (docs/activity.md)."""

    active_contributors = fields.Integer(required=True, metadata={
        "description": "People with a DCO-clean merge request merged or approved hours worked in the period"})
    merged_merge_requests = fields.Integer(required=True, metadata={
        "description": "DCO-clean merge requests merged in the period, credited to the row's people"})
    approved_hours = fields.String(required=True, metadata={
        "description": "Approved contribution hours worked in the period, two decimals", "example": "12.50"})


class OrganisationActivityOut(FiguresOut):
    """One organisation, or (organisation_id null) the people without one."""

    organisation_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "Null for the row of people without an organisation"})
    name = fields.String(required=True, metadata={"example": "Acme Cloud GmbH"})
    jurisdiction = fields.String(required=True, allow_none=True, metadata={"example": "EU"})
    kind = fields.String(required=True, allow_none=True, validate=validate.OneOf(
        ("supplier", "agency", "company", "community")))


class ActivityOut(Schema):
    """Every organisation's figures over the period, most active first, and their totals."""

    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True, metadata={"description": "Included"})
    organisations = fields.List(fields.Nested(OrganisationActivityOut), required=True, metadata={
        "description": "Every organisation (zeros when inactive), most active contributors first, then most "
                       "merged merge requests, then most approved hours, then name (A to Z, ignoring case); "
                       "people without an organisation last, when one of them was active"})
    totals = fields.Nested(FiguresOut, required=True)
