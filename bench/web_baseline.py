"""The baseline of `bench/web.py`: the bounty board's first page done the plain way.

A bare Flask application with one route, `GET /bounties`, that reads the same 25 rows an
anonymous visitor's board shows (open, not embargoed, newest first) with one hand-written
SQL query through psycopg 3, and renders them with a bare Jinja template: no forms, no
translations, no layout. `bench/web.py` serves it under gunicorn (`web_baseline:app`)
with the database URL in `BENCH_BASELINE_DATABASE_URL`; it is not a benchmark of its own.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from typing import Any

import psycopg
from flask import Flask
from jinja2 import Environment

PER_PAGE = 25

# What the anonymous board lists: open bounties whose category is not under embargo (or
# that were disclosed), newest first, with the EUR amount reserved for them if any. An open
# bounty has been published, so newest first is by `published_at` (the board's own order,
# publication or else creation, gives the same rows here).
BOARD_SQL = """
SELECT b.id, b.title, b.status, c.name, w.code, b.amount_minor, b.currency,
       coalesce(r.amount_minor, CASE WHEN b.currency = 'EUR' THEN b.amount_minor END),
       b.published_at
FROM bounties b
JOIN bounty_categories c ON c.id = b.category_id
LEFT JOIN working_groups w ON w.id = b.working_group_id
LEFT JOIN reservations r ON r.purpose = 'bounty' AND r.subject_id = b.id AND r.status = 'held'
WHERE b.status = 'open' AND NOT (c.is_embargoed AND b.disclosed_at IS NULL)
ORDER BY b.published_at DESC, b.id DESC
LIMIT %s
"""

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bounties</title></head>
<body><h1>Bounties</h1>
<table>
<thead><tr><th>Bounty</th><th>Category</th><th>Working group</th><th>Status</th>
<th>Amount</th><th>In euros</th><th>Published</th></tr></thead>
<tbody>
{% for row in rows %}<tr><th scope="row"><a href="/bounties/{{ row.id }}">{{ row.title }}</a></th>
<td>{{ row.category }}</td><td>{{ row.group or "none" }}</td><td>{{ row.status }}</td>
<td>{{ row.amount }}</td><td>{{ row.eur or "no rate" }}</td><td>{{ row.published }}</td></tr>
{% endfor %}</tbody>
</table></body></html>
"""

app = Flask(__name__)
# Compiled once, as Flask does for template files (render_template_string would recompile).
PAGE = Environment(autoescape=True).from_string(TEMPLATE)
_connection: psycopg.Connection[Any] | None = None


def money(minor: int | None, currency: str) -> str | None:
    """Integer minor units as "12,500.00 EUR" (two-decimal currencies only, as in the bench)."""
    if minor is None:
        return None
    return f"{minor // 100:,}.{minor % 100:02d} {currency}"


def connection() -> psycopg.Connection[Any]:
    """One connection per worker process, opened on first use, in autocommit (reads only)."""
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["BENCH_BASELINE_DATABASE_URL"], autocommit=True)
    return _connection


@app.get("/bounties")
def board() -> str:
    with connection().cursor() as cursor:
        cursor.execute(BOARD_SQL, (PER_PAGE,))
        found = cursor.fetchall()
    rows = []
    for id_, title, status, category, group, minor, currency, eur, published in found:
        moment: datetime | None = published
        rows.append({
            "id": id_, "title": title, "status": status, "category": category, "group": group,
            "amount": money(minor, currency), "eur": money(eur, "EUR"),
            "published": moment.strftime("%Y-%m-%d %H:%M") if moment else "not yet",
        })
    return PAGE.render(rows=rows)


if __name__ == "__main__":
    # `make bench` runs every script here; this one is only served by bench/web.py.
    print("bench/web_baseline.py is served by bench/web.py; nothing to run on its own")
    sys.exit(0)
