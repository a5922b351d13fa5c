"""`bounty db`: schema migrations (never run at application start-up)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from bounty.extensions import db
from bounty.models import migrate


@click.group("db", help="Database schema: apply migrations.")
def group() -> None:
    pass


@group.command("upgrade", help="Apply every migration up to REVISION (default: head).")
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    migrate.upgrade(db.engine, revision)
    click.echo(f"database at {migrate.current_revision(db.engine)}")


@group.command("current", help="Print the revision the database is at.")
@with_appcontext
def current() -> None:
    click.echo(migrate.current_revision(db.engine) or "empty: run `bounty db upgrade`")
