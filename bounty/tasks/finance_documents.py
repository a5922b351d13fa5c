"""The builders of the finance documents on the job queue: a payout batch, a jurisdiction's
statement, the trial balance and the journal, each as XLSX (formats in docs/finance.md and
docs/exports.md).

Each reads through the services as the requester (who may read is checked there again) and
returns the workbook's bytes. Progress is reported between reads: the report commits the
session, so never while a result is open.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from typing import BinaryIO

from sqlalchemy.orm import Session

from bounty.exports import payouts as batch_exports
from bounty.exports import statements as statement_exports
from bounty.services import journal_export, payout_queries, statements
from bounty.services.actors import Actor
from bounty.services.document_kinds import (
    XLSX_MAX_DATA_ROWS,
    Builder,
    Params,
    Progress,
    journal_bounds,
)
from bounty.services.errors import InvalidInput
from bounty.services.journal_export import JournalRow

# Workbooks larger than this are spooled to a temporary file while openpyxl writes them.
SPOOL_BYTES = 16 * 1024 * 1024


def _workbook(write: Callable[[BinaryIO], None]) -> bytes:
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()


def build_batch(session: Session, actor: Actor, params: Params, progress: Progress) -> bytes:
    """The payout batch's items, one row each (docs/exports.md)."""
    progress(10, "reading the batch")
    view = payout_queries.get_batch(session, actor, params["batch_id"])
    progress(50, "writing the workbook")
    return batch_exports.batch_xlsx(view)


def build_statement(session: Session, actor: Actor, params: Params, progress: Progress) -> bytes:
    """The jurisdiction's statement over the period: Summary, Pools, Payouts, Paid in."""
    progress(10, "reading the ledger")
    span = statements.Period(date.fromisoformat(params["start"]), date.fromisoformat(params["end"]))
    statement = statements.jurisdiction_statement(session, actor, params["jurisdiction"], span)
    progress(60, "writing the workbook")
    return _workbook(lambda target: statement_exports.statement_xlsx(statement, target))


def build_trial_balance(session: Session, actor: Actor, params: Params, progress: Progress) -> bytes:
    """Every account's net balance, and the totals per currency."""
    progress(10, "reading the ledger")
    as_of = date.fromisoformat(params["as_of"]) if params["as_of"] else None
    rows = statements.trial_balance(session, actor, as_of)
    progress(60, "writing the workbook")
    return _workbook(lambda target: statement_exports.trial_balance_xlsx(rows, target))


def build_journal(session: Session, actor: Actor, params: Params, progress: Progress) -> bytes:
    """Every journal line of the period, read page by page (progress after each page)."""
    start, end = journal_bounds(params)
    progress(1, "counting the journal lines")
    total = journal_export.journal_line_count(session, actor, start, end)
    if total > XLSX_MAX_DATA_ROWS:
        raise InvalidInput("period", f"the period holds {total:,} journal lines, more than an XLSX sheet "
                                     f"can hold ({XLSX_MAX_DATA_ROWS:,}): download the journal as CSV")
    pages = journal_export.journal_pages(session, actor, start, end)

    def rows() -> Iterator[JournalRow]:
        written = 0
        for page in pages:
            written += len(page)
            if written > XLSX_MAX_DATA_ROWS:  # lines posted since the count
                raise InvalidInput("period", "the period now holds more journal lines than an XLSX "
                                             "sheet can hold: download the journal as CSV")
            yield from page
            progress(5 + 85 * min(written, total) // max(total, 1), "writing the journal lines")

    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        statement_exports.journal_xlsx(rows(), spool)
        progress(95, "storing the file")
        spool.seek(0)
        return spool.read()


BUILDERS: dict[str, Builder] = {
    "payout_batch_xlsx": build_batch,
    "statement_xlsx": build_statement,
    "trial_balance_xlsx": build_trial_balance,
    "journal_xlsx": build_journal,
}
