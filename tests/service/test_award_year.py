"""The acceptance year: a 2026 round with nominations and votes covering every rule, run end to
end through the services, gives the outcomes the bylaws define (seed 003; docs/awards.md).

The awards committee is five judges (j1..j5); the fourth works at Acme. Each nomination
below says which rule it exercises and what the bylaws make of it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.models import Nomination, Vote
from bounty.services import award_queries, awards, demo_data, seed
from bounty.services.actors import SYSTEM, Actor
from bounty.services.award_queries import Winner
from bounty.services.errors import InvalidInput
from tests import award_factories as af

YEAR = af.YEAR
REASON = "The fix was reverted a week later and the regression is still open."


class Year:
    """The people and nominations of the test year."""

    def __init__(self, session: Session) -> None:
        af.setup(session)
        self.session = session
        self.admin = af.program_admin(session)
        self.acme = af.organisation(session, "Acme Cloud GmbH")
        self.j = [af.member(session, f"judge{i}", committee=True, organisation=self.acme if i == 4 else None)
                  for i in range(1, 6)]
        self.crowd = [af.member(session, f"fan{i}") for i in range(1, 7)]
        self.nominators = iter([af.member(session, f"nominator{i}") for i in range(1, 20)])
        self.people: dict[str, Actor] = {}
        self.ids: dict[str, int] = {}
        self.minutes = 0
        af.open_round(session, self.admin)

    def nominee(self, username: str, *activities: str, jurisdiction: str = "EU") -> Actor:
        actor = af.member(self.session, username, jurisdiction=jurisdiction)
        for activity in activities:
            af.active(self.session, actor, activity=activity)
        self.people[username] = actor
        return actor

    def nominate(self, key: str, category: str, *, person: Actor | None = None,
                 organisation_id: int | None = None, by: Actor | None = None) -> None:
        self.minutes += 1  # nominations in the order written, a minute apart
        nomination = awards.nominate(
            self.session, by or next(self.nominators), YEAR, category, af.CITATION,
            nominee_person_id=person.person_id if person else None, nominee_organisation_id=organisation_id,
            now=af.NOMINATING + timedelta(minutes=self.minutes))
        self.ids[key] = nomination.id

    def vote(self, key: str, voter: Actor, value: str, reason: str = "", hours: int = 0) -> None:
        awards.cast_vote(self.session, voter, self.ids[key], value, reason,
                         now=af.VOTING + timedelta(hours=hours))


def build(session: Session) -> Year:
    y = Year(session)
    j = y.j
    # --- nominations ---------------------------------------------------------------------------
    y.nominate("veto", "security_champion", person=y.nominee("sec.veto", "security"))
    y.nominate("void", "security_champion", person=y.nominee("sec.void", "security"))
    y.nominate("majority", "documentation_champion", person=y.nominee("doc.one", "documentation"))
    y.nominate("fewer_against", "documentation_champion", person=y.nominee("doc.two", "documentation"))
    y.nominate("crowd", "newcomer_of_the_year", person=y.nominee("new.comer", "code"))
    y.nominate("earlier", "mentor_of_the_year", person=y.nominee("ment.a", "mentoring"))
    y.nominate("later", "mentor_of_the_year", person=y.nominee("ment.b", "mentoring"))
    y.nominate("zeros", "contributor_of_the_year", person=y.nominee("core.a", "code"))
    y.nominate("most", "contributor_of_the_year", person=y.nominee("core.b", "code"))
    y.nominate("too_few", "contributor_of_the_year", person=y.nominee("core.c", "code"))
    y.nominate("against", "contributor_of_the_year", person=y.nominee("core.d", "code"))
    y.nominate("conflict", "jurisdiction_uk", person=y.nominee("uk.dev", "code", jurisdiction="UK"), by=j[4])
    af.active(session, af.member(session, "acme.dev", organisation=y.acme))
    y.nominate("organisation", "organisation_of_the_year", organisation_id=y.acme.id)
    af.open_vote(session, y.admin)

    # --- votes -----------------------------------------------------------------------------------
    # Security champion, lazy consensus. "veto": 3 binding +1 and a binding -1 with a reason,
    # a valid veto: fails (3.2.1, 3.3.2). "void": the same, the -1 without a reason: a void
    # veto (3.1.2.4) counts as no vote, passes.
    for key in ("veto", "void"):
        for judge in j[:3]:
            y.vote(key, judge, "+1")
    y.vote("veto", j[3], "-1", REASON)
    y.vote("void", j[3], "-1", "   ")
    # Documentation champion, lazy majority. "majority": the very votes of "veto": passes,
    # a -1 is no veto here (3.2.2, 3.3.1). "fewer_against": 3 binding +1 and a +0, passes too
    # and wins on the fewest binding -1.
    for judge in j[:3]:
        y.vote("majority", judge, "+1")
        y.vote("fewer_against", judge, "+1")
    y.vote("majority", j[3], "-1", REASON)
    y.vote("fewer_against", j[4], "+0")
    # Newcomer, lazy majority: 2 binding +1 and seven non-binding +1 (the crowd and the
    # nominee, who is no judge) fail: non-binding votes never decide (3.1.3). No award.
    for voter in [*j[:2], *y.crowd, y.people["new.comer"]]:
        y.vote("crowd", voter, "+1")
    # Mentor, lazy majority: 3 binding +1 each, a tie broken by the earlier nomination.
    for key in ("later", "earlier"):
        for judge in j[:3]:
            y.vote(key, judge, "+1")
    # Contributor of the year, lazy 2/3 majority.
    # "zeros": +1, +0, -0 are three binding votes and 1 >= 2 x 0: passes (3.2.3).
    y.vote("zeros", j[0], "+1")
    y.vote("zeros", j[1], "+0")
    y.vote("zeros", j[2], "-0")
    # "most": four +1, and a judge who voted +1 then changed to -1: 4 >= 2 x 1, passes, wins.
    for judge in j[:4]:
        y.vote("most", judge, "+1")
    y.vote("most", j[4], "+1")
    y.vote("most", j[4], "-1", hours=2)
    # "too_few": two binding votes: fails. "against": 1 +1 to 2 -1, 1 < 4: fails.
    y.vote("too_few", j[0], "+1")
    y.vote("too_few", j[1], "+1")
    y.vote("against", j[0], "+1")
    y.vote("against", j[1], "-1")
    y.vote("against", j[2], "-1")
    # Jurisdiction UK, lazy majority: nominated by judge 5, whose +1 is then non-binding
    # (conflict of interest); two binding +1 are not enough. No award.
    for judge in (j[4], j[0], j[1]):
        y.vote("conflict", judge, "+1")
    # Organisation, lazy 2/3: judge 4 works at Acme, so their +1 is non-binding; three bind.
    for judge in j[:4]:
        y.vote("organisation", judge, "+1")
    return y


@pytest.fixture
def year(session: Session) -> Year:
    return build(session)


EXPECTED_PASSED = {
    "veto": False, "void": True, "majority": True, "fewer_against": True, "crowd": False, "earlier": True,
    "later": True, "zeros": True, "most": True, "too_few": False, "against": False, "conflict": False,
    "organisation": True,
}
EXPECTED_WINNERS = {
    "contributor_of_the_year": "most", "security_champion": "void", "documentation_champion": "fewer_against",
    "newcomer_of_the_year": None, "mentor_of_the_year": "earlier", "jurisdiction_eu": None,
    "jurisdiction_uk": None, "jurisdiction_ca": None, "jurisdiction_au": None,
    "organisation_of_the_year": "organisation",
}


def test_every_nomination_has_the_outcome_the_bylaws_define(session: Session, year: Year):
    results = award_queries.results(session, year.admin, YEAR, now=af.AFTER)
    assert results.decided and results.phase == "closed"
    views = {view.id: view for category in results.categories for view in category.nominations}
    by_key = {key: views[nomination_id] for key, nomination_id in year.ids.items()}
    assert {key: view.tally.passed for key, view in by_key.items()} == EXPECTED_PASSED
    winners = {c.category.code: c.winner.id if c.winner else None for c in results.categories}
    key_of = {nomination_id: key for key, nomination_id in year.ids.items()}
    assert {code: key_of.get(winner) for code, winner in winners.items()} == EXPECTED_WINNERS


def test_three_for_and_one_against_passes_lazy_majority_and_fails_lazy_consensus(session: Session,
                                                                                  year: Year):
    views = {v.id: v for v in award_queries.nominations(session, year.admin, YEAR)}
    veto, majority = views[year.ids["veto"]], views[year.ids["majority"]]
    assert [(v.value, v.is_binding, v.reason) for v in veto.votes] == \
           [(v.value, v.is_binding, v.reason) for v in majority.votes]
    assert (veto.tally.binding["+1"], veto.tally.binding["-1"]) == (3, 1)
    assert not veto.tally.passed and veto.tally.vetoes == (year.j[3].person_id,)
    assert majority.tally.passed and majority.tally.vetoes == ()
    assert [v.is_veto for v in veto.votes] == [False, False, False, True]


def test_a_reasonless_veto_is_void_and_shown_so(session: Session, year: Year):
    [void] = [v for v in award_queries.nominations(session, None, YEAR) if v.id == year.ids["void"]]
    assert void.tally.passed and void.tally.void_vetoes == (year.j[3].person_id,)
    assert void.tally.binding["-1"] == 0
    assert [v.is_void_veto for v in void.votes] == [False, False, False, True]
    assert "Void veto (a -1 without a reason)" in void.tally.explanation


def test_non_binding_votes_never_decide(session: Session, year: Year):
    views = {v.id: v for v in award_queries.nominations(session, year.admin, YEAR)}
    crowd = views[year.ids["crowd"]]
    assert crowd.tally.binding["+1"] == 2 and crowd.tally.non_binding["+1"] == 7
    assert not crowd.tally.passed
    reasons = {v.voter_id: v.non_binding_reason for v in crowd.votes if not v.is_binding}
    assert set(reasons.values()) == {"not_committee"}
    conflict = views[year.ids["conflict"]]
    first = conflict.votes[0]
    assert (first.voter_id, first.is_binding, first.non_binding_reason) == (
        year.j[4].person_id, False, "conflict")
    organisation = views[year.ids["organisation"]]
    assert organisation.tally.binding["+1"] == 3 and organisation.tally.non_binding["+1"] == 1
    assert organisation.nominee_name == "Acme Cloud GmbH"


def test_a_changed_vote_counts_as_last_cast(session: Session, year: Year):
    [most] = [v for v in award_queries.nominations(session, year.admin, YEAR) if v.id == year.ids["most"]]
    assert (most.tally.binding["+1"], most.tally.binding["-1"]) == (4, 1)
    assert [v.value for v in most.votes if v.voter_id == year.j[4].person_id] == ["-1"]


def test_nothing_is_decided_before_the_vote_closes(session: Session, year: Year):
    running = award_queries.results(session, year.admin, YEAR, now=af.VOTING)
    assert not running.decided and running.phase == "voting"
    assert all(category.winner is None and not category.decided for category in running.categories)
    assert award_queries.winners(session, YEAR, YEAR, now=af.VOTING) == []
    # Once closed, the winners over the years are the decided categories' winners.
    people = year.people
    assert award_queries.winners(session, YEAR - 1, YEAR, now=af.AFTER) == [
        Winner(YEAR, "contributor_of_the_year", people["core.b"].person_id, None, year.ids["most"]),
        Winner(YEAR, "security_champion", people["sec.void"].person_id, None, year.ids["void"]),
        Winner(YEAR, "documentation_champion", people["doc.two"].person_id, None, year.ids["fewer_against"]),
        Winner(YEAR, "mentor_of_the_year", people["ment.a"].person_id, None, year.ids["earlier"]),
        Winner(YEAR, "organisation_of_the_year", None, year.acme.id, year.ids["organisation"]),
    ]


def test_a_newcomer_must_be_new_and_the_public_sees_anonymous_winners(session: Session, year: Year):
    veteran = af.member(session, "old.timer")
    af.active(session, veteran, year=YEAR - 1)
    af.active(session, veteran)
    with pytest.raises(InvalidInput, match="already active before 2026"):
        awards.nominate(session, af.member(session, "late.nominator"), YEAR, "newcomer_of_the_year",
                        af.CITATION, nominee_person_id=veteran.person_id, now=af.NOMINATING)
    public = award_queries.results(session, None, YEAR, now=af.AFTER)
    winners = [c.winner for c in public.categories if c.winner is not None]
    assert [(w.nominee_name, w.nominee_is_public) for w in winners] == [
        (None, False), (None, False), (None, False), (None, False), ("Acme Cloud GmbH", True)]


# --- the demo round (seed/demo/awards.toml) ---------------------------------------------------

DEMO_NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_the_demo_round_is_decided_with_winners_a_failing_category_and_a_void_veto(session: Session):
    seed.seed_reference(session, SYSTEM)
    demo_data.seed_demo(session, SYSTEM, now=DEMO_NOW)
    award_round = award_queries.round_of(session, 2026)
    assert award_round is not None
    assert award_round.voting_closes_at == DEMO_NOW - timedelta(days=2)
    assert award_round.voting_closes_at - award_round.voting_opens_at >= timedelta(hours=72)
    results = award_queries.results(session, SYSTEM, 2026, now=DEMO_NOW)
    assert results.decided
    outcome = {c.category.code: (c.winner.nominee_name if c.winner else None) for c in results.categories
               if c.nominations}
    assert outcome == {
        "contributor_of_the_year": "Ada Beispiel", "security_champion": "Terry Testcase",
        "documentation_champion": "Mo Mockington", "newcomer_of_the_year": "Kim Stubbs",
        "mentor_of_the_year": None, "jurisdiction_eu": "Lukas Platzhalter",
        "jurisdiction_ca": "Chloé Exemple", "organisation_of_the_year": "Examplia Cloud GmbH"}
    views = [v for c in results.categories for v in c.nominations]
    assert any(v.tally.void_vetoes for v in views)
    assert any(vote.non_binding_reason == "conflict" for v in views for vote in v.votes)
    assert any(vote.non_binding_reason == "not_committee" for v in views for vote in v.votes)
    # The winner who did not opt in is anonymous to the public.
    public = award_queries.results(session, None, 2026, now=DEMO_NOW)
    [eu] = [c for c in public.categories if c.category.code == "jurisdiction_eu"]
    assert eu.winner is not None and (eu.winner.nominee_name, eu.winner.nominee_is_public) == (None, False)
    # A second run adds nothing, whatever its `now`.
    before = (count_rows(session, Nomination), count_rows(session, Vote))
    again = demo_data.seed_demo(session, SYSTEM, now=DEMO_NOW + timedelta(days=1))
    assert not again.changed
    assert (count_rows(session, Nomination), count_rows(session, Vote)) == before


def count_rows(session: Session, model: type) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()
