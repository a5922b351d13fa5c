"""`bounty payouts`: payout batches from the terminal — create, list, show, export (CSV, XLSX,
SEPA pain.001), import the bank's confirmation, cancel, claw back a paid item.

The operator acts as finance (`operator()`). Refusals exit 2 with one line, except a refused
confirmation file, whose problems are printed one per line (also exit 2). An export writes its
file only once it is complete: built in memory, written to a temporary name, renamed at the end.
Formats and columns: docs/exports.md; the rules of batches: docs/payouts.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from bounty.cli.common import BAD_INPUT, fail, operator, refusals_exit_2
from bounty.exports import payouts as exports
from bounty.exports import sepa
from bounty.extensions import db
from bounty.ledger import Money
from bounty.services import payouts
from bounty.services.actors import Actor
from bounty.services.payouts import BatchItemView, BatchView, ConfirmationRejected

FORMATS = ("csv", "xlsx", "sepa")
OUTPUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.group("payouts", help=(
    "Payout batches: gather what is payable, export it for the bank (CSV, XLSX, SEPA), import the "
    "bank's confirmation, cancel a batch, claw back a paid item."
))
def group() -> None:
    pass


def _totals(view: BatchView) -> str:
    amounts = ", ".join(str(m) for m in view.totals.values()) or "nothing"
    return f"{amounts} (EUR equivalent {view.eur_total})"


def _selection(view: BatchView) -> str:
    return f"currency {view.currency or 'any'}, jurisdiction {view.jurisdiction_code or 'any'}"


def _item_line(item: BatchItemView) -> str:
    shares = " ".join(f"{code} {item.shares[code].amount_str()}" for code in exports.JURISDICTIONS
                      if code in item.shares)
    paid = f" on {item.paid_on.isoformat()}" if item.paid_on else ""
    return (f"  item {item.id} {item.end_to_end_id} {item.status}{paid}: {item.amount} to "
            f"{item.payee_kind} {item.payee_name} ({item.payee_id}); EUR {item.eur.amount_str()} [{shares}]; "
            f"{item.description}")


@group.command("create", help=(
    "Gather everything payable (approved bounties, signed-off grant tranches) not yet in a batch, "
    "optionally of one currency or one jurisdiction. Asking again for the same selection while "
    "its batch is open shows that batch."
))
@click.option("--currency", default=None, help="Only items in this currency (ISO 4217, e.g. EUR).")
@click.option("--jurisdiction", default=None, help="Only payees of this jurisdiction (EU, UK, CA, AU).")
@with_appcontext
@refusals_exit_2
def create(currency: str | None, jurisdiction: str | None) -> None:
    actor = operator()
    batch = payouts.create_batch(db.session, actor, currency=currency, jurisdiction=jurisdiction)
    view = payouts.get_batch(db.session, actor, batch.id)
    click.echo(f"payout batch {view.id} ({view.status}; {_selection(view)}): {len(view.live_items)} items, "
               f"{_totals(view)}")


@group.command("list", help="Every payout batch, newest first: status, selection, items and totals.")
@with_appcontext
@refusals_exit_2
def list_command() -> None:
    views = payouts.list_batches(db.session, operator())
    if not views:
        click.echo("no payout batches")
        return
    rows = [("id", "status", "created", "currency", "jurisdiction", "items", "totals")]
    for view in views:
        rows.append((str(view.id), view.status, view.created_at.date().isoformat(), view.currency or "any",
                     view.jurisdiction_code or "any", str(len(view.live_items)), _totals(view)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)] + [0]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@group.command("show", help="One payout batch with each item: reference, status, payee, amounts, shares.")
@click.argument("batch_id", type=int)
@with_appcontext
@refusals_exit_2
def show(batch_id: int) -> None:
    view = payouts.get_batch(db.session, operator(), batch_id)
    click.echo(f"payout batch {view.id}: {view.status}; {_selection(view)}; created "
               f"{view.created_at.date().isoformat()}")
    if view.exported_at:
        click.echo(f"exported {view.exported_at.date().isoformat()}")
    if view.paid_at:
        click.echo(f"paid {view.paid_at.date().isoformat()}")
    click.echo(f"{len(view.live_items)} items, {_totals(view)}")
    for item in view.items:
        click.echo(_item_line(item))


def _execution_date(text: str | None) -> date:
    if text is None:
        return datetime.now(UTC).date()
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        fail(f"--execution-date must be a date such as 2026-12-31, got {text!r}")
    return sepa.check_execution_date(day)


def _sepa_file(actor: Actor, view: BatchView, execution_date: date, skip_non_eur: bool) -> bytes:
    config = current_app.config
    debtor = sepa.debtor_from_settings(config.get("SEPA_DEBTOR_NAME"), config.get("SEPA_DEBTOR_IBAN"),
                                       config.get("SEPA_DEBTOR_BIC"))
    data = sepa.batch_sepa(view, debtor=debtor, execution_date=execution_date, skip_non_eur=skip_non_eur,
                           ibans=sepa.payee_accounts(db.session, actor, view,
                                                     key=config.get("BANK_DETAILS_KEY") or ""))
    for skipped in sepa.sepa_plan(view).skipped:
        item = skipped.item
        click.echo(f"left out: item {item.id} {item.end_to_end_id} ({item.amount}, {item.payee_name}): "
                   f"{skipped.reason}", err=True)
    return data


def _write(output: Path, data: bytes, actor: Actor, view: BatchView) -> None:
    """Write `data` under a temporary name, record the batch as exported when it was open, then
    rename: the file appears complete, and only once the batch says it left."""
    partial = output.with_name(f".{output.name}.part")
    try:
        partial.write_bytes(data)
        if view.status == "open":
            payouts.mark_exported(db.session, actor, view.id)
        partial.replace(output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        fail(f"--output: cannot write {output}: {exc.strerror or exc}")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@group.command("export", help=(
    "Write a payout batch to a file: csv or xlsx (every item, amounts with the EUR equivalent and "
    "each jurisdiction's share) or sepa (a pain.001 credit transfer of the pending EUR items, from "
    "the account of BOUNTY_SEPA_DEBTOR_NAME/IBAN/BIC). An open batch becomes exported."
))
@click.argument("batch_id", type=int)
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="The file's format.")
@click.option("--output", type=OUTPUT, required=True, help="The file to write.")
@click.option("--execution-date", "execution_date", default=None,
              help="SEPA only: the day the bank should pay, YYYY-MM-DD (default: today, UTC).")
@click.option("--skip-non-eur", is_flag=True,
              help="SEPA only: leave out items not in EUR (listed) instead of refusing the batch.")
@with_appcontext
@refusals_exit_2
def export(batch_id: int, fmt: str, output: Path, execution_date: str | None, skip_non_eur: bool) -> None:
    actor = operator()
    if fmt != "sepa" and (execution_date is not None or skip_non_eur):
        fail("--execution-date and --skip-non-eur are for --format sepa only")
    view = payouts.get_batch(db.session, actor, batch_id)
    if fmt == "csv":
        data = exports.batch_csv(view)
    elif fmt == "xlsx":
        data = exports.batch_xlsx(view)
    else:
        data = _sepa_file(actor, view, _execution_date(execution_date), skip_non_eur)
    _write(output, data, actor, view)
    if fmt == "sepa":
        paid = sepa.sepa_plan(view).to_pay
        total = Money(sum(item.amount.minor for item in paid), "EUR")
        click.echo(f"wrote {output}: payout batch {view.id}, {len(paid)} SEPA transfers, {total}")
    else:
        click.echo(f"wrote {output}: payout batch {view.id}, {len(view.items)} items, {_totals(view)}")


@group.command("confirm", help=(
    "Import the bank's confirmation of a batch: a CSV with a header end_to_end_id,amount,date and "
    "one line per payment. All or nothing: any bad line refuses the file, every problem is "
    "listed, nothing is applied. The same file again changes nothing."
))
@click.argument("batch_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
@refusals_exit_2
def confirm(batch_id: int, file: Path) -> None:
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    try:
        result = payouts.import_confirmation(db.session, operator(), batch_id, data)
    except ConfirmationRejected as rejected:
        click.echo(f"error: the confirmation for payout batch {batch_id} was refused; nothing was applied:",
                   err=True)
        for problem in rejected.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(BAD_INPUT) from None
    click.echo(result.summary())
    for line in result.paid:
        click.echo(f"  paid item {line.item_id} {line.end_to_end_id}: {line.amount} on "
                   f"{line.paid_on.isoformat()} (transaction {line.transaction_id})")


@group.command("cancel", help=(
    "Cancel a batch: its unpaid items are withdrawn and may be batched again; items already paid "
    "stay paid (the batch then ends as paid)."
))
@click.argument("batch_id", type=int)
@click.option("--reason", required=True, help="Why the batch is cancelled (recorded in the audit log).")
@with_appcontext
@refusals_exit_2
def cancel(batch_id: int, reason: str) -> None:
    batch = payouts.cancel_batch(db.session, operator(), batch_id, reason)
    withdrawn = sum(1 for item in batch.items if item.status == "withdrawn")
    click.echo(f"payout batch {batch.id} is {batch.status}: {withdrawn} items withdrawn")


@group.command("claw-back", help=(
    "Claw back a paid item (a reverted fix, say): its payable is reversed by a transaction tied to "
    "the original, the reserve returns to the pool and the payee owes what was paid."
))
@click.argument("item_id", type=int)
@click.option("--reason", required=True, help="Why the payment is clawed back (recorded in the audit log).")
@with_appcontext
@refusals_exit_2
def claw_back(item_id: int, reason: str) -> None:
    item = payouts.claw_back(db.session, operator(), item_id, reason)
    amount = Money(item.amount_minor, item.currency)
    click.echo(f"payout item {item.id} {item.end_to_end_id} is clawed back: {amount} "
               f"(reversal transaction {item.clawback_transaction_id})")
