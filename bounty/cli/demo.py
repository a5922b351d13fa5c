"""`bounty demo`: a ready-to-try instance in one command.

Builds the application in the `demo` environment with the development sign-in on, brings
the database up to date (`BOUNTY_DATABASE_URL`, else the SQLite file in the instance
folder), loads the reference and demo data, prints where to go and who to sign in as,
and serves until interrupted. Refused when `BOUNTY_ENV=production`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import click
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.serving import run_simple

from bounty import create_app
from bounty.auth import demo_personas
from bounty.cli.common import fail, operator, refusals_exit_2
from bounty.config import ConfigError
from bounty.extensions import db
from bounty.models.migrate import upgrade
from bounty.services.demo_data import seed_demo
from bounty.services.seed import seed_reference


@dataclass(frozen=True)
class Persona:
    """A demo person as the start-up banner lists them."""

    name: str
    roles: tuple[str, ...]
    jurisdiction: str | None


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@refusals_exit_2
def command(host: str, port: int) -> None:
    """Migrate, seed demo data and serve the site with the demo sign-in."""
    if os.environ.get("BOUNTY_ENV", "").strip().lower() == "production":
        fail("bounty demo is refused when BOUNTY_ENV=production: it turns on the demo sign-in")
    try:
        app = create_app({"ENV": "demo", "DEMO_LOGIN": True})
    except ConfigError as exc:
        fail(str(exc))
    personas = prepare(app)
    url = f"http://{_display_host(host)}:{port}/"
    click.echo(f"Demo ready at {url}")
    click.echo(f"Sign in as one of these personas at {url}dev/login:")
    for persona in personas:
        roles = ", ".join(persona.roles) or "no roles"
        click.echo(f"  {persona.name} ({persona.jurisdiction or 'no jurisdiction'}): {roles}")
    click.echo("Press Ctrl+C to stop.")
    # Not app.run(): under the `bounty` command group Flask turns app.run() into a no-op.
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)


def prepare(app: Flask) -> list[Persona]:
    """Bring `app`'s database to the newest schema, load the reference and demo data, and
    return the demo personas."""
    with app.app_context():
        where = db.engine.url.render_as_string(hide_password=True)
        try:
            upgrade(db.engine)
        except SQLAlchemyError as exc:
            fail(f"cannot migrate the database at {where}: {str(exc).splitlines()[0]}")
        actor = operator()
        seed_reference(db.session, actor)
        seed_demo(db.session, actor)
        return [Persona(p.display_name, tuple(p.roles or ()), p.jurisdiction_code)
                for p in demo_personas(db.session)]


def _display_host(host: str) -> str:
    """The address to print: a wildcard listener is reachable on the loopback address."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - comparing, not binding
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
