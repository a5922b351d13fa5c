"""Organisation activity's period rules, totals and order on both databases (what is counted is
also covered in test_statements.py): a year or both days, the days a period may cover (so no
day after the last is ever out of range), the totals adding up, names ordered ignoring case,
and who may read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bounty.services import activity, statements
from bounty.services.actors import SYSTEM, Actor
from bounty.services.errors import InvalidInput, PermissionDenied
from tests import activity_factories as af
from tests import workflow_factories as wf

FINANCE = Actor(label="person:fiona", roles=frozenset({"contributor", "finance"}))


def test_a_year_or_both_days():
    assert activity.activity_period(2025) == statements.Period(date(2025, 1, 1), date(2025, 12, 31))
    assert activity.activity_period(start=date(2025, 3, 1), end=date(2025, 3, 1)) == statements.Period(
        date(2025, 3, 1), date(2025, 3, 1))
    assert activity.activity_period(start=activity.FIRST_DAY, end=activity.LAST_DAY).end == date(9998, 12, 31)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"year": 2025, "start": date(2025, 1, 1)}, "year"),
    ({"year": 2025, "end": date(2025, 1, 1)}, "year"),
    ({"year": 1999}, "year"),
    ({"year": 9999}, "year"),
    ({"year": True}, "year"),
    ({}, "start"),
    ({"end": date(2025, 1, 1)}, "start"),
    ({"start": date(2025, 1, 1)}, "end"),
    ({"start": date(1999, 12, 31), "end": date(2025, 1, 1)}, "start"),
    ({"start": date(2025, 1, 1), "end": date(9999, 12, 31)}, "end"),
    ({"start": date(2025, 2, 1), "end": date(2025, 1, 31)}, "end"),
])
def test_bad_periods_name_their_field(kwargs, field):
    with pytest.raises(InvalidInput) as refused:
        activity.activity_period(**kwargs)
    assert refused.value.field == field


def test_a_period_past_the_last_day_is_refused_not_a_crash(session):
    wf.reference(session)
    # statements.period (the command line's) takes any days; the day after 9999-12-31 does not exist.
    span = statements.period(start=date(2025, 1, 1), end=date(9999, 12, 31))
    with pytest.raises(InvalidInput) as refused:
        activity.organisation_activity(session, FINANCE, span)
    assert refused.value.field == "end"


def test_totals_add_up_the_rows(session):
    af.scenario(session)
    span = statements.period(start=af.MARCH[0], end=af.MARCH[1])
    rows = activity.organisation_activity(session, FINANCE, span)
    assert [(None if r.organisation_id is None else r.name, r.active_contributors, r.merged_merge_requests,
             r.approved_hours) for r in rows] == af.EXPECTED_MARCH
    total = activity.totals(rows)
    assert (total.active_contributors, total.merged_merge_requests) == (4, 3)
    assert total.approved_quarter_hours == 21
    assert total.approved_hours == Decimal("5.25")
    assert activity.totals([]).approved_hours == Decimal("0.00")


def test_equal_figures_are_ordered_by_name_ignoring_case(session):
    wf.reference(session)
    for name in ("Idle Corp", "alpha co-op", "Zeta", "beta labs"):
        af.organisation(session, name, "EU", "community")
    rows = activity.organisation_activity(session, FINANCE, activity.activity_period(2025))
    assert [row.name for row in rows] == ["alpha co-op", "beta labs", "Idle Corp", "Zeta"]


def test_only_finance_readers_may_read(session):
    wf.reference(session)
    span = activity.activity_period(2025)
    auditor = Actor(label="person:otto", roles=frozenset({"auditor"}))
    for reader in (FINANCE, wf.admin(session), auditor, SYSTEM):
        assert activity.can_read(reader)
        activity.organisation_activity(session, reader, span)
    for outsider in (wf.contributor(session), wf.reviewer(session, "rev.eu", "EU"), wf.ANONYMOUS,
                     Actor(label="person:awd", roles=frozenset({"contributor", "awards-committee"}))):
        assert not activity.can_read(outsider)
        with pytest.raises(PermissionDenied):
            activity.organisation_activity(session, outsider, span)
