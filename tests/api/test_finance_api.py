"""The finance endpoints end to end on both databases, with real tokens from the fake Keycloak:
payables, an idempotent batch, exports (CSV and SEPA at once, XLSX as a document job) parsed
back, the bank's confirmation (refused line by line, applied once, the same file again),
cancel, claw-back, statements of a year or any period, and rates; who may do what; and
schemathesis over the finance operations as finance (no 5xx)."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance
from sqlalchemy.orm import Session

from bounty import auth, create_app
from bounty.api import register_api
from bounty.exports.payouts import JURISDICTIONS
from bounty.ledger import Money, allocate
from bounty.models import utcnow
from bounty.services import funds, payouts
from tests import payout_factories as pf
from tests.api.conftest import API, SECRET, Callers
from tests.fakes.keycloak import KeycloakFake

SETTINGS = {"BANK_DETAILS_KEY": pf.KEY, "SEPA_DEBTOR_NAME": "Sovereign Cloud Cooperative",
            "SEPA_DEBTOR_IBAN": "BE68539007547034"}
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


@pytest.fixture
def fin_app(db_url: str, keycloak: KeycloakFake) -> Iterator[Flask]:
    app = create_app({"ENV": "testing", "DATABASE_URL": db_url, "SECRET_KEY": SECRET,
                      **keycloak.settings(), **SETTINGS})
    auth.init_app(app)
    register_api(app)
    yield app
    app.extensions["bounty.db"].engine.dispose()


@pytest.fixture
def client(fin_app: Flask) -> FlaskClient:
    return fin_app.test_client()


@pytest.fixture
def world(session: Session) -> pf.World:
    made = pf.world(session)
    session.commit()
    return made


def finance(callers: Callers) -> dict[str, str]:
    # `pf.world` made the finance person "fiona"; the token's subject is the same person.
    return callers.headers("fiona", ("contributor", "finance"))


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()["error"]
    assert body["status"] == status and body["code"] == code and body["message"]
    return body


def create(client: FlaskClient, headers: dict[str, str], status: int = 201, **selection: str) -> dict:
    response = client.post(f"{API}/payouts/batches", json=selection, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def test_payables_and_an_idempotent_batch(client, callers, world, session):
    fin = finance(callers)
    body = client.get(f"{API}/payouts/payable", headers=fin).get_json()
    assert len(body["items"]) == 5
    assert {t["currency"]: t["amount"] for t in body["totals"]} == {
        "CAD": "3000.00", "EUR": "26000.00", "GBP": "17000.50"}
    for item in body["items"]:
        parts = [Money.parse(m["amount"], m["currency"]) for m in item["shares"].values()]
        assert sum(p.minor for p in parts) == Money.parse(item["eur_amount"]["amount"], "EUR").minor
        assert (item["rate"] is None) == (item["amount"]["currency"] == "EUR")
    gbp = client.get(f"{API}/payouts/payable", query_string={"currency": "GBP"}, headers=fin).get_json()
    assert {i["amount"]["currency"] for i in gbp["items"]} == {"GBP"}

    first = create(client, fin, currency="GBP")
    assert first["status"] == "open" and first["item_count"] == 2
    again = create(client, fin, status=200, currency="GBP")
    assert again["id"] == first["id"]
    error(client.post(f"{API}/payouts/batches", json={"currency": "AUD"}, headers=fin), 409, "conflict")
    batches = f"{API}/payouts/batches"
    error(client.post(batches, json={"jurisdiction": "ZZ"}, headers=fin), 422, "invalid_input")
    error(client.post(batches, json={"currency": "XXX"}, headers=fin), 422, "invalid_input")
    listed = client.get(f"{API}/payouts/batches", headers=fin).get_json()["items"]
    assert [b["id"] for b in listed] == [first["id"]] and "items" not in listed[0]


def test_who_may_read_and_act(client, callers, world):
    fin = finance(callers)
    batch = create(client, fin)
    auditor = callers.headers("otto", ("auditor",))
    contributor = callers.contributor()
    admin = callers.admin()
    assert client.get(f"{API}/payouts/batches/{batch['id']}", headers=auditor).status_code == 200
    export = f"{API}/payouts/batches/{batch['id']}/export"
    assert client.get(f"{export}?format=csv", headers=auditor).status_code == 200
    error(client.get(f"{API}/payouts/batches/{batch['id']}/export?format=sepa&skip_non_eur=true",
                     headers=auditor), 403, "forbidden")
    error(client.post(f"{API}/payouts/batches", json={}, headers=auditor), 403, "forbidden")
    error(client.get(f"{API}/payouts/payable", headers=contributor), 403, "forbidden")
    error(client.get(f"{API}/payouts/batches", headers=admin), 403, "forbidden")
    unauthenticated = client.get(f"{API}/payouts/batches")
    error(unauthenticated, 401, "unauthenticated")
    assert "Bearer" in unauthenticated.headers["WWW-Authenticate"]
    error(client.get(f"{API}/payouts/batches/999999", headers=fin), 404, "not_found")
    error(client.get(f"{API}/statements/EU", headers=contributor), 403, "forbidden")
    assert client.get(f"{API}/statements/EU", headers=admin).status_code == 200
    assert client.get(f"{API}/rates").status_code == 200  # public


def test_exports_parse_back(client, callers, world, session):
    fin = finance(callers)
    batch = create(client, fin)
    url = f"{API}/payouts/batches/{batch['id']}/export"
    response = client.get(url, query_string={"format": "csv"}, headers=fin)
    assert response.mimetype == "text/csv"
    assert f"payout-batch-{batch['id']}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    by_id = {item["end_to_end_id"]: item for item in batch["items"]}
    assert len(rows) == len(by_id) == 5
    for row in rows:
        item = by_id[row["end_to_end_id"]]
        assert (row["amount"], row["currency"]) == (item["amount"]["amount"], item["amount"]["currency"])
        assert sum(Money.parse(row[f"share_{c}_eur"], "EUR").minor for c in JURISDICTIONS) == \
            Money.parse(item["eur_amount"]["amount"], "EUR").minor
    # XLSX is built on the job queue (eager here): 202 with the job, then its file.
    asked = client.get(url, query_string={"format": "xlsx"}, headers=fin)
    assert asked.status_code == 202 and "/documents/" in asked.headers["Location"]
    job = asked.get_json()
    assert (job["kind"], job["status"]) == ("payout_batch_xlsx", "done")
    assert job["params"] == {"batch_id": batch["id"]}
    xlsx = client.get(job["links"]["file"], headers=fin)
    assert xlsx.mimetype.endswith("spreadsheetml.sheet")
    assert f"payout-batch-{batch['id']}.xlsx" in xlsx.headers["Content-Disposition"]
    assert openpyxl.load_workbook(io.BytesIO(xlsx.data))[f"Batch {batch['id']}"].max_row == 6
    error(client.get(url, query_string={"format": "xlsx"}, headers=callers.admin()), 403, "forbidden")
    refused = error(client.get(url, query_string={"format": "sepa"}, headers=fin), 422, "invalid_input")
    assert "not in EUR" in refused["fields"]["batch"][0]
    sepa = client.get(url, query_string={"format": "sepa", "skip_non_eur": "true"}, headers=fin)
    assert sepa.status_code == 200 and sepa.mimetype == "application/xml"
    root = ET.fromstring(sepa.data)
    amounts = {t.findtext("p:PmtId/p:EndToEndId", namespaces=NS):
               t.findtext("p:Amt/p:InstdAmt", namespaces=NS) for t in root.iter(f"{{{NS['p']}}}CdtTrfTxInf")}
    assert amounts == {e: i["amount"]["amount"] for e, i in by_id.items() if i["amount"]["currency"] == "EUR"}
    error(client.get(url, query_string={"format": "pdf"}, headers=fin), 422, "invalid_input")
    # Exports change nothing; recording the batch as sent does.
    assert client.get(f"{API}/payouts/batches/{batch['id']}", headers=fin).get_json()["status"] == "open"
    sent = client.post(f"{API}/payouts/batches/{batch['id']}/exported", headers=fin)
    assert sent.get_json()["status"] == "exported" and sent.get_json()["exported_at"]


def test_confirmation_refused_line_by_line_then_applied_once(client, callers, world, session):
    fin = finance(callers)
    batch = create(client, fin)
    view = payouts.get_batch(session, world.finance, batch["id"])
    session.commit()
    url = f"{API}/payouts/batches/{batch['id']}/confirmation"
    good = pf.confirmation_csv(view)
    bad = good.replace(view.items[1].amount.amount_str().encode() + b",", b"1.00,", 1)
    refused = error(client.post(url, data=bad, content_type="text/csv", headers=fin), 422,
                    "confirmation_rejected")
    assert refused["fields"]["lines"] and refused["fields"]["lines"][0].startswith("line 3:")
    error(client.post(url, json={"x": 1}, headers=fin), 415, "unsupported_media_type")
    error(client.post(url, data={}, content_type="multipart/form-data", headers=fin), 422, "invalid_input")

    done = client.post(url, data={"file": (io.BytesIO(good), "bank.csv")}, content_type="multipart/form-data",
                       headers=fin)
    assert done.status_code == 200, done.get_data(as_text=True)
    body = done.get_json()
    assert len(body["paid"]) == 5 and body["batch_status"] == "paid" and body["already_imported"] is False
    again = client.post(url, data=good, content_type="text/csv", headers=fin).get_json()
    assert again["already_imported"] is True and "nothing changed" in again["message"]
    assert client.get(f"{API}/payouts/batches/{batch['id']}", headers=fin).get_json()["status"] == "paid"


def test_cancel_and_claw_back(client, callers, world, session):
    fin = finance(callers)
    gbp = create(client, fin, currency="GBP")
    error(client.post(f"{API}/payouts/batches/{gbp['id']}/cancel", json={"reason": " "}, headers=fin),
          422, "invalid_input")
    cancelled = client.post(f"{API}/payouts/batches/{gbp['id']}/cancel", json={"reason": "Wrong"},
                            headers=fin)
    assert cancelled.get_json()["status"] == "cancelled"
    assert {i["status"] for i in cancelled.get_json()["items"]} == {"withdrawn"}
    error(client.post(f"{API}/payouts/batches/{gbp['id']}/cancel", json={"reason": "x"}, headers=fin),
          409, "conflict")

    eur = create(client, fin, currency="EUR")
    first = eur["items"][0]
    claw = f"{API}/payouts/items/{first['id']}/claw-back"
    error(client.post(claw, json={"reason": "Reverted"}, headers=fin), 409, "conflict")
    view = payouts.get_batch(session, world.finance, eur["id"])
    payouts.import_confirmation(session, world.finance, eur["id"], pf.confirmation_csv(view))
    done = client.post(claw, json={"reason": "Reverted"}, headers=fin)
    assert done.status_code == 200 and done.get_json()["status"] == "clawed_back"
    assert done.get_json()["end_to_end_id"] == first["end_to_end_id"]
    error(client.post(f"{API}/payouts/items/999999/claw-back", json={"reason": "x"}, headers=fin),
          404, "not_found")


def test_statements_and_rates(client, callers, world, session):
    fin = finance(callers)
    year = utcnow().year
    statements = {code: client.get(f"{API}/statements/{code}", query_string={"year": year}, headers=fin)
                  .get_json() for code in ("EU", "UK", "CA", "AU")}
    shares = funds.shares_for_year(session, year)
    pools = {p.pool_id: p for p in funds.pool_statuses(session, year)}
    session.commit()
    for status in pools.values():
        owed = {code: next(Money.parse(p["owed"]["amount"], "EUR") for p in s["pools"]
                           if p["pool_id"] == status.pool_id) for code, s in statements.items()}
        assert owed == allocate(status.funded, shares)
    spent = sum(p.spent.minor for p in pools.values())
    assert sum(Money.parse(s["borne"]["amount"], "EUR").minor for s in statements.values()) == spent > 0
    error(client.get(f"{API}/statements/ZZ", headers=fin), 404, "not_found")
    error(client.get(f"{API}/statements/EU", query_string={"year": 1900}, headers=fin), 422, "invalid_input")
    # Any period: from and to, both included.
    half = client.get(f"{API}/statements/UK", query_string={"from": f"{year}-01-01", "to": f"{year}-06-30"},
                      headers=fin).get_json()
    assert (half["period_start"], half["period_end"]) == (f"{year}-01-01", f"{year}-06-30")
    for query, field in (({"from": f"{year}-01-01"}, "to"), ({"to": f"{year}-01-01"}, "from"),
                         ({"from": f"{year}-06-01", "to": f"{year}-01-01"}, "to"),
                         ({"year": year, "from": f"{year}-01-01", "to": f"{year}-02-01"}, "year")):
        refused = error(client.get(f"{API}/statements/UK", query_string=query, headers=fin), 422,
                        "invalid_input")
        assert field in refused["fields"], query
    rates = client.get(f"{API}/rates").get_json()
    gbp = next(r for r in rates["rates"] if r["currency"] == "GBP")
    assert rates["base"] == "EUR" and isinstance(gbp["rate"], str) and gbp["source"]


def test_schemathesis_finds_no_server_error_as_finance(fin_app, callers, keycloak, world, session):
    """Every finance operation, generated valid and invalid requests, as finance (the shared
    schemathesis run is anonymous or a programme administrator, refused at payouts)."""
    callers.token("fiona", ("contributor", "finance"))
    headers = {"Authorization": f"Bearer {keycloak.access_token('test-fiona', lifetime=3600)}"}
    batch = payouts.create_batch(session, world.finance, currency="EUR")
    item_id = batch.items[0].id
    session.commit()
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", fin_app)
    operations = [r.ok() for r in schema.get_all_operations()
                  if r.ok().path.startswith((f"{API}/payouts", f"{API}/statements", f"{API}/rates"))]
    assert len(operations) == 11
    seen: Counter[tuple[str, int]] = Counter()
    failures = []
    for operation in operations:
        known = {name: value for name, value in (("batch_id", batch.id), ("item_id", item_id),
                                                  ("jurisdiction", "UK")) if f"{{{name}}}" in operation.path}
        strategies = [operation.as_strategy(generation_mode=mode)
                      for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        if known:
            strategies.append(operation.as_strategy(path_parameters=known))
        for strategy in strategies:
            @given(case=strategy)
            @settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            def run(case: Any) -> None:
                response = case.call(headers=headers)
                seen[(f"{case.operation.method.upper()} {case.operation.path}", response.status_code)] += 1
                case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                         content_type_conformance])
            try:
                run()
            except Exception as exc:
                failures.append(f"{operation.method.upper()} {operation.path}: {type(exc).__name__}: "
                                f"{str(exc)[:1500]}")
    assert failures == [], "\n\n".join(failures)
    assert (f"GET {API}/payouts/batches/{{batch_id}}", 200) in seen
    assert any(status == 200 for (op, status) in seen if op == f"GET {API}/statements/{{jurisdiction}}")
