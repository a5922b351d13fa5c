"""Organisation activity per period, for the fast-track procurement bonus: active
contributors, merged DCO-clean merge requests and approved hours of each organisation.

Read by finance (MANAGE_PAYOUTS), program admins (MANAGE_FUNDS) and auditors
(READ_EVERYTHING), as the finance statements are; nothing here writes. What is counted, the
period rule and the order of the rows are in docs/activity.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.models import HoursEntry, MergeRequest, Organisation, Person
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput
from bounty.services.hours import hours_of
from bounty.services.statements import READERS, Period, require_reader

# The days a period may cover: the years a statement may cover, so that the day after the
# last one always exists.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(9998, 12, 31)


@dataclass(frozen=True)
class OrganisationActivity:
    """One organisation's contribution over a period (organisation_id None: people without one)."""

    organisation_id: int | None
    name: str
    jurisdiction_code: str | None
    kind: str
    active_contributors: int
    merged_merge_requests: int
    approved_quarter_hours: int

    @property
    def approved_hours(self) -> Decimal:
        return hours_of(self.approved_quarter_hours)


@dataclass(frozen=True)
class ActivityTotals:
    """The figures of every row together (a person belongs to one row, so people add up)."""

    active_contributors: int
    merged_merge_requests: int
    approved_quarter_hours: int

    @property
    def approved_hours(self) -> Decimal:
        return hours_of(self.approved_quarter_hours)


UNAFFILIATED = "(no organisation)"


def can_read(actor: Actor) -> bool:
    """Whether `actor` may read organisation activity (finance, program admins, auditors)."""
    return any(actor.can(permission) for permission in READERS)


def activity_period(year: int | None = None, start: date | None = None, end: date | None = None) -> Period:
    """The period a page or an API call asks for: the calendar `year`, or the days from
    `start` to `end`, both included.

    InvalidInput names the field at fault (`year`, `start` or `end`): a year with dates, a
    missing day, a day outside 2000-01-01 to 9998-12-31, an end before the start.
    """
    if year is not None:
        if start is not None or end is not None:
            raise InvalidInput("year", "give a year, or a start and an end day, not both")
        if isinstance(year, bool) or not FIRST_DAY.year <= year <= LAST_DAY.year:
            raise InvalidInput("year", f"give a year from {FIRST_DAY.year} to {LAST_DAY.year}, such as 2026")
        return Period(date(year, 1, 1), date(year, 12, 31))
    if start is None:
        raise InvalidInput("start", "give the first day of the period (or a year)")
    if end is None:
        raise InvalidInput("end", "give the last day of the period (or a year)")
    span = Period(start, end)
    check_period(span)
    return span


def check_period(span: Period) -> None:
    """Refuse a period outside the days a period may cover, or one that ends before it starts."""
    for field, day in (("start", span.start), ("end", span.end)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidInput(field, f"give a day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}")
    if span.end < span.start:
        raise InvalidInput("end", f"{span.end.isoformat()} is before {span.start.isoformat()}")


def organisation_activity(session: Session, actor: Actor, span: Period) -> list[OrganisationActivity]:
    """Every organisation's activity over `span` (both days included, in UTC), most active first.

    An active contributor is a person with at least one DCO-clean merge request merged in the
    period (credited to them) or one approved hours entry worked in the period; merge requests
    count when `is_dco_ok` is true and `merged_at` falls in the period (UTC days); hours are
    the approved entries whose day is in the period. A person merged into another counts as
    the surviving record, in the survivor's organisation.

    Order: more active contributors first, then more merged merge requests, then more
    approved hours, then the name A to Z (ignoring case); people without an organisation are
    one last row, present only when one of them was active.
    """
    require_reader(actor)
    check_period(span)
    first, after = (datetime.combine(day, time(), UTC) for day in (span.start, span.end + timedelta(days=1)))
    merged = dict(session.execute(
        select(MergeRequest.person_id, func.count(MergeRequest.id))
        .where(MergeRequest.is_dco_ok.is_(True), MergeRequest.person_id.is_not(None),
               MergeRequest.merged_at >= first, MergeRequest.merged_at < after)
        .group_by(MergeRequest.person_id)
    ).all())
    hours = dict(session.execute(
        select(HoursEntry.person_id, func.sum(HoursEntry.quarter_hours))
        .where(HoursEntry.status == "approved", HoursEntry.worked_on >= span.start,
               HoursEntry.worked_on <= span.end)
        .group_by(HoursEntry.person_id)
    ).all())
    people = {row.id: row for row in session.execute(
        select(Person.id, Person.organisation_id, Person.merged_into_id))}
    per_org: dict[int | None, list[Any]] = defaultdict(lambda: [set(), 0, 0])
    for person_id in set(merged) | set(hours):
        survivor = _survivor(people, person_id)
        totals = per_org[people[survivor].organisation_id if survivor in people else None]
        totals[0].add(survivor)
        totals[1] += int(merged.get(person_id, 0))
        totals[2] += int(hours.get(person_id, 0) or 0)
    idle = (set(), 0, 0)
    result = [OrganisationActivity(org.id, org.name, org.jurisdiction_code, org.kind,
                                   len(per_org.get(org.id, idle)[0]), *per_org.get(org.id, idle)[1:])
              for org in session.execute(select(Organisation)).scalars()]
    # Names are unique; the exact name after the case-folded one keeps the order total.
    result.sort(key=lambda a: (-a.active_contributors, -a.merged_merge_requests, -a.approved_quarter_hours,
                               a.name.casefold(), a.name))
    if None in per_org:
        people_count, mrs, quarters = per_org[None]
        result.append(OrganisationActivity(None, UNAFFILIATED, None, "", len(people_count), mrs, quarters))
    return result


def totals(rows: Sequence[OrganisationActivity]) -> ActivityTotals:
    """The figures of `rows` added up."""
    return ActivityTotals(sum(row.active_contributors for row in rows),
                          sum(row.merged_merge_requests for row in rows),
                          sum(row.approved_quarter_hours for row in rows))


def _survivor(people: dict[int, Any], person_id: int) -> int:
    seen = {person_id}  # a cycle would be a data error: stop rather than loop
    while person_id in people and people[person_id].merged_into_id not in (None, *seen):
        person_id = people[person_id].merged_into_id
        seen.add(person_id)
    return person_id
