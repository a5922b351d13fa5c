"""Contribution hours: a person logs them, a reviewer of the working group approves or rejects.

Rules chosen here (DOMAIN.md, "Other incentives"; docs/hours.md):
- Hours are typed as a decimal ("1.25", Decimal, int) in quarter-hour steps, 0.25 to 24 per
  entry, and stored as whole quarter hours.
- A day holds at most 24 hours per person, counting pending and approved entries (rejected
  ones free their time). The check runs with the person's row locked (SELECT ... FOR UPDATE
  on PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE), so two entries logged at
  the same moment cannot together pass 24 hours.
- A day may not be in the future, nor older than `backdate_days` (setting HOURS_BACKDATE_DAYS,
  passed by the edge): today minus `backdate_days` is the oldest day accepted.
- A description (what was done) is required, at most 2,000 characters; an optional link to a
  merge request on the cooperative's GitLab follows the rule of claims
  (`claims.check_merge_request_urls`).
- Reviewers of a working group are the people with REVIEW_WORK whose membership of that
  group has the role `lead` or `reviewer` (working_group_members); plain members do not
  review. Nobody reviews their own hours; a rejection needs a comment; only pending entries
  are reviewed, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from bounty.governance.permissions import Permission
from bounty.governance.reviews import APPROVE, REJECT, VERDICTS
from bounty.models import HoursEntry, Person, WorkingGroup, WorkingGroupMember, utcnow
from bounty.models.hours import ACTIVITIES
from bounty.services import audit, badges
from bounty.services.actors import Actor
from bounty.services.claims import DEFAULT_GITLAB_URL, check_merge_request_urls
from bounty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied

QUARTERS_PER_HOUR = 4
MAX_QUARTERS_PER_DAY = 24 * QUARTERS_PER_HOUR
MAX_DESCRIPTION = 2000
MAX_COMMENT = 5000
# Membership roles that review hours in their working group.
REVIEWING_ROLES = ("lead", "reviewer")
# Statuses that occupy a day's 24 hours.
COUNTED_STATUSES = ("pending", "approved")


@dataclass(frozen=True)
class HoursInput:
    """What a person types to log hours; `hours` is a decimal such as "1.25"."""

    worked_on: date | str
    hours: Decimal | str | int
    activity: str
    working_group_code: str
    description: str
    merge_request_url: str | None = None


@dataclass(frozen=True)
class HoursView:
    """One entry as pages and the API show it."""

    id: int
    person_username: str
    person_name: str
    worked_on: date
    quarter_hours: int
    activity: str
    working_group_code: str
    working_group_name: str
    description: str
    merge_request_url: str | None
    status: str
    reviewer_username: str | None
    reviewer_name: str | None
    reviewed_at: datetime | None
    review_comment: str

    @property
    def hours(self) -> Decimal:
        return hours_of(self.quarter_hours)


def hours_of(quarter_hours: int) -> Decimal:
    """Quarter hours as hours with two decimals (5 -> Decimal("1.25"))."""
    return (Decimal(quarter_hours) / QUARTERS_PER_HOUR).quantize(Decimal("0.01"))


def parse_quarter_hours(value: Decimal | str | int) -> int:
    """`value` hours as whole quarter hours (0.25 to 24), or InvalidInput on "hours"."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, str, int)):
        raise InvalidInput("hours", "give the hours as a decimal number such as 1.25")
    try:
        hours = Decimal(value.strip().replace(",", ".") if isinstance(value, str) else value)
    except InvalidOperation:
        raise InvalidInput("hours", f"{value!r} is not a number of hours") from None
    if not hours.is_finite():
        raise InvalidInput("hours", f"{value!r} is not a number of hours")
    if hours <= 0:
        raise InvalidInput("hours", "must be more than zero")
    quarters = hours * QUARTERS_PER_HOUR
    if quarters != quarters.to_integral_value():
        raise InvalidInput("hours", f"{value} is not in quarter-hour steps (0.25, 0.5, 0.75, 1, ...)")
    if quarters > MAX_QUARTERS_PER_DAY:
        raise InvalidInput("hours", "at most 24 hours in one entry")
    return int(quarters)


def _signed_in(actor: Actor) -> int:
    if actor.person_id is None:
        raise PermissionDenied("sign in first")
    return actor.person_id


def _day(value: date | str, today: date, backdate_days: int) -> date:
    if isinstance(value, datetime):
        raise InvalidInput("worked_on", "give a day, not a moment")
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput("worked_on", f"{value!r} is not a date (YYYY-MM-DD)") from None
    if not isinstance(value, date):
        raise InvalidInput("worked_on", "give the day as a date (YYYY-MM-DD)")
    if value > today:
        raise InvalidInput("worked_on", f"{value.isoformat()} is in the future")
    oldest = today - timedelta(days=backdate_days)
    if value < oldest:
        raise InvalidInput("worked_on", f"{value.isoformat()} is more than {backdate_days} days ago: "
                                        f"hours can be logged from {oldest.isoformat()} on")
    return value


def _merge_request(url: str | None, gitlab_base_url: str) -> str | None:
    if url is None or not url.strip():
        return None
    try:
        [cleaned] = check_merge_request_urls([url], gitlab_base_url)
    except InvalidInput as exc:
        raise InvalidInput("merge_request_url", exc.reason) from None
    return cleaned


def _group(session: Session, code: str) -> WorkingGroup:
    group = session.execute(
        select(WorkingGroup).where(WorkingGroup.code == (code or "").strip().upper())
    ).scalar_one_or_none()
    if group is None:
        raise InvalidInput("working_group_code", f"unknown working group {code!r}")
    return group


def _lock_person(session: Session, person_id: int) -> Person:
    """The person's row, locked until the transaction ends: it serialises their day totals."""
    person = session.execute(
        select(Person).where(Person.id == person_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if person is None:
        raise PermissionDenied("the signed-in person is not on record")
    return person


def logged_quarters(session: Session, person_id: int, day: date) -> int:
    """Quarter hours the person has pending or approved on `day`."""
    return int(session.execute(
        select(func.coalesce(func.sum(HoursEntry.quarter_hours), 0)).where(
            HoursEntry.person_id == person_id, HoursEntry.worked_on == day,
            HoursEntry.status.in_(COUNTED_STATUSES))
    ).scalar_one())


def log_hours(session: Session, actor: Actor, data: HoursInput, *, backdate_days: int,
              today: date | None = None, gitlab_base_url: str = DEFAULT_GITLAB_URL) -> HoursEntry:
    """Log hours for the acting person; the entry waits for a reviewer (commits).

    `today` defaults to the current UTC day. Refusals name the field: worked_on, hours,
    activity, working_group_code, description, merge_request_url.
    """
    actor.require(Permission.LOG_HOURS)
    person_id = _signed_in(actor)
    today = today or utcnow().date()
    try:
        worked_on = _day(data.worked_on, today, backdate_days)
        quarters = parse_quarter_hours(data.hours)
        activity = (data.activity or "").strip().lower()
        if activity not in ACTIVITIES:
            raise InvalidInput("activity",
                               f"unknown activity {data.activity!r}: one of {', '.join(ACTIVITIES)}")
        group = _group(session, data.working_group_code)
        description = (data.description or "").strip()
        if not description:
            raise InvalidInput("description", "say what you worked on")
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInput("description", f"at most {MAX_DESCRIPTION} characters")
        url = _merge_request(data.merge_request_url, gitlab_base_url)
        _lock_person(session, person_id)
        already = logged_quarters(session, person_id, worked_on)
        if already + quarters > MAX_QUARTERS_PER_DAY:
            room = hours_of(MAX_QUARTERS_PER_DAY - already)
            raise InvalidInput("hours", f"{hours_of(already)} hours are already logged on "
                                        f"{worked_on.isoformat()}: at most 24 a day, so at most {room} more")
        entry = HoursEntry(person_id=person_id, worked_on=worked_on, quarter_hours=quarters,
                           activity=activity, working_group_id=group.id, description=description,
                           merge_request_url=url, status="pending", review_comment="")
        session.add(entry)
        session.flush()
        audit.record(session, actor, "hours.create", "hours_entry", entry.id,
                     {"person": person_id, "worked_on": worked_on.isoformat(), "quarter_hours": quarters,
                      "activity": activity, "working_group": group.code, "status": "pending"})
        session.commit()
        return entry
    except BaseException:
        session.rollback()
        raise


def reviews_for(session: Session, person_id: int, working_group_id: int) -> bool:
    """Whether the person is a lead or reviewer of the working group."""
    return session.execute(
        select(WorkingGroupMember.id).where(
            WorkingGroupMember.person_id == person_id,
            WorkingGroupMember.working_group_id == working_group_id,
            WorkingGroupMember.role.in_(REVIEWING_ROLES))
    ).first() is not None


def review_hours(session: Session, actor: Actor, entry_id: int, verdict: str, comment: str = "", *,
                 now: datetime | None = None) -> HoursEntry:
    """A reviewer of the entry's working group approves or rejects it (commits)."""
    actor.require(Permission.REVIEW_WORK)
    reviewer_id = _signed_in(actor)
    now = now or utcnow()
    verdict = (verdict or "").strip().lower()
    comment = (comment or "").strip()
    try:
        if verdict not in VERDICTS:
            raise InvalidInput("verdict", f"must be one of {', '.join(VERDICTS)}")
        if verdict == REJECT and not comment:
            raise InvalidInput("comment", "say why the hours are rejected")
        if len(comment) > MAX_COMMENT:
            raise InvalidInput("comment", f"at most {MAX_COMMENT} characters")
        entry = session.execute(
            select(HoursEntry).where(HoursEntry.id == entry_id).with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if entry is None:
            raise NotFound(f"no hours entry {entry_id}")
        if entry.person_id == reviewer_id:
            raise PermissionDenied("nobody reviews their own hours")
        group = session.get(WorkingGroup, entry.working_group_id)
        assert group is not None
        if not reviews_for(session, reviewer_id, group.id):
            raise PermissionDenied(f"only a lead or reviewer of {group.code} reviews its hours")
        if entry.status != "pending":
            raise Conflict(f"this entry was already {entry.status}")
        entry.status = "approved" if verdict == APPROVE else "rejected"
        entry.reviewer_id, entry.reviewed_at, entry.review_comment = reviewer_id, now, comment
        session.flush()
        audit.record(session, actor, f"hours.{'approve' if verdict == APPROVE else 'reject'}", "hours_entry",
                     entry.id, {"person": entry.person_id, "worked_on": entry.worked_on.isoformat(),
                                "quarter_hours": entry.quarter_hours, "working_group": group.code,
                                "comment": comment})
        # The review counts for the reviewer; approved hours for the person.
        badges.award_badges_now(session, {entry.person_id, reviewer_id}, badges.HOURS_METRICS)
        session.commit()
        return entry
    except BaseException:
        session.rollback()
        raise


_Reviewer = aliased(Person)


def _views(session: Session, *conditions: object) -> list[HoursView]:
    owner = aliased(Person)
    rows = session.execute(
        select(HoursEntry, owner, WorkingGroup, _Reviewer)
        .join(owner, owner.id == HoursEntry.person_id)
        .join(WorkingGroup, WorkingGroup.id == HoursEntry.working_group_id)
        .outerjoin(_Reviewer, _Reviewer.id == HoursEntry.reviewer_id)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(HoursEntry.worked_on, HoursEntry.id)
    ).all()
    return [HoursView(
        id=entry.id, person_username=person.username, person_name=person.display_name,
        worked_on=entry.worked_on, quarter_hours=entry.quarter_hours, activity=entry.activity,
        working_group_code=group.code, working_group_name=group.name, description=entry.description,
        merge_request_url=entry.merge_request_url, status=entry.status,
        reviewer_username=reviewer.username if reviewer else None,
        reviewer_name=reviewer.display_name if reviewer else None,
        reviewed_at=entry.reviewed_at, review_comment=entry.review_comment or "",
    ) for entry, person, group, reviewer in rows]


def year_bounds(year: int) -> tuple[date, date]:
    """The first day of `year` and of the year after (InvalidInput on "year" outside 2000-9998)."""
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 9998:
        raise InvalidInput("year", "give a year from 2000 on, such as 2026")
    return date(year, 1, 1), date(year + 1, 1, 1)


def my_hours(session: Session, actor: Actor, year: int) -> list[HoursView]:
    """The acting person's entries of `year`, every status, oldest day first."""
    actor.require(Permission.LOG_HOURS)
    person_id = _signed_in(actor)
    first, after = year_bounds(year)
    return _views(session, HoursEntry.person_id == person_id, HoursEntry.worked_on >= first,
                  HoursEntry.worked_on < after)


def review_queue(session: Session, actor: Actor) -> list[HoursView]:
    """Pending entries of the working groups the actor leads or reviews, not their own, oldest first."""
    actor.require(Permission.REVIEW_WORK)
    reviewer_id = _signed_in(actor)
    groups = select(WorkingGroupMember.working_group_id).where(
        WorkingGroupMember.person_id == reviewer_id, WorkingGroupMember.role.in_(REVIEWING_ROLES))
    return _views(session, HoursEntry.status == "pending", HoursEntry.person_id != reviewer_id,
                  HoursEntry.working_group_id.in_(groups))
