"""The year leaderboard (top 100) through the service against one hand-written SQL GROUP BY.

On a fresh PostgreSQL schema (migrated, reference data seeded, dropped at the end) it loads,
with INSERT ... SELECT generate_series (seeded random, the same data every run):

- N people (default 50,000) in the four jurisdictions, a third in one of 200 organisations,
  half listed by name, one in 250 merged into another;
- M merged merge requests (default 1,000,000) over 2024-2026 in 40 projects, credited with a
  skewed distribution (a few people merge much), 5% unlinked, 5% unsigned, 5% unchecked;
- L ledger lines (default 200,000): approved EUR bounties, each with its claim, two reviews,
  reservation, reserve transaction (2 lines) and payable transaction (5 lines), one in 20 of
  them clawed back (a 5-line reversal);
- H hours entries (default 200,000; 80% approved, 10% pending, 10% rejected) and 2,000
  signed-off grant tranches; the score weights of seed/scoring.toml.

Then, alternating for --rounds rounds, the median of each counting:

- service: `leaderboards.leaderboard(session, parse_period(<year>), limit=100)` (the weights
  read, the awards looked up, the ranking query, the rows built);
- baseline: one hand-written SQL statement (psycopg 3): the metrics per person by GROUP BY,
  joined per person, the score from the weights, the same order and LIMIT 100.

Before timing, both must give the same 100 rows in the same order (every metric, the score and
reached_at): an assertion, not a measurement. Prints both times, the ratio service / baseline
(target at most 2) and whether the service's median is under 500 ms. The leaderboard's partial
indexes (`INDEXES`, made by migration 20261122_0006) are dropped with --no-indexes, to measure
what they are worth.

    python bench/leaderboard.py [--people 50000] [--mrs 1000000] [--lines 200000] [--hours 200000]
                                [--year 2026] [--rounds 7] [--no-indexes] [--explain] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from decimal import Decimal

import psycopg
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from bounty.models import migrate
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import leaderboards
from bounty.services.actors import SYSTEM
from bounty.services.seed import seed_reference

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
TARGET_RATIO = 2.0
TARGET_MS = 500
WEIGHTS = {"merged_mrs": "10", "earnings_eur": "0.01", "approved_hours": "1", "reviews_given": "3",
           "awards_won": "100"}
# The leaderboard's partial indexes (migration 20261122_0006): the year's DCO-clean merges read
# from the index alone; approved hours and approved claims by date.
INDEXES = ["ix_merge_requests_dco_merged_at_person_id", "ix_hours_entries_approved_worked_on",
           "ix_claims_approved_decided_at"]


def with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def load(url: str, people: int, mrs: int, lines: int, hours: int) -> dict[str, int]:
    """The dataset (see the module docstring); returns the row counts."""
    approvals = lines * 20 // 145  # 7 lines each, plus 5 for one in 20 clawed back
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute("SELECT array_agg(id ORDER BY code) FROM working_groups")
        groups = cursor.fetchone()[0]
        cursor.execute("SELECT id FROM bounty_categories WHERE code = 'bug_fix'")
        category = cursor.fetchone()[0]
        cursor.execute("SELECT id FROM pools ORDER BY year DESC, kind LIMIT 1")
        pool = cursor.fetchone()[0]
        # Transactions after those the seed posted (funding its pools).
        cursor.execute("SELECT coalesce(max(id), 0) FROM ledger_transactions")
        tx = cursor.fetchone()[0]
        params = {"people": people, "mrs": mrs, "approvals": approvals, "hours": hours, "grants": GRANTS,
                  "groups": groups, "category": category, "pool": pool, "tx": tx}
        for statement in LOAD:
            cursor.execute(statement, params)
        for metric, weight in WEIGHTS.items():
            cursor.execute("INSERT INTO score_weights (metric, weight) VALUES (%s, %s) ON CONFLICT (metric) "
                           "DO UPDATE SET weight = EXCLUDED.weight", (metric, Decimal(weight)))
        for table in ("organisations", "people", "bounties", "claims", "reservations", "ledger_transactions",
                      "grants"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT max(id) FROM {table}))")
        cursor.execute("SELECT count(*) FROM ledger_lines WHERE transaction_id > %s", (tx,))
        counted = {"ledger lines": cursor.fetchone()[0], "approved bounties": approvals}
        connection.commit()
    return counted


GRANTS = 2000
# Parameterised (psycopg): `%%` is SQL's modulo.
LOAD = [
    """INSERT INTO organisations (id, name, jurisdiction_code, kind, created_at)
       SELECT g, 'Organisation ' || g, (ARRAY['EU','UK','CA','AU'])[1 + g %% 4], 'supplier', now()
       FROM generate_series(1, 200) g""",
    """INSERT INTO people (id, keycloak_subject, username, display_name, email, jurisdiction_code,
                           organisation_id, roles, is_public_listing, created_at, merged_into_id)
       SELECT g, 'kc-' || g, 'user' || lpad(g::text, 6, '0'), 'User ' || g, 'user' || g || '@example.org',
              (ARRAY['EU','UK','CA','AU'])[1 + g %% 4], CASE WHEN g %% 3 = 0 THEN 1 + g %% 200 END,
              '["contributor"]', g %% 2 = 0, now(), CASE WHEN g %% 250 = 0 THEN g - 1 END
       FROM generate_series(1, %(people)s) g""",
    """INSERT INTO merge_requests (gitlab_project_id, project_path, iid, title, description, web_url,
                                   author_username, person_id, merged_at, gitlab_updated_at, is_dco_ok,
                                   synced_at)
       SELECT 1 + g %% 40, 'group/project-' || (1 + g %% 40), g, 'Change ' || g, '',
              'https://gitlab.example.org/group/project-' || (1 + g %% 40) || '/-/merge_requests/' || g,
              'author' || g,
              CASE WHEN g %% 20 = 3 THEN NULL ELSE 1 + floor(power(random(), 3) * %(people)s)::int END,
              at, at, CASE g %% 20 WHEN 1 THEN false WHEN 2 THEN NULL ELSE true END, at
       FROM (SELECT g, timestamptz '2024-01-01 00:00:00+00' + random() * interval '1096 days' AS at
             FROM generate_series(1, %(mrs)s) g) s""",
    # Approved bounties: bounty, claim, two reviews, reservation, reserve (2 lines) and payable
    # (5 lines) transactions; accounts of the pool, two members' borne parts, each payee's payable.
    """INSERT INTO ledger_accounts (code, name, kind, normal_side, currency, is_negative_allowed,
                                    created_at)
       VALUES ('bench:available', 'available', 'equity', 'credit', 'EUR', true, now()),
              ('bench:reserved', 'reserved', 'equity', 'credit', 'EUR', true, now()),
              ('bench:spent', 'spent', 'equity', 'credit', 'EUR', true, now()),
              ('bench:borne:EU', 'borne EU', 'expense', 'debit', 'EUR', true, now()),
              ('bench:borne:UK', 'borne UK', 'expense', 'debit', 'EUR', true, now())""",
    """CREATE TEMP TABLE approvals AS
       SELECT g, 1 + floor(power(random(), 2) * %(people)s)::int AS person_id,
              (50 + floor(random() * 5000)::int) * 100 + floor(random() * 100)::int AS amount,
              timestamptz '2024-01-01 00:00:00+00' + random() * interval '1096 days' AS decided_at
       FROM generate_series(1, %(approvals)s) g""",
    """INSERT INTO ledger_accounts (code, name, kind, normal_side, currency, person_id,
                                    is_negative_allowed, created_at)
       SELECT DISTINCT 'payable:person:' || person_id || ':EUR', 'payable', 'liability', 'credit', 'EUR',
              person_id, true, now() FROM approvals""",
    """INSERT INTO bounties (id, title, description, category_id, working_group_id, pool_id,
                             amount_minor, currency, status, claim_hours, published_at, created_at)
       SELECT g, 'Bounty ' || g, '', %(category)s, (%(groups)s::bigint[])[1 + g %% 8], %(pool)s,
              amount, 'EUR', 'approved', 336, decided_at - interval '20 days', decided_at - interval '20 days'
       FROM approvals""",
    """INSERT INTO claims (id, bounty_id, person_id, status, claimed_at, expires_at, submitted_at,
                           decided_at)
       SELECT g, g, person_id, 'approved', decided_at - interval '10 days',
              decided_at + interval '4 days', decided_at - interval '2 days', decided_at FROM approvals""",
    """INSERT INTO reviews (claim_id, reviewer_id, verdict, comment, reviewer_jurisdiction_code,
                            is_security_council, created_at)
       SELECT g, 1 + (g * 31) %% %(people)s, 'approve', '', 'EU', false, decided_at FROM approvals
       UNION ALL
       SELECT g, 1 + (g * 37 + 1) %% %(people)s, 'approve', '', 'UK', false, decided_at FROM approvals""",
    """INSERT INTO ledger_transactions (id, idempotency_key, kind, memo, effective_on, posted_at,
                                        lines_digest)
       SELECT %(tx)s + 2 * g - 1, 'reserve:bounty:' || g || ':1', 'reservation', 'reserve',
              decided_at::date, decided_at, 'bench' FROM approvals
       UNION ALL
       SELECT %(tx)s + 2 * g, 'approve:claim:' || g, 'payable', 'approved', decided_at::date, decided_at,
              'bench' FROM approvals""",
    """INSERT INTO ledger_transactions (id, idempotency_key, kind, memo, effective_on, posted_at,
                                        lines_digest, reverses_id)
       SELECT %(tx)s + 2 * %(approvals)s + g, 'payout:clawback:' || g, 'reversal', 'claw-back',
              decided_at::date, decided_at + interval '30 days', 'bench', %(tx)s + 2 * g
       FROM approvals WHERE g %% 20 = 0""",
    """INSERT INTO reservations (id, pool_id, purpose, subject_id, amount_minor, currency, status,
                                 reserve_transaction_id, close_transaction_id, created_at, closed_at)
       SELECT g, %(pool)s, 'bounty', g, amount, 'EUR', 'consumed', %(tx)s + 2 * g - 1, %(tx)s + 2 * g,
              decided_at - interval '20 days', decided_at FROM approvals""",
    """WITH acc AS (SELECT code, id FROM ledger_accounts),
       clawed AS (SELECT * FROM approvals WHERE g %% 20 = 0),
       legs AS (
           SELECT %(tx)s + 2 * g - 1 AS tx, 'bench:available' AS code, amount AS minor FROM approvals
           UNION ALL SELECT %(tx)s + 2 * g - 1, 'bench:reserved', -amount FROM approvals
           UNION ALL SELECT %(tx)s + 2 * g, 'bench:reserved', amount FROM approvals
           UNION ALL SELECT %(tx)s + 2 * g, 'payable:person:' || person_id || ':EUR', -amount FROM approvals
           UNION ALL SELECT %(tx)s + 2 * g, 'bench:borne:EU', amount / 2 FROM approvals
           UNION ALL SELECT %(tx)s + 2 * g, 'bench:borne:UK', amount - amount / 2 FROM approvals
           UNION ALL SELECT %(tx)s + 2 * g, 'bench:spent', -amount FROM approvals
           UNION ALL SELECT %(tx)s + 2 * %(approvals)s + g, 'bench:reserved', -amount FROM clawed
           UNION ALL SELECT %(tx)s + 2 * %(approvals)s + g, 'payable:person:' || person_id || ':EUR', amount
                     FROM clawed
           UNION ALL SELECT %(tx)s + 2 * %(approvals)s + g, 'bench:borne:EU', -(amount / 2) FROM clawed
           UNION ALL SELECT %(tx)s + 2 * %(approvals)s + g, 'bench:borne:UK', -(amount - amount / 2)
                     FROM clawed
           UNION ALL SELECT %(tx)s + 2 * %(approvals)s + g, 'bench:spent', amount FROM clawed)
       INSERT INTO ledger_lines (transaction_id, account_id, currency, amount_minor)
       SELECT legs.tx, acc.id, 'EUR', legs.minor FROM legs JOIN acc ON acc.code = legs.code""",
    """INSERT INTO hours_entries (person_id, worked_on, quarter_hours, activity, working_group_id,
                                  description, status, reviewer_id, reviewed_at, review_comment, created_at)
       SELECT person_id, day, 1 + g %% 32, 'code', (%(groups)s::bigint[])[1 + g %% 8], '', status,
              CASE WHEN status <> 'pending' THEN 1 + (g * 13) %% %(people)s END,
              CASE WHEN status <> 'pending' THEN day + interval '36 hours' END, '', day
       FROM (SELECT g, 1 + floor(power(random(), 2) * %(people)s)::int AS person_id,
                    date '2024-01-01' + floor(random() * 1096)::int AS day,
                    CASE WHEN g %% 10 = 0 THEN 'pending' WHEN g %% 10 = 1 THEN 'rejected'
                         ELSE 'approved' END AS status
             FROM generate_series(1, %(hours)s) g) s""",
    """INSERT INTO grants (id, title, description, grantee_person_id, pool_id, currency, total_minor,
                           status, created_at)
       SELECT g, 'Grant ' || g, '', 1 + (g * 7) %% %(people)s, %(pool)s, 'EUR', 500000, 'active', now()
       FROM generate_series(1, %(grants)s) g""",
    """INSERT INTO tranches (grant_id, position, milestone, due_on, amount_minor, status,
                             signed_off_by_id, signed_off_at)
       SELECT g, 1, 'Milestone', date '2027-01-01', 500000, 'signed_off', 1 + (g * 11) %% %(people)s,
              timestamptz '2024-01-01 00:00:00+00' + random() * interval '1096 days'
       FROM generate_series(1, %(grants)s) g""",
]


def analyse(url: str, indexes: bool) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        if not indexes:
            for name in INDEXES:
                connection.execute(f"DROP INDEX {name}")
        connection.execute("VACUUM ANALYZE")


# The baseline: each metric by GROUP BY, joined per person; the score from the stored weights.
BASELINE = """
WITH w AS (
    SELECT coalesce(max(weight) FILTER (WHERE metric = 'merged_mrs'), 0) AS mr,
           coalesce(max(weight) FILTER (WHERE metric = 'earnings_eur'), 0) AS eur,
           coalesce(max(weight) FILTER (WHERE metric = 'approved_hours'), 0) AS hr,
           coalesce(max(weight) FILTER (WHERE metric = 'reviews_given'), 0) AS rv
    FROM score_weights),
m AS (SELECT person_id, count(*) AS n, max(merged_at) AS at FROM merge_requests
      WHERE is_dco_ok AND person_id IS NOT NULL AND merged_at >= %(start)s AND merged_at < %(end)s
      GROUP BY person_id),
e AS (SELECT c.person_id, sum(r.amount_minor) AS minor, max(c.decided_at) AS at
      FROM claims c JOIN reservations r ON r.purpose = 'bounty' AND r.subject_id = c.bounty_id
                                        AND r.status = 'consumed'
      WHERE c.status = 'approved' AND c.decided_at >= %(start)s AND c.decided_at < %(end)s
        AND NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.reverses_id = r.close_transaction_id)
      GROUP BY c.person_id),
h AS (SELECT person_id, sum(quarter_hours) AS quarters, max(worked_on) AS day FROM hours_entries
      WHERE status = 'approved' AND worked_on >= %(start)s::date AND worked_on < %(end)s::date
      GROUP BY person_id),
v AS (SELECT person_id, count(*) AS n, max(at) AS at FROM (
          SELECT reviewer_id AS person_id, created_at AS at FROM reviews
          WHERE created_at >= %(start)s AND created_at < %(end)s
          UNION ALL
          SELECT reviewer_id, reviewed_at FROM hours_entries
          WHERE status IN ('approved', 'rejected') AND reviewer_id IS NOT NULL
            AND reviewed_at >= %(start)s AND reviewed_at < %(end)s
          UNION ALL
          SELECT signed_off_by_id, signed_off_at FROM tranches
          WHERE signed_off_by_id IS NOT NULL AND signed_off_at >= %(start)s AND signed_off_at < %(end)s) acts
      GROUP BY person_id),
everyone AS (SELECT person_id FROM m UNION SELECT person_id FROM e UNION SELECT person_id FROM h
             UNION SELECT person_id FROM v)
SELECT p.id, coalesce(m.n, 0) AS merged_mrs, coalesce(e.minor, 0) AS earnings_minor,
       coalesce(h.quarters, 0) AS quarters, coalesce(v.n, 0) AS reviews,
       w.mr * coalesce(m.n, 0) + w.eur * coalesce(e.minor, 0) / 100 + w.hr * coalesce(h.quarters, 0) / 4
           + w.rv * coalesce(v.n, 0) AS score,
       greatest(m.at, e.at, (h.day::timestamp AT TIME ZONE 'UTC'), v.at) AS reached_at
FROM everyone JOIN people p ON p.id = everyone.person_id AND p.merged_into_id IS NULL
CROSS JOIN w
LEFT JOIN m ON m.person_id = p.id LEFT JOIN e ON e.person_id = p.id
LEFT JOIN h ON h.person_id = p.id LEFT JOIN v ON v.person_id = p.id
ORDER BY score DESC, reached_at, p.username COLLATE "C"
LIMIT 100
"""


def baseline(connection: psycopg.Connection, period: leaderboards.Period) -> list[tuple[object, ...]]:
    rows = connection.execute(BASELINE, {"start": period.start, "end": period.end}).fetchall()
    return [(pid, int(mrs), int(minor), Decimal(quarters) / 4, int(reviews), Decimal(score).normalize(), at)
            for pid, mrs, minor, quarters, reviews, score, at in rows]


def service_rows(board: leaderboards.Leaderboard) -> list[tuple[object, ...]]:
    return [(r.person_id, r.merged_mrs, r.earnings_eur.minor, r.approved_hours, r.reviews_given,
             r.score.normalize(), r.reached_at) for r in board.rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--mrs", type=int, default=1_000_000, help="merged merge requests")
    parser.add_argument("--lines", type=int, default=200_000, help="ledger lines (approved bounties)")
    parser.add_argument("--hours", type=int, default=200_000, help="hours entries")
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds (median of each side)")
    parser.add_argument("--no-indexes", dest="indexes", action="store_false",
                        help="measure without the leaderboard's partial indexes")
    parser.add_argument("--explain", action="store_true", help="print the service query's plan")
    parser.add_argument("--url", default=os.environ.get(
        "BOUNTY_BENCH_POSTGRES_URL", os.environ.get("BOUNTY_TEST_POSTGRES_URL", DEFAULT_URL)))
    args = parser.parse_args(argv)

    schema = f"bench_leaderboard_{uuid.uuid4().hex[:10]}"
    admin = make_engine(args.url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = with_search_path(args.url, schema)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        session = make_sessionmaker(engine)()
        seed_reference(session, SYSTEM)
        session.close()
        began = time.perf_counter()
        counted = load(url, args.people, args.mrs, args.lines, args.hours)
        analyse(url, args.indexes)
        print(f"leaderboard benchmark: PostgreSQL {args.url}, schema {schema}")
        print(f"loaded {args.people} people, {args.mrs} merged MRs, {counted['ledger lines']} ledger lines "
              f"({counted['approved bounties']} approved bounties), {args.hours} hours entries in "
              f"{time.perf_counter() - began:.1f} s; leaderboard indexes {'on' if args.indexes else 'OFF'}")
        period = leaderboards.parse_period(str(args.year))
        session = make_sessionmaker(engine)()
        with psycopg.connect(url) as connection:
            expected = baseline(connection, period)
            got = service_rows(leaderboards.leaderboard(session, period, limit=100))
            assert len(got) == 100, f"the service gave {len(got)} rows"
            assert got == expected, next(f"row {n + 1}: service {a} != baseline {b}"
                                         for n, (a, b) in enumerate(zip(got, expected, strict=True))
                                         if a != b)
            print("check: the service and the baseline give the same top 100 "
                  "(metrics, score, reached_at, order)")
            times: dict[str, list[float]] = {"service": [], "baseline": []}
            for _ in range(args.rounds):
                session.close()
                started = time.perf_counter()
                leaderboards.leaderboard(session, period, limit=100)
                times["service"].append(time.perf_counter() - started)
                connection.rollback()
                started = time.perf_counter()
                baseline(connection, period)
                times["baseline"].append(time.perf_counter() - started)
            if args.explain:
                plan = connection.execute(text_of_service_query(session, period)).fetchall()
                print("\n".join(line for (line,) in plan))
            # What the machine gives right now (other work on it slows both sides alike).
            started = time.perf_counter()
            connection.execute("SELECT count(*) FROM generate_series(1, 5000000)").fetchone()
            reference_ms = (time.perf_counter() - started) * 1000
        session.close()
        print(f"machine: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; PostgreSQL counts "
              f"5,000,000 generated rows in {reference_ms:.0f} ms")
        service_ms = statistics.median(times["service"]) * 1000
        baseline_ms = statistics.median(times["baseline"]) * 1000
        ratio = service_ms / baseline_ms
        print(f"  service  (leaderboards.leaderboard, top 100): median {service_ms:7.1f} ms  "
              f"(all: {', '.join(f'{t * 1000:.0f}' for t in times['service'])})")
        print(f"  baseline (one hand-written GROUP BY SQL):      median {baseline_ms:7.1f} ms  "
              f"(all: {', '.join(f'{t * 1000:.0f}' for t in times['baseline'])})")
        print(f"ratio service / baseline: {ratio:.2f} (target <= {TARGET_RATIO}: "
              f"{'met' if ratio <= TARGET_RATIO else 'NOT met'})")
        print(f"service time: {service_ms:.0f} ms (target < {TARGET_MS} ms: "
              f"{'met' if service_ms < TARGET_MS else 'NOT met'})")
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0


def text_of_service_query(session: object, period: leaderboards.Period) -> str:
    """EXPLAIN ANALYZE of the service's ranking statement, with its parameters inlined."""
    query = leaderboards.ranking_statement(session, period)  # type: ignore[arg-type]
    compiled = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return f"EXPLAIN (ANALYZE, BUFFERS) {compiled}"


if __name__ == "__main__":
    sys.exit(main())
