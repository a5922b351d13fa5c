"""Exports of real payout batches (approved bounties in EUR, GBP and CAD, signed-off grant
tranches), each parsed back and checked against the ledger: every amount, the EUR equivalent,
each jurisdiction's part (its `member:<J>:borne` line) summing to the item; hostile payee names
and descriptions neutralised; SEPA with the payees' decrypted IBANs; on both databases."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import sepaxml
import xmlschema
from sqlalchemy import select

from bounty.exports import payouts as exports
from bounty.exports import sepa
from bounty.exports.payouts import HEADER, JURISDICTIONS
from bounty.ledger import Money
from bounty.models import Account, LedgerLine, utcnow
from bounty.services import payouts
from bounty.services.errors import InvalidInput, PermissionDenied
from tests import payout_factories as pf
from tests import workflow_factories as wf

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
XSD = xmlschema.XMLSchema(str(Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"))
DEBTOR = sepa.debtor_from_settings("Sovereign Cloud Cooperative", "BE68539007547034", None)
TOMORROW = utcnow().date() + timedelta(days=1)


def borne(session, transaction_id: int) -> dict[str, Money]:
    """Each jurisdiction's part of a payable, read from the ledger itself."""
    rows = session.execute(
        select(Account.code, LedgerLine.amount_minor).join(Account, Account.id == LedgerLine.account_id)
        .where(LedgerLine.transaction_id == transaction_id, Account.code.like("member:%:borne")))
    return {code.split(":")[1]: Money(int(minor), "EUR") for code, minor in rows}


def csv_rows(data: bytes) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    assert tuple(reader.fieldnames or ()) == HEADER
    return list(reader)


def test_csv_and_xlsx_of_a_batch_match_the_ledger_item_by_item(session):
    world = pf.world(session)
    batch = payouts.create_batch(session, world.finance)
    view = payouts.get_batch(session, world.finance, batch.id)
    assert len(view.items) == 5 and {i.amount.currency for i in view.items} == {"EUR", "GBP", "CAD"}
    rows = csv_rows(exports.batch_csv(view))
    sheet = openpyxl.load_workbook(io.BytesIO(exports.batch_xlsx(view)))[f"Batch {view.id}"]
    cells = list(sheet.iter_rows(min_row=2))
    col = {name: i for i, name in enumerate(HEADER)}
    assert len(rows) == len(cells) == len(view.items)
    for row, xrow, item in zip(rows, cells, view.items, strict=True):
        ledger_parts = borne(session, item.payable_transaction_id)
        assert sum(p.minor for p in ledger_parts.values()) == item.eur.minor
        # CSV: text amounts with the currency's digits.
        assert (row["item_id"], row["end_to_end_id"], row["currency"]) == (
            str(item.id), item.end_to_end_id, item.amount.currency)
        assert Money.parse(row["amount"], row["currency"]) == item.amount
        assert Money.parse(row["eur_amount"], "EUR") == item.eur
        parts = {c: Money.parse(row[f"share_{c}_eur"], "EUR") for c in JURISDICTIONS}
        assert sum(p.minor for p in parts.values()) == item.eur.minor
        assert {c: m for c, m in parts.items() if m.minor} == {
            c: m for c, m in ledger_parts.items() if m.minor}
        if item.amount.currency == "EUR":
            assert (row["rate"], row["rate_date"]) == ("", "") and item.eur == item.amount
        else:
            assert Decimal(row["rate"]) == item.rate and row["rate_date"] == item.rate_date.isoformat()
        # XLSX: typed cells with the same values.
        assert Decimal(str(xrow[col["amount"]].value)) == item.amount.to_decimal()
        assert Decimal(str(xrow[col["eur_amount"]].value)) == item.eur.to_decimal()
        assert sum(Decimal(str(xrow[col[f"share_{c}_eur"]].value)) for c in JURISDICTIONS) == \
            item.eur.to_decimal()
        assert xrow[col["payable_on"]].is_date
    totals: dict[str, int] = {}
    for row in rows:
        minor = Money.parse(row["amount"], row["currency"]).minor
        totals[row["currency"]] = totals.get(row["currency"], 0) + minor
    assert {c: Money(m, c) for c, m in totals.items()} == view.totals


def test_hostile_payee_names_and_descriptions_are_neutralised(session):
    wf.reference(session)
    finance = pf.finance(session)
    wf.person(session, "mallory", display_name="=HYPERLINK(\"http://evil.example\",\"pay me\")")
    wf.person(session, "trudy", display_name="@SUM(1+1)*cmd|' /C calc'!A0")
    pf.approved(session, pf.payee(session, "mallory"), "EUR", "1000", title="+cmd|' /C notepad'!A0")
    pf.approved(session, pf.payee(session, "trudy"), "EUR", "1200", title="-2+3 totally legit")
    view = payouts.get_batch(session, finance, payouts.create_batch(session, finance).id)
    rows = csv_rows(exports.batch_csv(view))
    assert [r["payee_name"] for r in rows] == ["'=HYPERLINK(\"http://evil.example\",\"pay me\")",
                                                "'@SUM(1+1)*cmd|' /C calc'!A0"]
    # Descriptions are "Bounty <id>: <title>": the hostile title is there, after a safe start.
    assert [r["description"].split(": ", 1)[1] for r in rows] == [
        "+cmd|' /C notepad'!A0", "-2+3 totally legit"]
    sheet = openpyxl.load_workbook(io.BytesIO(exports.batch_xlsx(view))).active
    names = [row[HEADER.index("payee_name")] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in names)
    assert names[0].value.startswith("=HYPERLINK")  # kept as text, never a formula
    root = ET.fromstring(sepa.batch_sepa(view, debtor=DEBTOR, execution_date=TOMORROW,
                                         ibans=sepa.payee_accounts(session, finance, view, key=pf.KEY)))
    creditors = [e.text for e in root.iter(f"{{{NS['p']}}}Nm")][2:]
    assert creditors == ["Mallory", "Trudy"]  # the account holder's name as the bank has it


def test_sepa_file_of_a_real_batch_pays_the_eur_items_to_their_decrypted_ibans(session):
    world = pf.world(session)
    view = payouts.get_batch(session, world.finance, payouts.create_batch(session, world.finance).id)
    accounts = sepa.payee_accounts(session, world.finance, view, key=pf.KEY)
    eur_items = [i for i in view.items if i.amount.currency == "EUR"]
    assert set(accounts) == {i.id for i in eur_items}
    with pytest.raises(InvalidInput, match=r"3 item\(s\) not in EUR"):
        sepa.batch_sepa(view, debtor=DEBTOR, ibans=accounts, execution_date=TOMORROW)
    data = sepa.batch_sepa(view, debtor=DEBTOR, ibans=accounts, execution_date=TOMORROW, skip_non_eur=True)
    XSD.validate(data.decode())
    root = ET.fromstring(data)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert int(header.findtext("p:NbOfTxs", namespaces=NS)) == len(eur_items) == 2
    assert Money.parse(header.findtext("p:CtrlSum", namespaces=NS), "EUR") == Money(
        sum(i.amount.minor for i in eur_items), "EUR")
    transfers = {t.findtext("p:PmtId/p:EndToEndId", namespaces=NS): t
                 for t in root.iter(f"{{{NS['p']}}}CdtTrfTxInf")}
    assert set(transfers) == {i.end_to_end_id for i in eur_items}
    expected_iban = {world.eu.person_id: pf.IBANS["EU"], world.org.id: pf.IBANS["FR"]}
    for item in eur_items:
        transfer = transfers[item.end_to_end_id]
        assert Money.parse(transfer.findtext("p:Amt/p:InstdAmt", namespaces=NS), "EUR") == item.amount
        assert transfer.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == expected_iban[item.payee_id]


def test_sepa_refuses_payees_without_bank_details_and_non_finance_viewers(session):
    wf.reference(session)
    finance = pf.finance(session)
    pf.approved(session, pf.payee(session, "colin", "CA"), "EUR", "800")  # no IBAN in Canada
    pf.approved(session, pf.payee(session, "erika", "EU"), "EUR", "700")
    view = payouts.get_batch(session, finance, payouts.create_batch(session, finance).id)
    accounts = sepa.payee_accounts(session, finance, view, key=pf.KEY)
    with pytest.raises(InvalidInput) as refused:
        sepa.batch_sepa(view, debtor=DEBTOR, ibans=accounts, execution_date=TOMORROW)
    assert "Colin (person" in str(refused.value) and "no bank details on file" in str(refused.value)
    assert "Erika" not in str(refused.value) and "DE89" not in str(refused.value)
    with pytest.raises(PermissionDenied, match="finance only"):
        sepa.payee_accounts(session, pf.auditor(session), view, key=pf.KEY)
    with pytest.raises(PermissionDenied):
        sepa.payee_accounts(session, wf.contributor(session, "erika"), view, key=pf.KEY)
    with pytest.raises(InvalidInput, match="BOUNTY_BANK_DETAILS_KEY is not set"):
        sepa.payee_accounts(session, finance, view, key="")


def test_exports_after_the_bank_confirmed_show_what_was_paid(session):
    world = pf.world(session, grants_too=False)
    view = payouts.get_batch(session, world.finance,
                             payouts.create_batch(session, world.finance, currency="EUR").id)
    # The confirmation is built from the exported CSV itself, as finance would fill it in.
    rows = csv_rows(exports.batch_csv(view))
    day = utcnow().date()
    confirmation = "end_to_end_id,amount,date\n" + "".join(
        f"{r['end_to_end_id']},{r['amount']},{day.isoformat()}\n" for r in rows)
    result = payouts.import_confirmation(session, world.finance, view.id, confirmation.encode())
    assert [p.end_to_end_id for p in result.paid] == [r["end_to_end_id"] for r in rows]
    paid = payouts.get_batch(session, world.finance, view.id)
    [row] = csv_rows(exports.batch_csv(paid))
    assert (row["status"], row["paid_on"]) == ("paid", day.isoformat())
    with pytest.raises(InvalidInput, match="no pending EUR item"):
        sepa.batch_sepa(paid, debtor=DEBTOR, ibans={}, execution_date=TOMORROW)
