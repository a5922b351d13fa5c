"""The professional-development statement as CSV, for spreadsheets and scripts.

It does not depend on the reader's language: one row per approved entry, fixed English
column names, activity codes, ISO dates, hours with a dot and two decimals, UTF-8. Text
cells are neutralised against CSV injection like every export (`csv_stream.neutralise`).
The PDF of the same statement is `bounty.reports.hours_statement`.
"""

from __future__ import annotations

from collections.abc import Iterator

from bounty.exports.csv_stream import stream_rows
from bounty.services.hours_statement import HoursStatement

CSV_COLUMNS = (
    "username", "display_name", "year", "worked_on", "month", "activity", "working_group",
    "working_group_name", "hours", "description", "merge_request_url", "signed_off_by",
    "signed_off_by_name", "signed_off_at",
)


def _rows(statement: HoursStatement) -> Iterator[tuple[object, ...]]:
    for line in statement.lines:
        yield (
            statement.username, statement.display_name, str(statement.year), line.worked_on,
            f"{line.worked_on.month:02d}", line.activity, line.working_group_code, line.working_group_name,
            f"{line.hours:.2f}", line.description, line.merge_request_url, line.reviewer_username,
            line.reviewer_name,
            line.reviewed_at.strftime("%Y-%m-%dT%H:%M:%SZ") if line.reviewed_at else None,
        )


def statement_csv(statement: HoursStatement) -> bytes:
    """The statement's approved entries as UTF-8 CSV (one row each, header first)."""
    return b"".join(stream_rows(CSV_COLUMNS, _rows(statement)))
