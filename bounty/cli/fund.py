"""`bounty fund`: splitting an amount across the jurisdictions by share, and recording what
members paid in."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import click
from flask.cli import with_appcontext

from bounty.cli.common import fail, operator, refusals_exit_2
from bounty.extensions import db
from bounty.ledger import Money, parse_shares
from bounty.services import funds


@click.group("fund", help="The pooled fund: allocation by jurisdiction share, members' payments.")
def group() -> None:
    pass


@group.command("allocate", help=(
    "Split AMOUNT across the jurisdictions by share, exact to the minor unit (largest "
    "remainder). Shares come from --shares, else those in force in --year (default: this "
    "year) as recorded in the database, else as published in seed/jurisdictions.toml."
))
@click.option("--amount", required=True, help="Decimal amount, e.g. 10000000 or 0.03.")
@click.option("--currency", required=True, help="ISO 4217 code, e.g. EUR.")
@click.option("--year", type=int, default=None, help="Use the shares in force in this year.")
@click.option("--shares", "shares_text", default=None, help="Explicit shares: EU=0.5,UK=0.25,CA=0.15,AU=0.1")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
@with_appcontext
@refusals_exit_2
def allocate(amount: str, currency: str, year: int | None, shares_text: str | None, fmt: str) -> None:
    if year is not None and shares_text is not None:
        fail("--year and --shares exclude each other: give one")
    total = Money.parse(amount, currency.strip().upper())
    if total.is_negative():
        fail(f"--amount must not be negative, got {amount}")
    if shares_text is not None:
        shares = parse_shares(shares_text)
    else:
        shares = funds.shares_in_force(db.session, year or datetime.now(UTC).year)
    parts = funds.split(total, shares)
    click.echo(_render(total, shares, parts, fmt), nl=fmt != "csv")


def _share_str(share: Decimal) -> str:
    return format(share.normalize(), "f")


def _render(total: Money, shares: dict[str, Decimal], parts: dict[str, Money], fmt: str) -> str:
    rows = [(code, _share_str(shares[code]), part.amount_str()) for code, part in parts.items()]
    if fmt == "json":
        return json.dumps({
            "amount": total.amount_str(), "currency": total.currency,
            "parts": [{"jurisdiction": c, "share": s, "amount": a} for c, s, a in rows],
        }, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["jurisdiction", "share", "amount", "currency"])
        writer.writerows([(c, s, a, total.currency) for c, s, a in rows])
        return out.getvalue()
    width = max(len(total.amount_str()), *(len(a) for _, _, a in rows))
    lines = [f"{'jurisdiction':<12} {'share':>8} {'amount':>{width}} {total.currency}"]
    lines += [f"{c:<12} {s:>8} {a:>{width}}" for c, s, a in rows]
    lines.append(f"{'total':<12} {'1':>8} {total.amount_str():>{width}}")
    return "\n".join(lines)


@group.command("record-payment", help=(
    "Record money a member paid in against what it owes by its shares (the bank's "
    "reference makes it idempotent: recording the same payment twice changes nothing)."
))
@click.option("--jurisdiction", required=True, help="EU, UK, CA or AU.")
@click.option("--amount", required=True, help="Decimal amount, e.g. 2500000.")
@click.option("--currency", default="EUR", show_default=True, help="ISO 4217 code of the payment.")
@click.option("--on", "paid_on", required=True, help="The day the money arrived, YYYY-MM-DD.")
@click.option("--reference", required=True, help="The bank's reference of the payment.")
@with_appcontext
@refusals_exit_2
def record_payment(jurisdiction: str, amount: str, currency: str, paid_on: str, reference: str) -> None:
    try:
        day = date.fromisoformat(paid_on)
    except ValueError:
        fail(f"--on must be a date as YYYY-MM-DD, got {paid_on!r}")
    payment = Money.parse(amount, currency.strip().upper())
    posted = funds.record_member_payment(db.session, operator(), jurisdiction, payment, paid_on=day,
                                         reference=reference)
    outcome = "recorded" if posted.created else "already recorded, nothing changed"
    click.echo(f"{jurisdiction.strip().upper()} paid {payment} on {day.isoformat()}: {outcome} "
               f"(transaction {posted.transaction_id})")
