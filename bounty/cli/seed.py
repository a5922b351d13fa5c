"""`bounty seed`: the reference data in seed/ and, with --demo, the fictional demo data."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from bounty.cli.common import operator, refusals_exit_2
from bounty.extensions import db
from bounty.services.demo_data import seed_demo
from bounty.services.seed import seed_reference


@click.command("seed", help=(
    "Load the reference data (jurisdictions and shares, working groups, bounty categories, "
    "the year's pools funded by share, the exchange-rate snapshot). With --demo, then load "
    "the fictional demo people and bounties. Idempotent: a second run changes nothing."
))
@click.option("--demo", is_flag=True, help="Also load the fictional demo data (demonstrations only).")
@with_appcontext
@refusals_exit_2
def command(demo: bool) -> None:
    actor = operator()
    report = seed_reference(db.session, actor)
    click.echo("reference data " + ("loaded" if report.changed else "already loaded"))
    for line in report.lines():
        click.echo(f"  {line}")
    if demo:
        demo_report = seed_demo(db.session, actor)
        click.echo("demo data " + ("loaded" if demo_report.changed else "already loaded"))
        for line in demo_report.lines():
            click.echo(f"  {line}")
