"""Builders for award tests: the reference seed (award categories included), committee members,
activity that makes people eligible, and a year's round with its windows.

Rounds, nominations and votes go through the services. Activity is written as the rows
the hours and bounty workflows leave behind (an approved hours entry), so a test can date
it in any year; `tests.workflow_factories` builds the full bounty workflow when needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import AwardRound, HoursEntry, Organisation, Person, WorkingGroup
from bounty.services import awards
from bounty.services.actors import Actor
from tests import workflow_factories as wf

YEAR = 2026
# The round of YEAR: nominations from OPENED to NOMINATIONS_CLOSE, the vote from VOTE_OPENS
# to VOTE_CLOSES (a week, more than the 72 hours the bylaws ask).
OPENED = datetime(YEAR, 12, 1, 9, 0, tzinfo=UTC)
NOMINATING = OPENED + timedelta(days=1)
NOMINATIONS_CLOSE = OPENED + timedelta(days=14)
VOTE_OPENS = NOMINATIONS_CLOSE + timedelta(days=1)
VOTING = VOTE_OPENS + timedelta(days=1)
VOTE_CLOSES = VOTE_OPENS + timedelta(days=7)
AFTER = VOTE_CLOSES + timedelta(days=1)
CITATION = ("For patient, careful work all year on the storage drivers and for helping "
            "every newcomer who asked.")


def setup(session: Session) -> None:
    """The reference seed: jurisdictions, working groups, bounty and award categories."""
    wf.reference(session)


def member(session: Session, username: str, *, jurisdiction: str = "EU", committee: bool = False,
           admin: bool = False, public: bool = False, organisation: Organisation | None = None) -> Actor:
    """A contributor (on the awards committee with `committee`, program admin with `admin`)."""
    roles = ["contributor", *(["awards-committee"] if committee else []),
             *(["program-admin"] if admin else [])]
    person = wf.person(session, username, roles, jurisdiction)
    if public or organisation is not None:
        person.is_public_listing = public
        person.organisation_id = organisation.id if organisation is not None else None
        session.commit()
    return wf.actor_of(person)


def committee(session: Session, count: int, prefix: str = "judge") -> list[Actor]:
    """`count` members of the awards committee, of no organisation."""
    return [member(session, f"{prefix}{i}", committee=True) for i in range(1, count + 1)]


def program_admin(session: Session) -> Actor:
    return wf.admin(session)


def organisation(session: Session, name: str, jurisdiction: str = "EU") -> Organisation:
    found = session.execute(select(Organisation).where(Organisation.name == name)).scalar_one_or_none()
    if found is None:
        found = Organisation(name=name, jurisdiction_code=jurisdiction, kind="supplier")
        session.add(found)
        session.commit()
    return found


def hours(session: Session, who: Actor | Person, on: date, activity: str = "code", *,
          status: str = "approved", quarter_hours: int = 8, reviewer: str = "hours.reviewer") -> HoursEntry:
    """An hours entry of `who` worked `on` a day, approved by another person by default."""
    person_id = who.person_id if isinstance(who, Actor) else who.id
    group = session.execute(select(WorkingGroup).order_by(WorkingGroup.code)).scalars().first()
    assert group is not None, "run setup() first"
    checker = wf.person(session, reviewer, ("contributor", "reviewer"), "UK")
    entry = HoursEntry(person_id=person_id, worked_on=on, quarter_hours=quarter_hours, activity=activity,
                       working_group_id=group.id, description=f"{activity} work", status=status,
                       reviewer_id=checker.id if status != "pending" else None,
                       reviewed_at=datetime.combine(on, datetime.min.time(), UTC) + timedelta(days=1)
                       if status != "pending" else None)
    session.add(entry)
    session.commit()
    return entry


def active(session: Session, who: Actor | Person, year: int = YEAR, activity: str = "code") -> HoursEntry:
    """Approved hours of `activity` in the middle of `year`."""
    return hours(session, who, date(year, 6, 15), activity)


def open_round(session: Session, admin: Actor | None = None, year: int = YEAR) -> AwardRound:
    """The round of `year` with the standard nomination window (OPENED .. NOMINATIONS_CLOSE)."""
    shift = timedelta(days=365 * (year - YEAR))
    return awards.open_round(session, admin or program_admin(session), year, NOMINATIONS_CLOSE + shift,
                             now=OPENED + shift)


def open_vote(session: Session, admin: Actor | None = None, year: int = YEAR) -> AwardRound:
    shift = timedelta(days=365 * (year - YEAR))
    return awards.open_vote(session, admin or program_admin(session), year, VOTE_CLOSES + shift,
                            now=VOTE_OPENS + shift)


def vote_all(session: Session, nomination_id: int, votes: Iterable[tuple[Actor, str, str]],
             now: datetime = VOTING) -> None:
    for voter, value, reason in votes:
        awards.cast_vote(session, voter, nomination_id, value, reason, now=now)
