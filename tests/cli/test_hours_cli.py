"""`bounty hours statement` against a real database of each kind: PDF, CSV and refusals."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

import pytest
from click.testing import Result
from pypdf import PdfReader

from bounty import create_app
from bounty.cli import hours as hours_cli
from bounty.services import hours
from bounty.services.hours import HoursInput
from tests import workflow_factories as wf
from tests.service.test_hours import member

Run = Callable[..., Result]


@pytest.fixture
def run(db_url, session) -> Iterator[Run]:
    app = create_app({"DATABASE_URL": db_url, "ENV": "testing"})
    runner = app.test_cli_runner()

    def invoke(*args: str) -> Result:
        # Release the test's connection first: on SQLite an open transaction holds the file lock.
        session.close()
        # The `hours` group itself, as `bounty hours ...` runs it once registered.
        return runner.invoke(hours_cli.group, list(args))

    yield invoke
    app.extensions["bounty.db"].engine.dispose()


@pytest.fixture
def carla(session) -> None:
    """Carla's approved 2026: 2.5 hours of code in February, 1.75 of mentoring in May, by Renée."""
    wf.reference(session)
    carla = wf.contributor(session, "carla")
    renee = member(session, wf.actor_of(wf.person(session, "renee", ("contributor", "reviewer"), "EU",
                                                  display_name="Renée Dubois")), "WG2")
    for day, amount, activity in ((date(2026, 2, 10), "2.5", "code"),
                                  (date(2026, 5, 4), "1.75", "mentoring")):
        entry = hours.log_hours(session, carla, HoursInput(day, amount, activity, "WG2", f"{activity} work"),
                                today=day, backdate_days=1)
        hours.review_hours(session, renee, entry.id, "approve", "")


def statement(run: Run, *extra: str) -> Result:
    return run("statement", "--person", "carla", "--year", "2026", *extra)


def test_writes_the_pdf(run, carla, tmp_path):
    target = tmp_path / "carla-2026.pdf"
    result = statement(run, "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {target}: 2 approved entries, 4.25 hours in 2026\n"
    text = "\n".join(page.extract_text() for page in PdfReader(target).pages)
    for expected in ("Professional development statement", "Total approved hours: 4.25", "February", "May",
                     "Mentoring", "Renée Dubois"):
        assert expected in text, expected


def test_writes_the_pdf_in_french(run, carla, tmp_path):
    target = tmp_path / "carla-2026.PDF"
    result = statement(run, "--output", str(target), "--lang", "FR")
    assert result.exit_code == 0, result.output
    reader = PdfReader(target)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    for expected in ("Attestation de développement professionnel", "4,25", "Février", "Mai", "Mentorat",
                     "Validé par"):
        assert expected in text, expected


def test_writes_the_csv(run, carla, tmp_path):
    target = tmp_path / "carla-2026.csv"
    result = statement(run, "--output", str(target))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_bytes().decode("utf-8"), newline="")))
    assert [(r["worked_on"], r["activity"], r["hours"]) for r in rows] == [
        ("2026-02-10", "code", "2.50"), ("2026-05-04", "mentoring", "1.75")]
    assert sum(Decimal(r["hours"]) for r in rows) == Decimal("4.25")
    assert {r["signed_off_by_name"] for r in rows} == {"Renée Dubois"}


@pytest.mark.parametrize(("args", "message"), [
    (("--person", "nobody", "--year", "2026", "--output", "{dir}/x.pdf"), "error: no person 'nobody'\n"),
    (("--person", "carla", "--year", "1999", "--output", "{dir}/x.pdf"),
     "error: year: give a year from 2000 on, such as 2026\n"),
    (("--person", "carla", "--year", "next", "--output", "{dir}/x.pdf"),
     "error: year: 'next' is not a year such as 2026\n"),
    (("--person", "carla", "--year", "2026", "--output", "{dir}/x.xlsx"),
     "error: 'x.xlsx': write the statement to a .pdf or .csv file\n"),
    (("--person", "carla", "--year", "2026", "--output", "{dir}/x.pdf", "--lang", "de"),
     "error: lang: 'de' is not one of en, fr\n"),
    (("--person", "carla", "--year", "2026", "--output", "{dir}/missing/x.csv"),
     "error: output: cannot write {dir}/missing/x.csv: No such file or directory\n"),
])
def test_refusals_exit_2_with_one_line_and_write_nothing(run, carla, tmp_path, args, message):
    out = tmp_path / "out"  # tmp_path also holds the SQLite database
    out.mkdir()
    result = run("statement", *(arg.format(dir=out) for arg in args))
    assert result.exit_code == 2
    assert result.output == message.format(dir=out)
    assert list(out.iterdir()) == []
