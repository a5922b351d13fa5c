"""The hours endpoints end to end: real tokens from the fake Keycloak, real services, both
databases. Logging with its refusals by field, my hours of a year, the review queue and the
review, and who may call what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import HoursEntry, Pool, WorkingGroup, WorkingGroupMember, utcnow
from tests import workflow_factories as wf
from tests.api.conftest import API, Callers

TODAY = utcnow().date()
ENTRY = {"worked_on": TODAY.isoformat(), "hours": "2.50", "activity": "code", "working_group_code": "WG4",
         "description": "Health checks on custom ports"}


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert (error["status"], error["code"]) == (status, code)
    return error


def _reviewer_of_wg4(session: Session, callers: Callers, username: str = "rev.uk") -> dict[str, str]:
    headers = callers.reviewer(username, "UK")
    person = wf.person(session, username, ("contributor", "reviewer"), "UK")
    group = session.execute(select(WorkingGroup).where(WorkingGroup.code == "WG4")).scalar_one()
    session.add(WorkingGroupMember(working_group_id=group.id, person_id=person.id, role="reviewer"))
    session.commit()
    return headers


def _log(client: FlaskClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post(f"{API}/hours", json={**ENTRY, **overrides}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_log_hours_and_list_them(client: FlaskClient, callers: Callers, pool: Pool) -> None:
    carla = callers.contributor()
    url = f"{wf.GITLAB}/cloudstack/cloudstack/-/merge_requests/7"
    created = _log(client, carla, hours="1.25", activity="documentation", merge_request_url=url)
    assert {k: created[k] for k in ("hours", "quarter_hours", "activity", "status", "person_username",
                                    "working_group_code", "merge_request_url", "reviewer_username")} == {
        "hours": "1.25", "quarter_hours": 5, "activity": "documentation", "status": "pending",
        "person_username": "carla", "working_group_code": "WG4", "merge_request_url": url,
        "reviewer_username": None}
    assert created["worked_on"] == TODAY.isoformat()

    listed = client.get(f"{API}/hours?year={TODAY.year}", headers=carla).get_json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert (listed["year"], listed["pending_hours"], listed["approved_hours"]) == (TODAY.year, "1.25", "0.00")
    assert client.get(f"{API}/hours", headers=carla).get_json()["year"] == TODAY.year
    assert client.get(f"{API}/hours?year={TODAY.year - 1}", headers=carla).get_json()["items"] == []
    # Another person's list does not show carla's hours.
    assert client.get(f"{API}/hours", headers=callers.contributor("dora")).get_json()["items"] == []


def test_refusals_name_the_field(client: FlaskClient, callers: Callers, pool: Pool,
                                 session: Session) -> None:
    carla = callers.contributor()
    cases = [
        ({"worked_on": (TODAY + timedelta(days=1)).isoformat()}, "worked_on", "in the future"),
        ({"worked_on": (TODAY - timedelta(days=91)).isoformat()}, "worked_on", "more than 90 days ago"),
        ({"hours": "1.10"}, "hours", "quarter-hour steps"),
        ({"hours": "0"}, "hours", "more than zero"),
        ({"hours": 1.5}, "hours", "Not a valid string"),
        ({"activity": "sleeping"}, "activity", "Must be one of"),
        ({"working_group_code": "WG99"}, "working_group_code", "unknown working group"),
        ({"description": " "}, "description", "blank"),
        ({"merge_request_url": "https://github.com/x/y/pull/1"}, "merge_request_url", ""),
        ({"unknown": 1}, "unknown", "Unknown field"),
    ]
    for overrides, field, words in cases:
        response = client.post(f"{API}/hours", json={**ENTRY, **overrides}, headers=carla)
        error = _error(response, 422, "invalid_input")
        assert field in error["fields"], (overrides, error)
        assert words in " ".join(error["fields"][field]), (overrides, error)
    _log(client, carla, hours="20")
    too_many = client.post(f"{API}/hours", json={**ENTRY, "hours": "5"}, headers=carla)
    error = _error(too_many, 422, "invalid_input")
    assert "at most 4.00 more" in error["fields"]["hours"][0]
    bad_json = client.post(f"{API}/hours", data="{", content_type="application/json", headers=carla)
    _error(bad_json, 400, "malformed_json")
    assert _error(client.get(f"{API}/hours?year=1999", headers=carla), 422, "invalid_input")["fields"]["year"]
    assert len(session.execute(select(HoursEntry)).scalars().all()) == 1


def test_who_may_call(client: FlaskClient, callers: Callers, pool: Pool) -> None:
    for method, path in (("post", "/hours"), ("get", "/hours"), ("get", "/hours/review-queue"),
                         ("post", "/hours/1/review")):
        response = getattr(client, method)(f"{API}{path}", json=ENTRY if method == "post" else None)
        _error(response, 401, "unauthenticated")
        assert "Bearer" in response.headers["WWW-Authenticate"]
    auditor = callers.headers("aude", ("auditor",))
    _error(client.post(f"{API}/hours", json=ENTRY, headers=auditor), 403, "forbidden")
    _error(client.get(f"{API}/hours", headers=auditor), 403, "forbidden")
    carla = callers.contributor()
    _error(client.get(f"{API}/hours/review-queue", headers=carla), 403, "forbidden")
    _error(client.post(f"{API}/hours/1/review", json={"verdict": "approve"}, headers=carla), 403, "forbidden")
    _error(client.get(f"{API}/hours", headers={"Authorization": "Bearer nonsense"}), 401, "invalid_token")


def test_reviewers_of_the_group_review_once(client: FlaskClient, callers: Callers, pool: Pool,
                                            session: Session) -> None:
    carla = callers.contributor()
    rev = _reviewer_of_wg4(session, callers)
    outsider = callers.reviewer("rev.eu", "EU")
    entry = _log(client, carla)
    own = _log(client, rev, description="My own hours")

    queue = client.get(f"{API}/hours/review-queue", headers=rev).get_json()["items"]
    assert [item["id"] for item in queue] == [entry["id"]]
    assert client.get(f"{API}/hours/review-queue", headers=outsider).get_json()["items"] == []
    wg4 = client.get(f"{API}/hours/review-queue?working_group=wg4", headers=rev).get_json()["items"]
    assert [item["id"] for item in wg4] == [entry["id"]]
    assert client.get(f"{API}/hours/review-queue?working_group=WG5", headers=rev).get_json()["items"] == []

    path = f"{API}/hours/{entry['id']}/review"
    error = _error(client.post(path, json={"verdict": "reject"}, headers=rev), 422, "invalid_input")
    assert "comment" in error["fields"]
    _error(client.post(path, json={"verdict": "approve"}, headers=outsider), 403, "forbidden")
    _error(client.post(f"{API}/hours/{own['id']}/review", json={"verdict": "approve"}, headers=rev),
           403, "forbidden")
    _error(client.post(f"{API}/hours/999999/review", json={"verdict": "approve"}, headers=rev),
           404, "not_found")

    reviewed = client.post(path, json={"verdict": "approve", "comment": "Thanks"}, headers=rev)
    assert reviewed.status_code == 200, reviewed.get_data(as_text=True)
    body = reviewed.get_json()
    assert (body["status"], body["reviewer_username"]) == ("approved", "rev.uk")
    assert body["review_comment"] == "Thanks"
    assert body["reviewed_at"]
    _error(client.post(path, json={"verdict": "reject", "comment": "No"}, headers=rev), 409, "conflict")
    listed = client.get(f"{API}/hours", headers=carla).get_json()
    assert (listed["approved_hours"], listed["pending_hours"]) == ("2.50", "0.00")
