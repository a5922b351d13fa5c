"""`bounty hours`: contribution hours at the command line (the yearly statement)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from bounty.cli.common import fail, operator, refusals_exit_2
from bounty.exports.hours_statement import statement_csv
from bounty.extensions import db
from bounty.reports import hours_statement as report
from bounty.services import hours_statement


@click.group("hours", help="Contribution hours: professional-development statements.")
def group() -> None:
    pass


def _year(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        fail(f"year: {text!r} is not a year such as 2026")


@group.command("statement", help=(
    "Write a person's professional-development statement of a year: their approved hours by "
    "month and activity, each signed off by a reviewer. The output's extension chooses the "
    "format: .pdf (in English or French, --lang) or .csv (UTF-8, one row per approved entry)."
))
@click.option("--person", "username", required=True, help="The person's user name.")
@click.option("--year", "year_text", required=True, help="The calendar year, e.g. 2026.")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write: FILE.pdf or FILE.csv.")
@click.option("--lang", default=None, help="Language of the PDF: en or fr (default: the app's locale).")
@with_appcontext
@refusals_exit_2
def statement(username: str, year_text: str, output: Path, lang: str | None) -> None:
    try:
        fmt = report.format_of(output.name)
    except report.UnsupportedFormat as exc:
        fail(str(exc))
    lang = (lang or current_app.config.get("DEFAULT_LOCALE") or "en").strip().lower()
    if lang not in report.LANGUAGES:
        fail(f"lang: {lang!r} is not one of {', '.join(report.LANGUAGES)}")
    data = hours_statement.statement(db.session, operator(), username, _year(year_text))
    content = statement_csv(data) if fmt == "csv" else report.render_pdf(data, lang)
    try:
        output.write_bytes(content)
    except OSError as exc:
        fail(f"output: cannot write {output}: {exc.strerror or exc}")
    entries = len(data.lines)
    click.echo(f"wrote {output}: {entries} approved entr{'y' if entries == 1 else 'ies'}, "
               f"{data.total_hours} hours in {data.year}")
