"""Logging contribution hours, reviewing them, the read functions, and the 24-hour day race."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bounty.models import AuditEvent, HoursEntry, WorkingGroup, WorkingGroupMember
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import audit, hours
from bounty.services.actors import SYSTEM, Actor
from bounty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bounty.services.hours import HoursInput
from tests import workflow_factories as wf

TODAY = date(2026, 3, 20)
BACKDATE = 90
GITLAB = wf.GITLAB


def member(session: Session, actor: Actor, group_code: str, role: str = "reviewer") -> Actor:
    """Make `actor` a `role` of the working group (as the demo seed or an admin would)."""
    group = session.execute(select(WorkingGroup).where(WorkingGroup.code == group_code)).scalar_one()
    session.add(WorkingGroupMember(working_group_id=group.id, person_id=actor.person_id, role=role))
    session.commit()
    return actor


def entry_input(**overrides: object) -> HoursInput:
    values: dict[str, object] = {
        "worked_on": TODAY, "hours": "2.5", "activity": "code", "working_group_code": "WG4",
        "description": "Health checks on custom ports",
    }
    values.update(overrides)
    return HoursInput(**values)  # type: ignore[arg-type]


def log(session: Session, actor: Actor, **overrides: object) -> HoursEntry:
    return hours.log_hours(session, actor, entry_input(**overrides), today=TODAY, backdate_days=BACKDATE,
                           gitlab_base_url=GITLAB)


@pytest.fixture
def people(session) -> dict[str, Actor]:
    wf.reference(session)
    carla = wf.contributor(session, "carla")
    rev = member(session, wf.reviewer(session, "rev.uk", "UK"), "WG4")
    lead = member(session, wf.reviewer(session, "lead.eu", "EU"), "WG4", "lead")
    other = member(session, wf.reviewer(session, "rev.wg5", "UK"), "WG5")
    plain = member(session, wf.reviewer(session, "plain.eu", "EU"), "WG4", "member")
    return {"carla": carla, "rev": rev, "lead": lead, "other": other, "plain": plain}


def count_entries(session: Session) -> int:
    return session.execute(select(func.count(HoursEntry.id))).scalar_one()


def test_logging_stores_quarter_hours_pending_with_an_audit_event(session, people):
    url = f"{GITLAB}/cloudstack/cloudstack/-/merge_requests/7"
    entry = log(session, people["carla"], hours=Decimal("1.25"), activity="Documentation",
                working_group_code="wg4", merge_request_url=f"  {url} ", description="  Docs  ")
    assert (entry.quarter_hours, entry.activity, entry.status) == (5, "documentation", "pending")
    assert (entry.merge_request_url, entry.description) == (url, "Docs")
    assert entry.person_id == people["carla"].person_id
    [event] = audit.events_for(session, "hours_entry", entry.id)
    assert event.action == "hours.create"
    assert event.summary["quarter_hours"] == 5 and event.summary["working_group"] == "WG4"
    assert audit.verify(session) == []


@pytest.mark.parametrize(("value", "quarters"), [
    ("0.25", 1), ("24", 96), ("1,5", 6), (3, 12), (Decimal("7.75"), 31), (" 0.50 ", 2),
])
def test_hours_in_quarter_steps_are_accepted(value, quarters):
    assert hours.parse_quarter_hours(value) == quarters


@pytest.mark.parametrize(("value", "reason"), [
    ("1.1", "quarter-hour steps"), ("0.2", "quarter-hour steps"), ("0", "more than zero"),
    ("-1", "more than zero"), ("24.25", "at most 24"), ("abc", "not a number"), ("NaN", "not a number"),
    ("Infinity", "not a number"), (1.25, "decimal number"), (True, "decimal number"), ("", "not a number"),
])
def test_bad_hours_are_refused_naming_the_field(value, reason):
    with pytest.raises(InvalidInput, match=reason) as refused:
        hours.parse_quarter_hours(value)
    assert refused.value.field == "hours"


@pytest.mark.parametrize(("overrides", "field", "reason"), [
    ({"worked_on": TODAY + timedelta(days=1)}, "worked_on", "in the future"),
    ({"worked_on": TODAY - timedelta(days=BACKDATE + 1)}, "worked_on", "more than 90 days ago"),
    ({"worked_on": "20-03-2026"}, "worked_on", "not a date"),
    ({"hours": "1.3"}, "hours", "quarter-hour"),
    ({"hours": "0"}, "hours", "more than zero"),
    ({"hours": "-2"}, "hours", "more than zero"),
    ({"activity": "lunch"}, "activity", "unknown activity"),
    ({"working_group_code": "WG99"}, "working_group_code", "unknown working group"),
    ({"description": "   "}, "description", "say what you worked on"),
    ({"description": "x" * 2001}, "description", "at most 2000"),
    ({"merge_request_url": "https://github.com/a/b/pull/1"}, "merge_request_url", "cooperative's GitLab"),
    ({"merge_request_url": f"{GITLAB}/a/b/-/issues/1"}, "merge_request_url", "not a merge request"),
])
def test_refusals_name_the_field_and_write_nothing(session, people, overrides, field, reason):
    before = audit.count_events(session)
    with pytest.raises(InvalidInput, match=reason) as refused:
        log(session, people["carla"], **overrides)
    assert refused.value.field == field
    assert count_entries(session) == 0
    assert audit.count_events(session) == before


def test_the_backdate_window_edges_are_inclusive(session, people):
    oldest = TODAY - timedelta(days=BACKDATE)
    assert log(session, people["carla"], worked_on=oldest).worked_on == oldest
    assert log(session, people["carla"], worked_on=TODAY.isoformat()).worked_on == TODAY
    with pytest.raises(InvalidInput, match="more than 2 days ago: hours can be logged from 2026-03-18 on"):
        hours.log_hours(session, people["carla"], entry_input(worked_on=TODAY - timedelta(days=3)),
                        today=TODAY, backdate_days=2, gitlab_base_url=GITLAB)


def test_a_day_holds_at_most_24_hours_counting_pending_and_approved(session, people):
    carla = people["carla"]
    first = log(session, carla, hours="10")
    log(session, carla, hours="8", activity="review")
    hours.review_hours(session, people["rev"], first.id, "approve", "")
    with pytest.raises(InvalidInput, match=r"18\.00 hours are already logged on 2026-03-20: .* 6\.00 more") \
            as refused:
        log(session, carla, hours="6.25")
    assert refused.value.field == "hours"
    assert log(session, carla, hours="6").quarter_hours == 24
    # Another day, and another person on the same day, are not affected.
    assert log(session, carla, hours="1", worked_on=TODAY - timedelta(days=1)).status == "pending"
    assert log(session, people["rev"], hours="24").quarter_hours == 96


def test_rejected_hours_free_their_time(session, people):
    carla = people["carla"]
    entry = log(session, carla, hours="20")
    with pytest.raises(InvalidInput, match="at most 24 a day"):
        log(session, carla, hours="5")
    hours.review_hours(session, people["rev"], entry.id, "reject", "Twenty hours in one day?")
    assert log(session, carla, hours="5").quarter_hours == 20


def test_logging_needs_the_permission_and_a_person(session, people):
    auditor = wf.actor_of(wf.person(session, "aud", ("auditor",)))
    with pytest.raises(PermissionDenied):
        log(session, auditor)
    with pytest.raises(PermissionDenied, match="sign in"):
        log(session, SYSTEM)
    assert count_entries(session) == 0


def test_a_reviewer_of_the_group_approves_with_an_audit_event(session, people):
    entry = log(session, people["carla"])
    reviewed = hours.review_hours(session, people["rev"], entry.id, " Approve ", "Thanks")
    assert (reviewed.status, reviewed.reviewer_id, reviewed.review_comment) == (
        "approved", people["rev"].person_id, "Thanks")
    assert reviewed.reviewed_at is not None
    actions = [e.action for e in audit.events_for(session, "hours_entry", entry.id)]
    assert actions == ["hours.create", "hours.approve"]
    with pytest.raises(Conflict, match="already approved"):
        hours.review_hours(session, people["lead"], entry.id, "reject", "Changed my mind")
    assert audit.verify(session) == []


def test_a_lead_rejects_with_a_comment_only(session, people):
    entry = log(session, people["carla"])
    with pytest.raises(InvalidInput, match="say why") as refused:
        hours.review_hours(session, people["lead"], entry.id, "reject", "  ")
    assert refused.value.field == "comment"
    with pytest.raises(InvalidInput) as refused:
        hours.review_hours(session, people["lead"], entry.id, "maybe", "")
    assert refused.value.field == "verdict"
    rejected = hours.review_hours(session, people["lead"], entry.id, "reject", "Not WG4 work")
    assert (rejected.status, rejected.review_comment) == ("rejected", "Not WG4 work")
    [event] = [e for e in audit.events_for(session, "hours_entry", entry.id) if e.action == "hours.reject"]
    assert event.summary["comment"] == "Not WG4 work"


def test_only_reviewers_of_that_group_review_and_never_their_own(session, people):
    entry = log(session, people["carla"])
    with pytest.raises(PermissionDenied, match="lead or reviewer of WG4"):
        hours.review_hours(session, people["other"], entry.id, "approve", "")
    with pytest.raises(PermissionDenied, match="lead or reviewer of WG4"):
        hours.review_hours(session, people["plain"], entry.id, "approve", "")
    with pytest.raises(PermissionDenied):
        hours.review_hours(session, people["carla"], entry.id, "approve", "")
    own = log(session, people["rev"], description="My own WG4 work")
    with pytest.raises(PermissionDenied, match="own hours"):
        hours.review_hours(session, people["rev"], own.id, "approve", "")
    with pytest.raises(NotFound):
        hours.review_hours(session, people["rev"], 999_999, "approve", "")
    session.expire_all()
    assert {e.status for e in session.execute(select(HoursEntry)).scalars()} == {"pending"}


def test_my_hours_lists_the_year_of_the_person_only(session, people):
    carla = people["carla"]
    log(session, carla, worked_on=date(2026, 1, 2), hours="1")
    approved = log(session, carla, worked_on=date(2026, 3, 1), hours="2", activity="mentoring")
    log(session, people["rev"], hours="3")
    hours.review_hours(session, people["lead"], approved.id, "approve", "ok")
    mine = hours.my_hours(session, carla, 2026)
    assert [(v.worked_on, v.hours, v.status) for v in mine] == [
        (date(2026, 1, 2), Decimal("1.00"), "pending"), (date(2026, 3, 1), Decimal("2.00"), "approved")]
    assert mine[1].reviewer_username == "lead.eu" and mine[1].working_group_code == "WG4"
    assert hours.my_hours(session, carla, 2025) == []
    with pytest.raises(InvalidInput) as refused:
        hours.my_hours(session, carla, 1999)
    assert refused.value.field == "year"


def test_the_review_queue_shows_pending_hours_of_my_groups_not_mine(session, people):
    wanted = log(session, people["carla"], description="WG4 work")
    log(session, people["carla"], working_group_code="WG5", description="WG5 work")
    log(session, people["rev"], description="Reviewer's own WG4 work")
    done = log(session, people["carla"], hours="1", description="Already approved")
    hours.review_hours(session, people["lead"], done.id, "approve", "")
    queue = hours.review_queue(session, people["rev"])
    assert [v.id for v in queue] == [wanted.id]
    assert queue[0].person_username == "carla"
    assert [v.description for v in hours.review_queue(session, people["other"])] == ["WG5 work"]
    assert hours.review_queue(session, people["plain"]) == []
    with pytest.raises(PermissionDenied):
        hours.review_queue(session, people["carla"])


# --- Two entries for one day at the same moment (PostgreSQL row locks) ---------------------

THREADS = 8


@pytest.fixture
def race_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url, pool_size=THREADS, max_overflow=0)
    yield engine
    engine.dispose()


def _race(engine: Engine, body) -> Counter[str]:
    barrier = threading.Barrier(THREADS, timeout=60)
    outcomes: list[str] = []
    lock = threading.Lock()
    factory = make_sessionmaker(engine)

    def run(i: int) -> None:
        with factory() as session:
            try:
                outcome = body(session, barrier)
            except Exception as exc:  # every outcome is counted
                session.rollback()
                outcome = type(exc).__name__
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(outcomes)


def _day_total(engine: Engine, person_id: int) -> int:
    with make_sessionmaker(engine)() as session:
        return hours.logged_quarters(session, person_id, TODAY)


@pytest.mark.postgres
def test_simultaneous_entries_for_one_day_never_pass_24_hours(race_engine):
    with make_sessionmaker(race_engine)() as session:
        wf.reference(session)
        carla = wf.contributor(session, "carla")

    def five_hours(session: Session, barrier: threading.Barrier) -> str:
        barrier.wait()
        log(session, carla, hours="5")
        return "logged"

    # Eight times 5 hours: four fit into the day (20), the fifth would make 25.
    assert _race(race_engine, five_hours) == Counter({"logged": 4, "InvalidInput": THREADS - 4})
    assert _day_total(race_engine, carla.person_id) == 80
    with make_sessionmaker(race_engine)() as session:
        created = session.execute(select(func.count(AuditEvent.id))
                                  .where(AuditEvent.action == "hours.create")).scalar_one()
        assert created == 4
        assert audit.verify(session) == []


@pytest.mark.postgres
def test_control_the_same_check_without_the_lock_lets_the_day_overflow(race_engine):
    """Read the day's total, wait for everyone, then insert: the harness does see the race."""
    with make_sessionmaker(race_engine)() as session:
        wf.reference(session)
        carla = wf.contributor(session, "carla")
        group_id = session.execute(select(WorkingGroup.id).where(WorkingGroup.code == "WG4")).scalar_one()

    def unguarded(session: Session, barrier: threading.Barrier) -> str:
        already = hours.logged_quarters(session, carla.person_id, TODAY)
        barrier.wait()  # everyone has read an empty day before anyone writes
        if already + 20 > hours.MAX_QUARTERS_PER_DAY:
            return "refused"
        session.add(HoursEntry(person_id=carla.person_id, worked_on=TODAY, quarter_hours=20, activity="code",
                               working_group_id=group_id, description="race", status="pending"))
        session.commit()
        return "logged"

    assert _race(race_engine, unguarded) == Counter({"logged": THREADS})
    assert _day_total(race_engine, carla.person_id) == THREADS * 20


@pytest.mark.postgres
def test_simultaneous_reviews_of_one_entry_record_one_verdict(race_engine):
    with make_sessionmaker(race_engine)() as session:
        wf.reference(session)
        entry_id = log(session, wf.contributor(session, "carla")).id
        reviewers = iter([member(session, wf.reviewer(session, f"rev{i}", "EU"), "WG4")
                          for i in range(THREADS)])
    lock = threading.Lock()

    def review(session: Session, barrier: threading.Barrier) -> str:
        with lock:
            reviewer = next(reviewers)
        barrier.wait()
        return hours.review_hours(session, reviewer, entry_id, "approve", "").status

    assert _race(race_engine, review) == Counter({"approved": 1, "Conflict": THREADS - 1})
    with make_sessionmaker(race_engine)() as session:
        actions = [e.action for e in audit.events_for(session, "hours_entry", entry_id)]
        assert actions == ["hours.create", "hours.approve"]
