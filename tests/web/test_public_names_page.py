"""The bounty page names the people of its timeline to visitors only once they agree to it."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import Person
from tests import workflow_factories as wf


def test_the_bounty_page_says_anonymous_contributor_to_visitors(client: FlaskClient,
                                                                session: Session) -> None:
    wf.reference(session)
    bounty = wf.open_bounty(session)
    admin = session.execute(select(Person).where(Person.username == "admin")).scalar_one()
    admin.display_name = "Adelheid Verwalterin"
    session.commit()

    page = client.get(f"/bounties/{bounty.id}").get_data(as_text=True)
    assert "Adelheid Verwalterin" not in page
    assert "Anonymous contributor" in page

    admin.is_public_listing = True
    session.commit()
    assert "Adelheid Verwalterin" in client.get(f"/bounties/{bounty.id}").get_data(as_text=True)
