"""Badges: each threshold exactly, the date a badge was earned, what does not count, idempotence,
the services that award them (GitLab sync and import, claim approval, hours review, tranche
sign-off), and concurrent awarding on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.dco.rules import DcoChecker
from bounty.gitlab.client import GitLabClient
from bounty.models import AuditEvent, Badge, Identity, PersonBadge
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import audit, badges, claims, grants, identity_links, merged_work, person_merge
from bounty.services.actors import SYSTEM, Actor
from bounty.services.errors import PermissionDenied
from tests import badge_factories as bf
from tests import payout_factories as pf
from tests import workflow_factories as wf
from tests.fakes.gitlab import (  # noqa: F401 - fixtures
    TOKEN,
    make_fake_gitlab_fixture,
    synthetic_dataset,
)

T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
ADMIN = Actor(label="programme admin", roles=frozenset({"program-admin"}))


def held(session: Session, person_id: int) -> dict[str, datetime]:
    session.expire_all()
    return {b.code: b.earned_at for b in badges.badges_of(session, person_id)}


def award_events(session: Session) -> int:
    return int(session.execute(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "badge.award")).scalar_one())


def test_nine_merges_give_the_first_badge_and_the_tenth_gives_ten_merges_at_its_time(session):
    wf.reference(session)
    carla = wf.person(session, "carla")
    # Stored out of order: the badge dates follow merged_at, not the order of arrival.
    times = [T0 + timedelta(days=n) for n in range(9)]
    for at in reversed(times):
        bf.merge(session, carla.id, at)
    awarded = badges.award_badges(session, ADMIN)
    assert [session.get(Badge, a.badge_id).code for a in awarded] == ["first_merge"]
    assert held(session, carla.id) == {"first_merge": times[0]}
    tenth = T0 + timedelta(days=30)
    bf.merge(session, carla.id, tenth)
    badges.award_badges(session, ADMIN)
    assert held(session, carla.id) == {"first_merge": times[0], "merges_10": tenth}
    assert held(session, carla.id)["merges_10"].tzinfo is not None


def test_merges_failing_the_dco_unchecked_or_not_credited_do_not_count(session):
    wf.reference(session)
    carla = wf.person(session, "carla")
    for n in range(9):
        bf.merge(session, carla.id, T0 + timedelta(days=n))
    bf.merge(session, carla.id, T0 + timedelta(days=20), dco_ok=False)
    bf.merge(session, carla.id, T0 + timedelta(days=21), dco_ok=None)
    bf.merge(session, None, T0 + timedelta(days=22))
    badges.award_badges(session, ADMIN)
    assert set(held(session, carla.id)) == {"first_merge"}


def test_fifty_merges_and_awarding_twice_changes_nothing(session):
    wf.reference(session)
    carla = wf.person(session, "carla")
    for n in range(50):
        bf.merge(session, carla.id, T0 + timedelta(hours=n))
    first = badges.award_badges(session, ADMIN, [carla.id])
    assert len(first) == 3
    assert held(session, carla.id)["merges_50"] == T0 + timedelta(hours=49)
    rows, events = session.execute(select(func.count(PersonBadge.id))).scalar_one(), award_events(session)
    assert events == 3
    assert badges.award_badges(session, ADMIN, [carla.id]) == []
    assert badges.award_badges(session, ADMIN) == []
    assert session.execute(select(func.count(PersonBadge.id))).scalar_one() == rows
    assert award_events(session) == events
    assert audit.verify(session) == []


def test_facts_after_now_do_not_count_yet(session):
    wf.reference(session)
    carla = wf.person(session, "carla")
    bf.merge(session, carla.id, T0)
    assert badges.award_badges(session, ADMIN, now=T0 - timedelta(seconds=1)) == []
    assert len(badges.award_badges(session, ADMIN, now=T0)) == 1


def test_a_person_merged_into_another_earns_nothing(session):
    wf.reference(session)
    old, new = wf.person(session, "carla.old"), wf.person(session, "carla")
    old.merged_into_id = new.id
    session.commit()
    bf.merge(session, old.id, T0)
    assert badges.award_badges(session, ADMIN) == []


def test_only_awards_managers_award_badges_by_hand(session):
    wf.reference(session)
    with pytest.raises(PermissionDenied):
        badges.award_badges(session, wf.contributor(session))


def test_hours_thresholds_are_in_hours_and_dated_by_the_approval_that_reached_them(session):
    wf.reference(session)
    carla, rita = wf.contributor(session), wf.reviewer(session, "rita", "UK")
    for n in range(4):
        bf.approved_hours(session, carla, rita, "24", T0 + timedelta(days=n))
    bf.approved_hours(session, carla, rita, "3.75", T0 + timedelta(days=10))
    assert "hours_100" not in held(session, carla.person_id)  # 99.75 hours
    reached = T0 + timedelta(days=11)
    bf.approved_hours(session, carla, rita, "0.25", reached)
    assert held(session, carla.person_id)["hours_100"] == reached


def test_mentoring_and_documentation_hours_count_by_activity(session):
    wf.reference(session)
    carla, rita = wf.contributor(session), wf.reviewer(session, "rita", "UK")
    bf.approved_hours(session, carla, rita, "19.75", T0, activity="mentoring")
    bf.approved_hours(session, carla, rita, "24", T0 + timedelta(days=1), activity="code")
    assert "mentor" not in held(session, carla.person_id)
    bf.approved_hours(session, carla, rita, "0.25", T0 + timedelta(days=2), activity="mentoring")
    bf.approved_hours(session, carla, rita, "24", T0 + timedelta(days=3), activity="documentation")
    bf.approved_hours(session, carla, rita, "0.75", T0 + timedelta(days=4), activity="documentation")
    assert "documentation_champion" not in held(session, carla.person_id)
    bf.approved_hours(session, carla, rita, "0.25", T0 + timedelta(days=5), activity="documentation")
    earned = held(session, carla.person_id)
    assert earned["mentor"] == T0 + timedelta(days=2)
    assert earned["documentation_champion"] == T0 + timedelta(days=5)


def test_ten_reviews_of_any_kind_give_the_reviewer_badge_at_the_tenth(session):
    wf.reference(session)
    rita = wf.reviewer(session, "rev.grants", "CA")
    people = [wf.contributor(session, f"c{n}") for n in range(9)]
    for n, person in enumerate(people):
        bf.approved_hours(session, person, rita, "1", T0 + timedelta(days=n))
    assert "reviewer" not in held(session, rita.person_id)
    grantee = wf.person(session, "gina", jurisdiction="UK")
    grant = pf.signed_off_grant(session, person=grantee, signed=0)
    tranche = grants.sign_off_tranche(session, rita, grant.id, 1, now=T0 + timedelta(days=40))
    assert held(session, rita.person_id)["reviewer"] == tranche.signed_off_at == T0 + timedelta(days=40)


def test_approving_a_claim_awards_first_bounty_to_the_claimant(session):
    wf.reference(session)
    work = wf.approved_bounty(session)
    earned = held(session, work.claimant.person_id)
    assert earned["first_bounty"] == work.claim.decided_at
    # A plain bug fix is no security fix; merged work is the sync's to award.
    assert set(earned) == {"first_bounty"}
    events = session.execute(select(AuditEvent).where(AuditEvent.action == "badge.award")).scalars().all()
    assert [e.summary["badge"] for e in events if e.object_id == str(work.claimant.person_id)] == \
        ["first_bounty"]


def test_an_approved_security_fix_makes_a_security_fixer(session):
    wf.reference(session)
    # An embargoed fix is seen, so claimed, by the security council only.
    fixer = wf.reviewer(session, "sec.fixer", "EU", council=True)
    work = wf.submitted_bounty(session, fixer, **wf.security_fix())
    for name, jurisdiction in (("rev.uk", "UK"), ("rev.ca", "CA")):
        claims.review_claim(session, wf.reviewer(session, name, jurisdiction, council=True), work.bounty.id,
                            "approve", "Fixed.")
    session.refresh(work.claim)
    assert work.claim.status == "approved"
    assert held(session, work.claimant.person_id)["security_fixer"] == work.claim.decided_at


def test_the_sync_awards_badges_once_per_batch_with_the_merge_dates(session, make_fake_gitlab):
    wf.reference(session)
    dataset = synthetic_dataset("coop/widget", merge_requests=250)
    fake = make_fake_gitlab(dataset)
    pat = wf.person(session, "pat")
    session.add(Identity(person_id=pat.id, kind="gitlab_username", value="person3", is_verified=True))
    session.commit()
    client = GitLabClient(fake.url, TOKEN, per_page=100)
    merged_work.sync_projects(session, SYSTEM, client, ["coop/widget"], checker=DcoChecker())
    # person3 authored MRs 3, 8, 28, ..., 228 (every 25th from 3): 10, all signed off.
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert held(session, pat.id) == {"first_merge": start + timedelta(minutes=3),
                                     "merges_10": start + timedelta(minutes=228)}
    assert award_events(session) == 2
    merged_work.sync_projects(session, SYSTEM, client, ["coop/widget"], checker=DcoChecker(), full=True)
    assert award_events(session) == 2


def test_importing_one_merge_request_awards_the_first_merge(session, make_fake_gitlab):
    wf.reference(session)
    fake = make_fake_gitlab(synthetic_dataset("coop/widget", merge_requests=5))
    pat = wf.person(session, "pat")
    session.add(Identity(person_id=pat.id, kind="gitlab_username", value="person4", is_verified=True))
    session.commit()
    client = GitLabClient(fake.url, TOKEN)
    merged_work.import_merge_request(session, SYSTEM, client, fake.project_id("coop/widget"), 4,
                                     checker=DcoChecker())
    assert held(session, pat.id) == {"first_merge": datetime(2026, 1, 1, 0, 4, tzinfo=UTC)}


def test_badges_of_lists_a_persons_badges_in_the_badges_order(session):
    wf.reference(session)
    carla, rita = wf.contributor(session), wf.reviewer(session, "rita", "UK")
    bf.approved_hours(session, carla, rita, "20", T0 + timedelta(days=5), activity="mentoring")
    bf.merge(session, carla.person_id, T0)
    badges.award_badges(session, ADMIN)
    listed = badges.badges_of(session, carla.person_id)
    assert [(b.code, b.earned_at) for b in listed] == [("first_merge", T0),
                                                       ("mentor", T0 + timedelta(days=5))]
    assert listed[1].name_in("fr") == "Mentor" and listed[0].name_in("fr") == "Première fusion"
    assert listed[0].description_in("en").startswith("Their first DCO-signed")


def test_concurrent_awarding_on_postgresql_records_each_badge_once(pg_url):
    engine = make_engine(pg_url)
    try:
        Session_ = make_sessionmaker(engine)
        with Session_() as setup:
            wf.reference(setup)
            carla = wf.person(setup, "carla")
            for n in range(10):
                bf.merge(setup, carla.id, T0 + timedelta(days=n))
            person_id = carla.id
        first, second = Session_(), Session_()
        # The first awarder holds its new rows (and the audit chain) uncommitted while the
        # second evaluates: the second queues, then finds them awarded and adds nothing.
        mine = badges.award_badges_now(first, [person_id])
        assert len(mine) == 2
        results: dict[str, object] = {}

        def other() -> None:
            try:
                results["awarded"] = badges.award_badges(second, ADMIN, [person_id])
            except Exception as exc:  # the test asserts there is none
                results["error"] = exc

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(0.5)
        first.commit()
        thread.join(30)
        assert "error" not in results and results["awarded"] == []
        # Four at once, the 50th merge to award: each finishes, the badge is recorded once.
        errors: list[Exception] = []
        barrier = threading.Barrier(4)
        with Session_() as extra:
            for n in range(40):
                bf.merge(extra, person_id, T0 + timedelta(days=60, hours=n))

        def race() -> None:
            with Session_() as own:
                barrier.wait()
                try:
                    badges.award_badges(own, ADMIN)
                except Exception as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=race) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        with Session_() as check:
            codes = check.execute(select(Badge.code).join(PersonBadge, PersonBadge.badge_id == Badge.id)
                                  .where(PersonBadge.person_id == person_id)).scalars().all()
            assert sorted(codes) == ["first_merge", "merges_10", "merges_50"]
            assert check.execute(select(func.count(AuditEvent.id))
                                 .where(AuditEvent.action == "badge.award")).scalar_one() == 3
            assert audit.verify(check) == []
        first.close()
        second.close()
    finally:
        engine.dispose()


def test_linking_an_identity_awards_the_badges_of_the_work_it_brings(session):
    wf.reference(session)
    carla = wf.person(session, "carla")
    times = [T0 + timedelta(days=n) for n in range(10)]
    for at in times:
        bf.merge(session, None, at)  # merged work of an author nobody is linked to yet
    assert held(session, carla.id) == {}
    identity_links.link_value(session, ADMIN, "gitlab_username", "someone", "carla")
    assert held(session, carla.id) == {"first_merge": times[0], "merges_10": times[9]}
    assert award_events(session) == 2


def test_merging_two_people_awards_what_their_work_earns_only_together(session):
    wf.reference(session)
    carla, old = wf.person(session, "carla"), wf.person(session, "carla.old")
    for day in range(6):
        bf.merge(session, carla.id, T0 + timedelta(days=day))
    for day in range(6, 10):
        bf.merge(session, old.id, T0 + timedelta(days=day))
    badges.award_badges(session, ADMIN)
    assert set(held(session, carla.id)) == set(held(session, old.id)) == {"first_merge"}
    person_merge.merge_people(session, ADMIN, carla.id, old.id)
    assert held(session, carla.id) == {"first_merge": T0, "merges_10": T0 + timedelta(days=9)}
    assert audit.verify(session) == []
