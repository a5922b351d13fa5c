"""The finance pages on both databases: payables and an idempotent batch, the batch's files
(CSV and SEPA at once with the SEPA refusals on the page, XLSX built as a document job), the
bank's confirmation upload (problems line by line, "already imported"), cancel and claw-back,
statements, the streamed trial balance and journal, exchange rates, and a person's own bank
details; who may do what."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import timedelta

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.exports.payouts import HEADER, JURISDICTIONS
from bounty.ledger import Money
from bounty.models import ExchangeRate, PayoutBatch, PayoutItem, utcnow
from bounty.services import payouts
from tests import payout_factories as pf
from tests import workflow_factories as wf
from tests.web.conftest import csrf_token_of
from tests.web.test_bounty_board import demo_person, settle, signed_in

SEPA_SETTINGS = {"SEPA_DEBTOR_NAME": "Sovereign Cloud Cooperative", "SEPA_DEBTOR_IBAN": "BE68539007547034",
                 "BANK_DETAILS_KEY": pf.KEY}
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MULTIPART = "multipart/form-data"


@pytest.fixture
def fin_app(make_app: Callable[..., Flask], session: Session) -> Flask:
    wf.reference(session)
    settle(session)
    return make_app(DEMO_LOGIN=True, **SEPA_SETTINGS)


@pytest.fixture
def world(session: Session, fin_app: Flask) -> pf.World:
    made = pf.world(session)
    settle(session)
    return made


def browser(app: Flask, session: Session, username: str, *roles: str) -> FlaskClient:
    person = demo_person(session, username, roles or ("contributor",))
    settle(session)
    return signed_in(app, person)


def post(client: FlaskClient, url: str, page: str, data: dict | None = None, **kwargs) -> object:
    """Send a form of `page` (its CSRF token included)."""
    token = csrf_token_of(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)


def status_of(session: Session, model: type, key: int) -> str:
    """The row's status as committed, the test's read ended (on SQLite it would hold the lock)."""
    found = session.get(model, key, populate_existing=True).status
    settle(session)
    return found


def text(response) -> str:
    return response.get_data(as_text=True)


def document_file(client: FlaskClient, response) -> object:
    """The file of the document job a form asked for (eager mode: built before the redirect)."""
    assert response.status_code == 302, text(response)
    job = re.search(r"/documents/(\d+)$", response.headers["Location"]).group(1)
    assert "Download" in text(client.get(f"/documents/{job}"))
    return client.get(f"/documents/{job}/file")


def new_batch(client: FlaskClient, currency: str = "") -> int:
    response = post(client, "/finance/batches", "/finance/payables", {"batch-currency": currency})
    assert response.status_code == 302, text(response)
    return int(re.search(r"/finance/batches/(\d+)$", response.headers["Location"]).group(1))


def test_payables_filter_and_the_same_selection_gives_the_same_batch(fin_app, session, world):
    finance = browser(fin_app, session, "fin", "finance")
    page = text(finance.get("/finance/payables"))
    assert "Fix GBP 2000 bug" in page and "Fix CAD 3000 bug" in page and "tranche 1: Milestone 1" in page
    gbp = text(finance.get("/finance/payables?currency=GBP"))
    assert "Fix GBP 2000 bug" in gbp and "Fix CAD 3000 bug" not in gbp
    assert finance.get("/finance/payables?currency=XXX").status_code == 400

    first = new_batch(finance, "GBP")
    assert new_batch(finance, "GBP") == first
    assert session.execute(select(PayoutBatch.id)).scalars().all() == [first]
    settle(session)
    detail = text(finance.get(f"/finance/batches/{first}"))
    assert "BTY-B-" in detail and "Fix GBP 2000 bug" in detail and "Fix CAD" not in detail
    assert f"/finance/batches/{first}" in text(finance.get("/finance/batches"))
    assert "Fix GBP 2000 bug" not in text(finance.get("/finance/payables"))
    # A selection with nothing left is refused on the page, never a crash.
    refused = post(finance, "/finance/batches", "/finance/payables", {"batch-currency": "AUD"})
    assert refused.status_code == 409 and "nothing is payable for currency AUD" in text(refused)


def test_who_may_see_and_act(fin_app, make_app, session, world):
    auditor = browser(fin_app, session, "aud", "auditor")
    contributor = browser(fin_app, session, "con")
    admin = browser(fin_app, session, "adm", "program-admin")
    finance = browser(fin_app, session, "fin", "finance")
    batch_id = new_batch(finance)
    assert auditor.get("/finance/payables").status_code == 200
    assert "Create the batch" not in text(auditor.get("/finance/payables"))
    assert auditor.get(f"/finance/batches/{batch_id}").status_code == 200
    assert auditor.get(f"/finance/batches/{batch_id}/download/csv").status_code == 200
    page = f"/finance/batches/{batch_id}"
    assert post(auditor, f"{page}/xlsx", page).status_code == 302  # readers ask for the XLSX
    assert post(admin, f"{page}/xlsx", "/finance/statements").status_code == 403
    assert auditor.get(f"/finance/batches/{batch_id}/download/sepa?skip_non_eur=y").status_code == 403
    keyless = browser(make_app(DEMO_LOGIN=True), session, "aud2", "auditor")  # no SEPA settings either
    assert keyless.get(f"/finance/batches/{batch_id}/download/sepa").status_code == 403
    assert post(auditor, "/finance/batches", "/finance/batches").status_code == 403
    for url in ("/finance/payables", "/finance/batches", f"/finance/batches/{batch_id}",
                "/finance/statements", "/finance/trial-balance.csv", "/finance/journal.csv"):
        assert contributor.get(url).status_code == 403, url
    assert admin.get("/finance/batches").status_code == 403
    assert admin.get("/finance/statements/EU/2026").status_code == 200
    assert fin_app.test_client().get("/finance/batches").status_code == 302  # to sign in
    assert finance.get("/finance/batches/999999").status_code == 404
    # Every form carries its CSRF token: without it, nothing happens.
    assert finance.post(f"/finance/batches/{batch_id}/cancel", data={"reason": "x"}).status_code == 400
    assert status_of(session, PayoutBatch, batch_id) == "open"


def test_downloads_parse_back_and_sepa_refusals_show_on_the_page(fin_app, session, world):
    finance = browser(fin_app, session, "fin", "finance")
    batch_id = new_batch(finance)
    view = payouts.get_batch(session, world.finance, batch_id)
    settle(session)

    response = finance.get(f"/finance/batches/{batch_id}/download/csv")
    assert response.mimetype == "text/csv"
    assert f'filename=payout-batch-{batch_id}.csv' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text(response), newline="")))
    assert [r["end_to_end_id"] for r in rows] == [i.end_to_end_id for i in view.items]
    for row, item in zip(rows, view.items, strict=True):
        assert Money.parse(row["amount"], row["currency"]) == item.amount
        assert sum(Money.parse(row[f"share_{c}_eur"], "EUR").minor for c in JURISDICTIONS) == item.eur.minor

    assert finance.get(f"/finance/batches/{batch_id}/download/xlsx").status_code == 404
    page = f"/finance/batches/{batch_id}"
    response = document_file(finance, post(finance, f"{page}/xlsx", page))
    assert response.mimetype == XLSX
    assert f"payout-batch-{batch_id}.xlsx" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))[f"Batch {batch_id}"]
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == list(HEADER)
    assert sheet.max_row == len(view.items) + 1

    refused = finance.get(f"/finance/batches/{batch_id}/download/sepa")
    assert refused.status_code == 400
    assert "3 item(s) not in EUR, which SEPA cannot pay" in text(refused)
    past = (utcnow().date() - timedelta(days=2)).isoformat()
    late = finance.get(f"/finance/batches/{batch_id}/download/sepa?skip_non_eur=y&execution_date={past}")
    assert late.status_code == 400 and "is in the past" in text(late)
    response = finance.get(f"/finance/batches/{batch_id}/download/sepa?skip_non_eur=y")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert f"payout-batch-{batch_id}.xml" in response.headers["Content-Disposition"]
    root = ET.fromstring(response.data)
    paid = {t.findtext("p:PmtId/p:EndToEndId", namespaces=NS) for t in root.iter(f"{{{NS['p']}}}CdtTrfTxInf")}
    assert paid == {i.end_to_end_id for i in view.items if i.amount.currency == "EUR"}
    # Downloads change nothing; recording the batch as sent is its own button.
    assert status_of(session, PayoutBatch, batch_id) == "open"
    done = post(finance, f"/finance/batches/{batch_id}/exported", f"/finance/batches/{batch_id}")
    assert done.status_code == 302
    assert status_of(session, PayoutBatch, batch_id) == "exported"


def test_sepa_without_debtor_settings_is_a_message_not_a_crash(make_app, session, world):
    app = make_app(DEMO_LOGIN=True, BANK_DETAILS_KEY=pf.KEY)
    finance = browser(app, session, "fin", "finance")
    batch_id = new_batch(finance, "EUR")
    response = finance.get(f"/finance/batches/{batch_id}/download/sepa")
    assert response.status_code == 400 and "SEPA_DEBTOR_NAME" in text(response)


def test_confirmation_upload_lists_problems_then_pays_once(fin_app, session, world):
    finance = browser(fin_app, session, "fin", "finance")
    batch_id = new_batch(finance)
    view = payouts.get_batch(session, world.finance, batch_id)
    settle(session)
    page = f"/finance/batches/{batch_id}"
    url = f"{page}/confirmation"
    good = pf.confirmation_csv(view)
    bad = good.replace(view.items[0].end_to_end_id.encode(), b"BTY-X-1-1")

    refused = post(finance, url, page, {"file": (io.BytesIO(bad), "bank.csv")},
                   content_type=MULTIPART)
    assert refused.status_code == 400
    assert "nothing was applied" in text(refused) and "line 2: unknown end-to-end id" in text(refused)
    assert session.execute(select(PayoutItem.status)).scalars().all() == ["pending"] * len(view.items)
    settle(session)
    assert post(finance, url, page, {}, content_type=MULTIPART).status_code == 400

    done = post(finance, url, page, {"file": (io.BytesIO(good), "bank.csv")}, content_type=MULTIPART)
    assert done.status_code == 302
    assert f"{len(view.items)} items paid" in text(finance.get(page))
    assert status_of(session, PayoutBatch, batch_id) == "paid"
    again = post(finance, url, page, {"file": (io.BytesIO(good), "bank.csv")}, content_type=MULTIPART)
    assert again.status_code == 302
    assert "already imported for payout batch" in text(finance.get(page))


def test_cancel_and_claw_back_need_a_reason(fin_app, session, world):
    finance = browser(fin_app, session, "fin", "finance")
    gbp = new_batch(finance, "GBP")
    page = f"/finance/batches/{gbp}"
    assert post(finance, f"{page}/cancel", page, {"reason": " "}).status_code == 400
    assert post(finance, f"{page}/cancel", page, {"reason": "Wrong month"}).status_code == 302
    assert status_of(session, PayoutBatch, gbp) == "cancelled"
    assert post(finance, f"{page}/cancel", page, {"reason": "again"}).status_code == 409

    eur = new_batch(finance, "EUR")
    view = payouts.get_batch(session, world.finance, eur)
    first, second = view.items[0], view.items[1]
    settle(session)
    payouts.import_confirmation(session, world.finance, eur, pf.confirmation_csv(view, only={first.id}))
    settle(session)
    page = f"/finance/batches/{eur}"
    blank = post(finance, f"/finance/items/{first.id}/claw-back", page, {"clawback-reason": ""})
    assert blank.status_code == 400 and "Say why." in text(blank)
    unpaid = post(finance, f"/finance/items/{second.id}/claw-back", page, {"clawback-reason": "Reverted"})
    assert unpaid.status_code == 409 and "only a paid item can be clawed back" in text(unpaid)
    done = post(finance, f"/finance/items/{first.id}/claw-back", page, {"clawback-reason": "Reverted fix"})
    assert done.status_code == 302
    assert status_of(session, PayoutItem, first.id) == "clawed_back"
    assert post(finance, "/finance/items/999999/claw-back", page, {"clawback-reason": "x"}).status_code == 404


def test_statements_page_and_files(fin_app, session, world):
    finance = browser(fin_app, session, "fin", "finance")
    year = utcnow().year
    assert finance.get(f"/finance/statements?jurisdiction=UK&year={year}").headers["Location"].endswith(
        f"/finance/statements/UK/{year}")
    assert finance.get("/finance/statements?jurisdiction=UK&year=abc").status_code == 400
    page = text(finance.get(f"/finance/statements/UK/{year}"))
    assert "Statement of" in page and "Fix GBP 2000 bug" in page
    response = finance.get(f"/finance/statements/UK/{year}/download/csv")
    assert response.mimetype == "text/csv"
    assert f"statement-UK-{year}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text(response), newline="")))
    borne = [Money.parse(r["amount"], "EUR") for r in rows if r["section"] == "borne"]
    total = next(Money.parse(r["amount"], "EUR") for r in rows
                 if r["section"] == "total" and r["description"] == "borne")
    assert len(borne) == 5 and sum(m.minor for m in borne) == total.minor > 0
    page = f"/finance/statements/UK/{year}"
    xlsx = document_file(finance, post(finance, "/finance/statements/UK/xlsx", page,
                                       {"from": f"{year}-01-01", "to": f"{year}-12-31"}))
    assert xlsx.mimetype == XLSX and f"statement-UK-{year}.xlsx" in xlsx.headers["Content-Disposition"]
    sheets = openpyxl.load_workbook(io.BytesIO(xlsx.data)).sheetnames
    assert sheets == ["Summary", "Pools", "Payouts", "Paid in"]
    assert finance.get(f"/finance/statements/ZZ/{year}").status_code == 404


def test_trial_balance_and_journal_are_streamed(fin_app, session, world):
    finance = browser(fin_app, session, "fin", "finance")
    response = finance.get("/finance/trial-balance.csv")
    assert response.is_streamed and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(text(response), newline="")))
    debits = sum(Money.parse(r["debit"], r["currency"]).minor for r in rows if r["currency"] == "EUR")
    credits = sum(Money.parse(r["credit"], r["currency"]).minor for r in rows if r["currency"] == "EUR")
    assert debits == credits > 0
    journal = finance.get("/finance/journal.csv")
    assert journal.is_streamed and 'filename="journal.csv"' in journal.headers["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO(text(journal), newline="")))
    assert len(lines) > 20 and {"approve:claim:" in r["idempotency_key"] for r in lines} == {True, False}
    today = utcnow().date().isoformat()
    period = text(finance.get(f"/finance/journal.csv?from={today}&to={today}"))
    assert len(list(csv.reader(io.StringIO(period)))) > 1
    assert finance.get("/finance/journal.csv?from=yesterday").status_code == 400
    assert finance.get("/finance/journal.csv?from=2026-12-31&to=2026-01-01").status_code == 400


ECB_DAILY = "Date, USD, JPY, GBP, CAD, AUD, \n21 November 2026, 1.0512, 161.23, 0.8712, 1.4700, 1.6100, \n"


def test_rates_page_and_import(fin_app, session):
    finance = browser(fin_app, session, "fin", "finance")
    contributor = browser(fin_app, session, "con")
    page = text(contributor.get("/finance/rates"))
    assert "GBP" in page and "Import" not in page
    refused = post(finance, "/finance/rates", "/finance/rates", {"file": (io.BytesIO(b"nonsense"), "x.csv")},
                   content_type=MULTIPART)
    assert refused.status_code == 400 and "Refused" in text(refused)
    done = post(finance, "/finance/rates", "/finance/rates",
                {"file": (io.BytesIO(ECB_DAILY.encode()), "e.csv")}, content_type=MULTIPART)
    assert done.status_code == 302
    shown = text(finance.get("/finance/rates"))
    assert "Rates imported: 5 added" in shown and "0.8712" in shown and "ECB" in shown
    assert session.execute(select(ExchangeRate).where(ExchangeRate.source == "ECB")).scalars().all()
    settle(session)
    assert post(contributor, "/finance/rates", "/finance/rates",
                {"file": (io.BytesIO(ECB_DAILY.encode()), "e.csv")},
                content_type=MULTIPART).status_code == 403


def test_bank_details_are_set_and_shown_masked(fin_app, make_app, session):
    person = browser(fin_app, session, "paula")
    assert "no bank details on file" in text(person.get("/me/bank-details"))
    bad = post(person, "/me/bank-details", "/me/bank-details",
               {"holder_name": "Paula", "iban": "DE89370400440532013001", "bic": ""})
    assert bad.status_code == 400 and "check digits" in text(bad)
    assert "DE89370400440532013001" not in text(bad)
    done = post(person, "/me/bank-details", "/me/bank-details",
                {"holder_name": "Paula Payee", "iban": "de89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX"})
    assert done.status_code == 302
    page = text(person.get("/me/bank-details"))
    assert "•••• •••• 3000" in page and "Paula Payee" in page and "COBADEFFXXX" in page
    assert "DE89370400440532013000" not in page and "0532" not in page
    # Without the key configured, the refusal is a message, not a crash.
    keyless = browser(make_app(DEMO_LOGIN=True), session, "kim")
    refused = post(keyless, "/me/bank-details", "/me/bank-details",
                   {"holder_name": "Kim", "iban": "DE89370400440532013000"})
    assert refused.status_code == 400 and "BOUNTY_BANK_DETAILS_KEY is not set" in text(refused)
    assert fin_app.test_client().get("/me/bank-details").status_code == 302


def test_pages_speak_french(fin_app, session, world):
    finance = browser(fin_app, session, "fin", "finance")
    batch_id = new_batch(finance)
    for url in ("/finance/payables", "/finance/batches", f"/finance/batches/{batch_id}",
                "/finance/statements", f"/finance/statements/EU/{utcnow().year}", "/finance/rates",
                "/me/bank-details"):
        response = finance.get(url, query_string={"lang": "fr"})
        assert response.status_code == 200, url
        assert '<html lang="fr">' in text(response), url
    assert "Lots de paiement" in text(finance.get("/finance/batches?lang=fr"))
