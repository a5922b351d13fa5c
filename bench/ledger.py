"""Posting throughput of the ledger service against plain psycopg doing the same inserts.

On a fresh PostgreSQL schema (migrated, dropped at the end) it posts N balanced two-line
transactions through `bounty.services.journal.post_once`, one database transaction each,
and the same N transactions with psycopg 3 and hand-written SQL: the `ledger_transactions`
row (RETURNING id), its two `ledger_lines` rows, COMMIT, with the same columns filled. The
two alternate in rounds so machine noise falls on both. Prints both rates and their ratio
(service / baseline); the target is at least 0.5.

    python bench/ledger.py [--n 20000] [--rounds 4] [--url postgresql://...] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from sqlalchemy import event, text

from bounty.ledger import EntryDraft, Money, TransactionDraft
from bounty.ledger.entries import lines_digest
from bounty.models import migrate
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import journal

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
TARGET_RATIO = 0.5
DEBIT, CREDIT = "bench:cash", "bench:fund"
AMOUNT = 1_250  # EUR 12.50 from the fund to cash, every time

TRANSACTION_SQL = (
    "INSERT INTO ledger_transactions (idempotency_key, kind, memo, effective_on, posted_at, "
    "actor_id, reverses_id, lines_digest) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)
LINES_SQL = (
    "INSERT INTO ledger_lines (transaction_id, account_id, currency, amount_minor, rate_id, "
    "original_minor, original_currency) VALUES (%s, %s, %s, %s, %s, %s, %s), "
    "(%s, %s, %s, %s, %s, %s, %s)"
)


def with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def draft(key: str) -> TransactionDraft:
    return TransactionDraft(
        kind="bench",
        memo="benchmark posting",
        entries=[
            EntryDraft(DEBIT, Money(AMOUNT, "EUR")),
            EntryDraft(CREDIT, Money(-AMOUNT, "EUR")),
        ],
        idempotency_key=key,
    )


class ServiceRun:
    """Posts through the service layer: SQLAlchemy session, one commit per transaction.

    Counts what it sends (statements, commits, pool checkouts, each checkout pinging the
    server), a figure machine noise does not move.
    """

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.session = make_sessionmaker(self.engine)()
        journal.ensure_account(self.session, DEBIT, "Benchmark cash", "asset", "EUR")
        journal.ensure_account(self.session, CREDIT, "Benchmark fund", "equity", "EUR")
        self.session.commit()
        self.counts = {"statements": 0, "commits": 0, "checkouts": 0}
        event.listen(self.engine, "before_cursor_execute", self._count("statements"))
        event.listen(self.engine, "commit", self._count("commits"))
        event.listen(self.engine.pool, "checkout", self._count("checkouts"))

    def _count(self, what: str) -> Callable[..., None]:
        def listener(*_args: object) -> None:
            self.counts[what] += 1

        return listener

    def run(self, keys: list[str]) -> None:
        for key in keys:
            posted = journal.post_once(self.session, draft(key))
            assert posted.created

    def close(self) -> None:
        self.session.close()
        self.engine.dispose()


class BaselineRun:
    """The same rows with psycopg 3 and hand-written SQL: two statements and a commit."""

    def __init__(self, url: str) -> None:
        self.connection = psycopg.connect(url)
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT code, id FROM ledger_accounts WHERE code IN (%s, %s)", (DEBIT, CREDIT)
            )
            self.account_ids = dict(cursor.fetchall())
        self.connection.commit()

    def run(self, keys: list[str]) -> None:
        debit_id, credit_id = self.account_ids[DEBIT], self.account_ids[CREDIT]
        digest = lines_digest([(DEBIT, "EUR", AMOUNT), (CREDIT, "EUR", -AMOUNT)])
        connection = self.connection
        for key in keys:
            now = datetime.now(UTC)
            with connection.cursor() as cursor:
                cursor.execute(
                    TRANSACTION_SQL,
                    (key, "bench", "benchmark posting", now.date(), now, None, None, digest),
                )
                row = cursor.fetchone()
                assert row is not None
                transaction_id = row[0]
                cursor.execute(
                    LINES_SQL,
                    (
                        transaction_id,
                        debit_id,
                        "EUR",
                        AMOUNT,
                        None,
                        None,
                        None,
                        transaction_id,
                        credit_id,
                        "EUR",
                        -AMOUNT,
                        None,
                        None,
                        None,
                    ),
                )
            connection.commit()

    def close(self) -> None:
        self.connection.close()


def timed(work: Callable[[list[str]], None], keys: list[str]) -> tuple[float, float]:
    """Wall-clock and this process's CPU seconds spent on `work`."""
    start, cpu = time.perf_counter(), time.process_time()
    work(keys)
    return time.perf_counter() - start, time.process_time() - cpu


def check_ledger(url: str, expected: int) -> None:
    """Both runs wrote what they claim: every transaction with two lines, all balanced."""
    engine = make_engine(url)
    with engine.connect() as connection:
        transactions = connection.execute(
            text("SELECT count(*) FROM ledger_transactions")
        ).scalar_one()
        lines, total = connection.execute(
            text("SELECT count(*), coalesce(sum(amount_minor), 0) FROM ledger_lines")
        ).one()
    engine.dispose()
    if (transactions, lines, total) != (expected, 2 * expected, 0):
        raise SystemExit(
            f"ledger check failed: {transactions} transactions, {lines} lines, sum {total}"
        )


def profile_service(service: ServiceRun, count: int) -> str:
    keys = [f"profile-{i}" for i in range(count)]
    profiler = cProfile.Profile()
    profiler.runcall(service.run, keys)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, default=20_000, help="transactions per side (default 20000)"
    )
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds (default 4)")
    parser.add_argument("--url", default=os.environ.get("BOUNTY_BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--profile", action="store_true", help="also cProfile the service")
    args = parser.parse_args(argv)
    if args.n < args.rounds or args.rounds < 1:
        parser.error("--n must be at least --rounds, and --rounds at least 1")

    schema = f"bench_ledger_{uuid.uuid4().hex[:10]}"
    admin = make_engine(args.url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = with_search_path(args.url, schema)
    service = baseline = None
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        service, baseline = ServiceRun(url), BaselineRun(url)
        per_round = args.n // args.rounds
        sizes = [per_round] * args.rounds
        sizes[-1] += args.n - per_round * args.rounds
        wall = {"baseline": 0.0, "service": 0.0}
        cpu = {"baseline": 0.0, "service": 0.0}
        print(f"ledger posting benchmark: PostgreSQL {args.url}, schema {schema}")
        print(f"{args.n} two-line transactions per side, {args.rounds} alternating rounds")
        for number, size in enumerate(sizes, start=1):
            rates = {}
            for side, runner in (("baseline", baseline), ("service", service)):
                seconds, cpu_seconds = timed(
                    runner.run, [f"{side}-{number}-{i}" for i in range(size)]
                )
                wall[side] += seconds
                cpu[side] += cpu_seconds
                rates[side] = size / seconds
            print(
                f"  round {number}: baseline {rates['baseline']:8.0f} tx/s   "
                f"service {rates['service']:8.0f} tx/s"
            )
        check_ledger(url, 2 * args.n)
        baseline_rate, service_rate = args.n / wall["baseline"], args.n / wall["service"]
        ratio = service_rate / baseline_rate
        for label, side, rate in (
            ("baseline (psycopg 3, plain SQL)", "baseline", baseline_rate),
            ("service (journal.post_once)", "service", service_rate),
        ):
            print(
                f"{label + ':':33s}{rate:8.0f} tx/s  ({wall[side]:.2f} s wall, "
                f"{1000 * cpu[side] / args.n:.2f} ms client CPU per transaction)"
            )
        print(
            f"ratio service / baseline: {ratio:.2f} (target >= {TARGET_RATIO}: "
            f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})"
        )
        per = {what: count / args.n for what, count in service.counts.items()}
        print(
            f"per transaction: service {per['statements']:.0f} statements + "
            f"{per['commits']:.0f} commit, {per['checkouts']:.0f} pool checkout (pre-ping); "
            "baseline 2 statements + 1 commit"
        )
        if args.profile:
            print(profile_service(service, min(args.n, 5_000)))
    finally:
        if service is not None:
            service.close()
        if baseline is not None:
            baseline.close()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
