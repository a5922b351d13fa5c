"""The documents API's marshmallow schemas: asking for a document, and a document job.

A job's `params` are the kind's parameters in their canonical form (docs/documents.md):
numbers, ISO dates as strings, or null. Inputs refuse unknown fields (marshmallow's RAISE).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from bounty.api.schemas import Text
from bounty.models.documents import JOB_STATUSES
from bounty.services.document_kinds import KINDS

KIND_DESCRIPTION = (
    "payout_batch_xlsx {batch_id}; statement_xlsx {jurisdiction, year} or {jurisdiction, start, end}; "
    "trial_balance_xlsx {as_of?}; journal_xlsx {start?, end?} (refused past 1,048,575 lines: use "
    "the CSV); awards_report {year, lang: en|fr}")


class DocumentIn(Schema):
    """A document to build: its kind and that kind's parameters."""

    kind = Text(required=True, validate=validate.OneOf(sorted(KINDS)),
                metadata={"description": KIND_DESCRIPTION, "example": "statement_xlsx"})
    params = fields.Dict(keys=fields.String(), load_default=dict,
                         metadata={"description": "The kind's parameters",
                                   "example": {"jurisdiction": "EU", "start": "2026-01-01",
                                               "end": "2026-06-30"}})


class DocumentListArgs(Schema):
    all = fields.Boolean(load_default=False,
                         metadata={"description": "Every person's jobs (READ_EVERYTHING only)"})


class DocumentLinksOut(Schema):
    self = fields.String(required=True)
    file = fields.String(allow_none=True, metadata={"description": "Set once the file is ready"})


class DocumentOut(Schema):
    """A document job: queued, running (with its progress), done (with its file) or failed."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    params = fields.Dict(keys=fields.String(), required=True)
    status = fields.String(required=True, validate=validate.OneOf(JOB_STATUSES))
    progress = fields.Integer(required=True, metadata={"description": "Percent, 0 to 100"})
    stage = fields.String(required=True)
    requested_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True, metadata={"description": "When the file is deleted"})
    expired = fields.Boolean(required=True)
    filename = fields.String(required=True)
    media_type = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    error = fields.String(required=True, metadata={"description": "Why it failed; empty otherwise"})
    links = fields.Nested(DocumentLinksOut, required=True)


class DocumentListOut(Schema):
    items = fields.List(fields.Nested(DocumentOut), required=True)
