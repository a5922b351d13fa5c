"""`bounty payouts` against a real database of each kind: create, list, show, export (CSV, XLSX,
SEPA), confirm, cancel, claw-back; refusals exit 2 with one line and leave no file behind.

The commands are invoked on the `payouts` group itself, so these tests do not depend on where
the group is registered in the `bounty` command.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from click.testing import Result
from sqlalchemy import select

from bounty import create_app
from bounty.cli import payouts as payouts_cli
from bounty.exports.payouts import HEADER, JURISDICTIONS
from bounty.ledger import Money
from bounty.models import PayoutBatch, PayoutItem, utcnow
from bounty.services import payouts
from tests import payout_factories as pf

Run = Callable[..., Result]
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
DEBTOR = {"SEPA_DEBTOR_NAME": "Sovereign Cloud Cooperative", "SEPA_DEBTOR_IBAN": "BE68 5390 0754 7034",
          "SEPA_DEBTOR_BIC": ""}


def make_runner(db_url, session, **settings: object) -> tuple[Run, Callable[[], None]]:
    app = create_app({"DATABASE_URL": db_url, "ENV": "testing", "BANK_DETAILS_KEY": pf.KEY, **DEBTOR,
                      **settings})
    runner = app.test_cli_runner()

    def invoke(*args: str) -> Result:
        # Release the test's connection first: on SQLite an open transaction holds the file lock.
        session.close()
        return runner.invoke(payouts_cli.group, list(args))

    return invoke, app.extensions["bounty.db"].engine.dispose


@pytest.fixture
def out_dir(tmp_path) -> Path:
    """Where the exports go (tmp_path also holds the SQLite database)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def run(db_url, session) -> Iterator[Run]:
    invoke, dispose = make_runner(db_url, session)
    yield invoke
    dispose()


def refused(result: Result) -> str:
    """The one-line refusal of a command that exited 2."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def batch_status(session, batch_id: int) -> str:
    session.expire_all()
    return session.execute(select(PayoutBatch.status).where(PayoutBatch.id == batch_id)).scalar_one()


def test_create_is_idempotent_and_list_and_show_describe_the_batch(session, run):
    pf.world(session, grants_too=False)
    created = run("create", "--currency", "gbp")
    assert created.exit_code == 0, created.output
    batch_id = session.execute(select(PayoutBatch.id)).scalar_one()
    assert created.stdout == (f"payout batch {batch_id} (open; currency GBP, jurisdiction any): 1 items, "
                              f"GBP 2000.00 (EUR equivalent EUR 2344.39)\n")
    assert run("create", "--currency", "GBP").stdout == created.stdout
    everything = run("create")
    assert everything.exit_code == 0 and "2 items, CAD 3000.00, EUR 1000.00" in everything.stdout
    listed = run("list").stdout.splitlines()
    assert listed[0].split() == ["id", "status", "created", "currency", "jurisdiction", "items", "totals"]
    assert listed[1].split()[:2] == [str(batch_id + 1), "open"] and "any" in listed[1]
    assert listed[2].split()[:2] == [str(batch_id), "open"] and " GBP " in listed[2]
    shown = run("show", str(batch_id))
    assert shown.exit_code == 0
    [item] = [line for line in shown.stdout.splitlines() if line.startswith("  item ")]
    assert "BTY-B-" in item and "pending" in item and "GBP 2000.00 to person Uma" in item
    assert "EUR 2344.39 [EU " in item and " AU " in item
    assert refused(run("show", "999")) == "error: no payout batch 999"
    assert refused(run("create", "--currency", "XYZ")) == "error: currency: unknown currency 'XYZ'"
    assert "nothing is payable" in refused(run("create", "--jurisdiction", "AU"))


def test_export_csv_and_xlsx_write_complete_files_and_mark_the_batch_exported(session, run, out_dir):
    world = pf.world(session, grants_too=False)
    batch = payouts.create_batch(session, world.finance)
    view = payouts.get_batch(session, world.finance, batch.id)
    out = out_dir / "batch.csv"
    result = run("export", str(batch.id), "--format", "csv", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out}: payout batch {batch.id}, 3 items")
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8"), newline="")))
    assert [Money.parse(r["amount"], r["currency"]) for r in rows] == [i.amount for i in view.items]
    for row in rows:
        parts = sum(Money.parse(row[f"share_{c}_eur"], "EUR").minor for c in JURISDICTIONS)
        assert parts == Money.parse(row["eur_amount"], "EUR").minor
    assert batch_status(session, batch.id) == "exported"
    xlsx = out_dir / "batch.xlsx"
    assert run("export", str(batch.id), "--format", "xlsx", "--output", str(xlsx)).exit_code == 0
    sheet = openpyxl.load_workbook(xlsx).active
    amounts = [row[HEADER.index("amount")].value for row in sheet.iter_rows(min_row=2)]
    assert [Money.parse(str(a), i.amount.currency) for a, i in zip(amounts, view.items, strict=True)] == [
        i.amount for i in view.items]
    assert sorted(p.name for p in out_dir.iterdir()) == ["batch.csv", "batch.xlsx"]  # no .part left


def test_export_sepa_pays_the_eur_items_and_refuses_mixed_batches_without_a_file(session, run, tmp_path):
    world = pf.world(session)
    batch = payouts.create_batch(session, world.finance)
    out = tmp_path / "pain.xml"
    line = refused(run("export", str(batch.id), "--format", "sepa", "--output", str(out)))
    assert "3 item(s) not in EUR" in line and "SEPA cannot pay" in line
    assert not out.exists() and batch_status(session, batch.id) == "open"
    day = (utcnow().date() + timedelta(days=2)).isoformat()
    result = run("export", str(batch.id), "--format", "sepa", "--output", str(out), "--skip-non-eur",
                 "--execution-date", day)
    assert result.exit_code == 0, result.output
    left_out = result.stderr.splitlines()
    assert len(left_out) == 3 and all("not EUR: pay it another way" in text for text in left_out)
    assert result.stdout == f"wrote {out}: payout batch {batch.id}, 2 SEPA transfers, EUR 26000.00\n"
    root = ET.fromstring(out.read_bytes())
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "26000.00"
    assert root.findtext("p:CstmrCdtTrfInitn/p:PmtInf/p:ReqdExctnDt", namespaces=NS) == day
    assert root.findtext("p:CstmrCdtTrfInitn/p:PmtInf/p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == \
        "BE68539007547034"
    assert batch_status(session, batch.id) == "exported"


def test_export_sepa_refusals_leave_no_file(session, run, db_url, out_dir):
    world = pf.world(session, grants_too=False)
    batch = payouts.create_batch(session, world.finance, currency="EUR")
    out = out_dir / "pain.xml"
    yesterday = (utcnow().date() - timedelta(days=1)).isoformat()
    assert "is in the past" in refused(run("export", str(batch.id), "--format", "sepa", "--output", str(out),
                                           "--execution-date", yesterday))
    assert "--execution-date must be a date" in refused(
        run("export", str(batch.id), "--format", "sepa", "--output", str(out), "--execution-date", "soon"))
    assert "for --format sepa only" in refused(
        run("export", str(batch.id), "--format", "csv", "--output", str(out), "--skip-non-eur"))
    for settings, message in (({"SEPA_DEBTOR_IBAN": ""}, "SEPA_DEBTOR_IBAN: is not set"),
                              ({"SEPA_DEBTOR_NAME": " "}, "SEPA_DEBTOR_NAME: is not set"),
                              ({"SEPA_DEBTOR_IBAN": "BE68539007547035"},
                               "SEPA_DEBTOR_IBAN: the IBAN is not valid"),
                              ({"BANK_DETAILS_KEY": ""}, "BOUNTY_BANK_DETAILS_KEY is not set")):
        invoke, dispose = make_runner(db_url, session, **settings)
        try:
            result = invoke("export", str(batch.id), "--format", "sepa", "--output", str(out))
            assert message in refused(result)
        finally:
            dispose()
    assert list(out_dir.iterdir()) == [] and batch_status(session, batch.id) == "open"


def test_confirm_lists_every_problem_then_pays_and_a_second_import_changes_nothing(session, run, tmp_path):
    world = pf.world(session, grants_too=False)
    batch = payouts.create_batch(session, world.finance, currency="EUR")
    view = payouts.get_batch(session, world.finance, batch.id)
    [item] = view.items
    bad = tmp_path / "bad.csv"
    bad.write_text(f"end_to_end_id,amount,date\n{item.end_to_end_id},999.00,2026-13-01\nNOPE,1.00,2026-01-01\n")
    result = run("confirm", str(batch.id), str(bad))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == (f"error: the confirmation for payout batch {batch.id} was refused; "
                        "nothing was applied:")
    assert any(text.startswith("  line 2: ") and "does not match" in text for text in lines[1:])
    assert any(text.startswith("  line 2: ") and "not a date of the calendar" in text for text in lines[1:])
    assert "  line 3: unknown end-to-end id 'NOPE'" in lines
    session.expire_all()
    assert session.get(PayoutItem, item.id).status == "pending"
    good = tmp_path / "good.csv"
    good.write_bytes(pf.confirmation_csv(view))
    paid = run("confirm", str(batch.id), str(good))
    assert paid.exit_code == 0, paid.output
    assert paid.stdout.splitlines()[0] == (f"payout batch {batch.id}: 1 items paid, 0 already paid, "
                                           "from 1 lines; the batch is paid")
    assert f"paid item {item.id} {item.end_to_end_id}: EUR 1000.00" in paid.stdout
    again = run("confirm", str(batch.id), str(good))
    assert again.exit_code == 0 and "already imported" in again.stdout and "nothing changed" in again.stdout
    missing = run("confirm", str(batch.id), str(tmp_path / "missing.csv"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


def test_cancel_and_claw_back(session, run, tmp_path):
    world = pf.world(session, grants_too=False)
    gbp = payouts.create_batch(session, world.finance, currency="GBP")
    assert "--reason" in run("cancel", str(gbp.id)).stderr
    cancelled = run("cancel", str(gbp.id), "--reason", "wrong selection")
    assert cancelled.exit_code == 0
    assert cancelled.stdout == f"payout batch {gbp.id} is cancelled: 1 items withdrawn\n"
    assert "is cancelled" in refused(run("cancel", str(gbp.id), "--reason", "again"))
    eur = payouts.create_batch(session, world.finance, currency="EUR")
    view = payouts.get_batch(session, world.finance, eur.id)
    [item] = view.items
    unpaid = run("claw-back", str(item.id), "--reason", "revert")
    assert "only a paid item can be clawed back" in refused(unpaid)
    payouts.import_confirmation(session, world.finance, eur.id, pf.confirmation_csv(view))
    clawed = run("claw-back", str(item.id), "--reason", "security fix reverted")
    assert clawed.exit_code == 0, clawed.output
    assert clawed.stdout.startswith(f"payout item {item.id} {item.end_to_end_id} is clawed back: EUR 1000.00 "
                                    "(reversal transaction ")
    session.expire_all()
    assert session.get(PayoutItem, item.id).status == "clawed_back"
    assert refused(run("claw-back", "999", "--reason", "x")) == "error: no payout item 999"
