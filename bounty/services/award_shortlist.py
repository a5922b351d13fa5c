"""Shortlist suggestions for an award category: the year's leaderboard, kept to those eligible
in the category (docs/awards.md). A suggestion only helps a nominator: nominating still goes
through every rule of `awards.nominate`. Read only; never commits.

People categories walk the year's ranking (of the category's jurisdiction for jurisdiction
awards) in rank order and keep the eligible, at most `SCAN` rows deep. The organisation award
ranks organisations by the summed score of their members in the year's ranking. Names follow
the awards privacy rule (`award_queries.sees_names`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import AwardCategory, AwardRound, Nomination, Organisation, Person
from bounty.services import leaderboards
from bounty.services.actors import Actor
from bounty.services.award_eligibility import category_by_code, eligible
from bounty.services.award_queries import sees_names
from bounty.services.errors import InvalidInput

# How deep into the ranking a shortlist looks for eligible people.
SCAN = 500
PAGE = 100


@dataclass(frozen=True)
class Suggestion:
    """A suggested nominee: a person (with their rank in the ranking used) or an organisation."""

    person_id: int | None
    organisation_id: int | None
    name: str | None
    is_public: bool
    rank: int
    score: Decimal
    nomination_id: int | None


def _nominated(session: Session, year: int, category_id: int) -> dict[int | None, int]:
    """Nominee id (person or organisation) -> nomination id, in the category of `year`."""
    rows = session.execute(
        select(Nomination.nominee_person_id, Nomination.nominee_organisation_id, Nomination.id)
        .join(AwardRound, AwardRound.id == Nomination.round_id)
        .where(AwardRound.year == year, Nomination.category_id == category_id)).all()
    return {person or organisation: nomination for person, organisation, nomination in rows}


def shortlist(session: Session, year: int, category_code: str, limit: int = 10,
              viewer: Actor | None = None) -> list[Suggestion]:
    """Up to `limit` eligible suggestions for `category_code` in `year`, best ranked first;
    those already nominated carry their nomination's id."""
    if not 1 <= limit <= 100:
        raise InvalidInput("limit", "between 1 and 100")
    category = category_by_code(session, category_code)
    period = leaderboards.parse_period(str(year))
    nominated = _nominated(session, year, category.id)
    if category.is_for_organisations:
        return _organisations(session, category, period, year, limit, nominated)
    view, key = ("jurisdiction", category.jurisdiction_code) if category.jurisdiction_code else (
        "overall", None)
    reveal = sees_names(viewer)
    viewer_id = viewer.person_id if viewer is not None else None
    found: list[Suggestion] = []
    for offset in range(0, SCAN, PAGE):
        board = leaderboards.leaderboard(session, period, view=view, key=key, limit=PAGE, offset=offset)
        people = {p.id: p for p in session.execute(
            select(Person).where(Person.id.in_([row.person_id for row in board.rows]))).scalars()}
        for row in board.rows:
            if not eligible(session, category, year, person_id=row.person_id)[0]:
                continue
            person = people[row.person_id]
            named = reveal or person.is_public_listing or person.id == viewer_id
            found.append(Suggestion(person.id if named else None, None,
                                    person.display_name if named else None, person.is_public_listing,
                                    row.rank, row.score, nominated.get(person.id)))
            if len(found) == limit:
                return found
        if offset + PAGE >= board.total:
            break
    return found


def _organisations(session: Session, category: AwardCategory, period: leaderboards.Period, year: int,
                   limit: int, nominated: dict[int | None, int]) -> list[Suggestion]:
    totals: dict[int, Decimal] = defaultdict(Decimal)
    board = leaderboards.leaderboard(session, period, limit=leaderboards.MAX_LIMIT)
    ranked_ids = [row.person_id for row in board.rows]
    members: dict[int, int | None] = {
        person_id: organisation_id for person_id, organisation_id in session.execute(
            select(Person.id, Person.organisation_id).where(Person.id.in_(ranked_ids)))}
    for row in board.rows:
        if members.get(row.person_id) is not None:
            totals[members[row.person_id]] += row.score
    names = {organisation_id: name for organisation_id, name in session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(list(totals))))}
    ranked = sorted(((organisation_id, score) for organisation_id, score in totals.items()
                     if eligible(session, category, year, organisation_id=organisation_id)[0]),
                    key=lambda pair: (-pair[1], names[pair[0]]))
    return [Suggestion(None, organisation_id, names[organisation_id], True, rank, score,
                       nominated.get(organisation_id))
            for rank, (organisation_id, score) in enumerate(ranked[:limit], start=1)]
