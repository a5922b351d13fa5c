"""`bounty finance`: the journal, the trial balance, jurisdiction statements and organisation
activity written to CSV or XLSX files (formats in docs/finance.md).

Files are written through a temporary name and renamed at the end, so a failed export leaves
nothing half-written; the journal is streamed, so its size does not matter. Bad input exits 2
with one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from bounty.cli.common import fail, operator, refusals_exit_2
from bounty.exports import csv_stream
from bounty.exports import statements as exports
from bounty.extensions import db
from bounty.services import activity as activity_report
from bounty.services import journal_export, statements

OUTPUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.group("finance", help=(
    "Finance files: the journal, the trial balance, jurisdiction statements, organisation activity."
))
def group() -> None:
    pass


def _date(option: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"{option} must be a date such as 2026-12-31, got {text!r}")


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        fail(f"--year: {text!r} is not a year such as 2026")


def _format(output: Path, formats: Sequence[str] = exports.FORMATS) -> str:
    try:
        return exports.format_of(output.name, formats)
    except exports.UnsupportedFormat as exc:
        fail(f"--output: {exc}")


def _write(output: Path, chunks: Iterable[bytes]) -> None:
    try:
        csv_stream.write_chunks(output, chunks)
    except OSError as exc:
        fail(f"--output: cannot write {output}: {exc.strerror or exc}")


def _write_xlsx(output: Path, build: Any, *args: Any) -> None:
    partial = output.with_name(f".{output.name}.part")
    try:
        with partial.open("wb") as out:
            build(*args, out)
        partial.replace(output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        fail(f"--output: cannot write {output}: {exc.strerror or exc}")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _period(year: str | None, start: str | None, end: str | None) -> statements.Period:
    return statements.period(_year(year), _date("--from", start), _date("--to", end))


@group.command("journal", help=(
    "Write every ledger line (date, transaction, kind, idempotency key, memo, account, currency, "
    "amount) to a CSV file, streamed: memory stays constant whatever the size of the ledger. "
    "--from/--to keep transactions effective in those days (both included)."
))
@click.option("--output", required=True, type=OUTPUT, help="The CSV file to write.")
@click.option("--from", "start", default=None, help="First day, YYYY-MM-DD.")
@click.option("--to", "end", default=None, help="Last day, YYYY-MM-DD.")
@with_appcontext
@refusals_exit_2
def journal(output: Path, start: str | None, end: str | None) -> None:
    _format(output, ("csv",))
    chunks = journal_export.journal_chunks(db.session, operator(), _date("--from", start), _date("--to", end))
    counted = _Counted(chunks)
    _write(output, exports.journal_csv(counted))
    click.echo(f"wrote {output}: {counted.rows} ledger lines")


class _Counted:
    """Passes chunks through and counts their rows."""

    def __init__(self, chunks: Iterable[Sequence[Any]]) -> None:
        self.chunks = chunks
        self.rows = 0

    def __iter__(self) -> Iterator[Sequence[Any]]:
        for chunk in self.chunks:
            self.rows += len(chunk)
            yield chunk


@group.command("trial-balance", help=(
    "Write every account's net balance on the debit or credit side to FILE.csv or FILE.xlsx "
    "(the workbook adds the totals per currency)."
))
@click.option("--output", required=True, type=OUTPUT, help="FILE.csv or FILE.xlsx.")
@click.option("--as-of", "as_of", default=None, help="Only transactions effective on or before YYYY-MM-DD.")
@with_appcontext
@refusals_exit_2
def trial_balance(output: Path, as_of: str | None) -> None:
    fmt = _format(output)
    rows = statements.trial_balance(db.session, operator(), _date("--as-of", as_of))
    if fmt == "csv":
        _write(output, exports.trial_balance_csv(rows))
    else:
        _write_xlsx(output, exports.trial_balance_xlsx, rows)
    click.echo(f"wrote {output}: {len(rows)} accounts")


@group.command("statement", help=(
    "Write a jurisdiction's statement of a year (or of --from/--to days) to FILE.csv or FILE.xlsx: "
    "what it owes into each pool by its share, what it paid in, its share of every payout, "
    "and its balance."
))
@click.option("--jurisdiction", required=True, help="EU, UK, CA or AU.")
@click.option("--year", default=None, help="The calendar year, e.g. 2026.")
@click.option("--from", "start", default=None, help="First day, YYYY-MM-DD (with --to, instead of --year).")
@click.option("--to", "end", default=None, help="Last day, YYYY-MM-DD.")
@click.option("--output", required=True, type=OUTPUT, help="FILE.csv or FILE.xlsx.")
@with_appcontext
@refusals_exit_2
def statement(jurisdiction: str, year: str | None, start: str | None, end: str | None, output: Path) -> None:
    fmt = _format(output)
    data = statements.jurisdiction_statement(db.session, operator(), jurisdiction, _period(year, start, end))
    if fmt == "csv":
        _write(output, exports.statement_csv(data))
    else:
        _write_xlsx(output, exports.statement_xlsx, data)
    click.echo(f"wrote {output}: {data.jurisdiction_code} {data.period.label()}, owed {data.owed}, "
               f"paid in {data.paid_in}, borne {data.borne} in {len(data.payouts)} payouts, "
               f"balance {data.balance}")


@group.command("activity", help=(
    "Organisation activity of a year (or of --from/--to days) for the fast-track procurement "
    "bonus: active contributors, merged DCO-clean merge requests, approved hours. Printed as a "
    "table, or written to FILE.csv or FILE.xlsx with --output."
))
@click.option("--year", default=None, help="The calendar year, e.g. 2026.")
@click.option("--from", "start", default=None, help="First day, YYYY-MM-DD (with --to, instead of --year).")
@click.option("--to", "end", default=None, help="Last day, YYYY-MM-DD.")
@click.option("--output", default=None, type=OUTPUT, help="FILE.csv or FILE.xlsx.")
@click.option("--all", "show_all", is_flag=True, help="In the table, list inactive organisations too.")
@with_appcontext
@refusals_exit_2
def activity(year: str | None, start: str | None, end: str | None, output: Path | None,
             show_all: bool) -> None:
    fmt = _format(output) if output is not None else None
    span = _period(year, start, end)
    rows = activity_report.organisation_activity(db.session, operator(), span)
    if output is None:
        click.echo(_activity_table(span, [r for r in rows if show_all or r.active_contributors]))
    elif fmt == "csv":
        _write(output, exports.activity_csv(span, rows))
        click.echo(f"wrote {output}: {len(rows)} organisations, {span.label()}")
    else:
        _write_xlsx(output, exports.activity_xlsx, span, rows)
        click.echo(f"wrote {output}: {len(rows)} organisations, {span.label()}")


def _activity_table(span: statements.Period, rows: list[activity_report.OrganisationActivity]) -> str:
    if not rows:
        return f"no organisation activity in {span.label()}"
    body = [(r.name, r.jurisdiction_code or "", str(r.active_contributors), str(r.merged_merge_requests),
             str(r.approved_hours)) for r in rows]
    header = ("organisation", "jur", "contributors", "merged MRs", "hours")
    widths = [max(len(header[i]), *(len(row[i]) for row in body)) for i in range(len(header))]
    lines = [f"Organisation activity, {span.label()}"]
    for row in (header, *body):
        lines.append("  ".join(cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i])
                               for i, cell in enumerate(row)).rstrip())
    return "\n".join(lines)
