"""Issue 5's acceptance: a full year walked through in one test, on SQLite and PostgreSQL.

The pools are funded by share; bounties are approved and grant tranches signed off in EUR,
GBP and CAD; one batch takes everything; it is exported as CSV, XLSX and SEPA and each file
is parsed back (every amount, the EUR equivalent, each jurisdiction's part summing to the item
and equal to its ledger line); the bank's confirmation, built from the batch, is imported (and
again, changing nothing); `bounty ledger check` is clean; the jurisdictions' statements sum to
the fund and to every payout. A claw-back then keeps all of that true.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import sepaxml
import xmlschema
from sqlalchemy import func, select

from bounty import create_app
from bounty.cli import ledger as ledger_cli
from bounty.exports import payouts as exports
from bounty.exports import sepa
from bounty.exports.payouts import HEADER, JURISDICTIONS
from bounty.ledger import Money, allocate
from bounty.models import Account, LedgerLine, LedgerTransaction, Person, utcnow
from bounty.services import funds, journal, ledger_check, payouts, statements
from bounty.services.actors import SYSTEM
from tests import payout_factories as pf
from tests import workflow_factories as wf

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
XSD = xmlschema.XMLSchema(str(Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"))
DEBTOR = sepa.debtor_from_settings("Sovereign Cloud Cooperative", "BE68539007547034", None)
CODES = ("AU", "CA", "EU", "UK")


def borne_lines(session, transaction_id: int) -> dict[str, Money]:
    """Each jurisdiction's part of a payable, read from the ledger itself (zero parts left out)."""
    rows = session.execute(
        select(Account.code, LedgerLine.amount_minor).join(Account, Account.id == LedgerLine.account_id)
        .where(LedgerLine.transaction_id == transaction_id, Account.code.like("member:%:borne")))
    return {code.split(":")[1]: Money(int(minor), "EUR") for code, minor in rows if minor}


def year_statements(session, year: int) -> dict[str, statements.JurisdictionStatement]:
    span = statements.period(year)
    return {code: statements.jurisdiction_statement(session, SYSTEM, code, span) for code in CODES}


def assert_statements_sum_to_the_fund(session, year: int) -> dict[str, statements.JurisdictionStatement]:
    result = year_statements(session, year)
    shares = funds.shares_for_year(session, year)
    pools = funds.pool_statuses(session, year)
    assert pools
    for pool in pools:
        owed = {code: next((p.owed for p in s.pools if p.pool_id == pool.pool_id), Money.zero("EUR"))
                for code, s in result.items()}
        assert owed == allocate(pool.funded, shares), pool.name  # funded by share, to the cent
    assert sum(s.owed.minor for s in result.values()) == sum(p.funded.minor for p in pools)
    assert sum(s.borne.minor for s in result.values()) == sum(p.spent.minor for p in pools)
    assert sum(s.balance.minor for s in result.values()) == sum(p.available.minor + p.reserved.minor
                                                                 for p in pools)
    # Every payout (and reversal): the four members' parts sum to it exactly.
    keys = {p.idempotency_key for s in result.values() for p in s.payouts}
    for key in keys:
        parts = [p for s in result.values() for p in s.payouts if p.idempotency_key == key]
        assert len({p.total for p in parts}) == 1
        assert sum(p.part.minor for p in parts) == parts[0].total.minor, key
    return result


def ledger_check_command(db_url: str, session) -> tuple[int, str]:
    """`bounty ledger check` as an operator runs it."""
    app = create_app({"ENV": "testing", "DATABASE_URL": db_url})
    session.close()  # on SQLite an open transaction would hold the file lock
    try:
        result = app.test_cli_runner().invoke(ledger_cli.group, ["check"])
    finally:
        app.extensions["bounty.db"].engine.dispose()
    return result.exit_code, result.output


def test_a_full_year(session, db_url):
    year = utcnow().year
    wf.reference(session)

    # 1. The pools are funded by share: each member owes its share of every pool, exactly.
    funded = assert_statements_sum_to_the_fund(session, year)
    assert all(s.owed.minor > 0 and s.borne.minor == 0 for s in funded.values())

    # 2. Bounties approved and grant tranches signed off, in EUR, GBP and CAD.
    world = pf.world(session)
    colin = session.get(Person, world.ca.person_id)
    pf.signed_off_grant(session, person=colin, currency="CAD", amounts=("7500.25", "2500"))
    pf.approved(session, world.eu, "EUR", "980.10", title="Fix the EUR agent")

    # 3. One batch takes everything payable.
    batch = payouts.create_batch(session, world.finance)
    view = payouts.get_batch(session, world.finance, batch.id)
    assert {i.amount.currency for i in view.items} == {"EUR", "GBP", "CAD"}
    assert {(i.kind, i.amount.currency) for i in view.items} >= {
        ("bounty", "EUR"), ("bounty", "GBP"), ("bounty", "CAD"),
        ("tranche", "EUR"), ("tranche", "GBP"), ("tranche", "CAD")}
    assert payouts.payable_items(session, world.finance) == []
    ledger_parts = {item.id: borne_lines(session, item.payable_transaction_id) for item in view.items}

    # 4a. CSV, parsed back: every amount, and the parts summing to the item as in the ledger.
    rows = list(csv.DictReader(io.StringIO(exports.batch_csv(view).decode("utf-8"), newline="")))
    assert tuple(rows[0]) == HEADER and len(rows) == len(view.items)
    for row, item in zip(rows, view.items, strict=True):
        assert (int(row["item_id"]), row["end_to_end_id"], row["status"]) == (item.id, item.end_to_end_id,
                                                                               "pending")
        assert Money.parse(row["amount"], row["currency"]) == item.amount
        assert Money.parse(row["eur_amount"], "EUR") == item.eur
        parts = {c: Money.parse(row[f"share_{c}_eur"], "EUR") for c in JURISDICTIONS}
        assert sum(p.minor for p in parts.values()) == item.eur.minor
        assert {c: m for c, m in parts.items() if m.minor} == ledger_parts[item.id]
        if item.amount.currency == "EUR":
            assert (row["rate"], row["rate_date"]) == ("", "") and item.eur == item.amount
        else:
            assert Decimal(row["rate"]) == item.rate and row["rate_date"] == item.rate_date.isoformat()

    # 4b. XLSX, parsed back: typed numbers and dates with the same values.
    sheet = openpyxl.load_workbook(io.BytesIO(exports.batch_xlsx(view)))[f"Batch {view.id}"]
    col = {name: i for i, name in enumerate(HEADER)}
    cells = list(sheet.iter_rows(min_row=2))
    assert len(cells) == len(view.items)
    for xrow, item in zip(cells, view.items, strict=True):
        assert xrow[col["end_to_end_id"]].value == item.end_to_end_id
        assert Decimal(str(xrow[col["amount"]].value)) == item.amount.to_decimal()
        assert Decimal(str(xrow[col["eur_amount"]].value)) == item.eur.to_decimal()
        parts = [Decimal(str(xrow[col[f"share_{c}_eur"]].value)) for c in JURISDICTIONS]
        assert sum(parts) == item.eur.to_decimal()
        assert xrow[col["payable_on"]].is_date

    # 4c. SEPA, parsed back: the EUR items, to the payees' IBANs; the others left out, named.
    eur_items = [i for i in view.items if i.amount.currency == "EUR"]
    accounts = sepa.payee_accounts(session, world.finance, view, key=pf.KEY)
    data = sepa.batch_sepa(view, debtor=DEBTOR, ibans=accounts, execution_date=utcnow().date() + timedelta(1),
                           skip_non_eur=True)
    XSD.validate(data.decode())
    root = ET.fromstring(data)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert int(header.findtext("p:NbOfTxs", namespaces=NS)) == len(eur_items) == 3
    assert Money.parse(header.findtext("p:CtrlSum", namespaces=NS), "EUR") == Money(
        sum(i.amount.minor for i in eur_items), "EUR")
    transfers = {t.findtext("p:PmtId/p:EndToEndId", namespaces=NS): t
                 for t in root.iter(f"{{{NS['p']}}}CdtTrfTxInf")}
    expected_iban = {("person", world.eu.person_id): pf.IBANS["EU"],
                     ("organisation", world.org.id): pf.IBANS["FR"]}
    for item in eur_items:
        transfer = transfers[item.end_to_end_id]
        assert Money.parse(transfer.findtext("p:Amt/p:InstdAmt", namespaces=NS), "EUR") == item.amount
        assert transfer.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == expected_iban[
            (item.payee_kind, item.payee_id)]
    assert {s.item.id for s in sepa.sepa_plan(view).other_currencies} == {
        i.id for i in view.items if i.amount.currency != "EUR"}
    payouts.mark_exported(session, world.finance, view.id)

    # 5. The bank's confirmation, built from the batch: everything paid, once.
    confirmation = pf.confirmation_csv(view)
    result = payouts.import_confirmation(session, world.finance, view.id, confirmation)
    assert result.batch_status == "paid" and len(result.paid) == len(view.items)
    payments = select(func.count(LedgerTransaction.id)).where(LedgerTransaction.kind == "payment")
    assert session.execute(payments).scalar_one() == len(view.items)
    again = payouts.import_confirmation(session, world.finance, view.id, confirmation)
    assert again.already_imported and session.execute(payments).scalar_one() == len(view.items)
    payables = session.execute(select(Account.code).where(Account.code.like("payable:%"))).scalars().all()
    assert payables and all(journal.balance(session, code).minor == 0 for code in payables)
    for currency, total in view.totals.items():
        assert journal.balance(session, f"bank:{currency}") == Money(-total.minor, currency)

    # 6. `bounty ledger check` is clean; the statements sum to the fund and carry every payout.
    assert ledger_check.check(session) == []
    code, output = ledger_check_command(db_url, session)
    assert code == 0 and output.startswith("ledger ok:"), output
    result_year = assert_statements_sum_to_the_fund(session, year)
    assert sum(s.borne.minor for s in result_year.values()) == view.eur_total.minor
    for jurisdiction, s in result_year.items():
        assert s.borne.minor == sum(item.shares.get(jurisdiction, Money.zero("EUR")).minor
                                    for item in view.items)

    # 7. A claw-back reverses one payout: everything above stays true, and the payee owes it.
    gbp_bounty = next(i for i in view.items if i.kind == "bounty" and i.amount.currency == "GBP")
    payouts.claw_back(session, world.finance, gbp_bounty.id, "The fix was reverted")
    assert ledger_check.check(session) == []
    code, output = ledger_check_command(db_url, session)
    assert code == 0, output
    after = assert_statements_sum_to_the_fund(session, year)
    assert sum(s.borne.minor for s in after.values()) == view.eur_total.minor - gbp_bounty.eur.minor
    receivable = journal.balance(session, f"payable:person:{gbp_bounty.payee_id}:GBP")
    assert receivable == -gbp_bounty.amount  # a debit: what the payee owes back
