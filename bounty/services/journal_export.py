"""The full journal, streamed: every ledger line with its transaction, in bounded memory.

On PostgreSQL the lines are read through a server-side cursor a chunk at a time (plain
tuples, one FETCH per chunk); on SQLite with `yield_per`. Whatever the size of the ledger,
memory holds one chunk. Who may read: as `bounty.services.statements`.

`journal_pages` reads the same lines page by page instead, each page its own query (keyset
on transaction and line id), so a job may commit its progress between pages; and
`journal_line_count` says how many lines a period holds (an XLSX sheet has a limit).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bounty.models import Account, LedgerLine, LedgerTransaction
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput
from bounty.services.statements import require_reader

# Rows fetched per round trip when streaming the journal: bounded memory, few round trips.
JOURNAL_CHUNK = 5000

# One row per ledger line: (effective_on, transaction_id, kind, idempotency_key, memo, account,
# currency, amount_minor).
JournalRow = tuple[date, int, str, str, str, str, str, int]

_JOURNAL = (
    select(LedgerTransaction.effective_on, LedgerTransaction.id.label("transaction_id"),
           LedgerTransaction.kind, LedgerTransaction.idempotency_key, LedgerTransaction.memo,
           Account.code.label("account"),
           LedgerLine.currency, LedgerLine.amount_minor)
    .select_from(LedgerLine)
    .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
    .join(Account, Account.id == LedgerLine.account_id)
)


def journal_query(start: date | None = None, end: date | None = None) -> Any:
    """The journal's SELECT: every line with its transaction, in posting order (transaction
    id, then line id), transactions effective from `start` to `end` (both included, either open)."""
    query = _JOURNAL
    if start is not None:
        query = query.where(LedgerTransaction.effective_on >= start)
    if end is not None:
        query = query.where(LedgerTransaction.effective_on <= end)
    return query.order_by(LedgerLine.transaction_id, LedgerLine.id)


def journal_chunks(session: Session, actor: Actor, start: date | None = None, end: date | None = None,
                   chunk_size: int = JOURNAL_CHUNK) -> Iterator[Sequence[JournalRow]]:
    """The journal in lists of at most `chunk_size` rows, read as they are consumed.

    The permission is checked now, not at the first row. On PostgreSQL the rows come through
    a server-side cursor (one FETCH per chunk), so memory stays bounded by one chunk whatever
    the size of the ledger; on SQLite, `yield_per` steps the cursor the same way. One SELECT:
    the whole journal is one consistent snapshot. The session's transaction stays open until
    the iterator is exhausted or closed.
    """
    require_reader(actor)
    if start is not None and end is not None and end < start:
        raise InvalidInput("to", f"{end.isoformat()} is before {start.isoformat()}")
    if chunk_size < 1:
        raise InvalidInput("chunk_size", "must be at least 1")
    return _stream(session, journal_query(start, end), chunk_size)


def _stream(session: Session, query: Any, chunk_size: int) -> Iterator[Sequence[JournalRow]]:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # The driver's own server-side cursor: the rows SQLAlchemy's `yield_per` would fetch,
        # as plain tuples, without building a Row per line (a third of the export's time).
        compiled = query.compile(dialect=connection.dialect)
        cursor = connection.connection.dbapi_connection.cursor(
            name=f"journal_{uuid.uuid4().hex[:12]}", binary=True)
        try:
            cursor.execute(str(compiled), compiled.params)
            while chunk := cursor.fetchmany(chunk_size):
                yield chunk
        finally:
            cursor.close()
        return
    result = connection.execute(query, execution_options={"yield_per": chunk_size})
    try:
        for partition in result.partitions(chunk_size):
            yield [tuple(row) for row in partition]  # type: ignore[misc]
    finally:
        result.close()


def journal_rows(session: Session, actor: Actor, start: date | None = None, end: date | None = None,
                 chunk_size: int = JOURNAL_CHUNK) -> Iterator[JournalRow]:
    """`journal_chunks` one row at a time."""
    chunks = journal_chunks(session, actor, start, end, chunk_size)
    return (row for chunk in chunks for row in chunk)


def _check_period(actor: Actor, start: date | None, end: date | None) -> None:
    require_reader(actor)
    if start is not None and end is not None and end < start:
        raise InvalidInput("to", f"{end.isoformat()} is before {start.isoformat()}")


def _in_period(query: Any, start: date | None, end: date | None) -> Any:
    if start is not None:
        query = query.where(LedgerTransaction.effective_on >= start)
    if end is not None:
        query = query.where(LedgerTransaction.effective_on <= end)
    return query


def journal_line_count(session: Session, actor: Actor, start: date | None = None,
                       end: date | None = None) -> int:
    """How many journal lines the transactions effective from `start` to `end` hold."""
    _check_period(actor, start, end)
    query = (select(func.count()).select_from(LedgerLine)
             .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id))
    return int(session.execute(_in_period(query, start, end)).scalar_one())


def journal_pages(session: Session, actor: Actor, start: date | None = None, end: date | None = None,
                  page_size: int = JOURNAL_CHUNK) -> Iterator[list[JournalRow]]:
    """The journal in pages of at most `page_size` rows, in posting order, each page read by a
    query of its own and fully fetched: the caller may commit between pages (a job recording
    its progress). The ledger is append-only and a transaction's lines are committed together,
    so a transaction posted meanwhile appears whole or not at all, never half.
    """
    _check_period(actor, start, end)
    if page_size < 1:
        raise InvalidInput("page_size", "must be at least 1")
    return _pages(session, start, end, page_size)


def _pages(session: Session, start: date | None, end: date | None,
           page_size: int) -> Iterator[list[JournalRow]]:
    query = _in_period(_JOURNAL.add_columns(LedgerLine.id), start, end).order_by(
        LedgerLine.transaction_id, LedgerLine.id).limit(page_size)
    after: tuple[int, int] | None = None
    while True:
        page_query = query
        if after is not None:
            transaction_id, line_id = after
            page_query = query.where(
                LedgerLine.transaction_id >= transaction_id,
                or_(LedgerLine.transaction_id > transaction_id,
                    and_(LedgerLine.transaction_id == transaction_id, LedgerLine.id > line_id)))
        rows = session.execute(page_query).all()
        if not rows:
            return
        last = rows[-1]
        after = (last[1], last[-1])
        yield [tuple(row[:-1]) for row in rows]  # type: ignore[misc]
        if len(rows) < page_size:
            return

