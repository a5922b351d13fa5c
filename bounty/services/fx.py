"""Exchange rates: importing the ECB reference-rate files, and the rate in force on a day.

Rates are EUR based, as the ECB publishes them: 1 EUR = `rate` units of the quote
currency. Two files are read: the daily `eurofxref.csv` (header `Date, USD, JPY, ...`, one
row dated like `20 November 2026`) and the historical `eurofxref-hist.csv` (header
`Date,USD,JPY,...`, many rows dated like `2026-11-20`). Spaces after commas, a trailing
empty column and `N/A` (no rate that day) are part of the format. Rates are read from their
text as Decimal, never through a float.

An import is all or nothing and idempotent: a rate already on record with the same value
is counted as unchanged; a different value for a recorded (currency, date, source) refuses
the whole file. An import that adds nothing changes nothing, so it writes no audit event.

The ECB publishes no rates on weekends and TARGET holidays, so the rate in force on a day
is the newest one dated on or before it. When two sources have a rate for the same day,
a published source wins over the seed snapshot (`SNAPSHOT_SOURCE`), then the later import.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import case, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.ledger import CURRENCY_DIGITS, Conversion, MissingRate, Money, convert
from bounty.ledger.fx import BASE_CURRENCY
from bounty.models import ExchangeRate, utcnow
from bounty.services import audit
from bounty.services.actors import Actor
from bounty.services.errors import Conflict, InvalidInput

ECB_SOURCE = "ECB"
# The source under which `bounty seed` records the demo snapshot in seed/fx/, so it never
# collides with (or passes for) the rates the ECB actually published for that day.
SNAPSHOT_SOURCE = "snapshot"
# `rate_source` of a EUR amount "converted" to EUR: no rate was needed, none is recorded.
IDENTITY_SOURCE = "identity"

_NO_RATE = ("", "N/A", "NA", "-")
_MONTHS = {name: number for number, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"), start=1)}
_LONG_DATE = re.compile(r"^(\d{1,2}) ([A-Za-z]+) (\d{4})$")
# The column is NUMERIC(20, 10): a rate that would not fit exactly is refused, not rounded.
_MAX_DECIMALS, _MAX_INTEGER_DIGITS = 10, 10


@dataclass(frozen=True)
class ParsedRate:
    """One rate read from a file, with the line it came from (for error messages)."""

    quote: str
    rate_date: date
    rate: Decimal
    line: int


@dataclass(frozen=True)
class ImportResult:
    """What an import did: rates added, rates already on record, and the dates covered."""

    source: str
    added: int
    unchanged: int
    first_date: date
    last_date: date
    currencies: tuple[str, ...]

    def summary(self) -> str:
        span = (self.first_date.isoformat() if self.first_date == self.last_date
                else f"{self.first_date.isoformat()} to {self.last_date.isoformat()}")
        return (f"{self.source}: {self.added} rates added, {self.unchanged} already recorded, "
                f"{len(self.currencies)} currencies, {span}")


def plain(rate: Decimal) -> Decimal:
    """`rate` without the trailing zeros the NUMERIC column pads it with (1.0523000000 -> 1.0523)."""
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()


def _parse_date(text: str, line: int) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    match = _LONG_DATE.match(" ".join(text.split()))
    if match and match.group(2).lower() in _MONTHS:
        try:
            return date(int(match.group(3)), _MONTHS[match.group(2).lower()], int(match.group(1)))
        except ValueError:
            pass
    raise InvalidInput("file", f"line {line}: {text!r} is not a date (expected 2026-11-20 or "
                               "20 November 2026)")


def _parse_rate(text: str, code: str, line: int) -> Decimal:
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise InvalidInput("file", f"line {line}: the {code} rate {text!r} is not a number") from None
    if not rate.is_finite() or rate <= 0:
        raise InvalidInput("file", f"line {line}: the {code} rate {text!r} must be a positive number")
    exponent = int(rate.as_tuple().exponent)  # finite, so an int
    if -exponent > _MAX_DECIMALS or rate.adjusted() >= _MAX_INTEGER_DIGITS:
        raise InvalidInput("file", f"line {line}: the {code} rate {text!r} has more precision "
                                   f"than is kept ({_MAX_DECIMALS} decimals)")
    return rate


def _header(cells: list[str], line: int) -> list[str]:
    if not cells or cells[0].lower() != "date":
        raise InvalidInput("file", f"line {line}: expected the ECB header 'Date, USD, JPY, ...'")
    codes = cells[1:]
    while codes and not codes[-1]:
        codes.pop()  # the ECB files end every line with a comma
    if not codes:
        raise InvalidInput("file", f"line {line}: the header names no currency")
    seen: set[str] = set()
    for column, code in enumerate(codes, start=2):
        if code not in CURRENCY_DIGITS or code == BASE_CURRENCY:
            raise InvalidInput("file", f"line {line}, column {column}: unknown currency {code!r}")
        if code in seen:
            raise InvalidInput("file", f"line {line}, column {column}: {code} appears twice")
        seen.add(code)
    return codes


def parse_ecb_csv(text: str) -> list[ParsedRate]:
    """Every rate in an ECB `eurofxref` CSV (daily or historical); `N/A` cells are skipped.

    Raises InvalidInput("file", ...) naming the line of anything malformed.
    """
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")), skipinitialspace=True)
    codes: list[str] | None = None
    rates: list[ParsedRate] = []
    try:
        for line, raw in enumerate(rows, start=1):
            cells = [cell.strip() for cell in raw]
            if not any(cells):
                continue
            if codes is None:
                codes = _header(cells, line)
                continue
            values = cells[1:]
            while len(values) > len(codes) and not values[-1]:
                values.pop()
            if len(values) != len(codes):
                raise InvalidInput("file", f"line {line}: {len(values)} values for the "
                                           f"{len(codes)} currencies of the header")
            day = _parse_date(cells[0], line)
            for code, value in zip(codes, values, strict=False):
                if value.upper() not in _NO_RATE:
                    rates.append(ParsedRate(code, day, _parse_rate(value, code, line), line))
    except csv.Error as exc:
        raise InvalidInput("file", f"line {rows.line_num}: {exc}") from None
    if codes is None:
        raise InvalidInput("file", "line 1: the file is empty (expected the ECB header 'Date, USD, ...')")
    if not rates:
        raise InvalidInput("file", "the file holds no exchange rates")
    return rates


def _deduplicated(rates: Iterable[ParsedRate]) -> dict[tuple[str, date], ParsedRate]:
    unique: dict[tuple[str, date], ParsedRate] = {}
    for rate in rates:
        earlier = unique.setdefault((rate.quote, rate.rate_date), rate)
        if earlier.rate != rate.rate:
            raise InvalidInput("file", f"lines {earlier.line} and {rate.line} give two {rate.quote} "
                                       f"rates for {rate.rate_date.isoformat()}")
    return unique


def record_rates(session: Session, actor: Actor, text: str, source: str) -> ImportResult:
    """Store the rates of an ECB CSV (flushes; the caller commits). No permission check:
    callers check theirs (`import_ecb_csv` MANAGE_RATES, the reference seed SEED_DATA)."""
    source = source.strip()
    if not source or len(source) > 40:
        raise InvalidInput("source", "give a source name of 1 to 40 characters, e.g. ECB")
    parsed = _deduplicated(parse_ecb_csv(text))
    dates = [day for _, day in parsed]
    codes = sorted({code for code, _ in parsed})
    # Plain columns, not entities: a re-import of the whole history reads back ~250,000 rows.
    recorded = {
        (quote, rate_date): rate
        for quote, rate_date, rate in session.execute(
            select(ExchangeRate.quote, ExchangeRate.rate_date, ExchangeRate.rate).where(
                ExchangeRate.base == BASE_CURRENCY, ExchangeRate.source == source,
                ExchangeRate.quote.in_(codes),
                ExchangeRate.rate_date.between(min(dates), max(dates)),
            )
        )
    }
    new_rows, unchanged = [], 0
    imported_at = utcnow()
    for key, rate in sorted(parsed.items()):
        if key in recorded:
            if recorded[key] != rate.rate:
                raise Conflict(
                    f"EUR/{rate.quote} on {rate.rate_date.isoformat()} from {source} is recorded "
                    f"as {plain(recorded[key])} but line {rate.line} says {rate.rate}: "
                    "nothing was imported"
                )
            unchanged += 1
            continue
        new_rows.append({"base": BASE_CURRENCY, "quote": rate.quote, "rate": rate.rate,
                         "rate_date": rate.rate_date, "source": source, "imported_at": imported_at})
    if new_rows:
        session.execute(insert(ExchangeRate), new_rows)
    result = ImportResult(source, len(new_rows), unchanged, min(dates), max(dates), tuple(codes))
    if new_rows:
        audit.record(session, actor, "fx.import", "exchange_rates", source, {
            "added": result.added, "unchanged": result.unchanged, "currencies": list(codes),
            "from": result.first_date.isoformat(), "to": result.last_date.isoformat(),
        })
    return result


def import_ecb_csv(session: Session, actor: Actor, text: str, source: str = ECB_SOURCE) -> ImportResult:
    """Import an ECB reference-rate CSV, all or nothing (commits).

    Raises InvalidInput for a malformed file or an unknown currency column, Conflict when
    a rate on record differs from the file's; either way nothing is written.
    """
    actor.require(Permission.MANAGE_RATES)
    try:
        result = record_rates(session, actor, text, source)
        session.commit()
        return result
    except IntegrityError:
        session.rollback()
        raise Conflict("another import recorded some of these rates at the same moment: "
                       "run the import again") from None
    except BaseException:
        session.rollback()
        raise


def _preference() -> tuple[object, ...]:
    """Newest date first; on one date a published source before the seed snapshot."""
    return (ExchangeRate.rate_date.desc(),
            case((ExchangeRate.source == SNAPSHOT_SOURCE, 1), else_=0),
            ExchangeRate.imported_at.desc(), ExchangeRate.id.desc())


def rate_on(session: Session, currency: str, on: date, source: str | None = None) -> ExchangeRate:
    """The EUR/`currency` rate in force on `on`: the newest dated on or before it.

    Raises MissingRate when there is none; a missing rate is never taken as 1.
    """
    query = select(ExchangeRate).where(
        ExchangeRate.base == BASE_CURRENCY, ExchangeRate.quote == currency,
        ExchangeRate.rate_date <= on,
    )
    if source is not None:
        query = query.where(ExchangeRate.source == source)
    rate = session.execute(query.order_by(*_preference()).limit(1)).scalar_one_or_none()
    if rate is None:
        raise MissingRate(currency, on.isoformat())
    return rate


def rates_on(session: Session, on: date, source: str | None = None) -> list[ExchangeRate]:
    """Every currency's rate in force on `on` (see `rate_on`), by currency code."""
    conditions = [ExchangeRate.base == BASE_CURRENCY, ExchangeRate.rate_date <= on]
    if source is not None:
        conditions.append(ExchangeRate.source == source)
    newest = (select(ExchangeRate.quote, func.max(ExchangeRate.rate_date).label("rate_date"))
              .where(*conditions).group_by(ExchangeRate.quote).subquery())
    candidates = session.execute(
        select(ExchangeRate)
        .join(newest, (ExchangeRate.quote == newest.c.quote)
              & (ExchangeRate.rate_date == newest.c.rate_date))
        .where(*conditions)
        .order_by(ExchangeRate.quote, *_preference())
    ).scalars()
    chosen: dict[str, ExchangeRate] = {}
    for rate in candidates:
        chosen.setdefault(rate.quote, rate)
    return list(chosen.values())


def to_eur(session: Session, amount: Money, on: date) -> Conversion:
    """`amount` in EUR at the rate in force on `on`, rounded as `bounty.ledger.fx` states
    (half-up to the cent, once), with the rate's id, date and source on the Conversion.

    A EUR amount converts to itself at rate 1: no rate row is needed or recorded, so
    `rate_id` is None, `rate_date` is `on` and `rate_source` is IDENTITY_SOURCE. Any other
    currency without a rate on or before `on` raises MissingRate.
    """
    if amount.currency == BASE_CURRENCY:
        return convert(amount, BASE_CURRENCY, Decimal(1), on, IDENTITY_SOURCE)
    rate = rate_on(session, amount.currency, on)
    return convert(amount, BASE_CURRENCY, plain(Decimal(rate.rate)), rate.rate_date, rate.source,
                   rate.id)
