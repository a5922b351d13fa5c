"""Reading a bank's confirmation file of a payout batch and checking it line by line.

Only reads: `parse_confirmation` says which lines pay which items and what is wrong with
the others; `payouts.import_confirmation` applies a file that passes, all or nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.ledger import LedgerError, Money
from bounty.models import LedgerTransaction, PayoutBatch, PayoutItem, utcnow
from bounty.services.errors import ServiceError

CONFIRMATION_COLUMNS = ("end_to_end_id", "amount", "date")
_AMOUNT = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@dataclass(frozen=True)
class LineProblem:
    """Why one line of a confirmation file was refused (line 1 is the header)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ConfirmationRejected(ServiceError):
    """A confirmation file with at least one bad line: nothing of it was applied."""

    def __init__(self, batch_id: int, problems: list[LineProblem]) -> None:
        self.batch_id = batch_id
        self.problems = problems
        super().__init__(f"the confirmation for payout batch {batch_id} was refused and nothing was "
                         f"applied: {'; '.join(str(p) for p in problems)}")


@dataclass(frozen=True)
class PaidLine:
    """An item the confirmation paid, with its payment transaction."""

    item_id: int
    end_to_end_id: str
    amount: Money
    paid_on: date
    transaction_id: int


@dataclass(frozen=True)
class ConfirmationResult:
    """What an import did. `already_imported`: this very file was imported before, and this
    is the first import's result; nothing changed this time."""

    batch_id: int
    digest: str
    lines: int
    paid: tuple[PaidLine, ...]
    unchanged: int
    batch_status: str
    already_imported: bool = False

    def summary(self) -> str:
        if self.already_imported:
            return (f"this file was already imported for payout batch {self.batch_id}: nothing changed "
                    f"({len(self.paid)} items were paid by it; the batch is {self.batch_status})")
        return (f"payout batch {self.batch_id}: {len(self.paid)} items paid, {self.unchanged} already "
                f"paid, from {self.lines} lines; the batch is {self.batch_status}")

    def to_json(self) -> str:
        return json.dumps({"lines": self.lines, "unchanged": self.unchanged,
                           "batch_status": self.batch_status,
                           "paid": [[p.item_id, p.end_to_end_id, p.amount.minor, p.amount.currency,
                                     p.paid_on.isoformat(), p.transaction_id] for p in self.paid]})

    @classmethod
    def from_json(cls, batch_id: int, digest: str, text: str, batch_status: str) -> ConfirmationResult:
        data: dict[str, Any] = json.loads(text)
        paid = tuple(PaidLine(i, e, Money(m, c), date.fromisoformat(d), t)
                     for i, e, m, c, d, t in data["paid"])
        return cls(batch_id, digest, data["lines"], paid, data["unchanged"], batch_status, True)


@dataclass(frozen=True)
class ConfirmationLine:
    """A line of a confirmation that matched an item of the batch."""

    number: int
    item: PayoutItem
    paid_on: date


def _rows(data: bytes) -> tuple[list[tuple[int, list[str]]], list[LineProblem]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [LineProblem(1, "the file is not UTF-8 text")]
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, [cell.strip() for cell in row]))
    except csv.Error as exc:
        return [], [LineProblem(reader.line_num, f"not readable as CSV: {exc}")]
    return rows, []


def _header(rows: list[tuple[int, list[str]]]) -> tuple[dict[str, int], list[LineProblem]]:
    if not rows:
        return {}, [LineProblem(1, "the file is empty: expected a header end_to_end_id,amount,date "
                                   "and one line per payment")]
    number, cells = rows[0]
    names = [re.sub(r"[\s-]+", "_", cell.lower()) for cell in cells]
    columns = {name: position for position, name in reversed(list(enumerate(names)))}
    missing = [name for name in CONFIRMATION_COLUMNS if name not in columns]
    if missing:
        return {}, [LineProblem(number, f"the header must name the columns {', '.join(CONFIRMATION_COLUMNS)}"
                                        f" (missing: {', '.join(missing)})")]
    if len(rows) == 1:
        return {}, [LineProblem(number, "the file has a header but no payment lines")]
    return columns, []


def _check_line(number: int, cells: list[str], columns: dict[str, int], batch: PayoutBatch,
                items: dict[str, PayoutItem], seen: dict[str, int], today: date,
                payable_dates: dict[int, date]) -> tuple[ConfirmationLine | None, list[str]]:
    def cell(name: str) -> str:
        position = columns[name]
        return cells[position] if position < len(cells) else ""

    problems: list[str] = []
    e2e, amount_text, date_text = cell("end_to_end_id"), cell("amount"), cell("date")
    paid_on: date | None = None
    if not date_text:
        problems.append("no date")
    elif not _ISO_DATE.match(date_text):
        problems.append(f"date {date_text!r} is not an ISO date (YYYY-MM-DD)")
    else:
        try:
            paid_on = date.fromisoformat(date_text)
        except ValueError:
            problems.append(f"date {date_text!r} is not a date of the calendar")
    if paid_on is not None and paid_on > today:
        problems.append(f"date {paid_on.isoformat()} is in the future")
    if not amount_text:
        problems.append("no amount")
    elif not _AMOUNT.match(amount_text):
        problems.append(f"amount {amount_text!r} is not an amount (digits and a decimal point, e.g. 1250.00)")
        amount_text = ""
    if not e2e:
        return None, ["no end-to-end id", *problems]
    if e2e in seen:
        return None, [f"{e2e} is already on line {seen[e2e]}", *problems]
    seen[e2e] = number
    item = items.get(e2e)
    if item is None:
        return None, [f"unknown end-to-end id {e2e!r}", *problems]
    if item.batch_id != batch.id:
        return None, [f"{e2e} belongs to payout batch {item.batch_id}, not {batch.id}", *problems]
    expected = Money(item.amount_minor, item.currency)
    if amount_text:
        try:
            amount = Money.parse(amount_text, item.currency)
        except LedgerError:
            problems.append(f"amount {amount_text!r} has too many decimals for {item.currency}")
        else:
            if amount != expected:
                problems.append(f"amount {amount} does not match the {expected} of {e2e}")
    if "currency" in columns and cell("currency") and cell("currency").upper() != item.currency:
        problems.append(f"currency {cell('currency')!r} is not the {item.currency} of {e2e}")
    if paid_on is not None and paid_on < payable_dates[item.id]:
        problems.append(f"date {paid_on.isoformat()} is before {e2e} became payable "
                        f"({payable_dates[item.id].isoformat()})")
    if not item.is_live:
        problems.append(f"{e2e} was withdrawn from the batch")
    elif item.status == "clawed_back":
        problems.append(f"{e2e} was paid on {item.paid_on} and clawed back since")
    elif item.status == "paid" and paid_on is not None and item.paid_on != paid_on:
        problems.append(f"{e2e} was already paid on {item.paid_on}, not {paid_on.isoformat()}")
    if problems or paid_on is None:
        return None, problems
    return ConfirmationLine(number, item, paid_on), []


def parse_confirmation(session: Session, batch: PayoutBatch,
                       data: bytes) -> tuple[list[ConfirmationLine], list[LineProblem]]:
    """The lines of a confirmation file matched to the batch's items, and every problem found
    (a line may have several); the file is applied only when there is none."""
    rows, problems = _rows(data)
    if problems:
        return [], problems
    columns, problems = _header(rows)
    if problems:
        return [], problems
    ids = [cells[columns["end_to_end_id"]] for _, cells in rows[1:] if columns["end_to_end_id"] < len(cells)]
    items = {item.end_to_end_id: item for item in session.execute(
        select(PayoutItem).where(PayoutItem.end_to_end_id.in_(ids))).scalars()} if ids else {}
    payable_dates = dict(session.execute(
        select(PayoutItem.id, LedgerTransaction.effective_on)
        .join(LedgerTransaction, LedgerTransaction.id == PayoutItem.payable_transaction_id)
        .where(PayoutItem.id.in_([item.id for item in items.values()]))
    ).all()) if items else {}
    seen: dict[str, int] = {}
    lines: list[ConfirmationLine] = []
    today = utcnow().date()
    for number, cells in rows[1:]:
        line, messages = _check_line(number, cells, columns, batch, items, seen, today, payable_dates)
        problems += [LineProblem(number, message) for message in messages]
        if line is not None:
            lines.append(line)
    return lines, problems
