"""Names on public pages: visitors who are not signed in see a person named only when that
person agreed to it; signed-in members see every name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import Person
from bounty.services import bounty_queries, public_names
from bounty.services.actors import SYSTEM, Actor
from tests import workflow_factories as wf

AUDITOR_WITHOUT_SIGN_IN = Actor(label="report", roles=frozenset({"auditor"}))


def _admin(session: Session) -> Person:
    return session.execute(select(Person).where(Person.username == "admin")).scalar_one()


def test_a_timeline_names_its_people_to_anonymous_visitors_only_once_they_agree(session: Session) -> None:
    wf.reference(session)
    bounty = wf.open_bounty(session)
    admin = _admin(session)

    public = bounty_queries.get_bounty(session, wf.ANONYMOUS, bounty.id)
    assert admin.id in public.hidden_people
    assert any(event.actor_id == admin.id for event in public.timeline)
    member = bounty_queries.get_bounty(session, wf.contributor(session), bounty.id)
    assert member.hidden_people == frozenset()

    admin.is_public_listing = True
    session.commit()
    assert bounty_queries.get_bounty(session, wf.ANONYMOUS, bounty.id).hidden_people == frozenset()


def test_a_claimant_and_reviewers_are_withheld_from_a_reader_who_is_not_signed_in(session: Session) -> None:
    wf.reference(session)
    work = wf.approved_bounty(session)

    detail = bounty_queries.get_bounty(session, AUDITOR_WITHOUT_SIGN_IN, work.bounty.id)
    assert detail.claim is not None and detail.claim.claimant_hidden and detail.claim.claimant_name == ""
    assert detail.row.claimant_hidden and detail.row.claimant_name is None
    assert detail.reviews and all(review.reviewer_hidden and not review.reviewer_name
                                  for review in detail.reviews)

    named = bounty_queries.get_bounty(session, SYSTEM, work.bounty.id)
    assert named.claim is not None and not named.claim.claimant_hidden
    assert named.claim.claimant_name == "Carla"
    assert {review.reviewer_name for review in named.reviews} == {"Rev Eu", "Rev Uk"}


def test_hidden_among_keeps_only_those_who_did_not_agree(session: Session) -> None:
    wf.reference(session)
    agreed = wf.person(session, "agreed")
    declined = wf.person(session, "declined")
    agreed.is_public_listing = True
    session.commit()
    hidden = public_names.hidden_among(session, wf.ANONYMOUS, [agreed.id, declined.id, None])
    assert hidden == {declined.id}
    assert public_names.hidden_among(session, wf.actor_of(declined), [agreed.id, declined.id]) == set()
