"""`bounty documents`: documents built on the job queue (docs/documents.md): list them, and
purge the expired ones (what the worker's beat does every hour).

The operator acts as the system: `list` shows every person's jobs. Bad input exits 2 with
one line.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from bounty.cli.common import fail, operator, refusals_exit_2
from bounty.extensions import db
from bounty.models import Person
from bounty.models.documents import JOB_STATUSES
from bounty.services import document_jobs

MAX_LIMIT = 1000


@click.group("documents", help="Documents built on the job queue: list and purge.")
def group() -> None:
    pass


@group.command("list", help="Document jobs, newest first: status, progress, who asked, the file.")
@click.option("--status", default=None, help=f"Only jobs in this status: {', '.join(JOB_STATUSES)}.")
@click.option("--limit", default="50", show_default=True, help=f"At most this many jobs (1 to {MAX_LIMIT}).")
@with_appcontext
@refusals_exit_2
def list_documents(status: str | None, limit: str) -> None:
    session = db.session
    if status is not None and status not in JOB_STATUSES:
        fail(f"--status: {status!r} is not one of {', '.join(JOB_STATUSES)}")
    if not limit.strip().isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        fail(f"--limit: give a whole number from 1 to {MAX_LIMIT}, not {limit!r}")
    jobs = document_jobs.list_jobs(session, operator(), everyone=True, status=status, limit=int(limit))
    if not jobs:
        click.echo("no document jobs")
        return
    ids = {job.requested_by_id for job in jobs if job.requested_by_id is not None}
    names = {row.id: row.username
             for row in session.execute(select(Person.id, Person.username).where(Person.id.in_(ids)))}
    for job in jobs:
        who = names.get(job.requested_by_id, "?") if job.requested_by_id is not None else "system"
        state = job.status
        if job.status == "running":
            state += f" {job.progress}%"
        elif document_jobs.is_expired(job):
            state += " (expired)"
        detail = job.error if job.status == "failed" else (
            f"{job.filename} {job.size_bytes} bytes" if job.status == "done" else job.stage)
        click.echo(f"{job.id}\t{job.created_at:%Y-%m-%d %H:%M}\t{who}\t{job.kind}\t{state}\t{detail}")


@group.command("purge", help="Delete the expired document jobs and their files.")
@with_appcontext
@refusals_exit_2
def purge() -> None:
    purged = document_jobs.purge_expired(db.session, operator())
    click.echo(f"purged {purged} expired document job(s)")
