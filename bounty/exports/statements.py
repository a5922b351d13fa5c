"""Finance statements as files: a jurisdiction's statement, organisation activity and the trial
balance in CSV and XLSX, and the full journal as streamed CSV or (built on the job queue) XLSX.

Every column is defined in docs/finance.md. CSV goes through `csv_stream` (neutralised text,
amounts with the currency's digits); XLSX through `xlsx` (typed cells).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import BinaryIO

from bounty.exports import activity as activity_export
from bounty.exports import csv_stream, xlsx
from bounty.exports.csv_stream import FORMULA_STARTS, amount_formatter, neutralise, quote
from bounty.exports.xlsx import Column, Sheet
from bounty.ledger import Money
from bounty.services.activity import OrganisationActivity
from bounty.services.journal import TrialBalanceRow, trial_balance_totals
from bounty.services.journal_export import JournalRow
from bounty.services.statements import JurisdictionStatement, Period

FORMATS = ("csv", "xlsx")


class UnsupportedFormat(ValueError):
    """A file name whose extension is not a format of the export."""


def format_of(filename: str, formats: Sequence[str] = FORMATS) -> str:
    """The format named by `filename`'s extension, one of `formats` (UnsupportedFormat otherwise)."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in formats:
        raise UnsupportedFormat(f"{filename!r}: write to a {' or '.join('.' + f for f in formats)} file")
    return extension


# --- the journal ----------------------------------------------------------------------------

JOURNAL_HEADER = ("date", "transaction_id", "kind", "idempotency_key", "memo", "account", "currency",
                  "amount")


# The text fields of a journal line, each after a NUL: a match means one of them begins with
# a formula character or needs quotes, and that line takes the careful path, field by field.
_CAREFUL = re.compile("[\",\r\n]|\x00[" + re.escape("".join(FORMULA_STARTS)) + "]")


def _journal_block(chunk: Sequence[JournalRow]) -> str:
    """One chunk of journal rows as CSV lines: the hot loop of a million-line export, so the
    rules of `csv_stream` (neutralised text, amounts with the currency's digits, minimal
    quoting) are applied inline, one test per line for the common line that needs neither."""
    formatters: dict[str, Callable[[int], str]] = {}
    days: dict[date, str] = {}
    lines = []
    append = lines.append
    careful = _CAREFUL.search
    for effective_on, transaction_id, kind, key, memo, account, currency, minor in chunk:
        formatter = formatters.get(currency)
        if formatter is None:
            formatter = formatters[currency] = amount_formatter(currency)
        day = days.get(effective_on)
        if day is None:
            day = days[effective_on] = effective_on.isoformat()
        text = f"\x00{kind}\x00{key}\x00{memo}\x00{account}\x00{currency}"
        if careful(text) or text.count("\x00") != 5:  # a NUL inside a field (SQLite allows it)
            text = ",".join(quote(neutralise(field)) for field in (kind, key, memo, account, currency))
        else:
            text = text[1:].replace("\x00", ",")
        append(f"{day},{transaction_id},{text},{formatter(minor)}\r\n")
    return "".join(lines)


def journal_csv(chunks: Iterable[Sequence[JournalRow]], *, bom: bool = False) -> Iterator[bytes]:
    """The journal as CSV, one encoded block per chunk of rows read (bounded memory): give it
    `journal_export.journal_chunks(...)`."""
    return csv_stream.stream_blocks(JOURNAL_HEADER, (_journal_block(chunk) for chunk in chunks), bom=bom)


def _journal_cells(rows: Iterable[JournalRow]) -> Iterator[list[object]]:
    for effective_on, transaction_id, kind, key, memo, account, currency, minor in rows:
        yield [effective_on, transaction_id, kind, key, memo, account, currency, Money(minor, currency)]


def journal_xlsx(rows: Iterable[JournalRow], target: Path | BinaryIO) -> None:
    """Sheet "Journal": the CSV's columns, typed (the amount a number with its currency's
    digits). `rows` is read once, as the sheet is written; a sheet holds at most 1,048,575 of them."""
    xlsx.write_workbook(target, [Sheet("Journal", [
        Column("date", 12), Column("transaction_id", 14), Column("kind", 16), Column("idempotency_key", 30),
        Column("memo", 50), Column("account", 30), Column("currency"), Column("amount", 18),
    ], _journal_cells(rows))])


# --- the trial balance ----------------------------------------------------------------------

TRIAL_BALANCE_HEADER = ("account", "name", "currency", "debit", "credit")


def _trial_rows(rows: Iterable[TrialBalanceRow]) -> Iterator[list[object]]:
    for row in rows:
        yield [row.code, row.name, row.currency, Money(row.debit_minor, row.currency),
               Money(row.credit_minor, row.currency)]


def trial_balance_csv(rows: Sequence[TrialBalanceRow]) -> Iterator[bytes]:
    """One row per account with a balance: its net debit or credit (the other side 0)."""
    return csv_stream.stream_rows(TRIAL_BALANCE_HEADER, _trial_rows(rows))


def trial_balance_xlsx(rows: Sequence[TrialBalanceRow], target: Path | BinaryIO) -> None:
    """Sheet "Trial balance" (as the CSV) and sheet "Totals" (debits and credits per currency)."""
    totals = trial_balance_totals(rows)
    xlsx.write_workbook(target, [
        Sheet("Trial balance", [Column("account", 40), Column("name", 40), Column("currency"),
                                Column("debit", 18), Column("credit", 18)], _trial_rows(rows)),
        Sheet("Totals", [Column("currency"), Column("debit", 18), Column("credit", 18)],
              [[cur, Money(d, cur), Money(c, cur)] for cur, (d, c) in sorted(totals.items())]),
    ])


# --- a jurisdiction's statement -------------------------------------------------------------

STATEMENT_HEADER = ("jurisdiction", "period_start", "period_end", "section", "date", "transaction_id",
                    "reference", "pool_year", "pool", "description", "currency", "amount", "of_total",
                    "share", "payable_amount", "payable_currency")


def summary(statement: JurisdictionStatement) -> list[tuple[str, Money]]:
    """The statement's totals, in the order they are shown."""
    s = statement
    return [("owed", s.owed), ("paid in", s.paid_in), ("borne", s.borne), ("owed to date", s.owed_to_date),
            ("paid in to date", s.paid_in_to_date), ("borne to date", s.borne_to_date),
            ("outstanding", s.outstanding), ("balance", s.balance)]


def _statement_rows(s: JurisdictionStatement) -> Iterator[list[object]]:
    head = [s.jurisdiction_code, s.period.start, s.period.end]

    def row(section: str, **cells: object) -> list[object]:
        # Every column after the first three, by name; those not given are empty.
        return [*head, section, *(cells.get(name) for name in STATEMENT_HEADER[4:])]

    pools = {pool.pool_id: pool for pool in s.pools}
    for pool in s.pools:
        named = {"pool_year": pool.year, "pool": pool.kind, "description": pool.name, "currency": s.currency,
                 "share": pool.share}
        yield row("owed", amount=pool.owed, of_total=pool.funded, **named)
        yield row("spent", amount=pool.borne, of_total=pool.spent, **named)
    for payment in s.payments:
        yield row("paid_in", date=payment.effective_on, transaction_id=payment.transaction_id,
                  reference=payment.idempotency_key, description=payment.memo, currency=s.currency,
                  amount=payment.amount)
    for payout in s.payouts:
        pool = pools.get(payout.pool_id) if payout.pool_id is not None else None
        yield row("borne", date=payout.effective_on, transaction_id=payout.transaction_id,
                  reference=payout.idempotency_key, pool_year=pool.year if pool else None,
                  pool=pool.kind if pool else None, description=payout.memo, currency=s.currency,
                  amount=payout.part, of_total=payout.total, payable_amount=payout.payable,
                  payable_currency=payout.payable.currency if payout.payable else None)
    for label, amount in summary(s):
        yield row("total", description=label, currency=s.currency, amount=amount)


def statement_csv(statement: JurisdictionStatement) -> Iterator[bytes]:
    """The statement as one CSV table; the `section` column says what each row is."""
    return csv_stream.stream_rows(STATEMENT_HEADER, _statement_rows(statement))


def statement_xlsx(statement: JurisdictionStatement, target: Path | BinaryIO) -> None:
    """The statement as a workbook: Summary, Pools, Payouts and Paid in sheets."""
    s = statement
    pools = {pool.pool_id: pool for pool in s.pools}
    summary_rows: list[list[object]] = [["jurisdiction", f"{s.jurisdiction_code} {s.jurisdiction_name}"],
                                        ["period start", s.period.start], ["period end", s.period.end]]
    summary_rows += [[label, amount] for label, amount in summary(s)]
    xlsx.write_workbook(target, [
        Sheet("Summary", [Column("item", 22), Column("value", 24)], summary_rows),
        Sheet("Pools", [Column("year"), Column("pool", 18), Column("name", 36),
                        Column("share", number_format=xlsx.PERCENT_FORMAT), Column("funded", 18),
                        Column("owed", 18), Column("spent", 18), Column("borne", 18)],
              [[p.year, p.kind, p.name, p.share, p.funded, p.owed, p.spent, p.borne] for p in s.pools]),
        Sheet("Payouts", [Column("date", 12), Column("transaction_id"), Column("reference", 26),
                          Column("kind"), Column("pool", 18), Column("description", 50), Column("payout", 18),
                          Column("share of payout", 18), Column("payable", 18), Column("payable currency"),
                          Column("payee account", 30)],
              [[p.effective_on, p.transaction_id, p.idempotency_key, p.kind,
                pools[p.pool_id].kind if p.pool_id in pools else None, p.memo, p.total, p.part, p.payable,
                p.payable.currency if p.payable else None, p.payee_account] for p in s.payouts]),
        Sheet("Paid in", [Column("date", 12), Column("transaction_id"), Column("reference", 26),
                          Column("description", 50), Column("amount", 18)],
              [[p.effective_on, p.transaction_id, p.idempotency_key, p.memo, p.amount] for p in s.payments]),
    ])


# --- organisation activity ------------------------------------------------------------------

# The CSV is `bounty.exports.activity`'s (the page's download and the command write one file).
activity_csv = activity_export.activity_csv


def activity_xlsx(span: Period, rows: Sequence[OrganisationActivity], target: Path | BinaryIO) -> None:
    """Sheet "Activity": the CSV's columns, typed."""
    xlsx.write_workbook(target, [Sheet("Activity", [
        Column("period_start", 12), Column("period_end", 12), Column("organisation", 36),
        Column("jurisdiction"), Column("kind"), Column("active_contributors"),
        Column("merged_merge_requests"),
        Column("approved_hours", number_format="0.00"),
    ], activity_export.rows(span, rows))])
