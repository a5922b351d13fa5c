"""CSV written in bounded chunks of UTF-8 bytes, with the finance files' cell rules.

- Dates and datetimes in ISO 8601 (datetimes in UTC); currencies as ISO 4217 codes.
- Amounts as decimal strings with exactly the currency's minor digits ("-12.50", "1500"
  for JPY), never through a float.
- Text cells beginning with `=`, `+`, `-`, `@`, a tab or a carriage return are neutralised
  with a leading apostrophe, so a spreadsheet shows them as text instead of running them
  as formulas (CSV injection). Numbers are produced here, not typed in, so a negative
  amount stays a number.
- RFC 4180: comma separated, fields quoted when needed, CRLF line ends.

`stream_rows` yields one chunk per `rows_per_chunk` rows, so what is held at any time is one
chunk, whatever the number of rows: a Flask response can send it as it comes and a file is
written as it goes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from bounty.ledger import Money, minor_digits

# The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 1000
UTF8_BOM = "\ufeff"


def neutralise(text: str) -> str:
    """`text`, prefixed with an apostrophe when it begins with a formula character."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class Amount:
    """A number of minor units to write with its currency's digits (a cell, not text)."""

    __slots__ = ("currency", "minor")

    def __init__(self, minor: int, currency: str) -> None:
        self.minor = minor
        self.currency = currency


def _formatter(digits: int) -> Callable[[int], str]:
    if digits == 0:
        return str
    scale = 10 ** digits

    def format_minor(minor: int) -> str:
        # Integer arithmetic: exact at any size, and much cheaper than Decimal per line.
        if minor < 0:
            whole, fraction = divmod(-minor, scale)
            return f"-{whole}.{fraction:0{digits}d}"
        whole, fraction = divmod(minor, scale)
        return f"{whole}.{fraction:0{digits}d}"

    return format_minor


_FORMATTERS: dict[str, Callable[[int], str]] = {}


def amount_formatter(currency: str) -> Callable[[int], str]:
    """A function writing minor units of `currency` as a decimal string with its digits
    (UnknownCurrency for a code without known digits)."""
    formatter = _FORMATTERS.get(currency)
    if formatter is None:
        formatter = _FORMATTERS[currency] = _formatter(minor_digits(currency))
    return formatter


def format_amount(minor: int, currency: str) -> str:
    """`minor` units of `currency` as a decimal string, e.g. (-1250, "EUR") -> "-12.50"."""
    return amount_formatter(currency)(minor)


def cell(value: object) -> str:
    """One value as CSV text: None empty, text neutralised, numbers and dates as written."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Money):
        return format_amount(value.minor, value.currency)
    if isinstance(value, Amount):
        return format_amount(value.minor, value.currency)
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no CSV cell for a {type(value).__name__} (floats are never money)")


def stream_rows(header: Sequence[str], rows: Iterable[Sequence[object]], *,
                rows_per_chunk: int = ROWS_PER_CHUNK, bom: bool = False) -> Iterator[bytes]:
    """`header` then `rows` as UTF-8 CSV, one chunk per `rows_per_chunk` rows; every value
    goes through `cell`. `bom` starts the file with a byte-order mark (some spreadsheets
    need it to read UTF-8)."""
    return stream_text_rows(header, ([cell(value) for value in row] for row in rows),
                            rows_per_chunk=rows_per_chunk, bom=bom)


def stream_text_rows(header: Sequence[str], rows: Iterable[Sequence[str]], *,
                     rows_per_chunk: int = ROWS_PER_CHUNK, bom: bool = False) -> Iterator[bytes]:
    """Like `stream_rows` for rows whose cells are already CSV text (made with `cell`,
    `neutralise` or `format_amount`): the fast path of large exports."""
    return stream_text_chunks(header, _batched(rows, rows_per_chunk), bom=bom)


def stream_text_chunks(header: Sequence[str], chunks: Iterable[Iterable[Sequence[str]]], *,
                       bom: bool = False) -> Iterator[bytes]:
    """`header` then each chunk of text rows, one encoded block per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write(UTF8_BOM)
    writer.writerow([neutralise(name) for name in header])
    yield _drain(buffer)
    for chunk in chunks:
        writer.writerows(chunk)
        block = _drain(buffer)
        if block:
            yield block


def _drain(buffer: io.StringIO) -> bytes:
    block = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return block


def _batched(rows: Iterable[Sequence[str]], size: int) -> Iterator[list[Sequence[str]]]:
    if size < 1:
        raise ValueError("rows_per_chunk must be at least 1")
    batch: list[Sequence[str]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# A field needs quotes when it holds the delimiter, the quote or a line break (RFC 4180).
NEEDS_QUOTES = re.compile(r'[",\r\n]')


def quote(field: str) -> str:
    """`field` as one CSV field: quoted (inner quotes doubled) only when it needs to be, as the
    csv module's minimal quoting does."""
    return '"' + field.replace('"', '""') + '"' if NEEDS_QUOTES.search(field) else field


def stream_blocks(header: Sequence[str], blocks: Iterable[str], *, bom: bool = False) -> Iterator[bytes]:
    """`header` as a CSV line, then each block of ready CSV text (whole CRLF-ended lines, built
    with `quote`, `neutralise` and `format_amount`), encoded as it comes."""
    head = ",".join(quote(neutralise(name)) for name in header) + "\r\n"
    yield ((UTF8_BOM if bom else "") + head).encode("utf-8")
    for block in blocks:
        if block:
            yield block.encode("utf-8")


def write_chunks(path: Path, chunks: Iterable[bytes]) -> int:
    """Write `chunks` to `path` as they come, through a temporary file renamed at the end, so
    a failed export leaves no half-written file. Returns the number of bytes written."""
    partial = path.with_name(f".{path.name}.part")
    written = 0
    try:
        with partial.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
                written += len(chunk)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return written
