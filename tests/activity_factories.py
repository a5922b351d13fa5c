"""A built scenario of organisation activity: two organisations, their people with DCO-clean
and other merge requests, approved and other hours, someone without an organisation, and
work on both sides of each boundary of March 2025.

`EXPECTED_MARCH` and `EXPECTED_2025` are the figures the scenario must give, worked out by
hand from the rules of docs/activity.md, so a test compares the code with them, not with
itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import HoursEntry, Organisation, Person, WorkingGroup
from tests import workflow_factories as wf

MARCH = (date(2025, 3, 1), date(2025, 3, 31))
ACME, BETA, NOBODY = "Acme Cloud GmbH", "Beta Systems Ltd", None
# (organisation name or None, active contributors, merged DCO-clean merge requests, approved hours),
# in the order the service gives.
EXPECTED_MARCH = [(ACME, 2, 2, Decimal("2.50")), (BETA, 1, 1, Decimal("0.75")),
                  (NOBODY, 1, 0, Decimal("2.00"))]
EXPECTED_2025 = [(ACME, 2, 3, Decimal("2.50")), (BETA, 2, 2, Decimal("2.25")),
                 (NOBODY, 1, 0, Decimal("2.00"))]


def organisation(session: Session, name: str, jurisdiction: str, kind: str = "supplier") -> Organisation:
    made = Organisation(name=name, jurisdiction_code=jurisdiction, kind=kind)
    session.add(made)
    session.commit()
    return made


def member(session: Session, username: str, organisation: Organisation | None) -> Person:
    """A contributor of `organisation` (None: of none)."""
    person = wf.person(session, username, ("contributor",), "EU")
    person.organisation_id = organisation.id if organisation else None
    session.commit()
    return person


def merged(session: Session, person: Person, number: int, at: datetime, dco_ok: bool | None = True) -> None:
    """A merge request credited to `person`, merged at `at` (UTC)."""
    mr = wf.merged_work(session, f"{wf.GITLAB}/scs/k8s/-/merge_requests/{number}", person_id=person.id,
                        dco_ok=dco_ok, author=person.username)
    mr.merged_at = at
    session.commit()


def hours(session: Session, person: Person, day: date, quarters: int, status: str = "approved") -> None:
    group = session.execute(select(WorkingGroup).where(WorkingGroup.code == "WG1")).scalar_one()
    session.add(HoursEntry(person_id=person.id, worked_on=day, quarter_hours=quarters, activity="code",
                           working_group_id=group.id, description="work", status=status))
    session.commit()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def scenario(session: Session) -> None:
    """The reference seed and the people and work whose figures are `EXPECTED_*`."""
    wf.reference(session)
    acme = organisation(session, ACME, "EU", "supplier")
    beta = organisation(session, BETA, "UK", "agency")
    ann, bob = member(session, "ann", acme), member(session, "bob", acme)
    cid, dee, eve = member(session, "cid", beta), member(session, "dee", beta), member(session, "eve", beta)
    solo = member(session, "solo", None)
    merged(session, ann, 1, utc(2025, 3, 14, 12, 0))
    merged(session, ann, 2, utc(2025, 3, 31, 23, 59, 59))      # the last second of the last day: in
    merged(session, ann, 3, utc(2025, 2, 28, 23, 59, 59))      # the second before the first day: out
    merged(session, bob, 4, utc(2025, 3, 10), dco_ok=False)    # a commit not signed off: never counts
    merged(session, bob, 5, utc(2025, 3, 11), dco_ok=None)     # not checked: never counts
    hours(session, bob, date(2025, 3, 5), 10)
    hours(session, bob, date(2025, 3, 6), 4, status="pending")   # not approved: never counts
    merged(session, cid, 6, utc(2025, 3, 1, 0, 0))             # the first instant of the first day: in
    hours(session, cid, date(2025, 3, 31), 3)                  # the last day: in
    merged(session, dee, 7, utc(2025, 4, 1, 0, 0))             # the first instant after the period: out
    hours(session, dee, date(2025, 4, 1), 6)
    hours(session, eve, date(2025, 3, 20), 8, status="rejected")  # rejected: eve is not active
    hours(session, solo, date(2025, 3, 3), 8)
