"""Award rounds, nominations and votes through the services: every refusal with its field or
reason, binding and non-binding votes, conflicts of interest, vote changes, audit events and
who sees which names; on both databases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.models import AuditEvent, AwardRound, Nomination, Person, Vote
from bounty.services import award_queries, award_shortlist, awards
from bounty.services.actors import Actor
from bounty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests import award_factories as af
from tests import payout_factories as pf

CATEGORY = "contributor_of_the_year"


@dataclass
class World:
    admin: Actor
    judges: list[Actor]
    nominator: Actor
    nominee: Actor
    idle: Actor


@pytest.fixture
def world(session: Session) -> World:
    """A round of 2026 open for nominations; a nominee active in 2026, someone who is not."""
    af.setup(session)
    admin = af.program_admin(session)
    nominee = af.member(session, "nina")
    af.active(session, nominee)
    idle = af.member(session, "ivan")
    af.active(session, idle, year=af.YEAR - 1)
    world = World(admin, af.committee(session, 4), af.member(session, "olga"), nominee, idle)
    af.active(session, world.nominator)
    af.open_round(session, admin)
    return world


def nominate(session: Session, world: World, *, by: Actor | None = None, nominee: Actor | None = None,
             category: str = CATEGORY, citation: str = af.CITATION, now=af.NOMINATING) -> Nomination:
    return awards.nominate(session, by or world.nominator, af.YEAR, category, citation,
                           nominee_person_id=(nominee or world.nominee).person_id, now=now)


def count(session: Session, model: type) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.seq)).scalars())


# --- rounds ----------------------------------------------------------------------------------

def test_opening_a_round_needs_a_program_admin_and_happens_once_a_year(session: Session, world: World):
    award_round = award_queries.round_of(session, af.YEAR)
    assert award_round is not None
    assert award_round.nominations_open_at == af.OPENED
    assert award_round.nominations_close_at == af.NOMINATIONS_CLOSE
    assert award_round.created_by_id == world.admin.person_id
    [event] = events(session, "award_round.open")
    assert event.summary["year"] == af.YEAR and event.actor_id == world.admin.person_id
    with pytest.raises(Conflict, match="already open"):
        af.open_round(session, world.admin)
    with pytest.raises(PermissionDenied):
        awards.open_round(session, world.judges[0], af.YEAR - 1, af.NOMINATIONS_CLOSE, now=af.OPENED)
    with pytest.raises(InvalidInput) as refused:
        awards.open_round(session, world.admin, af.YEAR - 1, af.OPENED - timedelta(seconds=1), now=af.OPENED)
    assert refused.value.field == "nominations_close_at"
    with pytest.raises(InvalidInput) as refused:
        awards.open_round(session, world.admin, af.YEAR + 1, af.NOMINATIONS_CLOSE, now=af.OPENED)
    assert refused.value.field == "year"
    assert count(session, AwardRound) == 1


def test_round_phases_follow_the_windows(session: Session, world: World):
    award_round = award_queries.round_of(session, af.YEAR)
    assert award_queries.round_phase(award_round, af.NOMINATING) == "nominating"
    assert award_queries.round_phase(award_round, af.NOMINATIONS_CLOSE) == "waiting"
    af.open_vote(session, world.admin)
    session.refresh(award_round)
    assert award_queries.round_phase(award_round, af.VOTE_OPENS) == "voting"
    assert award_queries.round_phase(award_round, af.VOTE_CLOSES - timedelta(microseconds=1)) == "voting"
    assert award_queries.round_phase(award_round, af.VOTE_CLOSES) == "closed"


# --- nominations -----------------------------------------------------------------------------

def test_a_nomination_is_recorded_and_audited(session: Session, world: World):
    nomination = nominate(session, world, citation=f"   {af.CITATION}   ")
    assert nomination.citation == af.CITATION
    assert (nomination.nominee_person_id, nomination.nominator_id) == (world.nominee.person_id,
                                                                       world.nominator.person_id)
    [event] = events(session, "nomination.create")
    assert event.summary["category"] == CATEGORY
    assert event.summary["nominee_person"] == world.nominee.person_id
    assert event.object_id == str(nomination.id)


def test_nobody_nominates_themselves(session: Session, world: World):
    with pytest.raises(InvalidInput) as refused:
        nominate(session, world, nominee=world.nominator)
    assert refused.value.field == "nominee_person_id"
    assert refused.value.reason == "you cannot nominate yourself"
    assert count(session, Nomination) == 0


def test_a_citation_has_at_least_fifty_characters_after_trimming(session: Session, world: World):
    with pytest.raises(InvalidInput) as refused:
        nominate(session, world, citation="  " + "x" * 49 + "  ")
    assert refused.value.field == "citation"
    assert refused.value.reason == "write at least 50 characters, 49 so far"
    assert count(session, Nomination) == 0
    assert nominate(session, world, citation="x" * 50).citation == "x" * 50


def test_one_nomination_per_nominator_per_category(session: Session, world: World):
    nominate(session, world)
    other = af.member(session, "otto")
    af.active(session, other)
    with pytest.raises(Conflict, match="you already made a nomination in contributor_of_the_year"):
        nominate(session, world, nominee=other)
    # Another category is another nomination.
    af.active(session, world.nominee, activity="documentation")
    assert nominate(session, world, category="documentation_champion").id
    assert count(session, Nomination) == 2


def test_a_nominee_already_nominated_is_supported_with_a_plus_one_instead(session: Session, world: World):
    first = nominate(session, world)
    second_nominator = af.member(session, "paula")
    with pytest.raises(Conflict) as refused:
        nominate(session, world, by=second_nominator)
    assert str(refused.value) == (f"already nominated: support the nomination with a +1 "
                                  f"(nomination {first.id})")
    assert count(session, Nomination) == 1


def test_an_ineligible_nominee_is_refused_with_the_reason(session: Session, world: World):
    with pytest.raises(InvalidInput) as refused:
        nominate(session, world, nominee=world.idle)
    assert refused.value.field == "nominee_person_id"
    assert refused.value.reason.startswith(
        "not eligible for contributor_of_the_year in 2026: no activity in 2026")
    # Documentation needs documentation work: code hours are not enough.
    with pytest.raises(InvalidInput, match="no approved documentation bounty or documentation hours"):
        nominate(session, world, category="documentation_champion")
    assert count(session, Nomination) == 0


def test_nominations_only_while_the_window_is_open(session: Session, world: World):
    for moment in (af.OPENED - timedelta(seconds=1), af.NOMINATIONS_CLOSE, af.AFTER):
        with pytest.raises(Conflict, match="nominations for 2026 are not open"):
            nominate(session, world, now=moment)
    assert nominate(session, world, now=af.OPENED).id
    with pytest.raises(NotFound, match="no awards round for 2025"):
        awards.nominate(session, world.nominator, 2025, CATEGORY, af.CITATION,
                        nominee_person_id=world.nominee.person_id, now=af.NOMINATING)


def test_the_nominee_must_fit_the_category(session: Session, world: World):
    with pytest.raises(InvalidInput) as refused:
        nominate(session, world, category="organisation_of_the_year")
    assert refused.value.field == "nominee_organisation_id"
    org = af.organisation(session, "Acme Cloud GmbH")
    with pytest.raises(InvalidInput) as refused:
        awards.nominate(session, world.nominator, af.YEAR, CATEGORY, af.CITATION,
                        nominee_organisation_id=org.id, now=af.NOMINATING)
    assert refused.value.field == "nominee_person_id"
    with pytest.raises(InvalidInput) as refused:
        awards.nominate(session, world.nominator, af.YEAR, CATEGORY, af.CITATION, now=af.NOMINATING)
    assert refused.value.field == "nominee"
    with pytest.raises(InvalidInput) as refused:
        nominate(session, world, category="best_haircut")
    assert refused.value.field == "category"
    with pytest.raises(PermissionDenied):
        nominate(session, world, by=pf.auditor(session))


# --- the vote --------------------------------------------------------------------------------

def test_the_vote_opens_after_the_nominations_for_at_least_72_hours(session: Session, world: World):
    admin = world.admin
    with pytest.raises(Conflict, match="nominations for 2026 are still open"):
        awards.open_vote(session, admin, af.YEAR, af.VOTE_CLOSES, now=af.NOMINATING)
    with pytest.raises(InvalidInput) as refused:
        awards.open_vote(session, admin, af.YEAR, af.VOTE_OPENS + timedelta(hours=72, seconds=-1),
                         now=af.VOTE_OPENS)
    assert (refused.value.field, refused.value.reason) == ("closes_at", "a vote stays open at least 72 hours")
    with pytest.raises(PermissionDenied):
        awards.open_vote(session, world.judges[0], af.YEAR, af.VOTE_CLOSES, now=af.VOTE_OPENS)
    opened = awards.open_vote(session, admin, af.YEAR, af.VOTE_OPENS + timedelta(hours=72), now=af.VOTE_OPENS)
    assert opened.voting_closes_at - opened.voting_opens_at == timedelta(hours=72)
    assert events(session, "award_round.open_vote")[0].summary["year"] == af.YEAR
    with pytest.raises(Conflict, match="already opened"):
        af.open_vote(session, admin)


def test_votes_only_while_the_vote_is_open(session: Session, world: World):
    nomination = nominate(session, world)
    judge = world.judges[0]
    with pytest.raises(Conflict, match="the vote of 2026 is not open"):
        awards.cast_vote(session, judge, nomination.id, "+1", now=af.NOMINATING)
    af.open_vote(session, world.admin)
    for moment in (af.VOTE_OPENS - timedelta(seconds=1), af.VOTE_CLOSES, af.AFTER):
        with pytest.raises(Conflict, match="the vote of 2026 is not open"):
            awards.cast_vote(session, judge, nomination.id, "+1", now=moment)
    assert awards.cast_vote(session, judge, nomination.id, "+1", now=af.VOTE_OPENS).is_binding
    with pytest.raises(InvalidInput) as refused:
        awards.cast_vote(session, judge, nomination.id, "+2", now=af.VOTING)
    assert refused.value.field == "value"
    with pytest.raises(NotFound):
        awards.cast_vote(session, judge, nomination.id + 1000, "+1", now=af.VOTING)
    with pytest.raises(PermissionDenied):
        awards.cast_vote(session, pf.auditor(session), nomination.id, "+1", now=af.VOTING)
    assert count(session, Vote) == 1


def test_only_the_committee_binds_and_nobody_binds_on_their_own_nomination(session: Session, world: World):
    judge_nominator, judge, judge_nominee = world.judges[0], world.judges[1], world.judges[2]
    af.active(session, judge_nominee)
    mine = nominate(session, world, by=judge_nominator)
    about_me = nominate(session, world, by=world.nominator, nominee=judge_nominee,
                        category="jurisdiction_eu")
    af.open_vote(session, world.admin)
    cast = {
        "committee": awards.cast_vote(session, judge, mine.id, "+1", now=af.VOTING),
        "contributor": awards.cast_vote(session, world.idle, mine.id, "+1", now=af.VOTING),
        "nominator": awards.cast_vote(session, judge_nominator, mine.id, "+1", now=af.VOTING),
        "nominee": awards.cast_vote(session, judge_nominee, about_me.id, "+1", now=af.VOTING),
        "contributor nominee": awards.cast_vote(session, world.nominee, mine.id, "+1", now=af.VOTING),
    }
    assert {name: (v.is_binding, v.non_binding_reason) for name, v in cast.items()} == {
        "committee": (True, None), "contributor": (False, "not_committee"),
        "nominator": (False, "conflict"), "nominee": (False, "conflict"),
        "contributor nominee": (False, "not_committee")}
    recorded = {e.summary["voter"]: e.summary["binding"] for e in events(session, "vote.cast")}
    assert recorded == {judge.person_id: True, world.idle.person_id: False, judge_nominator.person_id: False,
                        judge_nominee.person_id: False, world.nominee.person_id: False}


def test_a_committee_member_of_the_nominee_organisation_does_not_bind(session: Session, world: World):
    acme = af.organisation(session, "Acme Cloud GmbH")
    insider = af.member(session, "ines", committee=True, organisation=acme)
    worker = af.member(session, "wim", organisation=acme)
    af.active(session, worker)
    nomination = awards.nominate(session, world.nominator, af.YEAR, "organisation_of_the_year", af.CITATION,
                                 nominee_organisation_id=acme.id, now=af.NOMINATING)
    af.open_vote(session, world.admin)
    inside = awards.cast_vote(session, insider, nomination.id, "+1", now=af.VOTING)
    assert (inside.is_binding, inside.non_binding_reason) == (False, "conflict")
    assert awards.cast_vote(session, world.judges[0], nomination.id, "+1", now=af.VOTING).is_binding


def test_a_voter_changes_their_vote_while_the_vote_is_open(session: Session, world: World):
    nomination = nominate(session, world)
    af.open_vote(session, world.admin)
    judge = world.judges[0]
    first = awards.cast_vote(session, judge, nomination.id, "+1", now=af.VOTING)
    changed = awards.cast_vote(session, judge, nomination.id, "-1", "  Not this year.  ",
                               now=af.VOTING + timedelta(hours=1))
    assert changed.id == first.id and count(session, Vote) == 1
    assert (changed.value, changed.reason, changed.cast_at) == ("-1", "Not this year.",
                                                                 af.VOTING + timedelta(hours=1))
    [change] = events(session, "vote.change")
    assert change.summary["previous"]["value"] == "+1" and change.summary["value"] == "-1"
    with pytest.raises(Conflict):
        awards.cast_vote(session, judge, nomination.id, "+1", now=af.VOTE_CLOSES)
    session.refresh(changed)
    assert changed.value == "-1"


def test_public_viewers_see_names_only_of_people_who_opted_in(session: Session, world: World):
    nomination = nominate(session, world)
    public_judge = af.member(session, "pia", committee=True, public=True)
    af.open_vote(session, world.admin)
    awards.cast_vote(session, public_judge, nomination.id, "+1", now=af.VOTING)
    awards.cast_vote(session, world.judges[0], nomination.id, "+1", now=af.VOTING)
    [public] = award_queries.nominations(session, None, af.YEAR)
    assert (public.nominee_person_id, public.nominee_name, public.nominee_is_public) == (None, None, False)
    assert public.citation is None and public.nominator_name is None
    assert [(v.voter_name, v.voter_is_public) for v in public.votes] == [("Pia", True), (None, False)]
    assert public.tally.binding["+1"] == 2
    # A contributor is a public viewer too, except for their own name.
    [seen_by_nominee] = award_queries.nominations(session, world.nominee, af.YEAR)
    assert seen_by_nominee.nominee_name == "Nina" and seen_by_nominee.citation == af.CITATION
    for insider in (world.admin, world.judges[1], pf.auditor(session)):
        [full] = award_queries.nominations(session, insider, af.YEAR)
        assert (full.nominee_name, full.nominator_name) == ("Nina", "Olga")
        assert [v.voter_name for v in full.votes] == ["Pia", "Judge1"]
    # Opting in names the nominee at once.
    session.get(Person, world.nominee.person_id).is_public_listing = True
    session.commit()
    [public] = award_queries.nominations(session, None, af.YEAR)
    assert (public.nominee_name, public.nominee_is_public, public.citation) == ("Nina", True, af.CITATION)


# --- shortlist suggestions -------------------------------------------------------------------

def test_the_shortlist_suggests_eligible_people_from_the_years_ranking(session: Session, world: World):
    mentor = af.member(session, "mona", public=True)
    af.active(session, mentor, activity="mentoring")
    nomination = nominate(session, world)
    suggested = award_shortlist.shortlist(session, af.YEAR, CATEGORY, viewer=world.admin)
    by_person = {s.person_id: s for s in suggested}
    # Active in 2026: nominee, nominator, mentor (and the hours reviewer, who reviewed);
    # never the person active only in 2025.
    assert {world.nominee.person_id, world.nominator.person_id, mentor.person_id} <= set(by_person)
    assert world.idle.person_id not in by_person
    assert by_person[world.nominee.person_id].nomination_id == nomination.id
    assert [s.rank for s in suggested] == sorted(s.rank for s in suggested)
    [only] = award_shortlist.shortlist(session, af.YEAR, "mentor_of_the_year")
    assert (only.person_id, only.name, only.nomination_id) == (mentor.person_id, "Mona", None)
    # A visitor sees the people who did not opt in without name or id.
    hidden = [s for s in award_shortlist.shortlist(session, af.YEAR, CATEGORY) if s.name is None]
    assert hidden and all(s.person_id is None and not s.is_public for s in hidden)
    assert award_shortlist.shortlist(session, af.YEAR, CATEGORY, limit=1)[0].rank == 1


def test_the_organisation_shortlist_sums_its_members(session: Session, world: World):
    acme, idle_org = af.organisation(session, "Acme Cloud GmbH"), af.organisation(session, "Idle Ltd")
    for name in ("a.one", "a.two"):
        af.active(session, af.member(session, name, organisation=acme))
    af.active(session, af.member(session, "i.one", organisation=idle_org), year=af.YEAR - 1)
    suggested = award_shortlist.shortlist(session, af.YEAR, "organisation_of_the_year")
    assert [(s.organisation_id, s.name, s.rank) for s in suggested] == [(acme.id, "Acme Cloud GmbH", 1)]
    assert suggested[0].score > 0
