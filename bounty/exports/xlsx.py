"""XLSX workbooks with typed cells (openpyxl, write-only mode so large sheets stream to disk).

- Amounts (Money, or `csv_stream.Amount`) are number cells with a number format showing the
  currency's minor digits ("#,##0.00" for EUR, "#,##0" for JPY); the value is the exact
  Decimal, never a float computed here.
- Dates are date cells ("yyyy-mm-dd"); datetimes are written in UTC without a zone (Excel
  has none) as "yyyy-mm-dd hh:mm:ss".
- Text is always a string cell: a value beginning with "=" is text, never a formula (openpyxl
  would otherwise store it as one). Characters XML cannot hold (control characters other
  than tab, line feed and carriage return) are replaced with U+FFFD.
- Integers and Decimals are numbers; a column may give its own number format (a share as
  a percentage, say).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bounty.exports.csv_stream import Amount
from bounty.ledger import Money, minor_digits

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
PERCENT_FORMAT = "0.00####%"
SHEET_TITLE_MAX = 31
_TITLE_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


@dataclass(frozen=True)
class Column:
    """A column's header, its width in characters and, for Decimal cells, a number format."""

    header: str
    width: int | None = None
    number_format: str | None = None


@dataclass(frozen=True)
class Sheet:
    """A worksheet: its title, its columns, and its rows (any iterable, read once)."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[object]]


def amount_format(currency: str) -> str:
    """The number format showing `currency`'s minor digits."""
    digits = minor_digits(currency)
    return "#,##0" if digits == 0 else "#,##0." + "0" * digits


def _text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


class _Writer:
    """Turns values into write-only cells of one sheet, each with its type and format."""

    def __init__(self, sheet: WriteOnlyWorksheet, columns: Sequence[Column]) -> None:
        self.sheet = sheet
        self.columns = columns

    def cell(self, value: object, column: Column | None) -> object:
        if value is None:
            return None
        if isinstance(value, str):
            text = WriteOnlyCell(self.sheet, value=_text(value))
            text.data_type = "s"  # "=..." stays text: never a formula
            return text
        if isinstance(value, (Money, Amount)):
            number = WriteOnlyCell(self.sheet, value=Money(value.minor, value.currency).to_decimal())
            number.number_format = amount_format(value.currency)
            return number
        if isinstance(value, datetime):
            moment = WriteOnlyCell(self.sheet, value=(value.astimezone(UTC) if value.tzinfo else value)
                                   .replace(tzinfo=None))
            moment.number_format = DATETIME_FORMAT
            return moment
        if isinstance(value, date):
            day = WriteOnlyCell(self.sheet, value=value)
            day.number_format = DATE_FORMAT
            return day
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, Decimal)):
            if column is not None and column.number_format:
                number = WriteOnlyCell(self.sheet, value=value)
                number.number_format = column.number_format
                return number
            return value
        raise TypeError(f"no XLSX cell for a {type(value).__name__} (floats are never money)")

    def row(self, values: Sequence[object]) -> list[object]:
        columns = self.columns
        return [self.cell(value, columns[i] if i < len(columns) else None) for i, value in enumerate(values)]


def sheet_title(title: str) -> str:
    """`title` as Excel allows it: at most 31 characters, none of []:*?/\\."""
    return (title.translate(_TITLE_FORBIDDEN).strip() or "Sheet")[:SHEET_TITLE_MAX]


def write_workbook(target: Path | BinaryIO, sheets: Sequence[Sheet]) -> None:
    """Write `sheets` as one workbook to `target` (a path or a binary file), header row bold
    and frozen; rows are written as they are read, so a large sheet is never held whole."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for spec in sheets:
        sheet = workbook.create_sheet(sheet_title(spec.title))
        for index, column in enumerate(spec.columns):
            letter = _column_letter(index)
            sheet.column_dimensions[letter].width = column.width or max(10, len(column.header) + 2)
        sheet.freeze_panes = "A2"
        writer = _Writer(sheet, spec.columns)
        header = []
        for column in spec.columns:
            cell = WriteOnlyCell(sheet, value=_text(column.header))
            cell.data_type = "s"
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in spec.rows:
            sheet.append(writer.row(row))
    workbook.save(target)


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """`write_workbook` into memory: for small workbooks (statements, the trial balance)."""
    out = io.BytesIO()
    write_workbook(out, sheets)
    return out.getvalue()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters
