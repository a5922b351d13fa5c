"""Merging two person records where awards are involved: a nominee nominated twice in one
category is refused, clashing votes settle, a vote on one's own nomination stops binding;
on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.models import AuditEvent, Badge, Base, Nomination, Person, PersonBadge, Vote
from bounty.services import award_queries, awards
from bounty.services.actors import Actor
from bounty.services.errors import Conflict
from bounty.services.person_merge import merge_people
from tests import award_factories as af

CATEGORY = "contributor_of_the_year"


@dataclass
class Round:
    admin: Actor
    judges: list[Actor]
    survivor: Actor
    merged: Actor


def row_counts(session: Session) -> dict[str, int]:
    return {table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables}


@pytest.fixture
def world(session: Session) -> Round:
    """A 2026 round; two records of one human (both active), three judges."""
    af.setup(session)
    admin = af.program_admin(session)
    survivor, merged = af.member(session, "bea"), af.member(session, "bea.old", committee=True)
    for who in (survivor, merged):
        af.active(session, who)
    af.open_round(session, admin)
    return Round(admin, af.committee(session, 3), survivor, merged)


def nominate(session: Session, by: Actor, nominee: Actor, category: str = CATEGORY) -> Nomination:
    return awards.nominate(session, by, af.YEAR, category, af.CITATION, nominee_person_id=nominee.person_id,
                           now=af.NOMINATING)


def test_both_nominated_in_one_category_is_refused_naming_the_nomination(session: Session, world: Round):
    nominate(session, world.judges[0], world.survivor)
    theirs = nominate(session, world.judges[1], world.merged)
    before = row_counts(session)
    with pytest.raises(Conflict) as refused:
        merge_people(session, world.admin, world.survivor.person_id, world.merged.person_id)
    assert str(refused.value) == ("both people are nominated in the same round and category "
                                  f"(nomination {theirs.id}): withdraw one before merging")
    assert row_counts(session) == before
    assert session.get(Person, world.merged.person_id).merged_into_id is None


def test_nominations_in_different_categories_move_to_the_survivor(session: Session, world: Round):
    nominate(session, world.judges[0], world.survivor)
    af.active(session, world.merged, activity="mentoring")
    moved = nominate(session, world.judges[1], world.merged, "mentor_of_the_year")
    summary = merge_people(session, world.admin, world.survivor.person_id, world.merged.person_id)
    assert summary.moved["nominations.nominee_person_id"] == 1
    session.expire_all()
    assert session.get(Nomination, moved.id).nominee_person_id == world.survivor.person_id


def test_a_nominator_twice_in_one_category_is_refused(session: Session, world: Round):
    first, second = af.member(session, "cy"), af.member(session, "cyd")
    for other in (first, second):
        af.active(session, other)
    nominate(session, world.survivor, first)
    theirs = nominate(session, world.merged, second)
    with pytest.raises(Conflict, match=f"nomination {theirs.id}"):
        merge_people(session, world.admin, world.survivor.person_id, world.merged.person_id)


def test_votes_settle_and_a_vote_on_ones_own_nomination_stops_binding(session: Session, world: Round):
    # The merged record (a judge) voted on two nominations: one the survivor voted on too,
    # and the survivor's own nomination, where the merged record's vote bound.
    other = af.member(session, "dee")
    af.active(session, other)
    shared = nominate(session, world.judges[0], other)
    own = nominate(session, world.judges[1], world.survivor, "jurisdiction_eu")
    af.open_vote(session, world.admin)
    awards.cast_vote(session, world.merged, shared.id, "-1", "Too early.", now=af.VOTING)
    awards.cast_vote(session, world.survivor, shared.id, "+1", now=af.VOTING)
    kept = awards.cast_vote(session, world.merged, own.id, "+1", now=af.VOTING)
    assert kept.is_binding

    summary = merge_people(session, world.admin, world.survivor.person_id, world.merged.person_id)
    session.expire_all()

    assert summary.removed == {"votes": 1}
    on_shared = session.execute(select(Vote).where(Vote.nomination_id == shared.id)).scalars().all()
    assert [(v.voter_id, v.value) for v in on_shared] == [(world.survivor.person_id, "+1")]
    moved = session.get(Vote, kept.id)
    assert (moved.voter_id, moved.is_binding, moved.non_binding_reason) == (
        world.survivor.person_id, False, "conflict")
    assert summary.conflicted_votes == [kept.id]
    [event] = session.execute(select(AuditEvent).where(AuditEvent.action == "person.merge")).scalars().all()
    assert event.summary["conflicted_votes"] == [kept.id]
    assert event.summary["removed"]["votes"][0]["value"] == "-1"
    # The tally follows: the survivor's own vote no longer counts.
    [view] = award_queries.nominations(session, world.admin, af.YEAR, "jurisdiction_eu")
    assert view.tally.binding["+1"] == 0 and view.tally.non_binding["+1"] == 1


def test_a_badge_both_earned_stays_once_dated_by_the_earlier(session: Session, world: Round):
    badge = session.execute(select(Badge).order_by(Badge.id)).scalars().first()
    assert badge is not None, "the reference seed has badges"
    early, late = af.OPENED.replace(month=3), af.OPENED
    session.add_all([PersonBadge(person_id=world.survivor.person_id, badge_id=badge.id, earned_at=late),
                     PersonBadge(person_id=world.merged.person_id, badge_id=badge.id, earned_at=early)])
    session.commit()
    summary = merge_people(session, world.admin, world.survivor.person_id, world.merged.person_id)
    session.expire_all()
    assert summary.removed.get("person_badges") == 1
    held = session.execute(select(PersonBadge).where(PersonBadge.badge_id == badge.id)).scalars().all()
    assert [(b.person_id, b.earned_at) for b in held] == [(world.survivor.person_id, early)]
