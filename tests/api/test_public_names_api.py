"""The API's anonymous answers name the people of a bounty's timeline only once they agree to it."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.api.bounties import ANONYMOUS
from bounty.models import Person
from tests import workflow_factories as wf


def test_an_anonymous_caller_reads_anonymous_contributor_until_the_person_agrees(
        client: FlaskClient, session: Session) -> None:
    wf.reference(session)
    bounty = wf.open_bounty(session)
    admin = session.execute(select(Person).where(Person.username == "admin")).scalar_one()
    session.commit()

    timeline = client.get(f"/api/v1/bounties/{bounty.id}").get_json()["timeline"]
    assert timeline and {step["actor"] for step in timeline} == {ANONYMOUS}
    assert "admin" not in str(timeline)

    admin.is_public_listing = True
    session.commit()
    timeline = client.get(f"/api/v1/bounties/{bounty.id}").get_json()["timeline"]
    assert {step["actor"] for step in timeline} == {"person:admin"}
