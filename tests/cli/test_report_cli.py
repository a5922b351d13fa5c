"""`bounty report awards` against a real database of each kind: the PDF in both languages,
and one-line refusals (exit code 2) that write nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader
from sqlalchemy import select

from bounty import create_app
from bounty.cli import cli
from bounty.cli import report as report_cli
from bounty.models import Person
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import award_queries
from tests import recognition_factories as rf
from tests import workflow_factories as wf

Run = Callable[..., Result]


@pytest.fixture
def run(db_url, session) -> Iterator[Run]:
    app = create_app({"DATABASE_URL": db_url, "ENV": "testing"})
    runner = app.test_cli_runner()

    def invoke(*args: str) -> Result:
        # Release the test's connection first: on SQLite an open transaction holds the file lock.
        session.close()
        return runner.invoke(report_cli.group, list(args))

    yield invoke
    app.extensions["bounty.db"].engine.dispose()


@pytest.fixture
def year(session) -> None:
    """Two people with approved hours in 2026: Nadia agreed to be named, Otto did not."""
    wf.reference(session)
    reviewer = rf.person(session, "rev", roles=("contributor", "reviewer"))
    for username, name, public in (("nadia", "Nadia Named", True), ("otto", "Otto Unlisted", False)):
        person = rf.person(session, username, public=public, display_name=name)
        rf.hours(session, person.id, rf.at(2026, 3, 2).date(), quarter_hours=12, reviewer_id=reviewer.id)


def written(result: Result, target) -> str:
    assert result.exit_code == 0, result.output
    pages = len(PdfReader(target).pages)
    assert re.fullmatch(rf"wrote {re.escape(str(target))}: the awards report 2026 \((en|fr)\), "
                        rf"{pages} pages, [\d,]+ KiB\n", result.output), result.output
    return "\n".join(page.extract_text() for page in PdfReader(target).pages)


def test_writes_the_report_in_english(run, year, tmp_path):
    target = tmp_path / "awards-2026.pdf"
    text = written(run("awards", "--year", "2026", "--output", str(target)), target)
    assert PdfReader(target).metadata.title == "Annual awards report 2026"
    for expected in ("Annual awards report 2026", "The year in figures", "Recognised contributors",
                     "Nadia Named", "No awards round was held this year."):
        assert expected in text, expected
    assert "Otto" not in text


def test_writes_the_report_in_french(run, year, tmp_path):
    target = tmp_path / "prix-2026.PDF"
    text = written(run("awards", "--year", " 2026 ", "--output", str(target), "--lang", "FR"), target)
    assert PdfReader(target).trailer["/Root"]["/Lang"] == "fr"
    for expected in ("Rapport annuel des prix 2026", "L'année en chiffres", "Nadia Named"):
        assert expected in text, expected
    assert "Otto" not in text


@pytest.mark.parametrize(("args", "message"), [
    (("--year", "next", "--output", "{dir}/x.pdf"), "error: year: 'next' is not a year such as 2026\n"),
    (("--year", "1999", "--output", "{dir}/x.pdf"), "error: year: give a year from 2000 on, such as 2026\n"),
    (("--year", "2026", "--output", "{dir}/x.pdf", "--lang", "de"),
     "error: lang: 'de' is not one of en, fr\n"),
    (("--year", "2026", "--output", "{dir}/x.docx"),
     "error: output: 'x.docx': write the report to a .pdf file\n"),
    (("--year", "2026", "--output", "{dir}/missing/x.pdf"),
     "error: output: the folder {dir}/missing does not exist\n"),
    (("--year", "2026", "--output", "{dir}/folder.pdf"), "error: output: {dir}/folder.pdf is a folder\n"),
])
def test_refusals_exit_2_with_one_line_and_write_nothing(run, year, tmp_path, args, message):
    out = tmp_path / "out"  # tmp_path also holds the SQLite database
    out.mkdir()
    (out / "folder.pdf").mkdir()
    result = run("awards", *(arg.format(dir=out) for arg in args))
    assert result.exit_code == 2
    assert result.output == message.format(dir=out)
    assert [path.name for path in out.iterdir()] == ["folder.pdf"]


def test_the_demo_report_in_both_languages_names_only_who_agreed(db_url, tmp_path):
    """The acceptance check: `bounty seed --demo`, then the 2026 report in English and French."""
    seeded = CliRunner().invoke(cli, ["seed", "--demo"], env={"BOUNTY_DATABASE_URL": db_url})
    assert seeded.exit_code == 0, seeded.output
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        unlisted = set(session.execute(select(Person.display_name).where(
            Person.is_public_listing.is_(False))).scalars())
        results = award_queries.results(session, None, 2026)
        winners = {c.winner.nominee_name for c in results.categories if c.winner and c.winner.nominee_name}
    engine.dispose()
    assert unlisted and winners  # the demo has both, or this test proves nothing
    for lang, anonymous in (("en", "Anonymous contributor"), ("fr", "Contributeur anonyme")):
        target = tmp_path / f"awards-2026-{lang}.pdf"
        done = CliRunner().invoke(cli, ["report", "awards", "--year", "2026", "--output", str(target),
                                        "--lang", lang], env={"BOUNTY_DATABASE_URL": db_url})
        assert done.exit_code == 0, done.output
        text = written(done, target)
        assert anonymous in text
        assert all(name in text for name in winners), winners
        assert not [name for name in unlisted if name in text]
