"""`bounty claims`: housekeeping of bounty claims (lapsing those past their time limit)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from bounty.cli.common import operator, refusals_exit_2
from bounty.extensions import db
from bounty.services import claims


@click.group("claims", help="Claims on bounties: lapse those past their time limit.")
def group() -> None:
    pass


@group.command("expire", help=(
    "Lapse every active claim not submitted within its bounty's time limit (the bounty "
    "reopens) and record security-fix claims past their 48-hour remediation clock. "
    "Safe to run as often as wanted, e.g. from cron every few minutes."
))
@with_appcontext
@refusals_exit_2
def expire() -> None:
    lapsed = claims.expire_claims(db.session, operator())
    click.echo(f"{lapsed} claim{'' if lapsed == 1 else 's'} lapsed")
