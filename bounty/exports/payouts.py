"""A payout batch as a file for finance: CSV and XLSX, one row per item, the same columns.

Every column is defined in docs/exports.md. Each row carries the item's amount in its own
currency, its EUR equivalent with the rate and rate date used, and one column per
jurisdiction (EU, UK, CA, AU, in that order) with its EUR part of the item; those parts sum
to the EUR column exactly, and a batch whose figures do not is refused rather than written.

CSV goes through `csv_stream` (UTF-8, ISO dates, amounts with the currency's digits, text
cells that could start a formula neutralised); XLSX through `xlsx` (typed number and date
cells). The SEPA credit transfer file is in `bounty.exports.sepa`.
"""

from __future__ import annotations

from collections.abc import Iterator

from bounty.exports import csv_stream, xlsx
from bounty.exports.xlsx import Column, Sheet
from bounty.ledger import Money
from bounty.services.payouts import BatchItemView, BatchView

# The member jurisdictions, in the order of their columns.
JURISDICTIONS = ("EU", "UK", "CA", "AU")

COLUMNS: tuple[Column, ...] = (
    Column("batch_id", 9),
    Column("item_id", 9),
    Column("kind", 8),
    Column("subject_id", 11),
    Column("payee_kind", 12),
    Column("payee_id", 9),
    Column("payee_name", 28),
    Column("description", 40),
    Column("end_to_end_id", 24),
    Column("status", 12),
    Column("payable_on", 12),
    Column("currency", 9),
    Column("amount", 14),
    Column("eur_amount", 14),
    Column("rate", 12),
    Column("rate_date", 12),
    *(Column(f"share_{code}_eur", 14) for code in JURISDICTIONS),
    Column("paid_on", 12),
)
HEADER: tuple[str, ...] = tuple(column.header for column in COLUMNS)


class InconsistentBatch(ValueError):
    """A batch whose figures do not add up: a bug upstream, never written to a file."""


def item_shares(item: BatchItemView) -> tuple[Money, ...]:
    """The item's EUR part borne by each jurisdiction, in `JURISDICTIONS` order (zero when it
    bears none). Refuses (InconsistentBatch) shares outside the four members, in another
    currency than EUR, or not summing to the item's EUR amount."""
    unknown = sorted(set(item.shares) - set(JURISDICTIONS))
    if unknown:
        raise InconsistentBatch(f"item {item.id}: shares of unknown jurisdictions {', '.join(unknown)}")
    if item.eur.currency != "EUR":
        raise InconsistentBatch(f"item {item.id}: its EUR equivalent is in {item.eur.currency}")
    parts = tuple(item.shares.get(code, Money.zero("EUR")) for code in JURISDICTIONS)
    if any(part.currency != "EUR" for part in parts):
        raise InconsistentBatch(f"item {item.id}: a jurisdiction's share is not in EUR")
    if sum(part.minor for part in parts) != item.eur.minor:
        raise InconsistentBatch(f"item {item.id}: the jurisdictions' shares do not sum to {item.eur}")
    return parts


def _row(batch_id: int, item: BatchItemView) -> list[object]:
    created = item.created_at
    return [
        batch_id, item.id, item.kind, item.subject_id, item.payee_kind, item.payee_id, item.payee_name,
        item.description, item.end_to_end_id, item.status,
        created.date() if created is not None else None,
        item.amount.currency, item.amount, item.eur, item.rate, item.rate_date,
        *item_shares(item),
        item.paid_on,
    ]


def batch_rows(batch: BatchView) -> Iterator[list[object]]:
    """The batch's rows as typed values (Money, dates, Decimal rates, text), in `HEADER` order."""
    for item in batch.items:
        yield _row(batch.id, item)


def _checked_rows(batch: BatchView) -> list[list[object]]:
    # Built whole before anything is written: a batch is small, and an inconsistent item
    # must refuse the file, not cut it short.
    return list(batch_rows(batch))


def batch_csv(batch: BatchView, *, bom: bool = False) -> bytes:
    """The batch as UTF-8 CSV (header row, CRLF line ends); `bom` starts it with a byte-order
    mark for spreadsheets that need one to read UTF-8."""
    return b"".join(csv_stream.stream_rows(HEADER, _checked_rows(batch), bom=bom))


def batch_xlsx(batch: BatchView) -> bytes:
    """The batch as an XLSX workbook of one sheet, "Batch <id>", with the CSV's columns:
    amounts as number cells formatted with their currency's digits, dates as date cells."""
    return xlsx.workbook_bytes([Sheet(f"Batch {batch.id}", COLUMNS, _checked_rows(batch))])

