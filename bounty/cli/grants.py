"""`bounty grants`: reading grants and their milestones from the terminal (list, show).

Creating, signing off and cancelling grants are people's decisions, taken on the web pages
and the API, where the person acting is known; the terminal reads.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click
from flask.cli import with_appcontext

from bounty.cli.common import fail, operator, refusals_exit_2
from bounty.extensions import db
from bounty.ledger import Money
from bounty.models.grants import GRANT_STATUSES
from bounty.services import grant_queries
from bounty.services.grant_queries import GrantView

FORMATS = ("table", "json")


@click.group("grants", help="Grants paid in tranches against milestones: list them, show one.")
def group() -> None:
    pass


def _today(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"--today must be a date such as 2026-12-31, got {text!r}")


def _money(amount: Money | None) -> dict[str, str] | None:
    return None if amount is None else {"amount": amount.amount_str(), "currency": amount.currency}


def _as_json(view: GrantView) -> dict[str, Any]:
    return {
        "id": view.id, "title": view.title, "status": view.status, "overdue": view.overdue,
        "grantee": {"kind": view.grantee_kind, "id": view.grantee_id, "name": view.grantee_name},
        "working_group": view.working_group_code, "pool_year": view.pool_year,
        "total": _money(view.total), "total_eur": _money(view.total_eur),
        "signed_off": _money(view.signed_off), "pending": _money(view.pending),
        "created_at": view.created_at.isoformat(),
        "tranches": [{
            "position": t.position, "milestone": t.milestone, "due_on": t.due_on.isoformat(),
            "amount": _money(t.amount), "amount_eur": _money(t.amount_eur), "status": t.status,
            "overdue": t.overdue, "signed_off_by": t.signed_off_by,
            "signed_off_at": t.signed_off_at.isoformat() if t.signed_off_at else None,
            "payable_transaction_id": t.payable_transaction_id,
        } for t in view.tranches],
    }


def _table(views: list[GrantView]) -> str:
    rows = [("id", "status", "grantee", "total", "signed off", "next due", "title")]
    for view in views:
        due = [t for t in view.tranches if t.status == "pending"]
        next_due = (due[0].due_on.isoformat() + (" OVERDUE" if due[0].overdue else "")) if due else "-"
        rows.append((str(view.id), view.status, view.grantee_name, str(view.total), str(view.signed_off),
                     next_due, view.title))
    # Every column padded to its widest cell but the last (the title), which runs on.
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)] + [0]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def _detail(view: GrantView) -> str:
    lines = [f"grant {view.id}: {view.title}",
             f"status {view.status}; grantee {view.grantee_kind} {view.grantee_name} ({view.grantee_id})",
             f"total {view.total} (reserved {view.total_eur} in the {view.pool_year} development fund); "
             f"signed off {view.signed_off}; pending {view.pending}"]
    for t in view.tranches:
        flag = " OVERDUE" if t.overdue else ""
        signed = f" by {t.signed_off_by} on {t.signed_off_at.date().isoformat()}" if t.signed_off_at else ""
        lines.append(f"  {t.position}. due {t.due_on.isoformat()} {t.amount} {t.status}{signed}{flag}: "
                     f"{t.milestone}")
    return "\n".join(lines)


@group.command("list", help=(
    "Grants, newest first: status, grantee, total, what was signed off, and the next milestone "
    "due (marked OVERDUE when pending past its due date). --overdue lists only grants with an "
    "overdue milestone."
))
@click.option("--overdue", is_flag=True, help="Only grants with a pending milestone past its due date.")
@click.option("--status", type=click.Choice(GRANT_STATUSES), default=None, help="Only grants in this status.")
@click.option("--today", "today", default=None, help="Judge overdue as on YYYY-MM-DD (default: today, UTC).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@with_appcontext
@refusals_exit_2
def list_command(overdue: bool, status: str | None, today: str | None, fmt: str) -> None:
    views = grant_queries.list_grants(db.session, operator(), overdue_only=overdue, status=status,
                               today=_today(today))
    if fmt == "json":
        click.echo(json.dumps([_as_json(v) for v in views], indent=2, ensure_ascii=False))
    elif not views:
        click.echo("no overdue grants" if overdue else "no grants")
    else:
        click.echo(_table(views))


@group.command("show", help="One grant with each tranche: due date, amount, status, who signed it off.")
@click.argument("grant_id", type=int)
@click.option("--today", "today", default=None, help="Judge overdue as on YYYY-MM-DD (default: today, UTC).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@with_appcontext
@refusals_exit_2
def show(grant_id: int, today: str | None, fmt: str) -> None:
    view = grant_queries.get_grant(db.session, operator(), grant_id, today=_today(today))
    click.echo(json.dumps(_as_json(view), indent=2, ensure_ascii=False) if fmt == "json" else _detail(view))
