"""The awards endpoints end to end: real tokens from the fake Keycloak, real services, both
databases. Opening a round and its vote (program admins only, the 72-hour vote), nominating
(refusals by field, one per category, a nominee once), voting (binding, non-binding with why,
void vetoes), reading a year and its results with names per the privacy rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.models import AwardRound, Nomination, Person, Vote
from bounty.services import awards
from tests import award_factories as af
from tests import workflow_factories as wf
from tests.api.conftest import API, Callers
from tests.web.test_awards_pages import (
    BEST,
    CITATION,
    EU,
    NOW,
    SECURITY,
    YEAR,
    Cast,
    actor,
    cast,
    closed_round,
    nominating_round,
    voting_round,
)


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert (error["status"], error["code"]) == (status, code)
    return error


def people(session: Session) -> Cast:
    """The scenario's people with the subjects the fake Keycloak's tokens carry."""
    af.setup(session)
    found = cast(session, wf.person)
    session.commit()
    return found


def token(callers: Callers, person: Person) -> dict[str, str]:
    return callers.headers(person.username, person.roles, person.jurisdiction_code or "EU")


def count(session: Session, model: type) -> int:
    found = session.execute(select(func.count()).select_from(model)).scalar_one()
    session.commit()
    return found


def test_open_a_round_then_its_vote(client: FlaskClient, callers: Callers, session: Session) -> None:
    who = people(session)
    admin = token(callers, who.admin)
    close = (NOW + timedelta(days=10)).replace(microsecond=0)
    body = {"year": NOW.year, "nominations_close_at": close.replace(tzinfo=None).isoformat()}
    _error(client.post(f"{API}/awards", json=body), 401, "unauthenticated")
    _error(client.post(f"{API}/awards", json=body, headers=token(callers, who.carla)), 403, "forbidden")
    error = _error(client.post(f"{API}/awards", json=body | {"year": 1999}, headers=admin),
                   422, "invalid_input")
    assert "year" in error["fields"]
    past = (NOW - timedelta(days=1)).isoformat()
    error = _error(client.post(f"{API}/awards", json=body | {"nominations_close_at": past}, headers=admin),
                   422, "invalid_input")
    assert error["fields"] == {"nominations_close_at": ["must be after now"]}
    assert count(session, AwardRound) == 0

    response = client.post(f"{API}/awards", json=body, headers=admin)
    assert response.status_code == 201, response.get_data(as_text=True)
    opened = response.get_json()
    # A moment without an offset is UTC.
    assert opened["nominations_close_at"] == close.isoformat()
    assert (opened["year"], opened["phase"], opened["voting_opens_at"]) == (NOW.year, "nominating", None)
    error = _error(client.post(f"{API}/awards", json=body, headers=admin), 409, "conflict")
    assert "already open" in error["message"]
    closes = {"closes_at": (NOW + timedelta(days=20)).isoformat()}
    error = _error(client.post(f"{API}/awards/{NOW.year}/vote", json=closes, headers=admin), 409, "conflict")
    assert "still open" in error["message"]
    _error(client.post(f"{API}/awards/{NOW.year + 1}/vote", json=closes, headers=admin), 404, "not_found")


def test_the_vote_lasts_at_least_72_hours(client: FlaskClient, callers: Callers, session: Session) -> None:
    who = people(session)
    awards.open_round(session, actor(who.admin), YEAR, NOW - timedelta(hours=1),
                      now=NOW - timedelta(hours=30))
    session.commit()
    path = f"{API}/awards/{YEAR}/vote"
    admin = token(callers, who.admin)
    short = {"closes_at": (NOW + timedelta(hours=48)).isoformat()}
    error = _error(client.post(path, json=short, headers=admin), 422, "invalid_input")
    assert error["fields"] == {"closes_at": ["a vote stays open at least 72 hours"]}
    _error(client.post(path, json={"closes_at": "soon"}, headers=admin), 422, "invalid_input")
    _error(client.post(path, json=short, headers=token(callers, who.judges[0])), 403, "forbidden")
    response = client.post(path, json={"closes_at": (NOW + timedelta(hours=96)).isoformat()}, headers=admin)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["phase"] == "voting"
    _error(client.post(path, json={"closes_at": (NOW + timedelta(hours=96)).isoformat()}, headers=admin),
           409, "conflict")


def test_nominate_with_refusals_by_field(client: FlaskClient, callers: Callers, session: Session) -> None:
    who = people(session)
    nominating_round(session, who)
    idle = wf.person(session, "ivan")
    session.commit()
    path = f"{API}/awards/{NOW.year}/nominations"
    carla = token(callers, who.carla)
    body = {"category_code": BEST, "nominee_person_id": who.nina.id, "citation": CITATION}

    def refused(status: int, code: str, **overrides: Any) -> dict[str, Any]:
        return _error(client.post(path, json=body | overrides, headers=carla), status, code)

    assert "citation" in refused(422, "invalid_input", citation="Too short, really.")["fields"]
    assert "yourself" in refused(422, "invalid_input", nominee_person_id=who.carla.id)["fields"][
        "nominee_person_id"][0]
    assert "not eligible" in refused(422, "invalid_input", nominee_person_id=idle.id)["fields"][
        "nominee_person_id"][0]
    assert "category" in refused(422, "invalid_input", category_code="nonsense")["fields"]
    assert "nominee" in refused(422, "invalid_input", nominee_person_id=None)["fields"]
    assert "citation" in refused(422, "invalid_input", citation=12)["fields"]
    _error(client.post(path, json=body), 401, "unauthenticated")
    _error(client.post(path, json=body, headers=token(callers, who.auditor)), 403, "forbidden")
    _error(client.post(f"{API}/awards/{NOW.year + 1}/nominations", json=body, headers=carla),
           404, "not_found")
    assert count(session, Nomination) == 0

    response = client.post(path, json=body, headers=carla)
    assert response.status_code == 201, response.get_data(as_text=True)
    made = response.get_json()
    assert (made["category_code"], made["nominee_kind"], made["year"]) == (BEST, "person", NOW.year)
    assert made["votes"] == [] and made["tally"]["passed"] is False
    assert "one per category" in refused(409, "conflict", nominee_person_id=who.olga.id)["message"]
    error = _error(client.post(path, json=body, headers=token(callers, who.judges[0])), 409, "conflict")
    assert error["message"].startswith("already nominated: support the nomination with a +1")
    assert count(session, Nomination) == 1


def _vote(client: FlaskClient, headers: dict[str, str], nomination: Nomination, value: str,
          reason: str = "") -> dict[str, Any]:
    response = client.post(f"{API}/awards/nominations/{nomination.id}/votes",
                           json={"value": value, "reason": reason}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_votes_bind_for_the_committee_only(client: FlaskClient, callers: Callers, session: Session) -> None:
    who = people(session)
    best, security = voting_round(session, who)
    judge2 = _vote(client, token(callers, who.judges[1]), best, "+1")
    assert (judge2["vote"]["is_binding"], judge2["vote"]["non_binding_reason"]) == (True, None)
    assert judge2["nomination"]["tally"]["binding"]["+1"] == 1
    carla = _vote(client, token(callers, who.carla), best, "+1")["vote"]
    assert (carla["is_binding"], carla["non_binding_reason"]) == (False, "not_committee")
    own = _vote(client, token(callers, who.judges[0]), best, "+0")["vote"]
    assert (own["is_binding"], own["non_binding_reason"]) == (False, "conflict")
    void = _vote(client, token(callers, who.judges[2]), security, "-1")
    assert void["vote"]["is_void_veto"] is True and void["nomination"]["tally"]["void_vetoes"] == 1
    assert void["nomination"]["tally"]["binding"]["-1"] == 0
    veto = _vote(client, token(callers, who.judges[2]), security, "-1", "Reverted upstream.")
    assert veto["vote"]["is_veto"] is True and veto["nomination"]["tally"]["vetoes"] == 1

    votes_path = f"{API}/awards/nominations/{best.id}/votes"
    judge = token(callers, who.judges[3])
    assert "value" in _error(client.post(votes_path, json={"value": "+2"}, headers=judge), 422,
                             "invalid_input")["fields"]
    _error(client.post(votes_path, json={"value": "+1"}), 401, "unauthenticated")
    auditor = token(callers, who.auditor)
    _error(client.post(votes_path, json={"value": "+1"}, headers=auditor), 403, "forbidden")
    _error(client.post(f"{API}/awards/nominations/999999/votes", json={"value": "+1"}, headers=judge),
           404, "not_found")
    assert count(session, Vote) == 4

    # The year as read: Nina has not opted in, Pia has.
    read = client.get(f"{API}/awards/{YEAR}")
    assert read.status_code == 200
    year = read.get_json()
    assert year["round"]["phase"] == "voting" and BEST in [c["code"] for c in year["categories"]]
    by_category = {n["category_code"]: n for n in year["nominations"]}
    anonymous_nina = by_category[BEST]
    assert anonymous_nina["nominee_name"] is None and anonymous_nina["nominee_person_id"] is None
    assert anonymous_nina["citation"] is None
    assert by_category[SECURITY]["nominee_name"] == "Pia" and by_category[SECURITY]["citation"] == CITATION
    assert anonymous_nina["tally"]["binding"] == {"+1": 1, "+0": 0, "-0": 0, "-1": 0}
    assert anonymous_nina["tally"]["non_binding"] == {"+1": 1, "+0": 1, "-0": 0, "-1": 0}
    admin = client.get(f"{API}/awards/{YEAR}", headers=token(callers, who.admin)).get_json()
    assert {n["category_code"]: n["nominee_name"] for n in admin["nominations"]}[BEST] == "Nina"
    _error(client.get(f"{API}/awards/{YEAR + 1}"), 404, "not_found")


def test_results_winners_no_award_and_privacy(client: FlaskClient, callers: Callers,
                                              session: Session) -> None:
    who = people(session)
    closed_round(session, who)
    response = client.get(f"{API}/awards/{YEAR}/results")
    assert response.status_code == 200, response.get_data(as_text=True)
    found = response.get_json()
    assert found["decided"] is True and found["round"]["phase"] == "closed"
    by_code = {r["category"]["code"]: r for r in found["categories"]}
    best = by_code[BEST]
    assert best["decided"] is True and best["winner"]["nominee_name"] is None
    assert best["winner"]["tally"]["binding"]["+1"] == 3
    security = by_code[SECURITY]["winner"]
    assert security["nominee_name"] == "Pia" and security["tally"]["void_vetoes"] == 1
    assert [v["is_void_veto"] for v in security["votes"]] == [False, False, False, True]
    assert by_code[EU]["winner"] is None and by_code[EU]["nominations"][0]["tally"]["passed"] is False

    admin = client.get(f"{API}/awards/{YEAR}/results", headers=token(callers, who.admin)).get_json()
    assert {r["category"]["code"]: r for r in admin["categories"]}[BEST]["winner"]["nominee_name"] == "Nina"
    _error(client.get(f"{API}/awards/{YEAR + 1}/results"), 404, "not_found")
    _error(client.get(f"{API}/awards/1999/results"), 404, "not_found")


def test_results_before_the_vote_closes_decide_nothing(client: FlaskClient, callers: Callers,
                                                       session: Session) -> None:
    who = people(session)
    voting_round(session, who)
    found = client.get(f"{API}/awards/{YEAR}/results").get_json()
    assert found["decided"] is False
    assert all(r["winner"] is None and r["decided"] is False for r in found["categories"])


def test_the_document_describes_the_awards_endpoints(client: FlaskClient) -> None:
    document = client.get(f"{API}/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths[f"{API}/awards"]) == {"post"}
    assert {"401", "403", "409", "422"} <= set(paths[f"{API}/awards"]["post"]["responses"])
    assert "422" in paths[f"{API}/awards/{{year}}/nominations"]["post"]["responses"]
    assert "404" in paths[f"{API}/awards/nominations/{{nomination_id}}/votes"]["post"]["responses"]
    assert paths[f"{API}/awards/{{year}}/results"]["get"]["security"] == [{}, {"bearerAuth": []}]
    tally = document["components"]["schemas"]["CountsOut"]["properties"]
    assert set(tally) == {"+1", "+0", "-0", "-1"}
