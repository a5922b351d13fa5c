"""Documents on the job queue seen from the pages, on both databases (eager mode: the job runs
when it is asked for): ask from a finance page, follow the progress page, download the file;
the page reloads itself only while the job is live; a failed job shows its reason; somebody
else's document is a 404; the forms name the field at fault."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bounty.ledger import Money
from bounty.models import utcnow
from bounty.services import document_jobs, funds
from bounty.services.actors import SYSTEM
from tests import workflow_factories as wf
from tests.web.conftest import csrf_token_of
from tests.web.test_bounty_board import demo_person, settle, signed_in

YEAR = utcnow().year
# Said on the page exactly while it reloads itself (with the Refresh header).
REFRESH = "This page reloads itself every 3 seconds"


@pytest.fixture
def docs_app(make_app: Callable[..., Flask], session: Session) -> Flask:
    wf.reference(session)
    funds.record_member_payment(session, SYSTEM, "EU", Money.parse("1000.00", "EUR"),
                                paid_on=date(YEAR, 2, 1), reference="BANK-EU-1")
    settle(session)
    return make_app(DEMO_LOGIN=True)


def browser(app: Flask, session: Session, username: str, *roles: str) -> FlaskClient:
    person = demo_person(session, username, roles or ("contributor",))
    settle(session)
    return signed_in(app, person)


def text(response) -> str:
    return response.get_data(as_text=True)


def ask(client: FlaskClient, url: str, page: str, data: dict | None = None):
    token = csrf_token_of(text(client.get(page)))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def job_of(response) -> int:
    assert response.status_code == 302, text(response)
    return int(re.search(r"/documents/(\d+)$", response.headers["Location"]).group(1))


def test_a_statement_xlsx_from_its_page_to_the_download(docs_app, session):
    fin = browser(docs_app, session, "fin", "finance")
    page = f"/finance/statements/EU?from={YEAR}-01-01&to={YEAR}-06-30"
    shown = text(fin.get(page))
    assert "Build as XLSX" in shown and "Download as XLSX" not in shown
    job_id = job_of(ask(fin, "/finance/statements/EU/xlsx", page, {"from": f"{YEAR}-01-01",
                                                                    "to": f"{YEAR}-06-30"}))
    progress = fin.get(f"/documents/{job_id}")
    body = text(progress)
    assert progress.status_code == 200 and progress.headers["Cache-Control"] == "no-store"
    assert "Ready" in body and REFRESH not in body and "<progress" not in body
    assert f"statement-EU-{YEAR}-01-01_to_{YEAR}-06-30.xlsx" in body

    download = fin.get(f"/documents/{job_id}/file")
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert f"statement-EU-{YEAR}-01-01_to_{YEAR}-06-30.xlsx" in download.headers["Content-Disposition"]
    summary = dict(openpyxl.load_workbook(io.BytesIO(download.data))["Summary"].iter_rows(values_only=True))
    assert summary["period end"].date() == date(YEAR, 6, 30)
    assert summary["paid in"] == Money.parse("1000.00", "EUR").to_decimal()

    # Asking again while the file is fresh gives the same document.
    assert job_of(ask(fin, "/finance/statements/EU/xlsx", page, {"from": f"{YEAR}-01-01",
                                                                 "to": f"{YEAR}-06-30"})) == job_id
    listing = text(fin.get("/documents"))
    assert f"Statement of EU for {YEAR}-01-01 to {YEAR}-06-30 (XLSX)" in listing
    assert f"/documents/{job_id}/file" in listing


def test_the_progress_page_reloads_only_while_the_job_is_live(docs_app, session):
    fin = browser(docs_app, session, "fin", "finance")
    person = demo_person(session, "fin2", ("contributor", "finance"))
    job = document_jobs.request_document(session, wf.actor_of(person), "trial_balance_xlsx", {})
    settle(session)
    other = signed_in(docs_app, person)
    response = other.get(f"/documents/{job.id}")
    assert response.headers["Refresh"] == "3"
    queued = text(response)
    assert REFRESH in queued and "Waiting in the queue" in queued
    assert '<progress id="job-progress" max="100" value="0">' in queued
    stopped = other.get(f"/documents/{job.id}?refresh=off")
    assert "Refresh" not in stopped.headers and REFRESH not in text(stopped)

    document_jobs.mark_running(session, SYSTEM, job.id)
    document_jobs.report_progress(session, SYSTEM, job.id, 40, "reading the ledger")
    settle(session)
    running = text(other.get(f"/documents/{job.id}"))
    assert REFRESH in running and 'value="40"' in running and "reading the ledger" in running
    assert other.get(f"/documents/{job.id}/file").status_code == 409

    document_jobs.complete(session, SYSTEM, job.id, b"PK-not-really", 168)
    settle(session)
    done = text(other.get(f"/documents/{job.id}"))
    assert REFRESH not in done and f"/documents/{job.id}/file" in done
    assert other.get(f"/documents/{job.id}/file").data == b"PK-not-really"
    # Somebody else's document does not exist for them; the auditor reads anyone's.
    assert fin.get(f"/documents/{job.id}").status_code == 404
    assert fin.get(f"/documents/{job.id}/file").status_code == 404
    assert f"/documents/{job.id}" not in text(fin.get("/documents"))
    auditor = browser(docs_app, session, "aud", "auditor")
    assert auditor.get(f"/documents/{job.id}/file").status_code == 200


def test_a_failed_job_shows_its_reason(docs_app, session):
    person = demo_person(session, "fin", ("contributor", "finance"))
    job = document_jobs.request_document(session, wf.actor_of(person), "journal_xlsx", {})
    document_jobs.mark_running(session, SYSTEM, job.id)
    document_jobs.fail(session, SYSTEM, job.id, "refused: person:fin may not read finance statements", 168)
    settle(session)
    fin = signed_in(docs_app, person)
    page = fin.get(f"/documents/{job.id}")
    assert page.status_code == 200
    body = text(page)
    assert "The document could not be built" in body and "may not read finance statements" in body
    assert REFRESH not in body
    assert fin.get(f"/documents/{job.id}/file").status_code == 409


def test_each_finance_xlsx_is_asked_for_by_a_form(docs_app, session):
    fin = browser(docs_app, session, "fin", "finance")
    page = "/finance/statements"
    trial = job_of(ask(fin, "/finance/trial-balance.xlsx", page, {"trial_balance-as_of": f"{YEAR}-12-31"}))
    journal = job_of(ask(fin, "/finance/journal.xlsx", page, {"journal_xlsx-from": f"{YEAR}-01-01"}))
    sheet = openpyxl.load_workbook(io.BytesIO(fin.get(f"/documents/{trial}/file").data))["Totals"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows and all(debit == credit for _, debit, credit in rows)
    lines = openpyxl.load_workbook(io.BytesIO(fin.get(f"/documents/{journal}/file").data))["Journal"]
    assert [c.value for c in lines[1]][:3] == ["date", "transaction_id", "kind"] and lines.max_row > 1
    # Bad dates and a period backwards name their field; without the CSRF token nothing happens.
    bad = ask(fin, "/finance/journal.xlsx", page, {"journal_xlsx-from": f"{YEAR}-06-01",
                                                    "journal_xlsx-to": f"{YEAR}-01-01"})
    assert bad.status_code == 400 and "The last day comes before the first." in text(bad)
    assert fin.post("/finance/trial-balance.xlsx", data={}).status_code == 400
    contributor = browser(docs_app, session, "con")
    token = csrf_token_of(text(contributor.get("/me/bank-details")))
    assert contributor.post("/finance/journal.xlsx", data={"csrf_token": token}).status_code == 403
    assert docs_app.test_client().get("/documents").status_code == 302  # to sign in
    assert docs_app.test_client().get(f"/documents/{trial}").status_code == 302


@pytest.mark.parametrize(("query", "message"), [
    ("jurisdiction=EU&year=2026&from=2026-01-01", "Give a year or a period, not both."),
    ("jurisdiction=EU&from=2026-01-01", "To: Enter the last day of the period."),
    ("jurisdiction=EU&to=2026-01-01", "From: Enter the first day of the period."),
    ("jurisdiction=EU&from=2026-06-01&to=2026-01-01", "To: The last day comes before the first."),
    ("jurisdiction=EU&from=June", "From: Not a valid date value."),
    ("jurisdiction=EU", "Enter a year, or the first and last days of a period."),
])
def test_the_statement_period_is_checked_naming_the_field(docs_app, session, query, message):
    fin = browser(docs_app, session, "fin", "finance")
    refused = fin.get(f"/finance/statements?{query}")
    assert refused.status_code == 400 and message in text(refused)


def test_statements_of_any_period_and_the_year_shortcut(docs_app, session):
    fin = browser(docs_app, session, "fin", "finance")
    to_period = fin.get(f"/finance/statements?jurisdiction=EU&from={YEAR}-02-01&to={YEAR}-02-28")
    assert to_period.headers["Location"].endswith(f"/finance/statements/EU?from={YEAR}-02-01&to={YEAR}-02-28")
    page = text(fin.get(to_period.headers["Location"]))
    # The payment of 1 February is in this period, not in March's.
    assert f"for {YEAR}-02-01 to {YEAR}-02-28" in page and "BANK-EU-1" in page
    csv = fin.get(f"/finance/statements/EU/statement.csv?from={YEAR}-03-01&to={YEAR}-03-31")
    assert csv.mimetype == "text/csv" and "paid_in" not in text(csv) and "owed" in text(csv)
    assert fin.get(f"/finance/statements?jurisdiction=EU&year={YEAR}").headers["Location"].endswith(
        f"/finance/statements/EU/{YEAR}")
    assert fin.get(f"/finance/statements/EU?from={YEAR}-03-01").status_code == 400
    assert fin.get(f"/finance/statements/EU/statement.csv?to={YEAR}-03-01").status_code == 400
