"""`bounty ledger`: checking the ledger's invariants, account balances and the trial balance.

`check` exits 1 when it finds a violation (one per line on stdout), so it can run from
cron or CI; bad input to any command exits 2 with one line.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import click
from flask.cli import with_appcontext

from bounty.cli.common import fail, refusals_exit_2
from bounty.extensions import db
from bounty.ledger import Money
from bounty.services import journal, ledger_check

VIOLATIONS_FOUND = 1


@click.group("ledger", help="The double-entry ledger: integrity check, balances, trial balance.")
def group() -> None:
    pass


def _as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"--as-of must be a date such as 2026-12-31, got {text!r}")


@group.command("check", help=(
    "Verify every ledger invariant: transactions balance per currency and match the digest "
    "of their lines, line currencies match their accounts, guarded accounts are not negative, "
    "reservations agree with the pools, reversals mirror their originals. Exits 1 on any "
    "violation."
))
@with_appcontext
@refusals_exit_2
def check() -> None:
    result = ledger_check.report(db.session)
    if result.violations:
        for violation in result.violations:
            click.echo(str(violation))
        click.echo(f"ledger check failed: {len(result.violations)} violation(s)", err=True)
        raise SystemExit(VIOLATIONS_FOUND)
    click.echo(f"ledger ok: {result.transactions} transactions, {result.lines} lines checked")


@group.command("balance", help="The balance of account CODE on its normal side.")
@click.argument("code")
@click.option("--as-of", "as_of", default=None, help="Only transactions effective on or before YYYY-MM-DD.")
@with_appcontext
@refusals_exit_2
def balance(code: str, as_of: str | None) -> None:
    amount = journal.balance(db.session, code.strip(), _as_of(as_of))
    click.echo(f"{code.strip()} {amount}")


@group.command("trial-balance", help=(
    "Every account's net balance on the debit or credit side, with totals per currency "
    "(table). The csv format has one row per account."
))
@click.option("--as-of", "as_of", default=None, help="Only transactions effective on or before YYYY-MM-DD.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
@with_appcontext
@refusals_exit_2
def trial_balance(as_of: str | None, fmt: str) -> None:
    rows = journal.trial_balance(db.session, _as_of(as_of))
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["account", "name", "currency", "debit", "credit"])
        for row in rows:
            writer.writerow([row.code, row.name, row.currency, _amount(row.debit_minor, row.currency),
                             _amount(row.credit_minor, row.currency)])
        click.echo(out.getvalue(), nl=False)
        return
    if not rows:
        click.echo("no ledger lines" + (f" effective on or before {as_of}" if as_of else ""))
        return
    click.echo(_table(rows))


def _amount(minor: int, currency: str) -> str:
    return Money(minor, currency).amount_str() if minor else ""


def _table(rows: list[journal.TrialBalanceRow]) -> str:
    totals = journal.trial_balance_totals(rows)
    body = [(r.code, r.currency, _amount(r.debit_minor, r.currency), _amount(r.credit_minor, r.currency))
            for r in rows]
    body += [("total", cur, Money(d, cur).amount_str(), Money(c, cur).amount_str())
             for cur, (d, c) in sorted(totals.items())]
    code_w = max(len("account"), *(len(code) for code, *_ in body))
    num_w = max(len("credit"), *(len(x) for _, _, d, c in body for x in (d, c)))
    lines = [f"{'account':<{code_w}}  cur  {'debit':>{num_w}}  {'credit':>{num_w}}"]
    for index, (code, cur, debit, credit) in enumerate(body):
        if index == len(rows):
            lines.append("-" * len(lines[0]))
        lines.append(f"{code:<{code_w}}  {cur:<3}  {debit:>{num_w}}  {credit:>{num_w}}")
    return "\n".join(lines)
