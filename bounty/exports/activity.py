"""Organisation activity of a period as CSV: one row per organisation, in the service's order.

The columns are those of `bounty finance activity --output FILE.csv` (docs/finance.md,
docs/activity.md). Cells go through `csv_stream`, so an organisation name beginning with a
formula character is written with a leading apostrophe (CSV injection); numbers and days
are produced here and written as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bounty.exports import csv_stream
from bounty.services.activity import OrganisationActivity
from bounty.services.statements import Period

HEADER = ("period_start", "period_end", "organisation", "jurisdiction", "kind",
          "active_contributors", "merged_merge_requests", "approved_hours")


def rows(span: Period, activity: Iterable[OrganisationActivity]) -> Iterator[list[object]]:
    """The cells of each row, typed (days, text, integers, hours as a Decimal)."""
    for row in activity:
        yield [span.start, span.end, row.name, row.jurisdiction_code, row.kind,
               row.active_contributors, row.merged_merge_requests, row.approved_hours]


def activity_csv(span: Period, activity: Iterable[OrganisationActivity]) -> Iterator[bytes]:
    """The file, as UTF-8 chunks to stream: the header, then one line per organisation."""
    return csv_stream.stream_rows(HEADER, rows(span, activity))


def filename(span: Period) -> str:
    """"organisation-activity-2026.csv", or "organisation-activity-2026-01-01-to-2026-06-30.csv"."""
    return f"organisation-activity-{span.label().replace(' ', '-')}.csv"
