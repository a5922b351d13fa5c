"""Profiles and one's public listing: a profile is public only while its person agrees to be
listed (otherwise 404, but for the person and auditors), shows badges with the date earned and
the standing of this year and of all time; the consent form shows the state, when it last
changed and the history, and a withdrawal takes effect on the next request."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bounty.models import Badge, Person, PersonBadge, utcnow
from tests import recognition_factories as rf
from tests import workflow_factories as wf
from tests.web.conftest import csrf_token_of
from tests.web.test_bounty_board import demo_app, demo_person, sends_to_sign_in, settle, signed_in

__all__ = ["demo_app"]

THIS_YEAR = utcnow().year
# Early in the current year, and so in the past whatever today is.
NEW_YEAR = rf.at(THIS_YEAR, 1, 1, 0, 1)


def someone(session: Session, username: str, name: str, *, public: bool, jurisdiction: str = "EU",
            roles: tuple[str, ...] = ("contributor",)) -> Person:
    person = demo_person(session, username, roles, jurisdiction)
    person.display_name = name
    return rf.person(session, username, public=public, jurisdiction=jurisdiction)


@pytest.fixture
def people(session: Session) -> dict[str, Person]:
    """Ada (listed, of Acme, a badge, first this year and of all time) and Bob (not listed)."""
    wf.reference(session)
    rf.weights(session)
    ada = someone(session, "ada", "Ada Lovelace", public=True)
    rf.person(session, "ada", organisation=rf.organisation(session), public=True)
    bob = someone(session, "bob", "Bob Hidden", public=False, jurisdiction="UK")
    for _index in range(2):
        rf.merged_mr(session, ada.id, NEW_YEAR)
    rf.merged_mr(session, bob.id, NEW_YEAR)
    rf.merged_mr(session, bob.id, rf.at(THIS_YEAR - 3, 5, 1))
    rf.merged_mr(session, bob.id, rf.at(THIS_YEAR - 3, 6, 1))
    badge = Badge(code="profile_test_badge", name="First merge", name_fr="Première fusion",
                  description="Merged a DCO-signed change.",
                  description_fr="A fusionné une modification signée.", metric="merged_mrs", threshold=1)
    session.add(badge)
    session.flush()
    session.add(PersonBadge(person_id=ada.id, badge_id=badge.id, earned_at=rf.at(2026, 2, 3)))
    session.commit()
    settle(session)
    return {"ada": ada, "bob": bob}


def standing(html: str) -> list[tuple[str, str, str]]:
    body = html.split('id="standing"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<th scope="row">(.*?)</th>\s*<td class="num">(.*?)</td>\s*<td class="num">(.*?)</td>',
                      body, re.S)
    return [tuple(re.sub(r"<[^>]+>", "", cell).strip() for cell in row) for row in rows]  # type: ignore[misc]


def test_a_listed_person_has_a_public_profile(demo_app: Flask, people: dict[str, Person]) -> None:
    response = demo_app.test_client().get("/people/ada")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Ada Lovelace</h1>" in html
    assert "European Union" in html and "Acme Cloud GmbH" in html
    earned = r'<strong>First merge</strong>, earned on <time datetime="2026-02-03">Feb 3, 2026</time>'
    assert re.search(earned, html)
    assert "Merged a DCO-signed change." in html
    # Ada: 2 merged MRs x 10; Bob has 1 this year (second) and 3 of all time (first).
    assert standing(html) == [(str(THIS_YEAR), "1 of 2", "20"), ("All time", "2 of 2", "20")]
    assert "not listed on public pages" not in html


def test_the_profile_in_french(demo_app: Flask, people: dict[str, Person]) -> None:
    html = demo_app.test_client().get("/people/ada?lang=fr").get_data(as_text=True)

    assert "Première fusion" in html and "A fusionné une modification signée." in html


@pytest.mark.parametrize("who", [None, "carla", "rev"])
def test_an_unlisted_profile_does_not_exist_for_others(demo_app: Flask, session: Session,
                                                       people: dict[str, Person], who: str | None) -> None:
    if who is None:
        client = demo_app.test_client()
    else:
        roles = ("contributor",) if who == "carla" else ("contributor", "reviewer", "program-admin")
        client = signed_in(demo_app, demo_person(session, who, roles))

    assert client.get("/people/bob").status_code == 404
    assert client.get("/people/nobody").status_code == 404


def test_an_unlisted_profile_is_shown_to_its_person_and_to_auditors(
        demo_app: Flask, session: Session, people: dict[str, Person]) -> None:
    own = signed_in(demo_app, people["bob"]).get("/people/bob").get_data(as_text=True)
    assert "Only you (and auditors) can see this page" in own
    assert 'href="/people/me/listing"' in own

    audited = signed_in(demo_app, demo_person(session, "audrey", ("auditor",))).get("/people/bob")
    assert audited.status_code == 200
    assert "shown to you because you may read everything" in audited.get_data(as_text=True)


def test_a_merged_person_has_no_profile(demo_app: Flask, session: Session, people: dict[str, Person]) -> None:
    ada = session.get(Person, people["ada"].id)
    assert ada is not None
    ada.merged_into_id = people["bob"].id
    session.commit()

    assert demo_app.test_client().get("/people/ada").status_code == 404


def test_the_listing_page_needs_sign_in(demo_app: Flask, people: dict[str, Person]) -> None:
    client = demo_app.test_client()

    assert sends_to_sign_in(client.get("/people/me/listing"), "/people/me/listing")
    assert client.post("/people/me/listing", data={"listing": "public"}).status_code in (302, 400)


def give(client: FlaskClient, choice: str) -> str:
    token = csrf_token_of(client.get("/people/me/listing").get_data(as_text=True))
    response = client.post("/people/me/listing", data={"csrf_token": token, "listing": choice})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/people/me/listing"
    return client.get("/people/me/listing").get_data(as_text=True)


def history(html: str) -> list[str]:
    body = html.split('id="history"', 1)[1]
    return re.findall(r"</th>\s*<td>([^<]+)</td>\s*<td>on this site</td>", body)


def test_giving_and_withdrawing_consent_with_its_history(demo_app: Flask, people: dict[str, Person]) -> None:
    bob = signed_in(demo_app, people["bob"])
    visitor = demo_app.test_client()
    first = bob.get("/people/me/listing").get_data(as_text=True)
    assert "You appear as “Anonymous contributor”." in first
    assert "never: nobody is listed until they agree" in first
    assert 'value="anonymous" checked' in first or 'checked id="listing-1"' in first
    assert "You have not changed it yet." in first

    listed = give(bob, "public")
    assert "You are now listed by name on public pages." in listed
    assert "You are listed by name." in listed and "<time datetime=" in listed.split('id="now"')[1]
    assert history(listed) == ["Listed by name"]
    assert visitor.get("/people/bob").status_code == 200
    assert visitor.get("/people/bob").status_code == 200  # from the page cache

    withdrawn = give(bob, "anonymous")
    assert "You are no longer named on public pages" in withdrawn
    assert history(withdrawn) == ["Anonymous contributor", "Listed by name"]
    assert visitor.get("/people/bob").status_code == 404

    same = give(bob, "anonymous")
    assert "Nothing changed: that was already your choice." in same
    assert len(history(same)) == 2


def test_a_choice_is_needed_and_the_form_must_come_from_the_site(
        demo_app: Flask, people: dict[str, Person]) -> None:
    bob = signed_in(demo_app, people["bob"])
    token = csrf_token_of(bob.get("/people/me/listing").get_data(as_text=True))

    response = bob.post("/people/me/listing", data={"csrf_token": token})
    assert response.status_code == 400
    assert "Choose one of the two." in response.get_data(as_text=True)
    assert bob.post("/people/me/listing", data={"csrf_token": token, "listing": "maybe"}).status_code == 400
    assert bob.post("/people/me/listing", data={"listing": "public"}).status_code == 400
    assert "You appear as “Anonymous contributor”." in bob.get("/people/me/listing").get_data(as_text=True)


def test_without_the_permission_there_is_no_form_and_posting_is_refused(
        demo_app: Flask, session: Session, people: dict[str, Person]) -> None:
    auditor = signed_in(demo_app, demo_person(session, "audrey", ("auditor",)))
    page = auditor.get("/people/me/listing")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Your roles do not include choosing a public listing." in html

    token = csrf_token_of(html)
    response = auditor.post("/people/me/listing", data={"csrf_token": token, "listing": "public"})
    assert response.status_code == 403
