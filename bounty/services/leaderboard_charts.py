"""What the leaderboard's charts draw besides the ranking itself: activity over time (DCO-clean
merged merge requests and approved hours, per month or quarter of a period) and the same two
figures per jurisdiction.

These are totals of everybody in the view, never a person's own figures, so they name nobody
and need no privacy filter. They count as the leaderboard does (docs/leaderboards.md): a merge
request counts when it is DCO-clean, credited to a person and merged in the period; an hours
entry when approved with its work day in the period; people merged into another never count.
Views: overall; jurisdiction (the person's); working group (merge requests of the group's
projects, hours logged for the group); organisation (the person's). Read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, extract, func, select
from sqlalchemy.orm import Session

from bounty.models import HoursEntry, Jurisdiction, MergeRequest, Organisation, Person, utcnow
from bounty.models.groups import WorkingGroup
from bounty.models.recognition import WorkingGroupProject
from bounty.services.errors import InvalidInput
from bounty.services.leaderboards import VIEWS, Period

QUARTER_HOURS_PER_HOUR = 4


@dataclass(frozen=True)
class Bucket:
    """One month or quarter: `start` is its first day; `kind` "month" or "quarter"."""

    start: date
    kind: str
    merged_mrs: int
    approved_hours: Decimal


@dataclass(frozen=True)
class JurisdictionActivity:
    """A jurisdiction's totals in the period (people without a jurisdiction under None)."""

    code: str | None
    merged_mrs: int
    approved_hours: Decimal


@dataclass(frozen=True)
class Scope:
    """A checked view: which people count, and (for a working group) which work."""

    view: str
    jurisdiction_code: str | None = None
    organisation_id: int | None = None
    working_group_id: int | None = None


def check_view(session: Session, view: str, key: str | int | None) -> Scope:
    """The view and its key as a Scope; InvalidInput("view" or "key", ...) when either is wrong."""
    if view not in VIEWS:
        raise InvalidInput("view", f"unknown view {view!r}: use one of {', '.join(VIEWS)}")
    if view == "overall":
        return Scope("overall")
    text = "" if key is None else str(key).strip()
    if not text:
        raise InvalidInput("key", f"the {view.replace('_', ' ')} view needs a key")
    if view == "jurisdiction":
        if session.get(Jurisdiction, text.upper()) is None:
            raise InvalidInput("key", f"no jurisdiction {text!r}")
        return Scope(view, jurisdiction_code=text.upper())
    if view == "working_group":
        group_id = session.execute(select(WorkingGroup.id).where(WorkingGroup.code == text.upper())).scalar()
        if group_id is None:
            raise InvalidInput("key", f"no working group {text!r}")
        return Scope(view, working_group_id=group_id)
    if not (text.isascii() and text.isdigit()) or session.get(Organisation, int(text)) is None:
        raise InvalidInput("key", f"no organisation {text!r}")
    return Scope(view, organisation_id=int(text))


def activity(session: Session, period: Period, *, view: str = "overall", key: str | int | None = None,
             today: date | None = None) -> list[Bucket]:
    """Merged MRs and approved hours per month of a year or quarter (up to the current month),
    per quarter of all time (from the first quarter with activity to the current one; empty
    when there is none)."""
    scope = check_view(session, view, key)
    kind = "quarter" if period.start is None else "month"
    months = {}
    for year, month, count in session.execute(_merged_by_month(scope, period)):
        months[(int(year), int(month))] = [int(count), Decimal(0)]
    for year, month, quarters in session.execute(_hours_by_month(scope, period)):
        months.setdefault((int(year), int(month)), [0, Decimal(0)])[1] = (
            Decimal(int(quarters or 0)) / QUARTER_HOURS_PER_HOUR)
    starts = _bucket_starts(period, kind, [date(y, m, 1) for y, m in months], today or utcnow().date())
    totals: dict[date, list[Any]] = {start: [0, Decimal(0)] for start in starts}
    for (year, month), (mrs, hours) in months.items():
        start = date(year, month, 1) if kind == "month" else date(year, (month - 1) // 3 * 3 + 1, 1)
        if start in totals:
            totals[start][0] += mrs
            totals[start][1] += hours
    return [Bucket(start, kind, mrs, hours) for start, (mrs, hours) in totals.items()]


def by_jurisdiction(session: Session, period: Period, *, view: str = "overall",
                    key: str | int | None = None) -> list[JurisdictionActivity]:
    """Merged MRs and approved hours per jurisdiction of the people who did them, in the
    order of the jurisdictions' codes (people without one last); jurisdictions with nothing
    are listed too, so a chart always shows every member."""
    scope = check_view(session, view, key)
    codes = list(session.execute(select(Jurisdiction.code).order_by(Jurisdiction.code)).scalars())
    if scope.jurisdiction_code is not None:
        codes = [scope.jurisdiction_code]
    figures: dict[str | None, list[Any]] = {code: [0, Decimal(0)] for code in codes}
    merged = (select(Person.jurisdiction_code, func.count(MergeRequest.id))
              .select_from(MergeRequest).join(Person, Person.id == MergeRequest.person_id)
              .where(*_merged_filters(scope, period)).group_by(Person.jurisdiction_code))
    for code, count in session.execute(merged):
        figures.setdefault(code, [0, Decimal(0)])[0] = int(count)
    hours = (select(Person.jurisdiction_code, func.sum(HoursEntry.quarter_hours))
             .select_from(HoursEntry).join(Person, Person.id == HoursEntry.person_id)
             .where(*_hours_filters(scope, period)).group_by(Person.jurisdiction_code))
    for code, quarters in session.execute(hours):
        figures.setdefault(code, [0, Decimal(0)])[1] = Decimal(int(quarters or 0)) / QUARTER_HOURS_PER_HOUR
    ordered = sorted(figures, key=lambda code: (code is None, code or ""))
    return [JurisdictionActivity(code, figures[code][0], figures[code][1]) for code in ordered]


def _people_filters(scope: Scope) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = [Person.merged_into_id.is_(None)]
    if scope.jurisdiction_code is not None:
        filters.append(Person.jurisdiction_code == scope.jurisdiction_code)
    if scope.organisation_id is not None:
        filters.append(Person.organisation_id == scope.organisation_id)
    return filters


def _merged_filters(scope: Scope, period: Period) -> list[ColumnElement[bool]]:
    filters = [MergeRequest.is_dco_ok.is_(True), MergeRequest.merged_at.is_not(None),
               *_people_filters(scope)]
    if period.start is not None:
        filters.append(MergeRequest.merged_at >= period.start)
    if period.end is not None:
        filters.append(MergeRequest.merged_at < period.end)
    if scope.working_group_id is not None:
        filters.append(MergeRequest.project_path.in_(
            select(WorkingGroupProject.project_path)
            .where(WorkingGroupProject.working_group_id == scope.working_group_id)))
    return filters


def _hours_filters(scope: Scope, period: Period) -> list[ColumnElement[bool]]:
    filters = [HoursEntry.status == "approved", *_people_filters(scope)]
    if period.start is not None:
        filters.append(HoursEntry.worked_on >= period.start.date())
    if period.end is not None:
        filters.append(HoursEntry.worked_on < period.end.date())
    if scope.working_group_id is not None:
        filters.append(HoursEntry.working_group_id == scope.working_group_id)
    return filters


def _merged_by_month(scope: Scope, period: Period) -> Select[Any]:
    year, month = extract("year", MergeRequest.merged_at), extract("month", MergeRequest.merged_at)
    return (select(year, month, func.count(MergeRequest.id)).select_from(MergeRequest)
            .join(Person, Person.id == MergeRequest.person_id)
            .where(*_merged_filters(scope, period)).group_by(year, month))


def _hours_by_month(scope: Scope, period: Period) -> Select[Any]:
    year, month = extract("year", HoursEntry.worked_on), extract("month", HoursEntry.worked_on)
    return (select(year, month, func.sum(HoursEntry.quarter_hours)).select_from(HoursEntry)
            .join(Person, Person.id == HoursEntry.person_id)
            .where(*_hours_filters(scope, period)).group_by(year, month))


def _bucket_starts(period: Period, kind: str, active: Sequence[date], today: date) -> list[date]:
    """Every month of the period up to today's (months to come have nothing to show), or every
    quarter from the first active one to today's."""
    if period.start is not None and period.end is not None:
        first = period.start.date()
        stop = min(period.end.date(), _next(date(today.year, today.month, 1), "month"))
    elif not active:
        return []
    else:
        first = _quarter_start(min(active))
        stop = _next(_quarter_start(max(max(active), today)), "quarter")
    starts, current = [], first if kind == "month" else _quarter_start(first)
    while current < stop:
        starts.append(current)
        current = _next(current, kind)
    return starts


def _quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _next(start: date, kind: str) -> date:
    months = start.month + (1 if kind == "month" else 3)
    return date(start.year + (months - 1) // 12, (months - 1) % 12 + 1, 1)

