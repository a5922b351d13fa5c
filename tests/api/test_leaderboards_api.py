"""The leaderboard, badges and listing endpoints end to end: real tokens from the fake Keycloak,
real services, both databases. Public reads with the pages' privacy rule, bad values as 422 by
field in the one error shape, and one's own consent (effective at once)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import ListingConsent, Person, PersonBadge
from bounty.models.recognition import Badge
from tests import recognition_factories as rf
from tests import workflow_factories as wf
from tests.api.conftest import API, Callers


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert (error["status"], error["code"]) == (status, code)
    return error


@pytest.fixture
def seeded(session: Session) -> None:
    wf.reference(session)
    session.commit()


@pytest.fixture
def people(session: Session) -> dict[str, Person]:
    """Ada (listed, EU) first, Bob (not listed, UK) second in 2026; a badge each."""
    wf.reference(session)
    rf.weights(session)
    ada = rf.person(session, "ada", public=True, display_name="Ada Lovelace")
    bob = rf.person(session, "bob", jurisdiction="UK", display_name="Bob Hidden")
    for index in range(3):
        rf.merged_mr(session, ada.id, rf.at(2026, 2, 1 + index))
    rf.merged_mr(session, bob.id, rf.at(2026, 2, 10))
    rf.hours(session, bob.id, rf.at(2026, 3, 1).date(), quarter_hours=10)
    badge = Badge(code="api_test_badge", name="First merge", name_fr="Première fusion",
                  description="A merge.", description_fr="Une fusion.", metric="merged_mrs", threshold=1)
    session.add(badge)
    session.flush()
    for person in (ada, bob):
        session.add(PersonBadge(person_id=person.id, badge_id=badge.id, earned_at=rf.at(2026, 2, 1)))
    session.commit()
    return {"ada": ada, "bob": bob}


def test_anyone_reads_the_leaderboard_with_anonymous_rows(client: FlaskClient,
                                                          people: dict[str, Person]) -> None:
    response = client.get(f"{API}/leaderboards?period=2026")

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["period"], body["view"], body["key"], body["total"]) == ("2026", "overall", None, 2)
    first, second = body["rows"]
    assert (first["rank"], first["name"], first["username"], first["is_anonymous"]) == (
        1, "Ada Lovelace", "ada", False)
    assert first["merged_mrs"] == 3 and first["score"] == "30"
    assert first["earnings_eur"] == {"amount": "0.00", "currency": "EUR"}
    assert second == {"rank": 2, "is_anonymous": True, "name": None, "username": None,
                      "jurisdiction_code": "UK", "organisation_name": None, "merged_mrs": 1,
                      "earnings_eur": {"amount": "0.00", "currency": "EUR"}, "approved_hours": "2.50",
                      "reviews_given": 0, "awards_won": 0, "score": "12.5"}
    assert "Bob Hidden" not in response.get_data(as_text=True)


def test_the_same_rule_for_contributors_and_names_for_auditors(
        client: FlaskClient, callers: Callers, people: dict[str, Person]) -> None:
    as_contributor = client.get(f"{API}/leaderboards?period=2026", headers=callers.contributor("carla"))
    assert as_contributor.get_json()["rows"][1]["name"] is None

    auditor = callers.headers("audrey", ("auditor",))
    as_auditor = client.get(f"{API}/leaderboards?period=2026", headers=auditor)
    assert as_auditor.get_json()["rows"][1]["name"] == "Bob Hidden"


def test_views_and_slices(client: FlaskClient, people: dict[str, Person]) -> None:
    uk = client.get(f"{API}/leaderboards?period=2026&view=jurisdiction&key=UK").get_json()
    assert (uk["view"], uk["key"], uk["total"], uk["rows"][0]["rank"]) == ("jurisdiction", "UK", 1, 1)

    second = client.get(f"{API}/leaderboards?period=2026&limit=1&offset=1").get_json()
    assert (second["total"], [row["rank"] for row in second["rows"]]) == (2, [2])
    assert client.get(f"{API}/leaderboards?period=2025").get_json()["rows"] == []
    assert client.get(f"{API}/leaderboards?period=all").get_json()["total"] == 2


@pytest.mark.parametrize(("query", "field"), [
    ("period=2026-Q5", "period"), ("period=soon", "period"), ("view=everyone", "view"),
    ("view=jurisdiction", "key"), ("view=jurisdiction&key=XX", "key"),
    ("view=working_group&key=WG99", "key"), ("view=organisation&key=abc", "key"), ("limit=0", "limit"),
    ("limit=101", "limit"), ("offset=-1", "offset"), ("limit=ten", "limit"),
])
def test_bad_values_are_422_by_field(client: FlaskClient, seeded: None, query: str, field: str) -> None:
    error = _error(client.get(f"{API}/leaderboards?{query}"), 422, "invalid_input")

    assert list(error["fields"]) == [field]


def test_badges_of_a_listed_person_are_public(client: FlaskClient, people: dict[str, Person]) -> None:
    response = client.get(f"{API}/people/ada/badges")

    assert response.status_code == 200
    body = response.get_json()
    assert (body["username"], body["name"]) == ("ada", "Ada Lovelace")
    assert [(b["code"], b["name_fr"], b["earned_at"][:10]) for b in body["badges"]] == [
        ("api_test_badge", "Première fusion", "2026-02-01")]


def test_badges_of_an_unlisted_person_exist_only_for_them_and_auditors(
        client: FlaskClient, callers: Callers, people: dict[str, Person]) -> None:
    _error(client.get(f"{API}/people/bob/badges"), 404, "not_found")
    _error(client.get(f"{API}/people/bob/badges", headers=callers.contributor("carla")), 404, "not_found")
    _error(client.get(f"{API}/people/nobody/badges"), 404, "not_found")

    own = client.get(f"{API}/people/bob/badges", headers=callers.headers("bob", jurisdiction="UK"))
    assert own.status_code == 200 and own.get_json()["username"] == "bob"
    audited = client.get(f"{API}/people/bob/badges", headers=callers.headers("audrey", ("auditor",)))
    assert audited.status_code == 200


def test_consent_is_given_and_withdrawn_at_once(client: FlaskClient, callers: Callers, session: Session,
                                                people: dict[str, Person]) -> None:
    bob = callers.headers("bob", jurisdiction="UK")

    given = client.put(f"{API}/me/listing", json={"public": True}, headers=bob)
    assert given.status_code == 200, given.get_data(as_text=True)
    assert given.get_json()["public"] is True and given.get_json()["changed"] is True
    assert given.get_json()["changed_at"] is not None
    assert client.get(f"{API}/leaderboards?period=2026").get_json()["rows"][1]["username"] == "bob"
    assert client.get(f"{API}/people/bob/badges").status_code == 200

    again = client.put(f"{API}/me/listing", json={"public": True}, headers=bob).get_json()
    assert again["changed"] is False

    withdrawn = client.put(f"{API}/me/listing", json={"public": False}, headers=bob)
    assert withdrawn.get_json()["public"] is False
    assert client.get(f"{API}/leaderboards?period=2026").get_json()["rows"][1]["name"] is None
    assert client.get(f"{API}/people/bob/badges").status_code == 404
    sources = session.execute(select(ListingConsent.source, ListingConsent.is_public).where(
        ListingConsent.person_id == people["bob"].id).order_by(ListingConsent.id)).all()
    assert [tuple(row) for row in sources] == [("api", True), ("api", False)]


@pytest.mark.parametrize("body", [{}, {"public": "yes"}, {"public": 1}, {"public": None}])
def test_listing_needs_a_boolean(client: FlaskClient, callers: Callers, people: dict[str, Person],
                                 body: dict[str, Any]) -> None:
    error = _error(client.put(f"{API}/me/listing", json=body, headers=callers.contributor("ada")),
                   422, "invalid_input")
    assert list(error["fields"]) == ["public"]


def test_listing_needs_a_token_with_the_permission(client: FlaskClient, callers: Callers,
                                                  people: dict[str, Person]) -> None:
    response = client.put(f"{API}/me/listing", json={"public": True})
    _error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    auditor = callers.headers("audrey", ("auditor",))
    _error(client.put(f"{API}/me/listing", json={"public": True}, headers=auditor), 403, "forbidden")


def test_the_openapi_document_describes_the_endpoints(client: FlaskClient) -> None:
    spec = client.get(f"{API}/openapi.json").get_json()

    board = spec["paths"]["/api/v1/leaderboards"]["get"]
    assert {p["name"] for p in board["parameters"]} >= {"period", "view", "key", "limit", "offset"}
    assert set(board["responses"]) >= {"200", "422"}
    assert "404" in spec["paths"]["/api/v1/people/{username}/badges"]["get"]["responses"]
    listing = spec["paths"]["/api/v1/me/listing"]["put"]
    assert set(listing["responses"]) >= {"200", "401", "403", "422"}
    assert listing["security"] == [{"bearerAuth": []}]
