"""The professional-development statement: a person's approved contribution hours of one year.

Who may read it (docs/hours.md, "The statement"): the person themself, program admins
(MANAGE_BOUNTIES, the Technical Board that runs the programme), auditors (READ_EVERYTHING)
and the system (the `bounty hours statement` command). Anyone else is refused.

Only approved entries count. Each keeps who signed it off and when; hours are totalled by
month and activity in whole quarter hours, so every total is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from bounty.governance.permissions import Permission
from bounty.models import HoursEntry, Organisation, Person, WorkingGroup, utcnow
from bounty.models.hours import ACTIVITIES
from bounty.services.actors import Actor
from bounty.services.errors import NotFound, PermissionDenied
from bounty.services.hours import hours_of, year_bounds

# Besides the person themself, these read anyone's statement.
READERS = (Permission.MANAGE_BOUNTIES, Permission.READ_EVERYTHING)


@dataclass(frozen=True)
class StatementLine:
    """One approved entry, with who signed it off."""

    worked_on: date
    quarter_hours: int
    activity: str
    working_group_code: str
    working_group_name: str
    description: str
    merge_request_url: str | None
    reviewer_username: str
    reviewer_name: str
    reviewed_at: datetime | None

    @property
    def hours(self) -> Decimal:
        return hours_of(self.quarter_hours)


@dataclass(frozen=True)
class MonthTotals:
    """Approved quarter hours of one month, per activity (every activity present, 0 when none)."""

    month: int
    quarters_by_activity: dict[str, int]

    @property
    def quarter_hours(self) -> int:
        return sum(self.quarters_by_activity.values())

    def hours(self, activity: str | None = None) -> Decimal:
        """Hours of `activity` in the month, or of the whole month."""
        return hours_of(self.quarter_hours if activity is None else self.quarters_by_activity[activity])


@dataclass(frozen=True)
class HoursStatement:
    """A person's approved hours of `year`: the lines, twelve months of totals, the year's totals."""

    username: str
    display_name: str
    jurisdiction_code: str | None
    organisation: str | None
    year: int
    lines: list[StatementLine]
    months: list[MonthTotals]
    generated_at: datetime

    @property
    def activities(self) -> tuple[str, ...]:
        return ACTIVITIES

    @property
    def quarter_hours(self) -> int:
        return sum(line.quarter_hours for line in self.lines)

    @property
    def total_hours(self) -> Decimal:
        return hours_of(self.quarter_hours)

    def activity_hours(self, activity: str) -> Decimal:
        """The year's hours of one activity."""
        return hours_of(sum(month.quarters_by_activity[activity] for month in self.months))

    @property
    def reviewers(self) -> list[str]:
        """Who signed off hours, by display name, each once, alphabetically."""
        return sorted({line.reviewer_name for line in self.lines})


def _person(session: Session, username: str) -> Person:
    person = session.execute(
        select(Person).where(Person.username == (username or "").strip())
    ).scalar_one_or_none()
    if person is None:
        raise NotFound(f"no person {username!r}")
    if person.merged_into_id is not None:
        survivor = session.get(Person, person.merged_into_id)
        name = survivor.username if survivor else f"person {person.merged_into_id}"
        raise NotFound(f"{username} was merged into {name}: ask for {name}'s statement")
    return person


def _require_reader(actor: Actor, person: Person) -> None:
    if actor.person_id == person.id or any(actor.can(permission) for permission in READERS):
        return
    raise PermissionDenied("only the person, program admins and auditors read an hours statement")


def statement(session: Session, viewer: Actor, username: str, year: int, *,
              now: datetime | None = None) -> HoursStatement:
    """The statement of `username` for `year` (reads only).

    NotFound for an unknown person, InvalidInput on "year" outside 2000-9998, PermissionDenied
    unless the viewer is the person, a program admin, an auditor or the system.
    """
    first, after = year_bounds(year)
    person = _person(session, username)
    _require_reader(viewer, person)
    reviewer = aliased(Person)
    rows = session.execute(
        select(HoursEntry, WorkingGroup, reviewer)
        .join(WorkingGroup, WorkingGroup.id == HoursEntry.working_group_id)
        .join(reviewer, reviewer.id == HoursEntry.reviewer_id)
        .where(HoursEntry.person_id == person.id, HoursEntry.status == "approved",
               HoursEntry.worked_on >= first, HoursEntry.worked_on < after)
        .order_by(HoursEntry.worked_on, HoursEntry.id)
    ).all()
    lines = [StatementLine(
        worked_on=entry.worked_on, quarter_hours=entry.quarter_hours, activity=entry.activity,
        working_group_code=group.code, working_group_name=group.name, description=entry.description,
        merge_request_url=entry.merge_request_url, reviewer_username=signer.username,
        reviewer_name=signer.display_name, reviewed_at=entry.reviewed_at,
    ) for entry, group, signer in rows]
    months = [MonthTotals(month, dict.fromkeys(ACTIVITIES, 0)) for month in range(1, 13)]
    for line in lines:
        months[line.worked_on.month - 1].quarters_by_activity[line.activity] += line.quarter_hours
    organisation = session.get(Organisation, person.organisation_id) if person.organisation_id else None
    return HoursStatement(
        username=person.username, display_name=person.display_name,
        jurisdiction_code=person.jurisdiction_code, organisation=organisation.name if organisation else None,
        year=year, lines=lines, months=months, generated_at=now or utcnow(),
    )
