"""A year for the annual awards report: bounties approved, paid and clawed back, an open
bounty's reservation, hours, merged work, a grant tranche, badges, and a closed awards round,
with one person who agreed to be named (Alice) and one who did not (Oscar).

Everything goes through the services (or `tests.recognition_factories`, which does), so
every figure the report reads has its ledger lines behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import Badge, Person, PersonBadge
from bounty.services import awards
from tests import recognition_factories as rf
from tests import workflow_factories as wf

YEAR = 2026
ALICE_CITATION = ("Alice Public rebuilt the load balancer health checks and mentored three "
                  "newcomers through their first merges.")
OSCAR_CITATION = ("Oscar Hidden rewrote the whole storage quota documentation and answered "
                  "every question on the list.")


@dataclass
class Year:
    """Who is in the year: Alice and Rita are named, Oscar and Bruno are not (Bruno is listed
    but his only work was clawed back, so he is not active)."""

    alice: Person
    oscar: Person
    bruno: Person
    rita: Person


def year(session: Session) -> Year:
    """The year of docs/awards-report.md's worked example (see the module)."""
    wf.reference(session)
    acme = rf.organisation(session)
    alice = rf.person(session, "alice", public=True, organisation=acme, display_name="Alice Public")
    bruno = rf.person(session, "bruno", public=True, display_name="Bruno Clawed")
    oscar = rf.person(session, "oscar", jurisdiction="UK", display_name="Oscar Hidden")
    rita = rf.person(session, "rita", public=True, roles=("contributor", "reviewer"),
                     display_name="Rita Reviewer")
    rf.approved_bounty(session, wf.actor_of(alice), rf.at(YEAR, 3, 10), amount="1000",
                       working_group_code="WG4", title="Health checks")
    clawed = rf.approved_bounty(session, wf.actor_of(bruno), rf.at(YEAR, 3, 11), amount="700",
                                title="Reverted fix")
    rf.clawed_back(session, clawed)  # pays Alice's and Bruno's, then claws Bruno's back
    rf.approved_bounty(session, wf.actor_of(oscar), rf.at(YEAR, 4, 1), amount="2000",
                       category_code="documentation", working_group_code="WG1", title="Quota guide")
    wf.open_bounty(session, title="Still open", amount="3000")
    rf.hours(session, alice.id, date(YEAR, 2, 2), quarter_hours=8, reviewer_id=rita.id)
    rf.hours(session, oscar.id, date(YEAR, 5, 5), quarter_hours=10, reviewer_id=rita.id)
    rf.hours(session, oscar.id, date(YEAR, 5, 6), quarter_hours=12, status="pending")
    rf.hours(session, oscar.id, date(YEAR - 1, 5, 6), quarter_hours=40, reviewer_id=rita.id,
             reviewed_at=rf.at(YEAR - 1, 5, 7))
    rf.merged_mr(session, oscar.id, rf.at(YEAR, 6, 1))
    rf.merged_mr(session, oscar.id, rf.at(YEAR, 6, 2), dco_ok=False)
    rf.merged_mr(session, oscar.id, rf.at(YEAR - 1, 6, 2))
    rf.signed_off_tranche(session, wf.reviewer(session, "sig", "CA"), rf.at(YEAR, 11, 1), grantee=alice,
                          amount="5000")
    badges = {b.code: b for b in session.execute(select(Badge)).scalars()}
    session.add_all([PersonBadge(person_id=alice.id, badge_id=badges["first_merge"].id,
                                 earned_at=rf.at(YEAR, 2, 1)),
                     PersonBadge(person_id=alice.id, badge_id=badges["merges_10"].id,
                                 earned_at=rf.at(YEAR - 1, 2, 1))])
    session.commit()
    return Year(alice, oscar, bruno, rita)


def closed_round(session: Session, people: Year) -> None:
    """The awards round of the year, decided: Alice wins contributor of the year (three binding
    +1); Oscar's nomination there fails (one binding -1, two +0)."""
    admin = wf.admin(session)
    awards.open_round(session, admin, YEAR, rf.at(YEAR, 10, 15), now=rf.at(YEAR, 10, 1))
    first = awards.nominate(session, wf.actor_of(people.rita), YEAR, "contributor_of_the_year",
                            ALICE_CITATION, nominee_person_id=people.alice.id, now=rf.at(YEAR, 10, 2))
    second = awards.nominate(session, wf.actor_of(people.bruno), YEAR, "contributor_of_the_year",
                             OSCAR_CITATION, nominee_person_id=people.oscar.id, now=rf.at(YEAR, 10, 3))
    awards.open_vote(session, admin, YEAR, rf.at(YEAR, 10, 20), now=rf.at(YEAR, 10, 16))
    for number, value in enumerate(("-1", "+0", "+0"), start=1):
        member = wf.actor_of(wf.person(session, f"committee{number}", ("contributor", "awards-committee")))
        awards.cast_vote(session, member, first.id, "+1", now=rf.at(YEAR, 10, 17))
        awards.cast_vote(session, member, second.id, value, reason="Not this year.", now=rf.at(YEAR, 10, 17))
