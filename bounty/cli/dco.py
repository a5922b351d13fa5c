"""`bounty dco check`: the DCO sign-off verdicts of a JSON input or a local repository.

Exit 0 when every commit passes, 1 when any fails, 2 with one `error:` line on bad input,
so a CI job can run it as a pre-merge gate. No database is touched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from bounty.cli.common import fail
from bounty.cli.dco_git import read_commits
from bounty.dco.inputs import DcoInput, DcoInputError, loads
from bounty.dco.report import check as run_checks
from bounty.dco.report import render_table, to_json
from bounty.dco.rules import DcoChecker

FORMATS = ("table", "json")
SOME_FAIL = 1


@click.group("dco")
def group() -> None:
    """Developer Certificate of Origin sign-off checks."""


def _read_input(path: str) -> DcoInput:
    """The file at `path` (or stdin for "-"), parsed; exit 2 naming what is wrong."""
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")
    try:
        return loads(raw)
    except DcoInputError as exc:
        fail(f"{path}: {exc}")


def _checker(patterns: tuple[str, ...]) -> DcoChecker:
    """The option's patterns when given, else the app's DCO_BOT_PATTERNS setting."""
    source = "--bot-pattern" if patterns else "DCO_BOT_PATTERNS"
    chosen = patterns or tuple(current_app.config["DCO_BOT_PATTERNS"])
    try:
        return DcoChecker(bot_patterns=chosen)
    except ValueError as exc:
        fail(f"{source}: {exc}")


class _OneLineUsageErrors(click.Command):
    """Click's usage errors (an unknown option, a missing value) as one `error:` line too,
    so a CI log shows exit 2 with a single line whatever the bad input was."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            fail(exc.format_message())


@group.command("check", cls=_OneLineUsageErrors)
@click.option("--input", "input_path", metavar="FILE",
              help='A dataset JSON ({"commits": {"<iid>": [...]}}) or a JSON list of GitLab commits; '
                   '"-" reads stdin.')
@click.option("--git", "git_path", metavar="PATH", help="A local git repository to read with git log.")
@click.argument("revrange", required=False)
@click.option("--format", "output_format", default="table", show_default=True, metavar="table|json",
              help="A line per failing commit and a summary, or the full JSON report.")
@click.option("--bot-pattern", "bot_patterns", multiple=True, metavar="REGEX",
              help="Author e-mail regex of bot accounts (repeatable); replaces DCO_BOT_PATTERNS.")
@with_appcontext
def check(input_path: str | None, git_path: str | None, revrange: str | None, output_format: str,
          bot_patterns: tuple[str, ...]) -> None:
    """Check DCO sign-offs of --input FILE, or of --git PATH [REVRANGE] (default HEAD)."""
    if output_format not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, got {output_format!r}")
    if (input_path is None) == (git_path is None):
        fail("give exactly one of --input FILE or --git PATH")
    if revrange is not None and git_path is None:
        fail(f"a revision range ({revrange}) goes with --git PATH only")
    checker = _checker(bot_patterns)
    if input_path is not None:
        dco_input = _read_input(input_path)
    else:
        try:
            dco_input = DcoInput(tuple(read_commits(git_path or ".", revrange)), {})
        except DcoInputError as exc:
            fail(str(exc))
    report = run_checks(checker, dco_input)
    if output_format == "json":
        click.echo(json.dumps(to_json(report), indent=2))
    else:
        click.echo(render_table(report), nl=False)
    if not report.ok:
        raise SystemExit(SOME_FAIL)
