"""The finance API's marshmallow schemas: payables, payout batches and their items, the bank's
confirmation, claw-backs, jurisdiction statements and exchange rates.

Money is a `MoneyOut` (a decimal string with the currency's digits and its ISO 4217 code);
exchange rates and shares are decimal strings too, never JSON numbers. Inputs refuse unknown
fields (marshmallow's RAISE), as the bounty schemas do.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from bounty.api.schemas import CURRENCIES, MoneyOut, Text
from bounty.models.payouts import BATCH_STATUSES, ITEM_STATUSES

JURISDICTION = validate.Regexp(r"^[A-Za-z]{2}$", error="A jurisdiction code of two letters, e.g. EU.")
MAX_REASON = 2000


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


def decimal_text(value: Decimal | None) -> str | None:
    """A Decimal as plain text ("1.1234", never "1.1234E+0"); None stays None."""
    return None if value is None else f"{value:f}"


# ---------------------------------------------------------------------------- input


class SelectionArgs(Schema):
    """A selection of payables: one currency and/or one jurisdiction (the payee's)."""

    currency = Text(validate=validate.OneOf(CURRENCIES), metadata={"description": "ISO 4217 code"})
    jurisdiction = Text(validate=JURISDICTION, metadata={"description": "EU, UK, CA or AU"})


class BatchIn(SelectionArgs):
    """A batch of everything payable in the selection; the same selection while its batch is
    open gives that batch back (200) instead of a new one (201)."""


class BatchListArgs(Schema):
    status = Text(validate=validate.OneOf(BATCH_STATUSES))


class ExportArgs(Schema):
    """The file's format; the SEPA options only apply to `sepa`."""

    format = Text(required=True, validate=validate.OneOf(("csv", "xlsx", "sepa")))
    execution_date = fields.Date(metadata={"description": "SEPA: the day the bank pays (default today, UTC)"})
    skip_non_eur = fields.Boolean(load_default=False,
                                  metadata={"description": "SEPA: leave out (instead of refusing) items "
                                                           "not in EUR"})


class ReasonIn(Schema):
    """Why a batch is cancelled or a paid item clawed back (kept in the audit log)."""

    reason = Text(required=True, validate=[validate.Length(min=1, max=MAX_REASON), _not_blank])


class StatementArgs(Schema):
    """A calendar year, or a period from one day to another (both included); not both."""

    year = fields.Integer(validate=validate.Range(min=2000, max=9998),
                          metadata={"description": "The calendar year (default: this year)"})
    start = fields.Date(data_key="from", metadata={"description": "The period's first day (with `to`)"})
    end = fields.Date(data_key="to", metadata={"description": "The last day, included (with `from`)"})

    @validates_schema
    def _one_period(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("start"), data.get("end")
        if data.get("year") is not None and (start is not None or end is not None):
            raise ValidationError("Give a year or from/to dates, not both.", "year")
        if start is not None and end is None:
            raise ValidationError("Give the period's last day too.", "to")
        if end is not None and start is None:
            raise ValidationError("Give the period's first day too.", "from")
        if start is not None and end is not None and end < start:
            raise ValidationError("The last day comes before the first.", "to")


class RatesArgs(Schema):
    on = fields.Date(metadata={"description": "The day whose rates to give (default: today, UTC)"})


# --------------------------------------------------------------------------- output


class SharesOut(fields.Dict):
    """Each jurisdiction's EUR part, by code."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(keys=fields.String(), values=fields.Nested(MoneyOut), **kwargs)


class PayableOut(Schema):
    """Something payable not yet in a live batch."""

    kind = fields.String(required=True, validate=validate.OneOf(("bounty", "tranche")))
    subject_id = fields.Integer(required=True, metadata={"description": "The claim's or the tranche's id"})
    description = fields.String(required=True)
    payee_kind = fields.String(required=True, validate=validate.OneOf(("person", "organisation")))
    payee_id = fields.Integer(required=True)
    payee_name = fields.String(required=True)
    payee_jurisdiction = fields.String(allow_none=True)
    amount = fields.Nested(MoneyOut, required=True)
    eur_amount = fields.Nested(MoneyOut, required=True)
    rate = fields.String(allow_none=True, metadata={"description": "1 EUR = rate units; null for EUR"})
    rate_date = fields.Date(allow_none=True)
    shares = SharesOut(required=True)
    payable_since = fields.DateTime(required=True)


class PayableListOut(Schema):
    items = fields.List(fields.Nested(PayableOut), required=True)
    totals = fields.List(fields.Nested(MoneyOut), required=True, metadata={"description": "Per currency"})


class ItemOut(Schema):
    """One item of a batch; `shares` sum to `eur_amount`."""

    id = fields.Integer(required=True)
    batch_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("bounty", "tranche")))
    subject_id = fields.Integer(required=True)
    description = fields.String(required=True)
    payee_kind = fields.String(required=True)
    payee_id = fields.Integer(required=True)
    payee_name = fields.String(required=True)
    end_to_end_id = fields.String(required=True, metadata={"description": "The bank's payment reference"})
    status = fields.String(required=True, validate=validate.OneOf(ITEM_STATUSES))
    amount = fields.Nested(MoneyOut, required=True)
    eur_amount = fields.Nested(MoneyOut, required=True)
    rate = fields.String(allow_none=True)
    rate_date = fields.Date(allow_none=True)
    shares = SharesOut(required=True)
    payable_since = fields.DateTime(required=True)
    paid_on = fields.Date(allow_none=True)
    is_live = fields.Boolean(required=True)


class BatchSummaryOut(Schema):
    """A batch as the list shows it; totals count its live items."""

    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(BATCH_STATUSES))
    selection_key = fields.String(required=True)
    currency = fields.String(allow_none=True)
    jurisdiction = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    exported_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    item_count = fields.Integer(required=True)
    totals = fields.List(fields.Nested(MoneyOut), required=True)
    eur_total = fields.Nested(MoneyOut, required=True)


class BatchOut(BatchSummaryOut):
    """A batch with every item, withdrawn ones included (`is_live` false)."""

    items = fields.List(fields.Nested(ItemOut), required=True)


class BatchListOut(Schema):
    items = fields.List(fields.Nested(BatchSummaryOut), required=True)


class PaidLineOut(Schema):
    item_id = fields.Integer(required=True)
    end_to_end_id = fields.String(required=True)
    amount = fields.Nested(MoneyOut, required=True)
    paid_on = fields.Date(required=True)
    transaction_id = fields.Integer(required=True)


class ConfirmationOut(Schema):
    """What an import did; `already_imported`: this very file was imported before, nothing changed."""

    batch_id = fields.Integer(required=True)
    digest = fields.String(required=True, metadata={"description": "SHA-256 of the file"})
    lines = fields.Integer(required=True)
    paid = fields.List(fields.Nested(PaidLineOut), required=True)
    unchanged = fields.Integer(required=True)
    batch_status = fields.String(required=True, validate=validate.OneOf(BATCH_STATUSES))
    already_imported = fields.Boolean(required=True)
    message = fields.String(required=True)


class PoolShareOut(Schema):
    pool_id = fields.Integer(required=True)
    year = fields.Integer(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    share = fields.String(required=True, metadata={"description": "The member's share, e.g. \"0.25\""})
    funded = fields.Nested(MoneyOut, required=True)
    owed = fields.Nested(MoneyOut, required=True)
    spent = fields.Nested(MoneyOut, required=True)
    borne = fields.Nested(MoneyOut, required=True)


class PaymentOut(Schema):
    effective_on = fields.Date(required=True)
    transaction_id = fields.Integer(required=True)
    reference = fields.String(required=True)
    memo = fields.String(required=True)
    amount = fields.Nested(MoneyOut, required=True)


class PayoutShareOut(Schema):
    effective_on = fields.Date(required=True)
    transaction_id = fields.Integer(required=True)
    reference = fields.String(required=True)
    kind = fields.String(required=True)
    memo = fields.String(required=True)
    pool_id = fields.Integer(allow_none=True)
    total = fields.Nested(MoneyOut, required=True)
    part = fields.Nested(MoneyOut, required=True)
    payable = fields.Nested(MoneyOut, allow_none=True)
    payee_account = fields.String(allow_none=True)


class StatementOut(Schema):
    """A jurisdiction's statement of a period (docs/finance.md)."""

    jurisdiction = fields.String(required=True)
    jurisdiction_name = fields.String(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    currency = fields.String(required=True)
    pools = fields.List(fields.Nested(PoolShareOut), required=True)
    payments = fields.List(fields.Nested(PaymentOut), required=True)
    payouts = fields.List(fields.Nested(PayoutShareOut), required=True)
    owed = fields.Nested(MoneyOut, required=True)
    paid_in = fields.Nested(MoneyOut, required=True)
    borne = fields.Nested(MoneyOut, required=True)
    owed_to_date = fields.Nested(MoneyOut, required=True)
    paid_in_to_date = fields.Nested(MoneyOut, required=True)
    borne_to_date = fields.Nested(MoneyOut, required=True)
    outstanding = fields.Nested(MoneyOut, required=True)
    balance = fields.Nested(MoneyOut, required=True)


class RateOut(Schema):
    currency = fields.String(required=True)
    rate = fields.String(required=True, metadata={"description": "1 EUR = rate units of the currency"})
    rate_date = fields.Date(required=True)
    source = fields.String(required=True)


class RatesOut(Schema):
    """The EUR rates in force on a day: for each currency the newest dated on or before it."""

    on = fields.Date(required=True)
    base = fields.String(required=True, metadata={"example": "EUR"})
    rates = fields.List(fields.Nested(RateOut), required=True)
