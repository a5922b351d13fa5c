"""Throughput of the DCO checker on commit messages taken from the GitLab datasets.

It builds N commits by cycling through every commit of `tests/data/gitlab/*.json` (each
copy with a sha of its own), then checks them with `DcoChecker.check_commit` with the
default bot patterns, in rounds. Prints commits/s (target at least 50,000/s), the rate of
the sign-off scan alone (the regular expression over each message, for reference) and
the mix of verdicts, so the figure can be compared between machines.

    python bench/dco.py [--n 200000] [--rounds 4] [--data DIR] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import time
from collections import Counter
from itertools import cycle, islice
from pathlib import Path

from bounty.dco.rules import Commit, DcoChecker, commit_from_gitlab, find_signoffs

DEFAULT_DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "gitlab"
TARGET = 50_000


def dataset_commits(data_dir: Path) -> list[Commit]:
    """Every commit of every dataset in `data_dir`, in file order."""
    commits = []
    for path in sorted(data_dir.glob("*.json")):
        if path.name.endswith(".dco_verdicts.json"):
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        for items in data["commits"].values():
            commits.extend(commit_from_gitlab(item) for item in items)
    return commits


def synthesise(source: list[Commit], n: int) -> list[Commit]:
    """N commits cycling through `source`, each with a distinct sha."""
    return [
        Commit(f"{index:040x}", c.message, c.author_name, c.author_email, c.committer_name,
               c.committer_email, c.parent_ids)
        for index, c in enumerate(islice(cycle(source), n))
    ]


def timed(label: str, n: int, rounds: int, run) -> float:
    """Run `run` over the whole set `rounds` times; print and return the best rate."""
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        elapsed = time.perf_counter() - start
        best = max(best, n / elapsed)
    print(f"{label:<28} {best:>12,.0f} commits/s  (best of {rounds}, {n:,} each)")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    source = dataset_commits(args.data)
    commits = synthesise(source, args.n)
    checker = DcoChecker()
    check = checker.check_commit
    chars = sum(len(commit.message) for commit in commits)
    print(f"commits: {len(commits):,} from {len(source):,} dataset commits "
          f"(mean message {chars / len(commits):,.0f} characters)")

    def scan() -> None:
        for commit in commits:
            find_signoffs(commit.message)

    def full() -> None:
        for commit in commits:
            check(commit)

    timed("sign-off scan only", len(commits), args.rounds, scan)
    rate = timed("check_commit", len(commits), args.rounds, full)
    print(f"target {TARGET:,} commits/s: {'met' if rate >= TARGET else 'NOT met'} "
          f"({rate / TARGET:.2f}x)")

    mix = Counter()
    for commit in commits:
        verdict = check(commit)
        mix["ok" if verdict.dco_ok else "failing"] += 1
        if verdict.exempt:
            mix[f"exempt {verdict.exempt}"] += 1
    print("verdicts: " + ", ".join(f"{key} {value:,}" for key, value in sorted(mix.items())))

    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(full)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
        print(out.getvalue())


if __name__ == "__main__":
    main()
