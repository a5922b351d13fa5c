"""The grant endpoints end to end: real tokens from the fake Keycloak, real services, both
databases. Create (refusals by field, the fund's cover), read with visibility, the overdue
filter, sign-off once and never by the grantee, cancel."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.models import Grant, Pool, utcnow
from bounty.services import grants
from bounty.services.grants import GrantInput, TrancheInput
from tests import workflow_factories as wf
from tests.api.conftest import API, Callers

TODAY = utcnow().date()


def due(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


def grant_json(grantee_id: int, **overrides: Any) -> dict[str, Any]:
    return {"title": "Maintain the KVM agent", "total": "60000.00", "currency": "EUR",
            "grantee_person_id": grantee_id, "working_group_code": "WG4",
            "tranches": [{"milestone": "Release 1", "due_on": due(30), "amount": "20000.00"},
                         {"milestone": "Release 2", "due_on": due(60), "amount": "40000.00"}]} | overrides


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert (error["status"], error["code"]) == (status, code)
    return error


def _grantee(session: Session, callers: Callers) -> tuple[int, dict[str, str]]:
    """Gina, a reviewer herself, and her token."""
    headers = callers.reviewer("gina", "UK")
    person = wf.person(session, "gina", ("contributor", "reviewer"), "UK")
    session.commit()
    return person.id, headers


def test_create_read_and_list(client: FlaskClient, callers: Callers, pool: Pool, session: Session) -> None:
    gina_id, gina = _grantee(session, callers)
    response = client.post(f"{API}/grants", json=grant_json(gina_id), headers=callers.admin())
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert response.headers["Location"].endswith(f"/grants/{created['id']}")
    assert (created["status"], created["grantee_kind"]) == ("active", "person")
    assert created["grantee_id"] == gina_id
    assert created["total"] == {"amount": "60000.00", "currency": "EUR"}
    assert created["total_eur"] == {"amount": "60000.00", "currency": "EUR"}
    assert created["pending"] == {"amount": "60000.00", "currency": "EUR"}
    assert [(t["position"], t["amount"]["amount"], t["status"], t["overdue"])
            for t in created["tranches"]] == [(1, "20000.00", "pending", False),
                                              (2, "40000.00", "pending", False)]

    path = f"{API}/grants/{created['id']}"
    assert client.get(path, headers=gina).get_json()["title"] == "Maintain the KVM agent"
    _error(client.get(path), 404, "not_found")
    _error(client.get(path, headers=callers.contributor()), 404, "not_found")
    assert client.get(f"{API}/grants").get_json()["items"] == []
    assert [g["id"] for g in client.get(f"{API}/grants", headers=callers.admin()).get_json()["items"]] == [
        created["id"]]
    assert client.get(f"{API}/grants?status=cancelled", headers=gina).get_json()["items"] == []
    _error(client.get(f"{API}/grants?status=nonsense", headers=gina), 422, "invalid_input")


def test_refusals_name_the_field_and_write_nothing(client: FlaskClient, callers: Callers, pool: Pool,
                                                   session: Session) -> None:
    gina_id, _ = _grantee(session, callers)
    admin = callers.admin()
    short = grant_json(gina_id, total="60100.00")
    error = _error(client.post(f"{API}/grants", json=short, headers=admin), 422, "invalid_input")
    assert "EUR 100.00 short of the total of EUR 60100.00" in error["fields"]["tranches"][0]
    late = grant_json(gina_id)
    late["tranches"][1]["due_on"] = "2020-01-01"
    error = _error(client.post(f"{API}/grants", json=late, headers=admin), 422, "invalid_input")
    assert "tranches[2].due_on" in error["fields"]
    error = _error(client.post(f"{API}/grants", json=grant_json(gina_id, grantee_organisation_id=1),
                               headers=admin), 422, "invalid_input")
    assert "grantee" in error["fields"]
    error = _error(client.post(f"{API}/grants", json=grant_json(999999), headers=admin), 422, "invalid_input")
    assert "grantee_person_id" in error["fields"]
    error = _error(client.post(f"{API}/grants", json=grant_json(gina_id, total=60000), headers=admin),
                   422, "invalid_input")
    assert "total" in error["fields"]
    error = _error(client.post(f"{API}/grants", json=grant_json(gina_id, tranches=[]), headers=admin),
                   422, "invalid_input")
    assert "tranches" in error["fields"]
    huge = grant_json(gina_id, total="20000000.00",
                      tranches=[{"milestone": "All", "due_on": due(30), "amount": "20000000.00"}])
    _error(client.post(f"{API}/grants", json=huge, headers=admin), 409, "insufficient_funds")
    _error(client.post(f"{API}/grants", json=grant_json(gina_id), headers=callers.reviewer("rev.uk", "UK")),
           403, "forbidden")
    _error(client.post(f"{API}/grants", json=grant_json(gina_id)), 401, "unauthenticated")
    assert session.execute(select(func.count(Grant.id))).scalar_one() == 0


def test_sign_off_once_never_by_the_grantee_then_cancel(client: FlaskClient, callers: Callers, pool: Pool,
                                                        session: Session) -> None:
    gina_id, gina = _grantee(session, callers)
    created = client.post(f"{API}/grants", json=grant_json(gina_id), headers=callers.admin()).get_json()
    path = f"{API}/grants/{created['id']}"
    rev = callers.reviewer("rev.uk", "UK")

    _error(client.post(f"{path}/tranches/1/sign-off", headers=gina), 403, "forbidden")
    _error(client.post(f"{path}/tranches/1/sign-off", headers=callers.contributor()), 403, "forbidden")
    _error(client.post(f"{path}/tranches/7/sign-off", headers=rev), 404, "not_found")
    signed = client.post(f"{path}/tranches/1/sign-off", headers=rev)
    assert signed.status_code == 200, signed.get_data(as_text=True)
    first = signed.get_json()["tranches"][0]
    assert (first["status"], first["signed_off_by"]) == ("signed_off", "rev.uk")
    assert first["payable_transaction_id"] and first["signed_off_at"]
    assert signed.get_json()["signed_off"] == {"amount": "20000.00", "currency": "EUR"}
    error = _error(client.post(f"{path}/tranches/1/sign-off", headers=rev), 409, "conflict")
    assert "already signed off by rev.uk" in error["message"]

    _error(client.post(f"{path}/cancel", json={"reason": " "}, headers=callers.admin()), 422, "invalid_input")
    _error(client.post(f"{path}/cancel", json={"reason": "Left"}, headers=rev), 403, "forbidden")
    cancelled = client.post(f"{path}/cancel", json={"reason": "Maintainer left"}, headers=callers.admin())
    assert cancelled.status_code == 200
    body = cancelled.get_json()
    assert body["status"] == "cancelled"
    assert [t["status"] for t in body["tranches"]] == ["signed_off", "cancelled"]
    _error(client.post(f"{path}/cancel", json={"reason": "Again"}, headers=callers.admin()), 409, "conflict")
    _error(client.post(f"{path}/tranches/2/sign-off", headers=rev), 409, "conflict")
    _error(client.post(f"{API}/grants/999999/cancel", json={"reason": "x"}, headers=callers.admin()),
           404, "not_found")


def test_overdue_filter(client: FlaskClient, callers: Callers, pool: Pool, session: Session) -> None:
    gina_id, gina = _grantee(session, callers)
    admin = wf.admin(session)
    then = datetime.combine(TODAY - timedelta(days=60), time(9), tzinfo=UTC)
    late = grants.create_grant(session, admin, GrantInput(
        title="Late", total="100", currency="EUR", grantee_person_id=gina_id,
        tranches=[TrancheInput("First", then.date() + timedelta(days=30), "100")]), now=then)
    client.post(f"{API}/grants", json=grant_json(gina_id, title="On time"), headers=callers.admin())
    session.commit()

    overdue = client.get(f"{API}/grants?overdue=true", headers=gina).get_json()["items"]
    assert [(g["id"], g["overdue"], g["tranches"][0]["overdue"]) for g in overdue] == [(late.id, True, True)]
    assert len(client.get(f"{API}/grants", headers=gina).get_json()["items"]) == 2
