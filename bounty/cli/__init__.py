"""The `bounty` command: a Flask CLI group of thin commands, each calling one service.

Bad input ends with exit code 2 and one line naming what is wrong (see `common`).
"""

from __future__ import annotations

from flask.cli import FlaskGroup

from bounty import create_app
from bounty.cli import (
    audit,
    awards,
    badges,
    claims,
    db,
    dco,
    demo,
    documents,
    finance,
    fund,
    fx,
    gitlab,
    grants,
    hours,
    ledger,
    payouts,
    people,
    report,
    seed,
)

cli = FlaskGroup(
    create_app=create_app,
    add_version_option=False,
    load_dotenv=False,
    help="Contributor incentive and bounty ledger of the sovereign-cloud cooperative.",
)

for command in (db.group, fund.group, fx.group, ledger.group, audit.group, claims.group, dco.group,
                finance.group, gitlab.group, grants.group, hours.group, payouts.group, people.group,
                awards.group, badges.group, documents.group, report.group, seed.command, demo.command):
    cli.add_command(command)
