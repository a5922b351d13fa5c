"""`bounty report`: reports: the annual awards report."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from bounty.cli.common import fail, operator, refusals_exit_2
from bounty.extensions import db
from bounty.reports import awards as report
from bounty.services.annual_report import annual_report


@click.group("report", help="Reports: the annual awards report.")
def group() -> None:
    pass


def _year(text: str) -> int:
    try:
        year = int(text.strip())
    except ValueError:
        fail(f"year: {text!r} is not a year such as 2026")
    if not 2000 <= year <= 9998:
        fail("year: give a year from 2000 on, such as 2026")
    return year


def _writable(output: Path) -> None:
    """Refuse, before the long render, an output that is not a .pdf file in a writable folder."""
    if output.suffix.lower() != ".pdf":
        fail(f"output: {output.name!r}: write the report to a .pdf file")
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        fail(f"output: the folder {folder} does not exist")
    if output.is_dir():
        fail(f"output: {output} is a folder")


@group.command("awards", help=(
    "Write the annual awards report of a year as an A4 PDF (tagged, PDF/UA-1): the year in "
    "figures, the fund by jurisdiction, bounties, hours, the top tens, each award with its "
    "winner, citation, nominees and vote, and the contributors who agreed to be named."
))
@click.option("--year", "year_text", required=True, help="The calendar year, e.g. 2026.")
@click.option("--output", required=True, type=click.Path(path_type=Path), help="The file to write: FILE.pdf.")
@click.option("--lang", default=None, help="Language of the report: en or fr (default: the app's locale).")
@with_appcontext
@refusals_exit_2
def awards(year_text: str, output: Path, lang: str | None) -> None:
    year = _year(year_text)
    lang = (lang or current_app.config.get("DEFAULT_LOCALE") or "en").strip().lower()
    if lang not in report.LANGUAGES:
        fail(f"lang: {lang!r} is not one of {', '.join(report.LANGUAGES)}")
    _writable(output)
    data = annual_report(db.session, operator(), year)
    rendered = report.render(data, lang)
    try:
        output.write_bytes(rendered.pdf)
    except OSError as exc:
        fail(f"output: cannot write {output}: {exc.strerror or exc}")
    size = len(rendered.pdf)
    click.echo(f"wrote {output}: the awards report {year} ({lang}), {rendered.pages} "
               f"page{'' if rendered.pages == 1 else 's'}, {size / 1024:,.0f} KiB")
