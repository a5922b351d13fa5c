"""`bounty badges`: badges: award what the facts have earned."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from bounty.cli.common import fail, operator, refusals_exit_2
from bounty.extensions import db
from bounty.models import Badge, Person
from bounty.services import badges


@click.group("badges", help="Badges: award what the facts have earned.")
def group() -> None:
    pass


@group.command("award", help=(
    "Re-evaluate everyone (or one person) and award the badges their merged work, bounties, "
    "hours and reviews have earned, each dated by the fact that earned it. Idempotent: a "
    "badge is held once, so a second run awards nothing. Prints what was awarded."
))
@click.option("--person", "username", default=None, help="Only this person (user name).")
@with_appcontext
@refusals_exit_2
def award(username: str | None) -> None:
    person_ids = None
    if username is not None:
        person_id = db.session.execute(
            select(Person.id).where(Person.username == username.strip())).scalar_one_or_none()
        if person_id is None:
            fail(f"person: no one is called {username!r}")
        person_ids = [person_id]
    awarded = badges.award_badges(db.session, operator(), person_ids)
    if not awarded:
        click.echo("no new badges: everyone already holds what they have earned")
        return
    names = dict(db.session.execute(select(Person.id, Person.username)).all())
    codes = dict(db.session.execute(select(Badge.id, Badge.code)).all())
    for row in sorted(awarded, key=lambda r: (names[r.person_id], r.earned_at)):
        click.echo(f"{names[row.person_id]}: {codes[row.badge_id]} "
                   f"(earned {row.earned_at:%Y-%m-%d %H:%M} UTC)")
    click.echo(f"awarded {len(awarded)} badge{'' if len(awarded) == 1 else 's'}")
