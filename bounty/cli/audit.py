"""`bounty audit`: verifying the hash-chained audit log and listing its events.

`verify` exits 1 when the chain is broken (one problem per line on stdout, each naming
the event); bad input exits 2 with one line.
"""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from bounty.cli.common import fail, operator, refusals_exit_2
from bounty.extensions import db
from bounty.models import AuditEvent
from bounty.services import audit

CHAIN_BROKEN = 1


@click.group("audit", help="The audit log: verify its hash chain, list events.")
def group() -> None:
    pass


@group.command("verify", help=(
    "Recompute the hash chain: names every event changed or removed, the newest included "
    "(through the chain head). Exits 1 when the chain is broken."
))
@with_appcontext
@refusals_exit_2
def verify() -> None:
    problems = audit.verify(db.session)
    if problems:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"audit log broken: {len(problems)} problem(s)", err=True)
        raise SystemExit(CHAIN_BROKEN)
    click.echo(f"audit log ok: {audit.count_events(db.session)} events")


@group.command("show", help="List the newest events, oldest of them first.")
@click.option("--object", "object_ref", default=None,
              help="Only events of one object, as TYPE:ID (e.g. pool:3).")
@click.option("--limit", default="50", show_default=True, help="How many events at most.")
@with_appcontext
@refusals_exit_2
def show(object_ref: str | None, limit: str) -> None:
    object_type = object_id = None
    if object_ref is not None:
        object_type, sep, object_id = object_ref.partition(":")
        if not sep or not object_type.strip() or not object_id.strip():
            fail(f"--object must be TYPE:ID such as pool:3, got {object_ref!r}")
        object_type, object_id = object_type.strip(), object_id.strip()
    if not limit.strip().isdigit() or int(limit) < 1:
        fail(f"--limit must be a whole number of at least 1, got {limit!r}")
    events = audit.recent_events(db.session, operator(), object_type, object_id, int(limit))
    if not events:
        click.echo("no audit events" + (f" for {object_ref}" if object_ref else ""))
    for event in events:
        click.echo(_line(event))


def _line(event: AuditEvent) -> str:
    when = event.occurred_at.strftime("%Y-%m-%d %H:%M:%SZ")
    summary = json.dumps(event.summary, sort_keys=True, ensure_ascii=False)
    return (f"#{event.seq} {when} {event.actor_label} {event.action} "
            f"{event.object_type}:{event.object_id} {summary}")
