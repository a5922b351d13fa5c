"""The documents endpoints end to end on both databases (eager mode: a job runs when asked for),
with real tokens: ask for a document (202 and Location), follow it, download it; the same
document asked again is the same job; refusals in the one error shape; 409 before the file is
ready and 410 after it expired; somebody else's job is a 404."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import openpyxl
from sqlalchemy.orm import Session

from bounty.models import Person, utcnow
from bounty.services import document_jobs, statements
from bounty.services.actors import SYSTEM
from tests import workflow_factories as wf
from tests.api.conftest import API

YEAR = utcnow().year
FINANCE = ("contributor", "finance")


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()["error"]
    assert body["status"] == status and body["code"] == code and body["message"]
    return body


def test_ask_follow_and_download(client, callers, pool, session: Session):
    fin = callers.headers("fiona", FINANCE)
    asked = client.post(f"{API}/documents", headers=fin, json={
        "kind": "statement_xlsx", "params": {"jurisdiction": "uk", "year": YEAR}})
    assert asked.status_code == 202, asked.get_data(as_text=True)
    body = asked.get_json()
    assert asked.headers["Location"].endswith(f"{API}/documents/{body['id']}")
    assert body["params"] == {"jurisdiction": "UK", "start": f"{YEAR}-01-01", "end": f"{YEAR}-12-31"}
    assert (body["status"], body["progress"]) == ("done", 100)
    assert body["title"] == f"Statement of UK for {YEAR} (XLSX)"

    followed = client.get(asked.headers["Location"], headers=fin).get_json()
    assert followed["links"]["file"] == f"{API}/documents/{body['id']}/file" and followed["size_bytes"] > 0
    download = client.get(followed["links"]["file"], headers=fin)
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    assert download.headers["Cache-Control"] == "no-store"
    assert f"statement-UK-{YEAR}.xlsx" in download.headers["Content-Disposition"]
    summary = dict(openpyxl.load_workbook(io.BytesIO(download.data))["Summary"].iter_rows(values_only=True))
    person = session.query(Person).filter_by(username="fiona").one()
    statement = statements.jurisdiction_statement(session, wf.actor_of(person), "UK", statements.period(YEAR))
    session.commit()
    assert summary["owed"] == statement.owed.to_decimal()
    assert summary["balance"] == statement.balance.to_decimal()

    again = client.post(f"{API}/documents", headers=fin, json={
        "kind": "statement_xlsx", "params": {"jurisdiction": "UK", "start": f"{YEAR}-01-01",
                                             "end": f"{YEAR}-12-31"}})
    assert again.status_code == 202 and again.get_json()["id"] == body["id"]
    listed = client.get(f"{API}/documents", headers=fin).get_json()["items"]
    assert [item["id"] for item in listed] == [body["id"]]


def test_refusals_in_the_error_shape(client, callers, pool):
    fin = callers.headers("fiona", FINANCE)
    error(client.post(f"{API}/documents", json={"kind": "journal_xlsx"}), 401, "unauthenticated")
    error(client.post(f"{API}/documents", headers=callers.contributor(), json={"kind": "journal_xlsx"}),
          403, "forbidden")
    error(client.post(f"{API}/documents", headers=fin, json={"kind": "awards_report",
                                                             "params": {"year": YEAR, "lang": "en"}}),
          403, "forbidden")
    unknown = error(client.post(f"{API}/documents", headers=fin, json={"kind": "pdf"}), 422, "invalid_input")
    assert "kind" in unknown["fields"]
    bad = error(client.post(f"{API}/documents", headers=fin, json={
        "kind": "journal_xlsx", "params": {"start": f"{YEAR}-06-01", "end": f"{YEAR}-01-01"}}),
        422, "invalid_input")
    assert bad["fields"] == {"end": [f"{YEAR}-01-01 is before {YEAR}-06-01"]}
    assert "as_of" in error(client.post(f"{API}/documents", headers=fin, json={
        "kind": "trial_balance_xlsx", "params": {"as_of": "soon"}}), 422, "invalid_input")["fields"]
    error(client.post(f"{API}/documents", headers=fin, json={
        "kind": "statement_xlsx", "params": {"jurisdiction": "ZZ", "year": YEAR}}), 404, "not_found")
    error(client.post(f"{API}/documents", headers=fin, json={
        "kind": "payout_batch_xlsx", "params": {"batch_id": 99}}), 404, "not_found")
    error(client.post(f"{API}/documents", headers=fin, json={"kind": "journal_xlsx", "extra": 1}),
          422, "invalid_input")
    error(client.get(f"{API}/documents?all=true", headers=fin), 403, "forbidden")


def test_not_ready_expired_and_nobody_elses(client, callers, pool, session: Session):
    fin = callers.headers("fiona", FINANCE)
    other = callers.headers("frank", FINANCE)
    auditor = callers.headers("otto", ("auditor",))
    client.get(f"{API}/documents", headers=fin)  # the token's person now exists
    fiona = wf.actor_of(session.query(Person).filter_by(username="fiona").one())
    queued = document_jobs.request_document(session, fiona, "trial_balance_xlsx", {})
    stale = document_jobs.request_document(session, fiona, "journal_xlsx", {})
    document_jobs.mark_running(session, SYSTEM, stale.id)
    document_jobs.complete(session, SYSTEM, stale.id, b"x", 1, now=utcnow() - timedelta(hours=2))

    shown = client.get(f"{API}/documents/{queued.id}", headers=fin).get_json()
    assert (shown["status"], shown["links"]["file"]) == ("queued", None)
    assert "queued" in error(client.get(f"{API}/documents/{queued.id}/file", headers=fin), 409,
                             "not_ready")["message"]
    assert client.get(f"{API}/documents/{stale.id}", headers=fin).get_json()["expired"] is True
    error(client.get(f"{API}/documents/{stale.id}/file", headers=fin), 410, "expired")

    error(client.get(f"{API}/documents/{queued.id}", headers=other), 404, "not_found")
    error(client.get(f"{API}/documents/{stale.id}/file", headers=other), 404, "not_found")
    assert client.get(f"{API}/documents", headers=other).get_json()["items"] == []
    assert client.get(f"{API}/documents/{queued.id}", headers=auditor).status_code == 200
    everyone = client.get(f"{API}/documents?all=true", headers=auditor).get_json()["items"]
    assert {item["id"] for item in everyone} == {queued.id, stale.id}
    error(client.get(f"{API}/documents/{queued.id}"), 401, "unauthenticated")
    error(client.get(f"{API}/documents/424242", headers=fin), 404, "not_found")


def test_the_openapi_document_describes_the_documents(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    post = spec["paths"][f"{API}/documents"]["post"]
    assert "202" in post["responses"] and {"401", "403", "404", "422"} <= set(post["responses"])
    file = spec["paths"][f"{API}/documents/{{job_id}}/file"]["get"]["responses"]
    assert {"200", "409", "410"} <= set(file) and "application/pdf" in file["200"]["content"]
    export = spec["paths"][f"{API}/payouts/batches/{{batch_id}}/export"]["get"]["responses"]
    assert export["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/DocumentOut")
