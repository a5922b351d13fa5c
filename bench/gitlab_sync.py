"""GitLab sync throughput against python-gitlab alone reading the same merge requests.

A synthetic GitLab of N merged merge requests with 4 commits each (10,000 and 40,000 by
default; every 10th MR has an unsigned commit) is served by the fake GitLab of the tests
(`tests/fakes/gitlab.py`, real HTTP on loopback, in this process). On a fresh PostgreSQL
schema (migrated, dropped at the end):

- **baseline**: python-gitlab alone lists the merged MRs (`iterator=True`, 100 per page,
  `order_by=updated_at`, `sort=asc`) and each MR's commits, storing nothing; run before
  and after the sync, the mean is the baseline (machine noise falls on both sides);
- **full sync**: `merged_work.sync_projects` into the empty database: the same requests,
  plus the DCO check, the upserts, crediting and attaching, a commit per batch;
- **incremental sync**: the same call again with nothing new: one page of merge requests,
  nothing written;
- for reference, the adapter alone (`GitLabClient` listing the MRs and their commits as
  records, storing nothing): it reads lists with `Gitlab.http_list`, skipping the
  python-gitlab object per item that the baseline builds.

Wall-clock figures move with the machine's load; the CPU seconds of this process (which
includes the fake GitLab's threads) are printed next to them.

Prints the sync time and MRs/s, the ratio sync / baseline throughput (target at least 0.5),
the incremental sync's share of the full sync (target under 5%), and what the sync sent
(HTTP requests, SQL statements per MR).

    python bench/gitlab_sync.py [--mrs 10000] [--commits-per-mr 4] [--url postgresql://...] [--profile]
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.fakes

import gitlab
from sqlalchemy import event, func, select, text

from bounty.dco.rules import DcoChecker
from bounty.gitlab.client import GitLabClient
from bounty.models import MergeRequest, MergeRequestCommit, migrate
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import merged_work
from bounty.services.actors import SYSTEM
from tests.fakes.gitlab import TOKEN, FakeGitLab, synthetic_dataset

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
TARGET_RATIO = 0.5
TARGET_INCREMENTAL_SHARE = 0.05
PROJECT = "bench/widget"


def with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


class Clock:
    """Wall-clock and process CPU seconds of a block."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def __str__(self) -> str:
        return f"{self.wall:7.2f} s ({self.cpu:6.2f} s CPU)"


def python_gitlab_alone(url: str) -> tuple[Clock, int, int]:
    """The time python-gitlab needs to list every merged MR and its commits; the counts read."""
    with Clock() as clock:
        gl = gitlab.Gitlab(url, private_token=TOKEN, per_page=100)
        project = gl.projects.get(PROJECT)
        mrs = commits = 0
        listed = project.mergerequests.list(state="merged", order_by="updated_at", sort="asc", iterator=True)
        for mr in listed:
            mrs += 1
            commits += sum(1 for _ in mr.commits(per_page=100))
    return clock, mrs, commits


def adapter_alone(url: str) -> Clock:
    """The time the adapter needs to read the same merge requests and commits as records."""
    with Clock() as clock:
        client = GitLabClient(url, TOKEN, per_page=100)
        project = client.project(PROJECT)
        for record in client.merged_merge_requests(project.id, None):
            client.merge_request_commits(project.id, record.iid)
    return clock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mrs", type=int, default=10_000, help="merged merge requests (default 10000)")
    parser.add_argument("--commits-per-mr", type=int, default=4, help="commits of each (default 4)")
    parser.add_argument("--url", default=os.environ.get(
        "BOUNTY_BENCH_POSTGRES_URL", os.environ.get("BOUNTY_TEST_POSTGRES_URL", DEFAULT_URL)))
    parser.add_argument("--profile", action="store_true", help="cProfile the full sync instead of timing it")
    args = parser.parse_args(argv)

    dataset = synthetic_dataset(PROJECT, merge_requests=args.mrs, commits_per_mr=args.commits_per_mr)
    fake = FakeGitLab(dataset).start()
    schema = f"bench_gitlab_{uuid.uuid4().hex[:10]}"
    admin = make_engine(args.url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(with_search_path(args.url, schema))
    try:
        migrate.upgrade(engine)
        statements = [0]
        event.listen(engine, "before_cursor_execute", lambda *_: statements.__setitem__(0, statements[0] + 1))
        session = make_sessionmaker(engine)()
        checker = DcoChecker()
        print(f"GitLab sync benchmark: {args.mrs} merged MRs, {args.mrs * args.commits_per_mr} commits "
              f"on the fake GitLab at {fake.url}; PostgreSQL {args.url}, schema {schema}")

        before, mrs, commits = python_gitlab_alone(fake.url)
        print(f"  python-gitlab alone (before): {before}  ({mrs} MRs, {commits} commits read)")

        fake.reset_counts()
        statements[0] = 0
        client = GitLabClient(fake.url, TOKEN, per_page=100)
        profiler = cProfile.Profile() if args.profile else None
        with Clock() as full_clock:
            if profiler is not None:
                profiler.enable()
            summary = merged_work.sync_projects(session, SYSTEM, client, [PROJECT], checker=checker)
            if profiler is not None:
                profiler.disable()
        full = full_clock.wall
        full_requests, full_statements = fake.requests, statements[0]
        print(f"  full sync:                    {full_clock}  ({summary.per_project[PROJECT].line(PROJECT)})")

        after, _, _ = python_gitlab_alone(fake.url)
        print(f"  python-gitlab alone (after):  {after}")
        print(f"  adapter alone (reference):    {adapter_alone(fake.url)}")

        fake.reset_counts()
        statements[0] = 0
        with Clock() as incremental_clock:
            again = merged_work.sync_projects(session, SYSTEM, GitLabClient(fake.url, TOKEN), [PROJECT],
                                              checker=checker)
        incremental = incremental_clock.wall
        print(f"  incremental sync, nothing new: {incremental:6.3f} s  "
              f"({again.per_project[PROJECT].line(PROJECT)}; {fake.requests} requests, "
              f"{statements[0]} SQL statements)")

        stored = session.execute(select(func.count(MergeRequest.id))).scalar_one()
        stored_commits = session.execute(select(func.count(MergeRequestCommit.id))).scalar_one()
        if (stored, stored_commits, summary.created) != (args.mrs, args.mrs * args.commits_per_mr, args.mrs):
            raise SystemExit(f"sync check failed: {stored} MRs, {stored_commits} commits stored, "
                             f"{summary.created} created")
        session.close()

        baseline = (before.wall + after.wall) / 2
        ratio = baseline / full
        cpu_ratio = (before.cpu + after.cpu) / 2 / full_clock.cpu
        share = incremental / full
        print(f"baseline (python-gitlab alone, mean): {args.mrs / baseline:7.0f} MRs/s  ({baseline:.2f} s)")
        print(f"full sync:                            {args.mrs / full:7.0f} MRs/s  ({full:.2f} s)")
        print(f"ratio sync / baseline: {ratio:.2f} (target >= {TARGET_RATIO}: "
              f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}); in CPU seconds of this process: "
              f"{cpu_ratio:.2f}")
        print(f"incremental sync / full sync: {100 * share:.2f}% "
              f"(target < {100 * TARGET_INCREMENTAL_SHARE:.0f}%: "
              f"{'met' if share < TARGET_INCREMENTAL_SHARE else 'NOT met'})")
        print(f"full sync sent {full_requests} HTTP requests ({full_requests / args.mrs:.2f} per MR) and "
              f"{full_statements} SQL statements ({full_statements / args.mrs:.1f} per MR)")
        if profiler is not None:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)
            print("(timed under cProfile: the figures above are slower than without --profile)")
            print(out.getvalue())
    finally:
        engine.dispose()
        fake.stop()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
