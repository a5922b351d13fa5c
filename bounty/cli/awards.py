"""`bounty awards`: awards: open a round's nominations and its vote, show the results.

Nominating and voting are people's acts, done on the web pages and the API where the person
is known; the terminal opens the windows (as the operator, recorded in the audit log) and
reads the results. Moments are UTC: a date alone means 00:00 UTC on that day, and a moment
without an offset is taken as UTC.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import click
from flask.cli import with_appcontext

from bounty.cli.common import fail, operator, refusals_exit_2
from bounty.extensions import db
from bounty.services import award_queries, awards
from bounty.services.award_queries import NominationView, YearResults

FORMATS = ("text", "json")
ANONYMOUS = "Anonymous contributor"


@click.group("awards", help="Awards: open a round's nominations and its vote, show the results.")
def group() -> None:
    pass


def _year(text: str) -> int:
    """The --year given; a plain whole number (the service checks the range)."""
    cleaned = text.strip()
    if not (cleaned.isascii() and cleaned.isdigit()) or len(cleaned) > 4:
        fail(f"--year must be a year such as 2026, got {text!r}")
    return int(cleaned)


def _moment(option: str, text: str, example: str) -> datetime:
    """A date (00:00 UTC that day) or an ISO 8601 moment (UTC when it has no offset)."""
    cleaned = text.strip()
    try:
        if len(cleaned) == 10:
            day = date.fromisoformat(cleaned)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        fail(f"{option} must be a date or a moment such as {example}, got {text!r}")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@group.command("open", help=(
    "Open the awards round of a year: nominations open now and close at --nominations-close "
    "(a date means 00:00 UTC that day)."
))
@click.option("--year", "year_text", required=True, help="The round's year, e.g. 2026.")
@click.option("--nominations-close", "close", required=True,
              help="When nominations close: 2026-12-01 or 2026-12-01T18:00Z.")
@with_appcontext
@refusals_exit_2
def open_command(year_text: str, close: str) -> None:
    award_round = awards.open_round(db.session, operator(), _year(year_text),
                                    _moment("--nominations-close", close, "2026-12-01"))
    click.echo(f"awards {award_round.year}: nominations open until "
               f"{award_round.nominations_close_at.isoformat()}")


@group.command("open-vote", help=(
    "Open the vote of a year's round once nominations have closed: it opens now and closes at "
    "--closes, at least 72 hours away."
))
@click.option("--year", "year_text", required=True, help="The round's year, e.g. 2026.")
@click.option("--closes", required=True, help="When the vote closes: 2026-12-10T12:00Z.")
@with_appcontext
@refusals_exit_2
def open_vote_command(year_text: str, closes: str) -> None:
    closes_at = _moment("--closes", closes, "2026-12-10T12:00Z")
    award_round = awards.open_vote(db.session, operator(), _year(year_text), closes_at)
    assert award_round.voting_closes_at is not None
    click.echo(f"awards {award_round.year}: the vote is open until "
               f"{award_round.voting_closes_at.isoformat()}")


def _name(view: NominationView) -> str:
    return view.nominee_name or ANONYMOUS


def _counts(counts: dict[str, int]) -> str:
    return " ".join(f"{value}:{count}" for value, count in counts.items())


def _as_text(found: YearResults) -> str:
    state = "decided" if found.decided else f"not decided ({found.phase})"
    lines = [f"awards {found.year}: {state}"]
    for result in found.categories:
        category = result.category
        if not result.decided:
            outcome = "not decided"
        elif result.winner is None:
            outcome = "no award"
        else:
            outcome = f"winner {_name(result.winner)}"
        lines.append(f"{category.code} ({category.decision_rule}): {outcome}")
        for view in result.nominations:
            tally = view.tally
            lines.append(f"  {view.id} {_name(view)}: {'passed' if tally.passed else 'did not pass'}; "
                         f"binding {_counts(tally.binding)}; non-binding {_counts(tally.non_binding)}; "
                         f"vetoes {len(tally.vetoes)}; void vetoes {len(tally.void_vetoes)}")
    return "\n".join(lines)


def _nomination_json(view: NominationView) -> dict[str, Any]:
    tally = view.tally
    return {"id": view.id, "nominee": {"person_id": view.nominee_person_id,
                                       "organisation_id": view.nominee_organisation_id,
                                       "name": view.nominee_name},
            "passed": tally.passed, "binding": tally.binding, "non_binding": tally.non_binding,
            "vetoes": len(tally.vetoes), "void_vetoes": len(tally.void_vetoes)}


def _as_json(found: YearResults) -> dict[str, Any]:
    return {"year": found.year, "phase": found.phase, "decided": found.decided,
            "categories": [{"code": r.category.code, "decided": r.decided,
                            "winner": _nomination_json(r.winner) if r.winner else None,
                            "nominations": [_nomination_json(v) for v in r.nominations]}
                           for r in found.categories]}


@group.command("results", help=(
    "The results of a year: per category the winner (or no award), and each nomination's "
    "tally (binding and non-binding votes by value, vetoes, void vetoes)."
))
@click.option("--year", "year_text", required=True, help="The round's year, e.g. 2026.")
@click.option("--format", "fmt", default="text", show_default=True, help="text or json.")
@with_appcontext
@refusals_exit_2
def results_command(year_text: str, fmt: str) -> None:
    if fmt not in FORMATS:
        fail(f"--format must be text or json, got {fmt!r}")
    found = award_queries.results(db.session, operator(), _year(year_text))
    if fmt == "json":
        click.echo(json.dumps(_as_json(found), indent=2, ensure_ascii=False))
    else:
        click.echo(_as_text(found))
