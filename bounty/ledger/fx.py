"""Currency conversion at a stated rate, rounded once and on the record.

Rates are quoted as the ECB does: 1 EUR = `rate` units of the other currency. Converting
to EUR divides by the rate; converting from EUR multiplies. The result is rounded half-up
to the target currency's minor unit, once; a converted amount is never converted back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from bounty.ledger.errors import InvalidAmount
from bounty.ledger.money import Money, minor_digits

BASE_CURRENCY = "EUR"


@dataclass(frozen=True, slots=True)
class Conversion:
    """A converted amount with its provenance: the rate, its date and its source."""

    source: Money
    target: Money
    rate: Decimal
    rate_date: date
    rate_source: str
    rate_id: int | None = None


def convert(
    amount: Money,
    to_currency: str,
    rate: Decimal,
    rate_date: date,
    rate_source: str,
    rate_id: int | None = None,
) -> Conversion:
    """Convert between EUR and another currency at `rate` (EUR base)."""
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise InvalidAmount(f"exchange rate must be a positive Decimal, got {rate!r}")
    digits = minor_digits(to_currency)
    # Exact fractions, so the one rounding below is the only one (Decimal division would
    # round at 28 significant digits first).
    value = Fraction(amount.to_decimal())
    if amount.currency == to_currency:
        result, rate = value, Decimal(1)
    elif to_currency == BASE_CURRENCY:
        result = value / Fraction(rate)
    elif amount.currency == BASE_CURRENCY:
        result = value * Fraction(rate)
    else:
        raise InvalidAmount(
            f"convert {amount.currency} to {to_currency} through EUR, one recorded rate at a time"
        )
    target = Money(_round_half_up(result * 10**digits), to_currency)
    return Conversion(amount, target, rate, rate_date, rate_source, rate_id)


def _round_half_up(value: Fraction) -> int:
    """The nearest integer, halves away from zero (as ROUND_HALF_UP does for Decimal)."""
    magnitude = math.floor(abs(value) + Fraction(1, 2))
    return -magnitude if value < 0 else magnitude
