"""Files the finance pages hand out at once: a payout batch as CSV or SEPA, a jurisdiction's
statement as CSV, and the trial balance and the journal as CSV streamed as they are read (the
journal's memory stays one chunk of rows, whatever the ledger's size). Workbooks (XLSX) are
built on the job queue instead (`bounty.tasks.finance_documents`).

Each builder reads through a service (which checks who may read) and returns a Flask
response with the file's media type and a download name; refusals are raised for the page
to show. Settings (BANK_DETAILS_KEY, SEPA_DEBTOR_*) come from `current_app.config`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import date

from flask import Response, send_file, stream_with_context
from sqlalchemy.orm import Session

from bounty.exports import statements as statement_exports
from bounty.extensions import db
from bounty.services import journal_export, statements
from bounty.services.actors import Actor

CSV = "text/csv"
XML = "application/xml"
MIMETYPES = {"csv": CSV, "sepa": XML}
EXTENSIONS = {"csv": "csv", "sepa": "xml"}


def _attachment(data: bytes, mimetype: str, name: str) -> Response:
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name,
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def batch_filename(batch_id: int, fmt: str) -> str:
    return f"payout-batch-{batch_id}.{EXTENSIONS[fmt]}"


def batch_response(data: bytes, batch_id: int, fmt: str) -> Response:
    return _attachment(data, MIMETYPES[fmt], batch_filename(batch_id, fmt))


def statement_response(statement: statements.JurisdictionStatement) -> Response:
    """The statement as CSV."""
    name = f"statement-{statement.jurisdiction_code}-{statement.period.label().replace(' ', '_')}.csv"
    return _attachment(b"".join(statement_exports.statement_csv(statement)), CSV, name)


def _streamed(chunks: Iterable[bytes], name: str) -> Response:
    # stream_with_context keeps the request (and its database session) alive while the
    # generator runs, after the view has returned.
    response = Response(stream_with_context(iter(chunks)), mimetype=CSV)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def trial_balance_response(actor: Actor, as_of: date | None) -> Response:
    rows = statements.trial_balance(db.session, actor, as_of)
    suffix = f"-{as_of.isoformat()}" if as_of else ""
    return _streamed(statement_exports.trial_balance_csv(rows), f"trial-balance{suffix}.csv")


def journal_response(actor: Actor, start: date | None, end: date | None) -> Response:
    """The journal streamed: the permission and the dates are checked now, the rows are read
    as the client takes them, and the session's transaction ends with the last of them."""
    session = db.session
    chunks = journal_export.journal_chunks(session, actor, start, end)
    span = "-".join(day.isoformat() for day in (start, end) if day is not None)
    return _streamed(_closing(statement_exports.journal_csv(chunks), chunks, session),
                     f"journal{'-' + span if span else ''}.csv")


def _closing(blocks: Iterator[bytes], chunks: Iterator[object], session: Session) -> Iterator[bytes]:
    """`blocks`, then the cursor and the read transaction closed, even when the client goes
    away: the request's own teardown has run by then (on SQLite the transaction holds the lock)."""
    try:
        yield from blocks
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        session.close()
