"""The API's schemas of grants: what comes in (`GrantIn`, `GrantCancelIn`, `GrantListArgs`)
and what goes out (`GrantOut`, `GrantListOut`).

Amounts are decimal strings with their currency, never JSON numbers (`MoneyOut`). The rules
(tranches summing to the total, due dates in order and not past, the fund's cover, who signs
off) are the service's; these schemas only check shapes and bounds.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from bounty.api.schemas import AMOUNT_PATTERN, CURRENCIES, MAX_ID, MoneyOut, Text, _not_blank
from bounty.models.grants import GRANT_STATUSES, TRANCHE_STATUSES
from bounty.services.grants import MAX_DESCRIPTION, MAX_MILESTONE, MAX_TRANCHES


class TrancheIn(Schema):
    """One tranche: the milestone a reviewer signs off, its due date and its amount."""

    milestone = Text(required=True, validate=[validate.Length(min=1, max=MAX_MILESTONE), _not_blank])
    due_on = fields.Date(required=True,
                         metadata={"description": "Not before today; tranches in due-date order"})
    amount = Text(required=True, validate=validate.Regexp(AMOUNT_PATTERN),
                  metadata={"description": "A decimal string in the grant's currency", "example": "20000.00"})


class GrantIn(Schema):
    """A grant to create: exactly one grantee, a total, and tranches summing to it exactly.

    Creating it reserves the total in this year's development fund (409 `insufficient_funds`
    when the fund cannot cover it).
    """

    title = Text(required=True, validate=[validate.Length(min=1, max=200), _not_blank])
    description = Text(load_default="", validate=validate.Length(max=MAX_DESCRIPTION))
    total = Text(required=True, validate=validate.Regexp(AMOUNT_PATTERN),
                 metadata={"description": "A decimal string; never a JSON number.", "example": "60000.00"})
    currency = Text(required=True, validate=validate.OneOf(CURRENCIES),
                    metadata={"description": "ISO 4217 code", "example": "EUR"})
    grantee_person_id = fields.Integer(load_default=None, allow_none=True, strict=True,
                                       validate=validate.Range(min=1, max=MAX_ID))
    grantee_organisation_id = fields.Integer(load_default=None, allow_none=True, strict=True,
                                             validate=validate.Range(min=1, max=MAX_ID))
    working_group_code = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=8))
    tranches = fields.List(fields.Nested(TrancheIn), required=True,
                           validate=validate.Length(min=1, max=MAX_TRANCHES))


class GrantCancelIn(Schema):
    """Why a grant is cancelled (kept in its audit trail)."""

    reason = Text(required=True, validate=[validate.Length(min=1, max=2000), _not_blank])


class GrantListArgs(Schema):
    """Filters of the grant list."""

    overdue = fields.Boolean(
        load_default=False,
        metadata={"description": "Only grants with a pending milestone past its due date"})
    status = Text(validate=validate.OneOf(GRANT_STATUSES))


class TrancheOut(Schema):
    """A tranche with its status, its EUR reserve and who signed it off."""

    position = fields.Integer(required=True)
    milestone = fields.String(required=True)
    due_on = fields.Date(required=True)
    amount = fields.Nested(MoneyOut, required=True)
    amount_eur = fields.Nested(MoneyOut, allow_none=True,
                               metadata={"description": "The EUR reserved for it in the development fund"})
    status = fields.String(required=True, validate=validate.OneOf(TRANCHE_STATUSES))
    overdue = fields.Boolean(required=True)
    signed_off_by = fields.String(allow_none=True, metadata={"description": "The reviewer's username"})
    signed_off_at = fields.DateTime(allow_none=True)
    payable_transaction_id = fields.Integer(allow_none=True)


class GrantOut(Schema):
    """A grant with its tranches; amounts in the grant's currency, the reserve also in EUR."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(GRANT_STATUSES))
    grantee_kind = fields.String(required=True, validate=validate.OneOf(("person", "organisation")))
    grantee_id = fields.Integer(required=True)
    grantee_name = fields.String(required=True)
    working_group_code = fields.String(allow_none=True)
    pool_year = fields.Integer(required=True)
    total = fields.Nested(MoneyOut, required=True)
    total_eur = fields.Nested(MoneyOut, required=True)
    signed_off = fields.Nested(MoneyOut, required=True)
    pending = fields.Nested(MoneyOut, required=True)
    overdue = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    tranches = fields.List(fields.Nested(TrancheOut), required=True)


class GrantListOut(Schema):
    """The grants the caller may see, newest first."""

    items = fields.List(fields.Nested(GrantOut), required=True)
