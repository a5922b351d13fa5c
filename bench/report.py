"""The annual awards report for a year with 2,000 recognised contributors.

On a fresh PostgreSQL schema (migrated, seeded with the reference data, dropped at the end)
it inserts in bulk a year of activity: N people who agreed to be named and N/5 who did not
(jurisdictions by share, 60 organisations), three approved hours entries and two DCO-clean
merged merge requests each, two badges each earned in the year, and a closed awards round
(three nominations per category, five committee members voting). Then, in a subprocess of
its own (so its peak RSS is its own):

- report: `annual_report` (every read, the five leaderboards included) and `render`
  (charts, layout, the PDF/UA file), timed apart;
- baseline: WeasyPrint alone laying out the same recognised contributors as one bare table
  (no charts, no tagging), the floor any such PDF costs.

Prints seconds (wall and this process's CPU), pages and peak memory of both, the ratio
report / baseline of CPU times, and whether the targets are met (report under 60 s and under
1.5 GB). On a loaded machine the wall time stretches and the CPU time does not: both are shown.

    python bench/report.py [--contributors 2000] [--url postgresql://...] [--output FILE.pdf] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import resource
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy import insert, select, text
from weasyprint import HTML

from bounty.models import (
    AwardCategory,
    AwardRound,
    Badge,
    HoursEntry,
    MergeRequest,
    Nomination,
    Organisation,
    Person,
    PersonBadge,
    Vote,
    WorkingGroup,
    migrate,
)
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.reports import awards
from bounty.services.actors import SYSTEM
from bounty.services.annual_report import annual_report
from bounty.services.seed import seed_reference

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
YEAR = 2026
TARGET_SECONDS = 60
TARGET_PEAK_MB = 1536
SHARES = (("EU", 50), ("UK", 25), ("CA", 15), ("AU", 10))
FIRST = ("Ana", "Bram", "Chloé", "Dmitri", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas", "Kaito",
         "Lena", "Mateo", "Nora", "Olu", "Priya", "Quentin", "Rosa", "Sami", "Tove")
LAST = ("Andersen", "Bianchi", "Costa", "Dubois", "Evans", "Fischer", "García", "Hughes", "Ivanova",
        "Jansen", "Kowalski", "Laurent", "Murphy", "Nakamura", "O'Brien", "Petrov", "Quinn", "Rossi")


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


def cpu_seconds() -> float:
    """CPU time of this process so far (user + system): what the machine's load does not inflate."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def at(day: int, hour: int = 12) -> datetime:
    """A moment of the year: day 0 is 1 January."""
    return datetime(YEAR, 1, 1, hour, tzinfo=UTC) + timedelta(days=day)


def load(url: str, contributors: int) -> None:
    """The reference seed, then the year's people and activity in bulk (one transaction)."""
    engine = make_engine(url)
    session = make_sessionmaker(engine)()
    seed_reference(session, SYSTEM)
    rng = random.Random(2026)
    now = datetime.now(UTC)
    groups = list(session.execute(select(WorkingGroup.id)).scalars())
    badges = list(session.execute(select(Badge.id).order_by(Badge.position)).scalars())[:6]
    session.execute(insert(Organisation), [
        {"name": f"Bench Supplier {n:02d}", "jurisdiction_code": SHARES[n % 4][0], "kind": "supplier"}
        for n in range(60)])
    organisations = list(session.execute(select(Organisation.id)).scalars())
    jurisdictions = [code for code, weight in SHARES for _ in range(weight)]
    listed, unlisted = contributors, contributors // 5
    people = []
    for n in range(listed + unlisted + 25):
        role = "reviewer" if n >= listed + unlisted else "contributor"
        people.append({
            "username": f"bench{n:05d}", "keycloak_subject": f"bench-{n}",
            "display_name": f"{FIRST[n % len(FIRST)]} {LAST[n // len(FIRST) % len(LAST)]} {n:05d}",
            "email": f"bench{n}@example.org", "jurisdiction_code": jurisdictions[n % 100],
            "organisation_id": organisations[n % len(organisations)] if n % 3 else None,
            "roles": ["contributor", role] if role == "reviewer" else ["contributor"],
            "is_public_listing": n < listed or role == "reviewer",
            "public_listing_changed_at": now})
    session.execute(insert(Person), people)
    ids = list(session.execute(select(Person.id).where(Person.username.like("bench%"))
                               .order_by(Person.username)).scalars())
    workers, reviewers = ids[:listed + unlisted], ids[listed + unlisted:]
    session.execute(insert(HoursEntry), [
        {"person_id": person, "worked_on": date(YEAR, 1, 1) + timedelta(days=rng.randrange(300)),
         "quarter_hours": rng.randrange(4, 33), "activity": rng.choice(("code", "review", "documentation",
                                                                        "mentoring", "security")),
         "working_group_id": rng.choice(groups), "description": "Bench work", "status": "approved",
         "reviewer_id": rng.choice(reviewers), "reviewed_at": at(rng.randrange(300, 320))}
        for person in workers for _ in range(3)])
    session.execute(insert(MergeRequest), [
        {"gitlab_project_id": 4242, "project_path": "bench/project", "iid": n + 1, "title": f"Change {n}",
         "web_url": f"https://gitlab.example.org/bench/project/-/merge_requests/{n + 1}",
         "person_id": person, "merged_at": at(rng.randrange(320)), "is_dco_ok": True}
        for n, person in enumerate(person for person in workers for _ in range(2))])
    session.execute(insert(PersonBadge), [
        {"person_id": person, "badge_id": badge, "earned_at": at(rng.randrange(320))}
        for person in workers for badge in rng.sample(badges, 2)])
    awards_round(session, workers, reviewers, organisations)
    session.commit()
    session.close()
    with engine.connect() as connection:
        connection.execute(text("COMMIT"))
        for table in ("people", "hours_entries", "merge_requests", "person_badges"):
            connection.execute(text(f"ANALYZE {table}"))
    engine.dispose()


def awards_round(session: Any, workers: list[int], committee: list[int], organisations: list[int]) -> None:
    """A closed round: three nominations per category by different nominators, five binding votes each."""
    session.execute(insert(AwardRound), [{
        "year": YEAR, "nominations_open_at": at(270), "nominations_close_at": at(290),
        "voting_opens_at": at(291), "voting_closes_at": at(295)}])
    round_id = session.execute(select(AwardRound.id).where(AwardRound.year == YEAR)).scalar_one()
    categories = session.execute(select(AwardCategory)).scalars().all()
    nominations = []
    for c, category in enumerate(categories):
        for k in range(3):
            nominee = {"nominee_organisation_id": organisations[c * 3 + k]} if category.is_for_organisations \
                else {"nominee_person_id": workers[(c * 3 + k) * 7]}
            nominations.append({
                "round_id": round_id, "category_id": category.id, "nominator_id": workers[-1 - c * 3 - k],
                "citation": f"For a year of steady, careful work that many others built on ({c}-{k}).",
                **nominee})
    session.execute(insert(Nomination), nominations)
    votes = []
    for n, nomination in enumerate(session.execute(select(Nomination.id).order_by(Nomination.id)).scalars()):
        for v, voter in enumerate(committee[:5]):
            votes.append({"nomination_id": nomination, "voter_id": voter, "is_binding": True,
                          "value": "+1" if n % 3 == 0 or v < 2 else "-0", "cast_at": at(292)})
    session.execute(insert(Vote), votes)


def baseline_html(report: Any) -> str:
    rows = "".join(f"<tr><td>{escape(p.name)}</td><td>{p.jurisdiction_code}</td>"
                   f"<td>{escape(p.organisation or '')}</td>"
                   f"<td>{escape(', '.join(b for b, _ in p.badges))}</td></tr>"
                   for p in report.recognised)
    return ("<html lang='en'><head><style>@page { size: A4; margin: 20mm 16mm }"
            " body { font: 8.5pt 'DejaVu Sans' } table { width: 100%; border-collapse: collapse }"
            " td { border: 0.5pt solid #999 }</style></head>"
            f"<body><table>{rows}</table></body></html>")


def side(url: str, which: str, output: str | None, profile: bool) -> dict[str, Any]:
    """One measured run in this process: the report, or the baseline."""
    engine = make_engine(url)
    session = make_sessionmaker(engine)()
    profiler = cProfile.Profile() if profile else None
    started, cpu_started = time.perf_counter(), cpu_seconds()
    if profiler:
        profiler.enable()
    report = annual_report(session, SYSTEM, YEAR)
    gathered = time.perf_counter()
    if which == "report":
        rendered = awards.render(report, "en")
        pdf, pages = rendered.pdf, rendered.pages
    else:
        document = HTML(string=baseline_html(report)).render()
        pdf, pages = document.write_pdf(), len(document.pages)
    finished, cpu = time.perf_counter(), cpu_seconds() - cpu_started
    if profiler:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    if output:
        with open(output, "wb") as target:
            target.write(pdf)
    session.close()
    engine.dispose()
    return {"gather": gathered - started, "render": finished - gathered, "seconds": finished - started,
            "cpu": cpu, "pages": pages, "bytes": len(pdf), "peak_mb": peak_rss_mb(),
            "recognised": len(report.recognised)}


def run_side(which: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--side", which, "--schema-url", url]
    if which == "report" and args.output:
        command += ["--output", args.output]
    if args.profile and which == "report":
        command.append("--profile")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{which} failed:\n{done.stderr}")
    if args.profile:
        print(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contributors", type=int, default=2000, help="people listed by name (default 2000)")
    parser.add_argument("--url", default=os.environ.get("BOUNTY_BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--output", help="keep the report's PDF here")
    parser.add_argument("--profile", action="store_true", help="cProfile the report's run")
    parser.add_argument("--side", choices=["report", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--schema-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        print(json.dumps(side(args.schema_url, args.side, args.output, args.profile)))
        return 0
    schema = f"bench_report_{uuid.uuid4().hex[:10]}"
    admin = make_engine(args.url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = with_search_path(args.url, schema)
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        print(f"awards report benchmark: PostgreSQL {args.url}, schema {schema}; {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f} (wall times stretch under load; CPU times do not)")
        started = time.perf_counter()
        load(url, args.contributors)
        print(f"loaded {args.contributors:,} listed contributors (+{args.contributors // 5:,} unlisted) "
              f"in {time.perf_counter() - started:.1f} s")
        report = run_side("report", url, args)
        baseline = run_side("baseline", url, args)
        for name, figures in (("report", report), ("baseline", baseline)):
            print(f"{name:9} {figures['seconds']:7.1f} s (reads {figures['gather']:.1f} s, PDF "
                  f"{figures['render']:.1f} s; CPU {figures['cpu']:.1f} s)  {figures['pages']:4} pages  "
                  f"{figures['bytes'] / 1024:,.0f} KiB  peak {figures['peak_mb']:,.0f} MB")
        print(f"recognised contributors in the report: {report['recognised']:,}")
        print(f"ratio report / baseline (CPU time): {report['cpu'] / baseline['cpu']:.2f}")

        def verdict(met: bool) -> str:
            return "met" if met else "NOT met"

        print(f"target under {TARGET_SECONDS} s: wall {verdict(report['seconds'] < TARGET_SECONDS)} "
              f"({report['seconds']:.0f} s at load {os.getloadavg()[0]:.1f}), "
              f"CPU {verdict(report['cpu'] < TARGET_SECONDS)} ({report['cpu']:.0f} s); "
              f"under {TARGET_PEAK_MB / 1024:.1f} GB: {verdict(report['peak_mb'] < TARGET_PEAK_MB)}")
        return 0
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
