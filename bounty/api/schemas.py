"""The API's marshmallow schemas, one per purpose: what comes in (`*In`, `*Args`) and what
goes out (`*Out`). The OpenAPI document is generated from them.

Money is never a number in JSON: an amount is a decimal string with exactly the
currency's minor digits ("1500.00", "200000" for JPY) next to its ISO 4217 code, so no
client can lose a cent to a float. Amounts sent in are strings too; a JSON number is
refused. Text sent in may not hold NUL or unpaired surrogates, which no database column
can store, and is bounded by its column's length.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates_schema

from bounty.ledger import CURRENCY_DIGITS, LedgerError, Money
from bounty.models.bounties import BOUNTY_STATUSES, CLAIM_STATUSES, REVIEW_VERDICTS
from bounty.services.bounties import DEFAULT_CLAIM_HOURS, MAX_CLAIM_HOURS, MAX_DESCRIPTION
from bounty.services.bounty_queries import MAX_PER_PAGE, SORTS
from bounty.services.claims import MAX_COMMENT, MAX_LINKS
from bounty.services.submissions import DCO_NOT_CHECKED, DCO_SIGNED, DCO_UNSIGNED

CURRENCIES = tuple(sorted(CURRENCY_DIGITS))
DEFAULT_PER_PAGE, MAX_PAGE = 25, 10_000
# Identifiers are 32-bit integers in both databases.
MAX_ID = 2**31 - 1
# A decimal amount: digits, then an optional fraction; the currency decides how many decimals.
AMOUNT_PATTERN = r"^[0-9]{1,15}(\.[0-9]{1,4})?$"
DCO_STATUSES = (DCO_SIGNED, DCO_UNSIGNED, DCO_NOT_CHECKED)


class Text(fields.String):
    """A string a database can store: no NUL character and no unpaired surrogate."""

    default_error_messages = {"unstorable": "Must not contain NUL characters or invalid Unicode."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("unstorable")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise self.make_error("unstorable") from None
        return text


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


# ---------------------------------------------------------------------------- input


class BountyIn(Schema):
    """A bounty to create (or the new version of a draft): its amount must lie inside the
    category's band once both are converted to EUR at the rate in force."""

    title = Text(required=True, validate=[validate.Length(min=1, max=200), _not_blank])
    description = Text(load_default="", validate=validate.Length(max=MAX_DESCRIPTION),
                       metadata={"description": "Markdown, rendered safely on the bounty page."})
    category_code = Text(required=True, validate=validate.Length(min=1, max=32))
    amount = Text(required=True, validate=validate.Regexp(AMOUNT_PATTERN),
                  metadata={"description": "A decimal string with at most the currency's decimals, "
                                           "e.g. \"1500.00\"; never a JSON number.",
                            "example": "1500.00"})
    currency = Text(required=True, validate=validate.OneOf(CURRENCIES),
                    metadata={"description": "ISO 4217 code", "example": "EUR"})
    working_group_code = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=8))
    capability_slug = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))
    gitlab_project_path = Text(load_default=None, allow_none=True,
                               validate=validate.Length(min=1, max=255))
    gitlab_issue_iid = fields.Integer(load_default=None, allow_none=True, strict=True,
                                      validate=validate.Range(min=1, max=MAX_ID))
    claim_hours = fields.Integer(load_default=DEFAULT_CLAIM_HOURS, strict=True,
                                 validate=validate.Range(min=1, max=MAX_CLAIM_HOURS),
                                 metadata={"description": "Hours a claim may run without a submission."})

    @validates_schema(skip_on_field_errors=True)
    def _amount_fits_currency(self, data: dict[str, Any], **_kwargs: Any) -> None:
        try:
            money = Money.parse(data["amount"], data["currency"])
        except LedgerError as exc:
            raise ValidationError(str(exc), field_name="amount") from None
        if money.minor <= 0:
            raise ValidationError("Must be more than zero.", field_name="amount")


class BountyListArgs(Schema):
    """Filters, sort and page of the bounty list (the same as the bounty board's)."""

    working_group = Text(validate=validate.Length(min=1, max=8),
                         metadata={"description": "Working group code, e.g. WG1"})
    category = Text(validate=validate.Length(min=1, max=32), metadata={"description": "Category code"})
    status = Text(validate=validate.OneOf(BOUNTY_STATUSES))
    currency = Text(validate=validate.OneOf(CURRENCIES))
    q = Text(validate=validate.Length(min=1, max=200),
             metadata={"description": "Free text searched in titles and descriptions"})
    sort = Text(load_default="newest", validate=validate.OneOf(SORTS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class CancelIn(Schema):
    """Why a bounty is cancelled (kept in its timeline)."""

    reason = Text(required=True, validate=[validate.Length(min=1, max=2000), _not_blank])


class SubmitIn(Schema):
    """The merge requests of the self-hosted GitLab that do the claimed work."""

    merge_request_urls = fields.List(
        Text(validate=[validate.Length(max=500), validate.URL(schemes={"http", "https"})]),
        required=True, validate=validate.Length(min=1, max=MAX_LINKS),
        metadata={"example": ["https://gitlab.example.org/cloudstack/cloudstack/-/merge_requests/1"]},
    )


class ReviewIn(Schema):
    """A reviewer's verdict; a rejection needs a comment saying why."""

    verdict = Text(required=True, validate=validate.OneOf(REVIEW_VERDICTS))
    comment = Text(load_default="", validate=validate.Length(max=MAX_COMMENT))


# --------------------------------------------------------------------------- output


class MoneyOut(Schema):
    """An exact amount: a decimal string with the currency's digits, and the ISO 4217 code."""

    amount = fields.String(required=True, metadata={"example": "1500.00"})
    currency = fields.String(required=True, metadata={"example": "EUR"})

    @pre_dump
    def _from_money(self, money: Money, **_kwargs: Any) -> dict[str, str]:
        return {"amount": money.amount_str(), "currency": money.currency}


class BountySummaryOut(Schema):
    """A bounty as the list shows it."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(BOUNTY_STATUSES))
    category_code = fields.String(required=True)
    category_name = fields.String(required=True)
    working_group_code = fields.String(allow_none=True)
    amount = fields.Nested(MoneyOut, required=True)
    eur_amount = fields.Nested(MoneyOut, allow_none=True,
                               metadata={"description": "The EUR reserved in the pool, once published"})
    is_embargoed = fields.Boolean(required=True)
    claimant_name = fields.String(allow_none=True, metadata={
        "description": "Null while nobody holds a claim, or for anonymous callers when the claimant "
                       "has not agreed to be named publicly"})
    published_at = fields.DateTime(allow_none=True)


class BountyListOut(Schema):
    """One page of bounties the caller may see; `total` counts only those."""

    items = fields.List(fields.Nested(BountySummaryOut), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class FailingCommitOut(Schema):
    """A commit that fails the DCO sign-off check, with the reason text."""

    sha = fields.String(required=True)
    reason = fields.String(required=True)


class ClaimLinkOut(Schema):
    """A merge request linked to a claim, as last synced from GitLab, and its DCO verdict.

    An approval is refused unless every linked merge request is synced, merged and DCO-clean
    (`approvable`).
    """

    url = fields.String(required=True)
    dco_status = fields.String(required=True, validate=validate.OneOf(DCO_STATUSES),
                               metadata={"description": "signed: every commit signs off; unsigned: "
                                                        "a commit fails; not yet checked: not synced "
                                                        "or no verdict yet"})
    merge_request = fields.String(allow_none=True,
                                  metadata={"description": "group/project!iid, once synced from GitLab"})
    title = fields.String(allow_none=True)
    merged_at = fields.DateTime(allow_none=True)
    synced = fields.Boolean(required=True)
    approvable = fields.Boolean(required=True)
    failing_commits = fields.List(fields.Nested(FailingCommitOut), required=True)


class ClaimOut(Schema):
    """A contributor's claim on a bounty."""

    id = fields.Integer(required=True)
    bounty_id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(CLAIM_STATUSES))
    claimant_id = fields.Integer(required=True)
    claimant_name = fields.String(allow_none=True, metadata={
        "description": "Null for anonymous callers when the claimant has not agreed to be named publicly"})
    claimed_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    submitted_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    remediation_due_at = fields.DateTime(allow_none=True,
                                         metadata={"description": "The 48-hour clock of a security fix"})
    remediation_breached_at = fields.DateTime(allow_none=True)
    links = fields.List(fields.Nested(ClaimLinkOut), required=True)


class ReviewOut(Schema):
    """A reviewer's verdict on a claim, with the jurisdiction they reviewed for."""

    claim_id = fields.Integer(required=True)
    reviewer_id = fields.Integer(required=True)
    reviewer_name = fields.String(allow_none=True)
    verdict = fields.String(required=True, validate=validate.OneOf(REVIEW_VERDICTS))
    comment = fields.String(required=True)
    jurisdiction = fields.String(required=True)
    is_security_council = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class EventOut(Schema):
    """One step of a bounty's timeline (from the audit log)."""

    occurred_at = fields.DateTime(required=True)
    action = fields.String(required=True)
    actor = fields.String(required=True)
    summary = fields.Dict(required=True)


class BountyOut(Schema):
    """A bounty in full: what the bounty page shows, and what the caller may do next."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(BOUNTY_STATUSES))
    category_code = fields.String(required=True)
    category_name = fields.String(required=True)
    is_embargoed = fields.Boolean(required=True)
    working_group_code = fields.String(allow_none=True)
    capability_slug = fields.String(allow_none=True)
    amount = fields.Nested(MoneyOut, required=True)
    eur_amount = fields.Nested(MoneyOut, allow_none=True)
    gitlab_project_path = fields.String(allow_none=True)
    gitlab_issue_iid = fields.Integer(allow_none=True)
    claim_hours = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    published_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    claim = fields.Nested(ClaimOut, allow_none=True, metadata={"description": "The current claim"})
    reviews = fields.List(fields.Nested(ReviewOut), required=True)
    actions = fields.List(fields.String(), required=True,
                          metadata={"description": "What the caller may do next: edit, publish, "
                                                   "cancel, claim, submit, review"})
    timeline = fields.List(fields.Nested(EventOut), required=True)


class ErrorDetail(Schema):
    status = fields.Integer(required=True, metadata={"example": 422})
    code = fields.String(required=True, metadata={"example": "invalid_input"})
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.List(fields.String()),
                          required=True, metadata={"description": "The reasons, by field name"})


class ErrorOut(Schema):
    """Every error of the API has this shape."""

    error = fields.Nested(ErrorDetail, required=True)
