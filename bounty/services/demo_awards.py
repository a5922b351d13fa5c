"""The demo awards round (seed/demo/awards.toml): a year's nominations and votes, closed, so
the results page and the awards report have outcomes to show.

The round is of the current year, its windows relative to `now` (days before the seeding):
nominations opened, then closed; the vote opened, then closed. Everything goes through the
award services with their rules (eligibility, one nomination per nominator and category,
binding votes, conflicts of interest, the 72-hour vote), each acting at a moment inside
its window, so the demo shows what real use leaves behind. The demo people named in
`committee` get the awards-committee role when they lack it (an audited role change), so
the demo has enough binding voters.

Idempotent: the round, each nomination (by category and nominator) and each vote (by
nomination and voter) is added only when missing, at moments taken from the recorded
round's windows, so a second run adds nothing, whatever its `now`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.governance.votes import VALUES
from bounty.models import AwardCategory, AwardRound, Nomination, Organisation, Person, Vote
from bounty.services import audit, awards, seed_files
from bounty.services.actors import Actor, person_actor
from bounty.services.errors import InvalidInput

COMMITTEE_ROLE = "awards-committee"
Count = Callable[[str, bool], None]


def _read(seed_dir: Path, people: dict[str, Person]) -> dict[str, Any]:
    """Read demo/awards.toml and check the names and values it uses."""
    try:
        data = seed_files.read_toml("demo/awards.toml", seed_dir)
    except (OSError, ValueError) as exc:
        raise InvalidInput("demo/awards.toml", f"cannot read it: {exc}") from None

    def person(name: object, where: str) -> None:
        if name not in people:
            raise InvalidInput("demo/awards.toml", f"{where}: {name!r} is not a demo person")

    days = [data.get(key) for key in ("opened_days_ago", "nominations_closed_days_ago",
                                      "vote_opened_days_ago", "vote_closed_days_ago")]
    if not all(isinstance(d, int) for d in days) or not days[0] > days[1] >= days[2] > days[3] >= 0:
        raise InvalidInput("demo/awards.toml", "the windows must be whole days ago, in order: opened, "
                                               "nominations closed, vote opened, vote closed")
    person(data.get("opened_by"), "opened_by")
    for name in data.get("committee", []):
        person(name, "committee")
    for index, table in enumerate(data.get("nominations", []), start=1):
        where = f"nominations[{index}]"
        person(table.get("nominator"), f"{where}.nominator")
        if ("nominee" in table) == ("organisation" in table):
            raise InvalidInput("demo/awards.toml", f"{where}: name a nominee or an organisation")
        if "nominee" in table:
            person(table["nominee"], f"{where}.nominee")
        for vote in table.get("votes", []):
            person(vote.get("voter"), f"{where}.votes")
            for key in ("value", "changed_from"):
                if key in vote and vote[key] not in VALUES:
                    raise InvalidInput("demo/awards.toml", f"{where}.votes: {key} must be one of "
                                                           f"{', '.join(VALUES)}")
    return data


def _seed_committee(session: Session, actor: Actor, names: list[str], people: dict[str, Person],
                    count: Count) -> None:
    for name in names:
        person = people[name]
        missing = COMMITTEE_ROLE not in (person.roles or [])
        count("demo awards committee", missing)
        if missing:
            person.roles = [*(person.roles or []), COMMITTEE_ROLE]
            session.flush()
            audit.record(session, actor, "person.roles", "person", person.id,
                         {"username": person.username, "added": [COMMITTEE_ROLE], "roles": person.roles})
    session.commit()


def _round(session: Session, data: dict[str, Any], people: dict[str, Person], now: datetime,
           count: Count) -> AwardRound:
    year = (now - timedelta(days=data["opened_days_ago"])).year
    admin = person_actor(people[data["opened_by"]])
    award_round = session.execute(select(AwardRound).where(AwardRound.year == year)).scalar_one_or_none()
    count("demo award rounds", award_round is None)
    if award_round is None:
        closes = now - timedelta(days=data["nominations_closed_days_ago"])
        award_round = awards.open_round(session, admin, year, closes,
                                        now=now - timedelta(days=data["opened_days_ago"]))
    if award_round.voting_opens_at is None:
        awards.open_vote(session, admin, year, now - timedelta(days=data["vote_closed_days_ago"]),
                         now=now - timedelta(days=data["vote_opened_days_ago"]))
        session.refresh(award_round)
    return award_round


def _nominee_ids(session: Session, table: dict[str, Any], people: dict[str, Person]) -> dict[str, int | None]:
    if "nominee" in table:
        return {"nominee_person_id": people[table["nominee"]].id, "nominee_organisation_id": None}
    organisation = session.execute(
        select(Organisation).where(Organisation.name == table["organisation"])).scalar_one_or_none()
    if organisation is None:
        raise InvalidInput("demo/awards.toml", f"no organisation {table['organisation']!r}")
    return {"nominee_person_id": None, "nominee_organisation_id": organisation.id}


def _seed_nomination(session: Session, award_round: AwardRound, index: int, table: dict[str, Any],
                     people: dict[str, Person], count: Count) -> None:
    nominator = people[table["nominator"]]
    category = session.execute(
        select(AwardCategory).where(AwardCategory.code == table.get("category"))).scalar_one_or_none()
    if category is None:
        raise InvalidInput("demo/awards.toml", f"no award category {table.get('category')!r}")
    nomination = session.execute(select(Nomination).where(
        Nomination.round_id == award_round.id, Nomination.category_id == category.id,
        Nomination.nominator_id == nominator.id)).scalar_one_or_none()
    count("demo nominations", nomination is None)
    if nomination is None:
        # Nominations a few hours apart, in the file's order, inside the window.
        at = award_round.nominations_open_at + timedelta(hours=6 * index)
        nomination = awards.nominate(session, person_actor(nominator), award_round.year, category.code,
                                     table["citation"], now=at, **_nominee_ids(session, table, people))
    assert award_round.voting_opens_at is not None
    for position, entry in enumerate(table.get("votes", []), start=1):
        voter = people[entry["voter"]]
        known = session.execute(select(Vote.id).where(Vote.nomination_id == nomination.id,
                                                      Vote.voter_id == voter.id)).scalar()
        count("demo votes", known is None)
        if known is not None:
            continue
        at = award_round.voting_opens_at + timedelta(hours=index, minutes=position)
        if "changed_from" in entry:
            awards.cast_vote(session, person_actor(voter), nomination.id, entry["changed_from"], "", now=at)
            at += timedelta(hours=24)
        awards.cast_vote(session, person_actor(voter), nomination.id, entry["value"], entry.get("reason", ""),
                         now=at)


def seed_demo_awards(session: Session, actor: Actor, seed_dir: Path, people: dict[str, Person],
                     now: datetime, count: Callable[[str, bool], None]) -> None:
    """Load the demo awards round; idempotent, commits what it adds."""
    actor.require(Permission.SEED_DATA)
    data = _read(seed_dir, people)
    _seed_committee(session, actor, data.get("committee", []), people, count)
    for person in people.values():
        session.refresh(person)
    award_round = _round(session, data, people, now, count)
    for index, table in enumerate(data.get("nominations", []), start=1):
        _seed_nomination(session, award_round, index, table, people, count)
