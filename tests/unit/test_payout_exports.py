"""The files of a payout batch (CSV, XLSX, SEPA pain.001) built from batches made by hand, each
parsed back: every amount, the per-jurisdiction columns summing to the item, hostile text
neutralised, and the SEPA file's totals, references and refusals."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import sepaxml
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st

from bounty.exports import payouts as exports
from bounty.exports import sepa
from bounty.exports.payouts import HEADER, JURISDICTIONS, InconsistentBatch
from bounty.exports.sepa import Debtor, PayeeAccount
from bounty.ledger import Money, allocate
from bounty.services.errors import InvalidInput
from bounty.services.payouts import BatchItemView, BatchView

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
SHARES = {"EU": Decimal("0.4"), "UK": Decimal("0.3"), "CA": Decimal("0.2"), "AU": Decimal("0.1")}
HOSTILE = ("=HYPERLINK(\"http://evil.example\",\"x\")", "+41 cmd", "-2+3", "@SUM(A1:A9)", "\tTabbed",
           "\rReturn")
DEBTOR = Debtor("Sovereign Cloud Cooperative", "DE89370400440532013000", "COBADEFFXXX")
TOMORROW = datetime.now(UTC).date() + timedelta(days=1)
CREATED = datetime(2026, 3, 14, 23, 30, tzinfo=UTC)


def Batch(batch_id: int, items: list[BatchItemView], status: str = "open") -> BatchView:
    return BatchView(batch_id, "currency=*;jurisdiction=*", None, None, status, CREATED, None, None, None,
                     items)


def item(item_id: int, amount: str, currency: str = "EUR", *, eur: str | None = None,
         rate: str | None = None, end_to_end_id: str | None = None, kind: str = "bounty",
         description: str = "Fix the scheduler", payee_kind: str = "person", payee_id: int = 1,
         payee_name: str = "Ada Lovelace", status: str = "pending",
         paid_on: date | None = None) -> BatchItemView:
    money = Money.parse(amount, currency)
    in_eur = money if currency == "EUR" else Money.parse(eur or "0", "EUR")
    return make_item(item_id, money, in_eur, end_to_end_id or f"BOUNTY-1-{item_id}", kind=kind,
                     description=description, payee_kind=payee_kind, payee_id=payee_id, payee_name=payee_name,
                     rate=Decimal(rate) if rate else None, rate_date=date(2026, 3, 13) if rate else None,
                     status=status, paid_on=paid_on)


def make_item(item_id: int, amount: Money, eur: Money, end_to_end_id: str, **fields: object) -> BatchItemView:
    values: dict[str, object] = {
        "id": item_id, "kind": "bounty", "subject_id": item_id, "description": "Fix the scheduler",
        "payee_kind": "person", "payee_id": 1, "payee_name": "Ada Lovelace", "amount": amount, "eur": eur,
        "rate": None, "rate_date": None, "shares": dict(allocate(eur, SHARES)),
        "end_to_end_id": end_to_end_id,
        "status": "pending", "paid_on": None, "created_at": CREATED, "payable_transaction_id": 100 + item_id,
        "paid_transaction_id": None, "clawback_transaction_id": None, "is_live": True, **fields}
    return BatchItemView(**values)  # type: ignore[arg-type]


def sample_batch() -> Batch:
    return Batch(7, [
        item(1, "1234.50"),
        item(2, "999.99", "GBP", eur="1174.81", rate="0.8512", payee_name="Gina Grant", payee_id=2,
             kind="tranche", description="Milestone 1: design"),
        item(3, "1500", "JPY", eur="9.37", rate="160.12", payee_kind="organisation", payee_id=9,
             payee_name="Kyoto Cloud KK"),
        item(4, "0.01", payee_name="Penny", status="paid", paid_on=date(2026, 3, 20)),
    ])


def read_csv(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == HEADER
    return list(reader)


def assert_row_matches(row: dict[str, str], source: BatchItemView) -> None:
    assert int(row["item_id"]) == source.id
    assert row["currency"] == source.amount.currency
    assert Money.parse(row["amount"], row["currency"]) == source.amount
    assert row["amount"] == source.amount.amount_str()  # exactly the currency's digits
    assert Money.parse(row["eur_amount"], "EUR") == source.eur
    parts = [Money.parse(row[f"share_{code}_eur"], "EUR") for code in JURISDICTIONS]
    assert sum(p.minor for p in parts) == source.eur.minor
    assert parts == [source.shares.get(code, Money.zero("EUR")) for code in JURISDICTIONS]
    assert row["end_to_end_id"] == source.end_to_end_id


# --- CSV -----------------------------------------------------------------------------------

def test_csv_has_every_amount_with_its_currency_digits_and_shares_summing_to_the_item():
    batch = sample_batch()
    rows = read_csv(exports.batch_csv(batch))
    assert len(rows) == 4
    for row, source in zip(rows, batch.items, strict=True):
        assert_row_matches(row, source)
        assert row["batch_id"] == "7"
    eur, gbp, jpy, paid = rows
    assert (eur["amount"], eur["rate"], eur["rate_date"]) == ("1234.50", "", "")
    assert (gbp["amount"], gbp["eur_amount"], gbp["rate"], gbp["rate_date"]) == (
        "999.99", "1174.81", "0.8512", "2026-03-13")
    assert (jpy["amount"], jpy["currency"], jpy["payee_kind"]) == ("1500", "JPY", "organisation")
    assert [eur[f"share_{c}_eur"] for c in JURISDICTIONS] == ["493.80", "370.35", "246.90", "123.45"]
    assert eur["payable_on"] == "2026-03-14" and eur["paid_on"] == ""
    assert (paid["status"], paid["paid_on"], paid["amount"]) == ("paid", "2026-03-20", "0.01")
    assert [paid[f"share_{c}_eur"] for c in JURISDICTIONS] == ["0.01", "0.00", "0.00", "0.00"]


def test_csv_is_utf8_with_crlf_and_an_optional_bom():
    batch = Batch(1, [item(1, "10.00", payee_name="Zoë Ørsted 李")])
    data = exports.batch_csv(batch)
    assert data.startswith(b"batch_id,item_id,") and b"\r\n" in data
    assert "Zoë Ørsted 李".encode() in data
    assert exports.batch_csv(batch, bom=True).startswith("\ufeff".encode())


@pytest.mark.parametrize("hostile", HOSTILE)
def test_csv_neutralises_hostile_payee_names_and_descriptions(hostile):
    batch = Batch(1, [item(1, "10.00", payee_name=hostile, description=hostile),
                      item(2, "20.00", payee_name="Plain Name", description="a - b = c")])
    first, second = read_csv(exports.batch_csv(batch))
    assert first["payee_name"] == "'" + hostile and first["description"] == "'" + hostile
    assert (second["payee_name"], second["description"]) == ("Plain Name", "a - b = c")
    assert first["amount"] == "10.00"  # numbers are never prefixed


def test_an_item_whose_shares_do_not_sum_to_its_eur_amount_is_refused():
    good = item(1, "100.00")
    bad = replace(good, shares={**good.shares, "EU": good.shares["EU"] + Money(1, "EUR")})
    with pytest.raises(InconsistentBatch, match="do not sum"):
        exports.batch_csv(Batch(1, [good, bad]))
    with pytest.raises(InconsistentBatch, match="unknown jurisdictions XX"):
        exports.batch_xlsx(Batch(1, [replace(good, shares={**good.shares, "XX": Money(0, "EUR")})]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 10**12), st.sampled_from(["EUR", "GBP", "CAD", "JPY"]),
                          st.integers(1, 10**12)), min_size=1, max_size=8))
def test_csv_round_trips_every_amount(specs):
    items = []
    for index, (minor, currency, eur_minor) in enumerate(specs, start=1):
        amount = Money(minor, currency)
        eur = amount if currency == "EUR" else Money(eur_minor, "EUR")
        items.append(make_item(index, amount, eur, f"E{index}"))
    rows = read_csv(exports.batch_csv(Batch(3, items)))
    for row, source in zip(rows, items, strict=True):
        assert_row_matches(row, source)


# --- XLSX ----------------------------------------------------------------------------------

def _number(value: object) -> Decimal:
    # openpyxl reads numbers back as int or float; str() of the float is the written text.
    assert isinstance(value, (int, float)) and not isinstance(value, bool)
    return Decimal(str(value))


def test_xlsx_has_typed_number_and_date_cells_for_every_amount():
    batch = sample_batch()
    workbook = openpyxl.load_workbook(io.BytesIO(exports.batch_xlsx(batch)))
    sheet = workbook["Batch 7"]
    rows = list(sheet.iter_rows())
    assert tuple(c.value for c in rows[0]) == HEADER
    col = {name: i for i, name in enumerate(HEADER)}
    assert len(rows) == 1 + len(batch.items)
    for cells, source in zip(rows[1:], batch.items, strict=True):
        amount = cells[col["amount"]]
        assert amount.data_type == "n"
        assert _number(amount.value) == source.amount.to_decimal()
        assert amount.number_format == ("#,##0" if source.amount.currency == "JPY" else "#,##0.00")
        eur = cells[col["eur_amount"]]
        assert _number(eur.value) == source.eur.to_decimal() and eur.number_format == "#,##0.00"
        shares = [_number(cells[col[f"share_{c}_eur"]].value) for c in JURISDICTIONS]
        assert sum(shares) == source.eur.to_decimal()
        payable_on = cells[col["payable_on"]]
        assert payable_on.is_date and payable_on.value.date() == source.created_at.date()
        assert cells[col["currency"]].value == source.amount.currency
        assert cells[col["end_to_end_id"]].value == source.end_to_end_id
    gbp = rows[2]
    assert _number(gbp[col["rate"]].value) == Decimal("0.8512")
    assert gbp[col["rate_date"]].is_date and gbp[col["rate_date"]].value.date() == date(2026, 3, 13)
    assert rows[4][col["paid_on"]].value.date() == date(2026, 3, 20)
    assert rows[1][col["rate"]].value is None


@pytest.mark.parametrize("hostile", HOSTILE[:4])
def test_xlsx_keeps_hostile_text_as_text_never_a_formula(hostile):
    data = exports.batch_xlsx(Batch(1, [item(1, "10.00", payee_name=hostile, description=hostile)]))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    col = {name: i for i, name in enumerate(HEADER)}
    row = next(sheet.iter_rows(min_row=2))
    for name in ("payee_name", "description"):
        assert row[col[name]].data_type == "s" and row[col[name]].value == hostile


# --- SEPA ----------------------------------------------------------------------------------

ACCOUNTS = {
    1: PayeeAccount("Ada Lovelace", "FR14 2004 1010 0505 0001 3M02 606", "PSSTFRPPPAR"),
    2: PayeeAccount("Gina Grant", "GB33BUKB20201555555555", "BUKBGB22"),
    3: PayeeAccount("Kyoto Cloud KK", "NL91ABNA0417164300", None),
    4: PayeeAccount("Penny", "BE68539007547034", None),
    5: PayeeAccount("Bob Builder", "NL91ABNA0417164300", "ABNANL2A"),
}


def eur_batch() -> Batch:
    return Batch(8, [item(1, "1234.50"), item(3, "0.07", payee_name="Kyoto Cloud KK", payee_id=9,
                                              payee_kind="organisation"),
                     item(5, "250000.00", payee_name="Bob Builder", payee_id=5)])


def parse_sepa(data: bytes) -> ET.Element:
    xmlschema.XMLSchema(str(XSD)).validate(data.decode("utf-8"))
    return ET.fromstring(data)


def test_sepa_file_holds_every_eur_item_with_its_amount_reference_and_account():
    batch = eur_batch()
    root = parse_sepa(sepa.batch_sepa(batch, debtor=DEBTOR, ibans=ACCOUNTS, execution_date=TOMORROW))
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header.findtext("p:NbOfTxs", namespaces=NS) == "3"
    assert header.findtext("p:CtrlSum", namespaces=NS) == "251234.57"
    [payment] = root.findall("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert payment.findtext("p:ReqdExctnDt", namespaces=NS) == TOMORROW.isoformat()
    assert payment.findtext("p:Dbtr/p:Nm", namespaces=NS) == DEBTOR.name
    assert payment.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == DEBTOR.iban
    assert payment.findtext("p:DbtrAgt/p:FinInstnId/p:BIC", namespaces=NS) == DEBTOR.bic
    assert payment.findtext("p:CtrlSum", namespaces=NS) == "251234.57"
    transfers = payment.findall("p:CdtTrfTxInf", NS)
    by_reference = {t.findtext("p:PmtId/p:EndToEndId", namespaces=NS): t for t in transfers}
    assert set(by_reference) == {i.end_to_end_id for i in batch.items}
    total = 0
    for source in batch.items:
        transfer = by_reference[source.end_to_end_id]
        amount = transfer.find("p:Amt/p:InstdAmt", NS)
        assert amount.get("Ccy") == "EUR"
        assert Money.parse(amount.text, "EUR") == source.amount
        total += Money.parse(amount.text, "EUR").minor
        account = ACCOUNTS[source.id]
        assert transfer.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == "".join(account.iban.split())
        assert transfer.findtext("p:CdtrAgt/p:FinInstnId/p:BIC", namespaces=NS) == account.bic
        assert transfer.findtext("p:Cdtr/p:Nm", namespaces=NS) == account.holder_name
        assert transfer.findtext("p:RmtInf/p:Ustrd", namespaces=NS) == source.description
    assert Money(total, "EUR") == Money.parse(header.findtext("p:CtrlSum", namespaces=NS), "EUR")


def test_sepa_refuses_a_batch_with_other_currencies_unless_asked_to_leave_them_out():
    batch = sample_batch()
    refusal = r"2 item\(s\) not in EUR.*item 2 \(GBP 999.99\), item 3 \(JPY 1500\)"
    with pytest.raises(InvalidInput, match=refusal):
        sepa.batch_sepa(batch, debtor=DEBTOR, ibans=ACCOUNTS, execution_date=TOMORROW)
    plan = sepa.sepa_plan(batch)
    assert [i.id for i in plan.to_pay] == [1]
    assert [(s.item.id, s.reason) for s in plan.skipped] == [
        (2, "in GBP, not EUR: pay it another way"), (3, "in JPY, not EUR: pay it another way"),
        (4, "not to pay (paid)")]
    root = parse_sepa(sepa.batch_sepa(batch, debtor=DEBTOR, ibans=ACCOUNTS, execution_date=TOMORROW,
                                      skip_non_eur=True))
    references = [e.text for e in root.iter(f"{{{NS['p']}}}EndToEndId")]
    assert references == ["BOUNTY-1-1"]  # the paid item is never paid twice
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "1234.50"


def test_sepa_refuses_a_batch_with_nothing_to_pay():
    batch = Batch(2, [item(1, "5.00", "GBP", eur="5.87", rate="0.8512")])
    with pytest.raises(InvalidInput, match="no pending EUR item"):
        sepa.batch_sepa(batch, debtor=DEBTOR, ibans=ACCOUNTS, execution_date=TOMORROW, skip_non_eur=True)
    # A cancelled batch: its withdrawn items, whatever their currency, are simply not to pay.
    cancelled = Batch(3, [replace(item(1, "5.00", "GBP", eur="5.87", rate="0.8512"), status="withdrawn",
                                  is_live=False),
                          replace(item(2, "5.00"), status="withdrawn", is_live=False)], status="cancelled")
    assert sepa.sepa_plan(cancelled).other_currencies == ()
    with pytest.raises(InvalidInput, match="batch 3 has no pending EUR item"):
        sepa.batch_sepa(cancelled, debtor=DEBTOR, ibans=ACCOUNTS, execution_date=TOMORROW)


def test_sepa_names_each_payee_with_missing_or_invalid_details_without_showing_them():
    accounts = {**ACCOUNTS, 3: PayeeAccount("Kyoto Cloud KK", "NL91ABNA0417164301", None),
                5: PayeeAccount("Bob Builder", "BR1800360305000010009795493C1", None)}
    accounts.pop(1)
    with pytest.raises(InvalidInput) as refused:
        sepa.batch_sepa(eur_batch(), debtor=DEBTOR, ibans=accounts, execution_date=TOMORROW)
    message = str(refused.value)
    assert "Ada Lovelace (person 1, item 1): no bank details on file" in message
    assert ("Kyoto Cloud KK (organisation 9, item 3): the IBAN is not valid: its check digits are wrong"
            in message)
    assert "Bob Builder (person 5, item 5): the IBAN is of a country outside the SEPA zone" in message
    for secret in ("NL91ABNA0417164301", "4301", "BR18", "9549"):
        assert secret not in message
    bad_bic = {**ACCOUNTS, 5: PayeeAccount("Bob Builder", "NL91ABNA0417164300", "AAAAZZ11")}
    with pytest.raises(InvalidInput, match=r"Bob Builder .*the BIC is not valid: its country code"):
        sepa.batch_sepa(eur_batch(), debtor=DEBTOR, ibans=bad_bic, execution_date=TOMORROW)


def test_sepa_transliterates_hostile_and_accented_text_to_the_sepa_character_set():
    batch = Batch(1, [item(1, "10.00", description="=cmd|' /C calc'!A0 <b>&amp; Zoë", payee_name="x")])
    accounts = {1: PayeeAccount("Łukasz Ørsted & Söhne <GmbH>", "DE89370400440532013000", None)}
    root = parse_sepa(sepa.batch_sepa(batch, debtor=DEBTOR, ibans=accounts, execution_date=TOMORROW))
    transfer = root.find("p:CstmrCdtTrfInitn/p:PmtInf/p:CdtTrfTxInf", NS)
    assert transfer.findtext("p:Cdtr/p:Nm", namespaces=NS) == "Lukasz Orsted Sohne GmbH"
    assert transfer.findtext("p:RmtInf/p:Ustrd", namespaces=NS) == "cmd ' /C calc' A0 b amp Zoe"
    assert sepa.sepa_text("€ 5 owed to Jürgen", 12) == "EUR 5 owed t"
    assert sepa.sepa_text("<>", 5) == "-"


def test_sepa_refuses_an_execution_date_in_the_past_and_a_bad_reference():
    today = date(2026, 5, 1)
    assert sepa.check_execution_date(today, today) == today
    with pytest.raises(InvalidInput, match="2026-04-30 is in the past"):
        sepa.check_execution_date(date(2026, 4, 30), today)
    batch = Batch(1, [item(1, "10.00", end_to_end_id="has space and far too long for a SEPA ref")])
    with pytest.raises(InconsistentBatch, match="not a SEPA reference"):
        sepa.batch_sepa(batch, debtor=DEBTOR, ibans=ACCOUNTS, execution_date=TOMORROW)


@pytest.mark.parametrize(("name", "iban", "bic", "message"), [
    ("", "DE89370400440532013000", "", "SEPA_DEBTOR_NAME: is not set"),
    ("Coop", "", None, "SEPA_DEBTOR_IBAN: is not set"),
    ("Coop", "DE89370400440532013001", None, "SEPA_DEBTOR_IBAN: the IBAN is not valid: its check digits"),
    ("Coop", "DE89370400440532013000", "AAAAZZ11", "SEPA_DEBTOR_BIC: the BIC is not valid"),
])
def test_the_debtor_must_be_set_and_valid(name, iban, bic, message):
    with pytest.raises(InvalidInput, match=message):
        sepa.debtor_from_settings(name, iban, bic)


def test_the_debtor_is_normalised():
    debtor = sepa.debtor_from_settings(" Coop ", "de89 3704 0044 0532 0130 00", " cobadeffxxx")
    assert debtor == Debtor("Coop", "DE89370400440532013000", "COBADEFFXXX")
    assert sepa.debtor_from_settings("Coop", "DE89370400440532013000", "").bic is None
