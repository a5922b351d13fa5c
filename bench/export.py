"""Streaming the journal as CSV against PostgreSQL's own COPY of the same rows.

On a fresh PostgreSQL schema (migrated, dropped at the end) it loads N ledger lines (default
1,000,000: N/2 balanced two-line transactions over a year, memos some of which begin with a
formula character, amounts in EUR, GBP and JPY) with COPY FROM, then in alternating rounds:

- exporter: `journal_export.journal_chunks` (SQLAlchemy session, server-side cursor, yield_per)
  through `exports.statements.journal_csv` (neutralised text, amounts with the currency's
  digits, ISO dates) written to --output (default /dev/null);
- copy: psycopg 3 `COPY (SELECT ...) TO STDOUT WITH (FORMAT csv, HEADER)` of the journal's
  own SELECT (the same rows, columns and order, amounts as minor units), written to the same
  place.

Each side runs in a subprocess of its own, so each peak RSS (VmHWM) is its own. Prints rows/s,
peak memory, the ratio exporter / copy (target at least 0.25) and whether the exporter's
peak memory is under 200 MB.

    python bench/export.py [--lines 1000000] [--rounds 2] [--chunk 5000] [--output /dev/null]
                           [--url postgresql://...] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

import psycopg
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from bounty.exports.statements import journal_csv
from bounty.ledger.entries import lines_digest
from bounty.models import migrate
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import journal_export
from bounty.services.actors import SYSTEM

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
TARGET_RATIO = 0.25
TARGET_PEAK_MB = 200
ACCOUNTS = [  # (code, kind, normal side, currency)
    *((f"bench:cash:{n}", "asset", "debit", "EUR") for n in range(8)),
    *((f"bench:fund:{n}", "equity", "credit", "EUR") for n in range(8)),
    ("bench:cash:gbp", "asset", "debit", "GBP"), ("bench:fund:gbp", "equity", "credit", "GBP"),
    ("bench:cash:jpy", "asset", "debit", "JPY"), ("bench:fund:jpy", "equity", "credit", "JPY"),
]
# What services write (one in 50 memos hostile or needing quotes, taking the careful path).
MEMOS = [*(f"bounty {n} approved: Fix VPC load balancer health checks" for n in range(24)),
         *(f"grant {n} tranche 2 signed off: Release 1.0" for n in range(24)),
         "=HYPERLINK(\"http://example.org\",\"x\")", "payment, with \"quotes\""]


def with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def current_rss_mb() -> float:
    """This process's resident set now (VmRSS), in MB: the interpreter and its imports."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def load(url: str, lines: int) -> None:
    """N ledger lines by COPY FROM: N/2 two-line transactions, each balanced in its currency."""
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        with cursor.copy("COPY ledger_accounts (code, name, kind, normal_side, currency, "
                         "is_negative_allowed, created_at) FROM STDIN") as copy:
            for code, kind, side, currency in ACCOUNTS:
                copy.write_row((code, code, kind, side, currency, True, datetime.now(UTC)))
        cursor.execute("SELECT code, id FROM ledger_accounts")
        ids = dict(cursor.fetchall())
        start, now = date(2026, 1, 1), datetime.now(UTC)
        pairs = [(f"bench:cash:{n}", f"bench:fund:{n}", "EUR") for n in range(8)]
        pairs += [("bench:cash:gbp", "bench:fund:gbp", "GBP"), ("bench:cash:jpy", "bench:fund:jpy", "JPY")]
        count = lines // 2
        with cursor.copy("COPY ledger_transactions (id, idempotency_key, kind, memo, effective_on, "
                         "posted_at, lines_digest) FROM STDIN") as copy:
            for n in range(1, count + 1):
                debit, credit, currency = pairs[n % len(pairs)]
                amount = 1 + n * 7919 % 10_000_000
                digest = lines_digest([(debit, currency, amount), (credit, currency, -amount)])
                copy.write_row((n, f"bench:{n}", "bench", MEMOS[n % len(MEMOS)],
                                start + timedelta(days=n * 365 // (count + 1)), now, digest))
        with cursor.copy("COPY ledger_lines (id, transaction_id, account_id, currency, amount_minor) "
                         "FROM STDIN") as copy:
            for n in range(1, count + 1):
                debit, credit, currency = pairs[n % len(pairs)]
                amount = 1 + n * 7919 % 10_000_000
                copy.write_row((2 * n - 1, n, ids[debit], currency, amount))
                copy.write_row((2 * n, n, ids[credit], currency, -amount))
        for table in ("ledger_transactions", "ledger_lines"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT max(id) FROM {table}))")
        connection.commit()
        connection.autocommit = True
        cursor.execute("VACUUM ANALYZE ledger_transactions")
        cursor.execute("VACUUM ANALYZE ledger_lines")


def copy_sql() -> str:
    """The journal's own SELECT, as PostgreSQL runs it for the exporter."""
    compiled = journal_export.journal_query().compile(dialect=postgresql.dialect(),
                                                  compile_kwargs={"literal_binds": True})
    return f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv, HEADER)"


def side_exporter(url: str, output: str, chunk: int, profile: bool) -> dict[str, object]:
    engine = make_engine(url)
    session = make_sessionmaker(engine)()
    written = 0
    before = current_rss_mb()
    profiler = cProfile.Profile() if profile else None
    began = time.perf_counter()
    if profiler:
        profiler.enable()
    counted: list[int] = []
    with open(output, "wb") as out:
        chunks = journal_export.journal_chunks(session, SYSTEM, chunk_size=chunk)
        for block in journal_csv(_counting(chunks, counted)):
            out.write(block)
            written += len(block)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - began
    rows = sum(counted)
    session.close()
    engine.dispose()
    result: dict[str, object] = {"rows": rows, "bytes": written, "seconds": seconds, "peak_mb": peak_rss_mb(),
                                 "before_mb": before}
    if profiler:
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(20)
        result["profile"] = buffer.getvalue()
    return result


def _counting(chunks: Iterable[Sequence[object]], counted: list[int]) -> Iterator[Sequence[object]]:
    for chunk in chunks:
        counted.append(len(chunk))
        yield chunk


# The COPY side runs in a bare interpreter with psycopg only, so its peak memory is COPY's own.
COPY_SIDE = """
import json, sys, time, psycopg
url, output, sql = sys.argv[1:4]
written = 0
began = time.perf_counter()
with psycopg.connect(url) as connection, connection.cursor() as cursor, open(output, "wb") as out:
    with cursor.copy(sql) as copy:
        for block in copy:
            out.write(block)
            written += len(block)
seconds = time.perf_counter() - began
with open("/proc/self/status", encoding="ascii") as status:
    peak = next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
print(json.dumps({"bytes": written, "seconds": seconds, "peak_mb": peak}))
"""


def run_side(side: str, url: str, args: argparse.Namespace) -> dict[str, object]:
    if side == "copy":
        command = [sys.executable, "-c", COPY_SIDE, url, args.output, copy_sql()]
    else:
        command = [sys.executable, __file__, "--side", side, "--schema-url", url, "--output", args.output,
                   "--chunk", str(args.chunk)]
        if args.profile:
            command.append("--profile")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{side} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="ledger lines (default 1000000)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per side (default 2)")
    parser.add_argument("--chunk", type=int, default=journal_export.JOURNAL_CHUNK, help="rows per fetch")
    parser.add_argument("--output", default=os.devnull, help="where both sides write (default /dev/null)")
    parser.add_argument("--url", default=os.environ.get("BOUNTY_BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--profile", action="store_true", help="cProfile the exporter (last round)")
    parser.add_argument("--side", choices=["exporter"], help=argparse.SUPPRESS)
    parser.add_argument("--schema-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side == "exporter":
        print(json.dumps(side_exporter(args.schema_url, args.output, args.chunk, args.profile)))
        return 0
    if args.lines < 2 or args.rounds < 1:
        parser.error("--lines must be at least 2 and --rounds at least 1")

    schema = f"bench_export_{uuid.uuid4().hex[:10]}"
    admin = make_engine(args.url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = with_search_path(args.url, schema)
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        began = time.perf_counter()
        load(url, args.lines)
        lines = args.lines // 2 * 2
        print(f"journal export benchmark: PostgreSQL {args.url}, schema {schema}")
        print(f"loaded {lines} ledger lines ({lines // 2} transactions) in "
              f"{time.perf_counter() - began:.1f} s; output {args.output}, {args.rounds} alternating rounds, "
              f"{args.chunk} rows per fetch")
        best: dict[str, dict[str, object]] = {}
        for number in range(1, args.rounds + 1):
            for side in ("copy", "exporter"):
                args.profile = args.profile and number == args.rounds
                result = run_side(side, url, args)
                if side == "exporter" and result["rows"] != lines:
                    raise SystemExit(f"exporter wrote {result['rows']} rows, expected {lines}")
                print(f"  round {number}: {side:8s} {lines / float(result['seconds']):10.0f} rows/s  "
                      f"{float(result['seconds']):6.2f} s  {int(result['bytes']) / 1e6:7.1f} MB written  "
                      f"peak RSS {float(result['peak_mb']):6.1f} MB")
                if side not in best or float(result["seconds"]) < float(best[side]["seconds"]):
                    best[side] = result
        rates = {side: lines / float(result["seconds"]) for side, result in best.items()}
        peak = float(best["exporter"]["peak_mb"])
        ratio = rates["exporter"] / rates["copy"]
        print(f"copy (COPY ... TO STDOUT, psycopg 3):   {rates['copy']:10.0f} rows/s, "
              f"peak RSS {float(best['copy']['peak_mb']):.1f} MB")
        print(f"exporter (journal_chunks + journal_csv): {rates['exporter']:10.0f} rows/s, "
              f"peak RSS {peak:.1f} MB ({float(best['exporter']['before_mb']):.1f} MB before the first row: "
              "the interpreter and the application's imports)")
        print(f"ratio exporter / copy: {ratio:.2f} (target >= {TARGET_RATIO}: "
              f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})")
        print(f"exporter peak memory: {peak:.1f} MB (target < {TARGET_PEAK_MB} MB: "
              f"{'met' if peak < TARGET_PEAK_MB else 'NOT met'})")
        if "profile" in best["exporter"]:
            print(best["exporter"]["profile"])
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
