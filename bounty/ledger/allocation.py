"""Splitting an amount across jurisdictions by share, exact to the minor unit.

Method: largest remainder (Hamilton). Each part starts at the floor of its exact quota
(total x share, computed with fractions); the minor units left over go one each to the
parts with the largest fractional remainder. Tie-break, stated so finance can reproduce
it in a spreadsheet: among equal remainders the larger share goes first, then the
jurisdiction code in alphabetical order. Negative totals (reversals) are split as the
positive amount and negated, so a reversal mirrors its original exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from bounty.ledger.errors import InvalidShares
from bounty.ledger.money import Money

ShareValue = Fraction | Decimal | int | str


def _as_fraction(key: str, value: ShareValue) -> Fraction:
    if isinstance(value, float):
        raise InvalidShares(f"share of {key} is a float: pass a string, Decimal or Fraction")
    if isinstance(value, bool):
        raise InvalidShares(f"share of {key} is not a number: {value!r}")
    try:
        share = Fraction(value) if not isinstance(value, str) else Fraction(Decimal(value.strip()))
    except (InvalidOperation, ValueError, ZeroDivisionError, TypeError, OverflowError):
        # TypeError: None or another non-number; OverflowError: an infinite Decimal.
        raise InvalidShares(f"share of {key} is not a number: {value!r}") from None
    if share < 0:
        raise InvalidShares(f"share of {key} is negative: {value}")
    return share


def normalise_shares(shares: Mapping[str, ShareValue]) -> dict[str, Fraction]:
    """Shares as exact fractions; refuses an empty set, negatives, or a sum other than 1."""
    if not shares:
        raise InvalidShares("no shares given")
    exact = {key: _as_fraction(key, value) for key, value in shares.items()}
    total = sum(exact.values(), Fraction(0))
    if total != 1:
        raise InvalidShares(f"shares must sum to exactly 1, they sum to {float(total):g}")
    return exact


def parse_shares(text: str) -> dict[str, Decimal]:
    """Shares from the command-line form "EU=0.5,UK=0.25,CA=0.15,AU=0.1", validated."""
    shares: dict[str, Decimal] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidShares(f"{item!r} is not of the form CODE=SHARE")
        code = key.strip().upper()
        if code in shares:
            raise InvalidShares(f"{code} is given twice")
        _as_fraction(code, value)  # refuses non-numbers and negatives with the code named
        shares[code] = Decimal(value.strip())
    normalise_shares(shares)
    return shares


def allocate(total: Money, shares: Mapping[str, ShareValue]) -> dict[str, Money]:
    """Split `total` by `shares` (which must sum to 1) so the parts add up exactly.

    Every part is within one minor unit of its exact quota, and the result does not
    depend on the order of `shares`. The returned dict is ordered by descending share,
    then code.
    """
    exact = normalise_shares(shares)
    magnitude = abs(total.minor)
    quotas = {key: magnitude * share for key, share in exact.items()}
    parts = {key: quota.numerator // quota.denominator for key, quota in quotas.items()}
    leftover = magnitude - sum(parts.values())
    by_remainder = sorted(exact, key=lambda k: (-(quotas[k] - parts[k]), -exact[k], k))
    for key in by_remainder[:leftover]:
        parts[key] += 1
    sign = -1 if total.minor < 0 else 1
    ordered = sorted(exact, key=lambda k: (-exact[k], k))
    return {key: Money(sign * parts[key], total.currency) for key in ordered}
