"""`bounty gitlab`: syncing merged work from the cooperative's GitLab.

`bounty gitlab sync` reads the projects given with `--project`, else the projects and groups
of the settings (BOUNTY_GITLAB_PROJECTS, BOUNTY_GITLAB_GROUPS), with BOUNTY_GITLAB_URL and
BOUNTY_GITLAB_TOKEN. Progress goes to stderr (one line rewritten in place on a terminal,
a line per batch otherwise); one summary line per project goes to stdout. Exit 2 with one
line when nothing is configured or GitLab cannot be read.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from bounty.cli.common import fail, operator, refusals_exit_2
from bounty.dco.rules import DcoChecker
from bounty.extensions import db
from bounty.gitlab.client import GitLabClient, GitLabError
from bounty.services import merged_work


@click.group("gitlab", help="Merged work from GitLab.")
def group() -> None:
    pass


class ProgressReport:
    """Counts per batch on stderr: rewritten in place on a terminal, plain lines otherwise."""

    def __init__(self) -> None:
        self.on_terminal = sys.stderr.isatty()
        self.done: dict[str, int] = {}
        self._open_line = False

    def __call__(self, project: str, merge_requests: int) -> None:
        self.done[project] = merge_requests
        text = f"{project}: {merge_requests} merge requests read"
        if self.on_terminal:
            click.echo(f"\r{text}\x1b[K", err=True, nl=False)
            self._open_line = True
        elif merge_requests:
            click.echo(text, err=True)

    def close(self) -> None:
        if self._open_line:
            click.echo("", err=True)
            self._open_line = False


@group.command("sync", help=(
    "Sync merged merge requests and their commits' DCO verdicts from GitLab, incrementally "
    "(each project resumes after the last merge request committed). Projects: --project, "
    "else BOUNTY_GITLAB_PROJECTS and BOUNTY_GITLAB_GROUPS."
))
@click.option("--project", "projects", multiple=True, metavar="ID_OR_PATH",
              help="A project id or full path (group/project); repeat for several.")
@click.option("--full", is_flag=True, help="Read every merge request again, not only those updated since.")
@with_appcontext
@refusals_exit_2
def sync(projects: tuple[str, ...], full: bool) -> None:
    config = current_app.config
    wanted: list[int | str] = list(projects) or list(config["GITLAB_PROJECTS"])
    groups: list[str] = [] if projects else [str(g) for g in config["GITLAB_GROUPS"]]
    if not wanted and not groups:
        fail("no GitLab project to sync: give --project or set BOUNTY_GITLAB_PROJECTS or "
             "BOUNTY_GITLAB_GROUPS")
    try:
        checker = DcoChecker(config["DCO_BOT_PATTERNS"])
    except ValueError as exc:
        fail(f"BOUNTY_DCO_BOT_PATTERNS: {exc}")
    client = GitLabClient(config["GITLAB_URL"], config["GITLAB_TOKEN"], per_page=config["GITLAB_PER_PAGE"])
    progress = ProgressReport()
    try:
        summary = merged_work.sync_projects(
            db.session, operator(), client, wanted, groups, checker=checker, full=full,
            write_back=bool(config["GITLAB_WRITE_BACK_STATUS"]), progress=progress,
        )
    except GitLabError as exc:
        progress.close()
        synced = sum(progress.done.values())
        kept = f" ({synced} merge requests synced before it are kept; run the sync again to resume)"
        fail(f"{exc}{kept if synced else ''}")
    progress.close()
    for path, one in summary.per_project.items():
        click.echo(one.line(path))
    if len(summary.per_project) > 1:
        click.echo(summary.line(f"{summary.projects} projects"))
