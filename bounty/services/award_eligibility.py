"""Who may be nominated in an award category: activity in the round's year (docs/awards.md).

The year is the calendar year in UTC, [1 January, 1 January of the next year).
- active: a DCO-clean merged MR credited to the person, an approved hours entry (worked on
  in the year), an approved bounty claim (decided in the year, not clawed back) or a review
  given (a bounty review, an hours entry reviewed, a grant tranche signed off) in the year;
- security: an approved security-fix bounty claim or approved security hours in the year;
- documentation: an approved documentation bounty claim or approved documentation hours;
- newcomer: active in the year and never before it;
- mentor: approved mentoring hours in the year;
- jurisdiction: active in the year and of the category's jurisdiction;
- organisation: an organisation with at least one active contributor (a member who is
  active in the year).
A person merged into another is never eligible (their work now belongs to the survivor).
Read only; never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bounty.models import (
    AwardCategory,
    Bounty,
    BountyCategory,
    Claim,
    HoursEntry,
    MergeRequest,
    Organisation,
    PayoutItem,
    Person,
    Review,
    Tranche,
)
from bounty.services.errors import InvalidInput, NotFound

DOCUMENTATION_CATEGORY = "documentation"


@dataclass(frozen=True)
class _Span:
    """A half-open span of time [start, end); `start` None means "since the beginning"."""

    start: datetime | None
    end: datetime

    def moments(self, column: InstrumentedAttribute[datetime | None]) -> ColumnElement[bool]:
        if self.start is None:
            return column < self.end
        return and_(column >= self.start, column < self.end)

    def days(self, column: InstrumentedAttribute[date]) -> ColumnElement[bool]:
        if self.start is None:
            return column < self.end.date()
        return and_(column >= self.start.date(), column < self.end.date())


def _year(year: int) -> _Span:
    return _Span(datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC))


def _any(session: Session, query: ColumnElement[bool]) -> bool:
    return bool(session.execute(select(query)).scalar())


def _not_clawed_back() -> ColumnElement[bool]:
    return ~exists().where(PayoutItem.kind == "bounty", PayoutItem.subject_id == Claim.id,
                           PayoutItem.status == "clawed_back")


def _approved_claim(person_id: int, span: _Span, category: ColumnElement[bool] | None = None
                    ) -> ColumnElement[bool]:
    where = [Claim.person_id == person_id, Claim.status == "approved", span.moments(Claim.decided_at),
             _not_clawed_back()]
    if category is None:
        return exists().where(*where)
    return exists().where(*where, Bounty.id == Claim.bounty_id, BountyCategory.id == Bounty.category_id,
                          category)


def _approved_hours(person_id: int, span: _Span, activity: str | None = None) -> ColumnElement[bool]:
    where = [HoursEntry.person_id == person_id, HoursEntry.status == "approved",
             span.days(HoursEntry.worked_on)]
    if activity is not None:
        where.append(HoursEntry.activity == activity)
    return exists().where(*where)


def _active(person_id: int, span: _Span) -> ColumnElement[bool]:
    """Any of the activities that make a contributor active within `span`."""
    return or_(
        exists().where(MergeRequest.person_id == person_id, MergeRequest.is_dco_ok.is_(True),
                       span.moments(MergeRequest.merged_at)),
        _approved_hours(person_id, span),
        _approved_claim(person_id, span),
        exists().where(Review.reviewer_id == person_id, span.moments(Review.created_at)),
        exists().where(HoursEntry.reviewer_id == person_id, HoursEntry.status != "pending",
                       span.moments(HoursEntry.reviewed_at)),
        exists().where(Tranche.signed_off_by_id == person_id, span.moments(Tranche.signed_off_at)),
    )


def is_active(session: Session, person_id: int, year: int) -> bool:
    """Whether the person was an active contributor in `year` (see the module docstring)."""
    return _any(session, _active(person_id, _year(year)))


def _person_eligible(session: Session, category: AwardCategory, year: int, person: Person
                     ) -> tuple[bool, str]:
    span, rule = _year(year), category.eligibility_rule
    if person.merged_into_id is not None:
        return False, f"{person.username} was merged into another person"
    if rule == "security":
        security = or_(BountyCategory.is_embargoed.is_(True), BountyCategory.remediation_hours.is_not(None))
        if _any(session, or_(_approved_claim(person.id, span, security),
                             _approved_hours(person.id, span, "security"))):
            return True, f"approved security work in {year}"
        return False, f"no approved security-fix bounty or security hours in {year}"
    if rule == "documentation":
        documentation = BountyCategory.code == DOCUMENTATION_CATEGORY
        if _any(session, or_(_approved_claim(person.id, span, documentation),
                             _approved_hours(person.id, span, "documentation"))):
            return True, f"approved documentation work in {year}"
        return False, f"no approved documentation bounty or documentation hours in {year}"
    if rule == "mentor":
        if _any(session, _approved_hours(person.id, span, "mentoring")):
            return True, f"approved mentoring hours in {year}"
        return False, f"no approved mentoring hours in {year}"
    if not _any(session, _active(person.id, span)):
        return False, f"no activity in {year} (merged work, approved hours or bounty, or a review)"
    if rule == "newcomer":
        if _any(session, _active(person.id, _Span(None, datetime(year, 1, 1, tzinfo=UTC)))):
            return False, f"already active before {year}"
        return True, f"active in {year} for the first time"
    if rule == "jurisdiction":
        if person.jurisdiction_code != category.jurisdiction_code:
            return False, f"not of jurisdiction {category.jurisdiction_code}"
        return True, f"active in {year}, of jurisdiction {category.jurisdiction_code}"
    return True, f"active in {year}"


def _organisation_eligible(session: Session, year: int, organisation: Organisation) -> tuple[bool, str]:
    members = session.execute(
        select(Person.id).where(Person.organisation_id == organisation.id, Person.merged_into_id.is_(None))
        .order_by(Person.id)).scalars().all()
    span = _year(year)
    if members and _any(session, or_(*(_active(member, span) for member in members))):
        return True, f"has an active contributor in {year}"
    return False, f"no member of {organisation.name} was active in {year}"


def category_by_code(session: Session, code: str) -> AwardCategory:
    """The award category of `code`; InvalidInput naming `category` when there is none."""
    category = session.execute(
        select(AwardCategory).where(AwardCategory.code == (code or "").strip())).scalar_one_or_none()
    if category is None:
        raise InvalidInput("category", f"no award category {code!r}")
    return category


def eligible(session: Session, category: AwardCategory | str, year: int, person_id: int | None = None,
             organisation_id: int | None = None) -> tuple[bool, str]:
    """Whether the person (or organisation) may be nominated in `category` for `year`, and why.

    Exactly one of `person_id` and `organisation_id` is given, the one the category is for
    (InvalidInput otherwise); an unknown id is NotFound.
    """
    if isinstance(category, str):
        category = category_by_code(session, category)
    if (person_id is None) == (organisation_id is None):
        raise InvalidInput("nominee", "name exactly one nominee: a person or an organisation")
    if category.is_for_organisations:
        if organisation_id is None:
            raise InvalidInput("nominee_organisation_id", f"{category.code} is for organisations")
        organisation = session.get(Organisation, organisation_id)
        if organisation is None:
            raise NotFound(f"no organisation {organisation_id}")
        return _organisation_eligible(session, year, organisation)
    if person_id is None:
        raise InvalidInput("nominee_person_id", f"{category.code} is for people")
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person {person_id}")
    return _person_eligible(session, category, year, person)
