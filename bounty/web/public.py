"""Public pages: the health check and the landing page (the programme's pools and shares)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import Blueprint, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import text

from bounty.extensions import db
from bounty.ledger import InvalidShares, Money
from bounty.models.funds import POOL_KINDS
from bounty.models.migrate import current_revision
from bounty.models.people import JURISDICTION_CODES
from bounty.services import funds

bp = Blueprint("public", __name__)

# Years the landing page accepts in `?year=`; anything else is a typing mistake.
MIN_YEAR, MAX_YEAR = 2000, 2100

POOL_LABELS = {
    "development_fund": _l("Sovereign Cloud Development Fund"),
    "bounty_pool": _l("Bounty Pool"),
    "conference_sponsorship": _l("Conference sponsorship"),
}

JURISDICTION_NAMES = {
    "EU": _l("European Union"),
    "UK": _l("United Kingdom"),
    "CA": _l("Canada"),
    "AU": _l("Australia"),
}


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers and carries a migrated schema, 503 otherwise; never 500."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(db.engine)
    # Whatever keeps the database from answering makes the instance unhealthy, not broken.
    except Exception:
        return _health(503, status="error", database="unreachable")
    if revision is None:
        return _health(503, status="error", database="not migrated")
    return _health(200, status="ok", database="ok", revision=revision)


def _health(code: int, **body: str) -> ResponseReturnValue:
    response = jsonify(body)
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response


@dataclass(frozen=True)
class MemberRow:
    """One jurisdiction on the landing page: its share and its part of each pool."""

    code: str
    name: str
    share: Decimal
    parts: list[Money]


@bp.get("/")
def landing() -> ResponseReturnValue:
    """What the programme is, and its pools and shares for the programme year (`?year=`)."""
    default_year = current_app.config["PROGRAMME_YEAR"] or date.today().year
    asked = request.args.get("year", "").strip()
    year, year_error = default_year, None
    if asked:
        parsed = _parse_year(asked)
        if parsed is None:
            year_error = _("“%(value)s” is not a year: enter a year such as %(example)s, "
                           "between %(low)s and %(high)s.", value=asked[:20],
                           example=default_year, low=MIN_YEAR, high=MAX_YEAR)
        else:
            year = parsed

    session = db.session
    pools = sorted(funds.pool_statuses(session, year), key=_pool_order)
    try:
        shares = funds.shares_for_year(session, year)
    except InvalidShares:
        shares = {}
    members = _member_rows(pools, shares)
    page = render_template(
        "pages/landing.html", year=year, asked_year=asked if year_error else str(year),
        year_error=year_error, min_year=MIN_YEAR, max_year=MAX_YEAR, pools=pools,
        pool_labels={p.kind: str(POOL_LABELS.get(p.kind, p.name)) for p in pools},
        members=members, is_empty=not pools and not shares,
    )
    return page, 400 if year_error else 200


def _parse_year(value: str) -> int | None:
    if not (value.isascii() and value.isdigit()):
        return None
    year = int(value)
    return year if MIN_YEAR <= year <= MAX_YEAR else None


def _pool_order(status: funds.PoolStatus) -> tuple[int, int]:
    rank = POOL_KINDS.index(status.kind) if status.kind in POOL_KINDS else len(POOL_KINDS)
    return rank, status.pool_id


def _member_rows(pools: list[funds.PoolStatus], shares: dict[str, Decimal]) -> list[MemberRow]:
    """Each member's share and part of each pool's planned size, exact to the minor unit."""
    if not shares:
        return []
    splits = [funds.split(pool.planned, shares) for pool in pools]
    known = {code: i for i, code in enumerate(JURISDICTION_CODES)}
    ordered = sorted(shares, key=lambda code: (known.get(code, len(known)), code))
    return [
        MemberRow(code, str(JURISDICTION_NAMES.get(code, code)), shares[code],
                  [parts[code] for parts in splits])
        for code in ordered
    ]
