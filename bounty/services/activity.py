"""Organisation activity per period, for the fast-track procurement bonus: active
contributors, merged DCO-clean merge requests and approved hours of each organisation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.models import HoursEntry, MergeRequest, Organisation, Person
from bounty.services.actors import Actor
from bounty.services.hours import hours_of
from bounty.services.statements import Period, require_reader


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


UNAFFILIATED = "(no organisation)"


def organisation_activity(session: Session, actor: Actor, span: Period) -> list[OrganisationActivity]:
    """Every organisation's activity over `span`, most active first (then by name).

    An active contributor is a person with at least one DCO-clean merge request merged in the
    period (credited to them) or one approved hours entry worked in the period; merge requests
    count when `is_dco_ok` is true and `merged_at` falls in the period (UTC days); hours are
    the approved entries whose day is in the period. A person merged into another counts as
    the surviving record. People without an organisation are one last row, when active.
    """
    require_reader(actor)
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
    result.sort(key=lambda a: (-a.active_contributors, -a.merged_merge_requests, -a.approved_quarter_hours,
                               a.name))
    if None in per_org:
        people_count, mrs, quarters = per_org[None]
        result.append(OrganisationActivity(None, UNAFFILIATED, None, "", len(people_count), mrs, quarters))
    return result


def _survivor(people: dict[int, Any], person_id: int) -> int:
    seen = {person_id}  # a cycle would be a data error: stop rather than loop
    while person_id in people and people[person_id].merged_into_id not in (None, *seen):
        person_id = people[person_id].merged_into_id
        seen.add(person_id)
    return person_id
