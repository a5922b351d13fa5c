"""The bounty board under load, against a plain Flask page serving the same rows.

On a fresh PostgreSQL schema (migrated, reference data seeded, dropped at the end) it
inserts N open bounties, then serves three applications under gunicorn (2 sync workers
each, loopback only): the project's application, whose `GET /bounties` is the board's
first page as an anonymous visitor sees it; the same with its public page cache off
(`BOUNTY_PAGE_CACHE_SIZE=0`, so every request renders); and the baseline of
`bench/web_baseline.py`, which renders the same 25 rows with one plain SQL query and a
bare Jinja template. The pages are checked to list the same bounties, then `wrk` loads
each in turn (16 connections by default). Prints requests/s and latency percentiles, and
the ratio board / baseline; the targets are a ratio of at least 0.5 and a board p99 under
200 ms. The figures of the page without its cache are printed for information.

    python bench/web.py [--bounties 10000] [--duration 20] [--url postgresql://...] [--profile]

Needs `wrk` (Debian package `wrk`) and gunicorn in the virtual environment.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select, text

from bounty import create_app
from bounty.models import Bounty, BountyCategory, Capability, Pool, WorkingGroup, migrate
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services.actors import SYSTEM
from bounty.services.seed import seed_reference

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
HOST = "127.0.0.1"
PATH = "/bounties"
PER_PAGE = 25
TARGET_RATIO = 0.5
TARGET_P99_MS = 200.0
BENCH_DIR = Path(__file__).resolve().parent
# Signs the session cookie of the served application; fixed, the bench signs no one in.
SECRET_KEY = "bench-web-0123456789abcdefghijklmnopqrstu"
ROW_TITLE = re.compile(r'<th scope="row"><a href="/bounties/(\d+)">([^<]+)</a>')

# What a year of the programme's bounties looks like: mostly bug fixes and documentation,
# a few large features, rare embargoed security fixes (which anonymous visitors never see).
CATEGORY_WEIGHTS = {"bug_fix": 55, "documentation": 25, "major_feature": 15,
                     "critical_security_fix": 5}
# Rough value of one unit of the band currency (GBP) in each bounty currency.
CURRENCY_FACTORS = {"EUR": 1.17, "GBP": 1.0, "CAD": 1.85, "AUD": 2.05}
CURRENCY_WEIGHTS = {"EUR": 50, "GBP": 25, "CAD": 15, "AUD": 10}
VERBS = ("Fix", "Document", "Implement", "Harden", "Speed up", "Add tests for", "Refactor",
         "Support", "Stabilise", "Expose metrics for")
SUBJECTS = ("live migration", "snapshot scheduling", "VPC routing", "IPv6 dual stack",
            "console proxy", "template registration", "volume resize", "host maintenance mode",
            "load balancer health checks", "tenant quotas", "API rate limiting", "usage records",
            "secondary storage cleanup", "SAML sign-in", "KVM agent reconnect", "network ACLs")


def with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


# -- data ------------------------------------------------------------------------------


def populate(url: str, count: int, seed: int = 20261122) -> None:
    """Reference data through the seed service, then `count` open bounties in bulk."""
    engine = make_engine(url)
    session = make_sessionmaker(engine)()
    try:
        seed_reference(session, SYSTEM)
        pool_id = session.execute(
            select(Pool.id).where(Pool.kind == "bounty_pool").order_by(Pool.year)
        ).scalars().first()
        categories = {c.code: c for c in session.execute(select(BountyCategory)).scalars()}
        groups = list(session.execute(select(WorkingGroup).order_by(WorkingGroup.code)).scalars())
        capabilities: dict[int, list[int]] = {}
        for capability in session.execute(select(Capability)).scalars():
            capabilities.setdefault(capability.working_group_id, []).append(capability.id)
        rng = random.Random(seed)
        now = datetime.now(UTC).replace(microsecond=0)
        codes = [code for code in CATEGORY_WEIGHTS if code in categories]
        weights = [CATEGORY_WEIGHTS[code] for code in codes]
        currencies = list(CURRENCY_WEIGHTS)
        rows: list[dict[str, Any]] = []
        for number in range(count):
            category = categories[rng.choices(codes, weights)[0]]
            group = rng.choice(groups)
            currency = rng.choices(currencies, list(CURRENCY_WEIGHTS.values()))[0]
            band = rng.randint(category.min_minor, category.max_minor)
            # Whole hundreds of the bounty's currency, as the programme publishes them.
            amount = max(10_000, round(band * CURRENCY_FACTORS[currency] / 10_000) * 10_000)
            published = now - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
            title = f"{rng.choice(VERBS)} {rng.choice(SUBJECTS)} (#{number + 1})"
            rows.append({
                "title": title,
                "description": f"{title}. Acceptance: merged upstream with tests and docs.",
                "category_id": category.id, "working_group_id": group.id,
                "capability_id": rng.choice(capabilities.get(group.id, [None])),
                "pool_id": pool_id, "amount_minor": amount, "currency": currency,
                "status": "open", "claim_hours": 14 * 24,
                "gitlab_project_path": "cloudstack/cloudstack", "gitlab_issue_iid": 1000 + number,
                "created_at": published - timedelta(hours=rng.randint(1, 72)),
                "published_at": published,
            })
        for start in range(0, len(rows), 2_000):
            session.execute(insert(Bounty), rows[start:start + 2_000])
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
    finally:
        session.close()
        engine.dispose()


# -- serving ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def fetch(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{PATH}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as refusal:
        return refusal.code, refusal.read().decode(errors="replace")


class Server:
    """A gunicorn master with its sync workers on a loopback port; `stop` ends them all."""

    def __init__(self, name: str, app: str, env: dict[str, str], workers: int,
                 extra: list[str] | None = None) -> None:
        self.name, self.port = name, free_port()
        # Lives as long as the server: closed by `stop`.
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        command = [sys.executable, "-m", "gunicorn", "--workers", str(workers),
                   "--worker-class", "sync", "--bind", f"{HOST}:{self.port}",
                   "--log-level", "warning", *(extra or []), app]
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=self.log,
                                        start_new_session=True)

    def wait_ready(self, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} server exited early:\n{self.output()}")
            try:
                status, _ = fetch(self.port)
            except OSError:
                time.sleep(0.2)
                continue
            if status == 200:
                return
            raise SystemExit(f"{self.name} server answered {status}:\n{self.output()}")
        raise SystemExit(f"{self.name} server not ready after {seconds:.0f} s:\n{self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the master stops its workers
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def server_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment without any `BOUNTY_*` setting of the caller's, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BOUNTY_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_DIR.parent),
                                                      env.get("PYTHONPATH")]))
    env.update(extra)
    return env


# -- load ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if match is None:
        raise ValueError(f"unexpected wrk time {value!r}")
    return float(match.group(1)) * TIME_UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> Load:
    def number(pattern: str, default: str | None = None) -> str:
        match = re.search(pattern, output)
        if match is None:
            if default is None:
                raise ValueError(f"no {pattern!r} in wrk output:\n{output}")
            return default
        return match.group(1)

    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(number(r"Non-2xx or 3xx responses:\s+(\d+)", "0"))
    if socket_errors:
        # A sync worker closes every connection after its answer; wrk may count a read on
        # the closed socket, which is not a failed request: count connect and timeout only.
        errors += int(socket_errors.group(1)) + int(socket_errors.group(4))
    return Load(
        requests_per_second=float(number(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=to_ms(number(r"\s50%\s+([\d.]+\w+)")),
        p99_ms=to_ms(number(r"\s99%\s+([\d.]+\w+)")),
        requests=int(number(r"(\d+) requests in")),
        errors=errors,
    )


def run_wrk(port: int, threads: int, connections: int, seconds: int) -> Load:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
               "--timeout", "10s", f"http://{HOST}:{port}{PATH}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          timeout=seconds + 60)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return parse_wrk(done.stdout)


def listed(html: str) -> list[tuple[str, str]]:
    return ROW_TITLE.findall(html)


def check_same_rows(board_port: int, baseline_port: int) -> int:
    """Both pages list the same 25 bounties in the same order; returns the board's size."""
    board_status, board_html = fetch(board_port)
    baseline_status, baseline_html = fetch(baseline_port)
    if (board_status, baseline_status) != (200, 200):
        raise SystemExit(f"pages answered {board_status} (board), {baseline_status} (baseline)")
    board_rows, baseline_rows = listed(board_html), listed(baseline_html)
    if len(board_rows) != PER_PAGE or board_rows != baseline_rows:
        raise SystemExit(f"the pages differ: board lists {len(board_rows)} bounties, baseline "
                         f"{len(baseline_rows)}, same order: {board_rows == baseline_rows}")
    return len(board_html.encode())


# -- profile ---------------------------------------------------------------------------


def profile_board(url: str, requests: int = 200) -> str:
    """cProfile of board requests in this process (Flask test client), with the statements
    each one sends: where a board request spends its time, without the server around it."""
    # The page cache off: the profile shows what rendering the board costs.
    app = create_app({"ENV": "development", "SECRET_KEY": SECRET_KEY, "DATABASE_URL": url,
                      "PAGE_CACHE_SIZE": 0})
    engine = app.extensions["bounty.db"].engine
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine, "before_cursor_execute", count)
    client = app.test_client()
    for _ in range(20):
        assert client.get(PATH).status_code == 200
    statements = 0
    start = time.perf_counter()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(PATH)
    profiler.disable()
    elapsed = time.perf_counter() - start
    engine.dispose()
    out = io.StringIO()
    out.write(f"in-process board: {1000 * elapsed / requests:.2f} ms per request under "
              f"cProfile, {statements / requests:.1f} SQL statements per request\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(45)
    return out.getvalue()


# -- main ------------------------------------------------------------------------------


def report(label: str, load: Load) -> None:
    print(f"{label + ':':34s}{load.requests_per_second:8.1f} req/s   p50 {load.p50_ms:7.2f} ms"
          f"   p99 {load.p99_ms:7.2f} ms   ({load.requests} requests, {load.errors} errors)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bounties", type=int, default=10_000, help="open bounties (10000)")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per side (20)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per side (2)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load (3)")
    parser.add_argument("--url", default=os.environ.get("BOUNTY_BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile board requests in-process")
    args = parser.parse_args(argv)
    if args.bounties < PER_PAGE or args.duration < 1 or args.connections < args.threads:
        parser.error("need --bounties >= 25, --duration >= 1 and --connections >= --threads")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    schema = f"bench_web_{uuid.uuid4().hex[:10]}"
    admin = make_engine(args.url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = with_search_path(args.url, schema)
    servers: list[Server] = []
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        started = time.perf_counter()
        populate(url, args.bounties)
        print(f"web benchmark: PostgreSQL {args.url}, schema {schema}")
        print(f"{args.bounties} open bounties inserted in {time.perf_counter() - started:.1f} s; "
              f"GET {PATH} (first page, {PER_PAGE} rows, anonymous), gunicorn {args.workers} "
              f"sync workers per side, wrk {args.threads} threads x {args.connections} "
              f"connections, {args.duration} s each after {args.warmup} s of warm-up")
        board = Server("board", "bounty:create_app()", server_env({
            "BOUNTY_ENV": "development", "BOUNTY_SECRET_KEY": SECRET_KEY,
            "BOUNTY_DATABASE_URL": url}), args.workers)
        servers.append(board)
        rendering = Server("board-rendering", "bounty:create_app()", server_env({
            "BOUNTY_ENV": "development", "BOUNTY_SECRET_KEY": SECRET_KEY,
            "BOUNTY_DATABASE_URL": url, "BOUNTY_PAGE_CACHE_SIZE": "0"}), args.workers)
        servers.append(rendering)
        baseline = Server("baseline", "web_baseline:app",
                          server_env({"BENCH_BASELINE_DATABASE_URL": url}), args.workers,
                          ["--pythonpath", str(BENCH_DIR)])
        servers.append(baseline)
        for server in servers:
            server.wait_ready()
        board_bytes = check_same_rows(board.port, baseline.port)
        baseline_bytes = len(fetch(baseline.port)[1].encode())
        print(f"both pages list the same {PER_PAGE} bounties (board page {board_bytes} bytes, "
              f"baseline page {baseline_bytes} bytes)")
        loads: dict[str, Load] = {}
        for name, server in (("board", board), ("rendering", rendering), ("baseline", baseline)):
            if args.warmup:
                run_wrk(server.port, args.threads, args.connections, args.warmup)
            loads[name] = run_wrk(server.port, args.threads, args.connections, args.duration)
        report("board (bounty app, /bounties)", loads["board"])
        report("  same, page cache off", loads["rendering"])
        report("baseline (psycopg + bare Jinja)", loads["baseline"])
        ratio = loads["board"].requests_per_second / loads["baseline"].requests_per_second
        p99 = loads["board"].p99_ms
        print(f"ratio board / baseline: {ratio:.2f} (target >= {TARGET_RATIO}: "
              f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})")
        print(f"board p99: {p99:.1f} ms (target < {TARGET_P99_MS:.0f} ms: "
              f"{'met' if p99 < TARGET_P99_MS else 'NOT met'})")
        if any(load.errors for load in loads.values()):
            print("warning: some requests failed (non-2xx, connect errors or timeouts)")
        print(f"page cache off (every request renders): ratio "
              f"{loads['rendering'].requests_per_second / loads['baseline'].requests_per_second:.2f}, "
              f"p99 {loads['rendering'].p99_ms:.1f} ms (information; the product serves with the cache)")
        if args.profile:
            print(profile_board(url))
    finally:
        for server in reversed(servers):
            server.stop()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
