"""Conversion at a recorded rate: direction, one half-up rounding, refusals, provenance."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bounty.ledger import Conversion, InvalidAmount, Money, UnknownCurrency, convert

ON = date(2026, 3, 2)


def test_to_eur_divides_by_the_rate() -> None:
    result = convert(Money.parse("100.00", "GBP"), "EUR", Decimal("0.85"), ON, "ECB")
    assert result.target == Money.parse("117.65", "EUR")  # 117.647...


def test_from_eur_multiplies_by_the_rate() -> None:
    result = convert(Money.parse("100.00", "EUR"), "GBP", Decimal("0.85"), ON, "ECB")
    assert result.target == Money.parse("85.00", "GBP")


def test_rounds_to_the_target_digits() -> None:
    result = convert(Money.parse("1.00", "EUR"), "JPY", Decimal("161.235"), ON, "ECB")
    assert result.target == Money(161, "JPY")
    result = convert(Money(12_345, "JPY"), "EUR", Decimal("161.235"), ON, "ECB")
    assert result.target == Money.parse("76.57", "EUR")  # 76.5652...


@pytest.mark.parametrize(
    ("amount", "currency", "to", "rate", "expected"),
    [
        # Exact halves: half-up rounds away from zero where banker's rounding would not.
        ("0.05", "EUR", "JPY", "50", "3"),  # 2.5 JPY
        ("-0.05", "EUR", "JPY", "50", "-3"),
        ("0.03", "EUR", "JPY", "50", "2"),  # 1.5 JPY, both rules agree
        ("1", "JPY", "EUR", "200", "0.01"),  # 0.005 EUR
        ("-1", "JPY", "EUR", "200", "-0.01"),
        ("1", "JPY", "EUR", "201", "0.00"),  # 0.004975... EUR
        ("0.01", "EUR", "GBP", "0.5", "0.01"),  # 0.005 GBP
    ],
)
def test_rounding_is_half_up(amount: str, currency: str, to: str, rate: str, expected: str) -> None:
    result = convert(Money.parse(amount, currency), to, Decimal(rate), ON, "ECB")
    assert result.target == Money.parse(expected, to)


def test_same_currency_is_unchanged_at_rate_one() -> None:
    result = convert(Money.parse("12.34", "EUR"), "EUR", Decimal("0.85"), ON, "ECB")
    assert result.target == Money.parse("12.34", "EUR")
    assert result.rate == Decimal(1)


def test_non_eur_to_non_eur_is_refused() -> None:
    with pytest.raises(InvalidAmount, match="convert GBP to CAD through EUR"):
        convert(Money.parse("1", "GBP"), "CAD", Decimal("1.7"), ON, "ECB")


@pytest.mark.parametrize(
    "rate", [Decimal(0), Decimal("-1.2"), Decimal("NaN"), Decimal("Infinity"), 1.1, 2, "0.85"]
)
def test_rate_must_be_a_positive_finite_decimal(rate: object) -> None:
    with pytest.raises(InvalidAmount, match="positive Decimal"):
        convert(Money.parse("1", "EUR"), "GBP", rate, ON, "ECB")  # type: ignore[arg-type]


def test_unknown_target_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrency):
        convert(Money.parse("1", "EUR"), "XYZ", Decimal("1.1"), ON, "ECB")


def test_provenance_is_kept() -> None:
    source = Money.parse("250.00", "EUR")
    result = convert(source, "CAD", Decimal("1.4912"), ON, "ECB reference rate", rate_id=42)
    assert result == Conversion(
        source=source,
        target=Money.parse("372.80", "CAD"),
        rate=Decimal("1.4912"),
        rate_date=ON,
        rate_source="ECB reference rate",
        rate_id=42,
    )


rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("100000"), places=4)


@settings(max_examples=300, deadline=None)
@given(
    minor=st.integers(min_value=-(10**15), max_value=10**15),
    other=st.sampled_from(["GBP", "CAD", "AUD", "JPY"]),
    rate=rates,
    to_eur=st.booleans(),
)
def test_conversion_matches_exact_arithmetic_rounded_once(
    minor: int, other: str, rate: Decimal, to_eur: bool
) -> None:
    source = Money(minor, other if to_eur else "EUR")
    target = "EUR" if to_eur else other
    result = convert(source, target, rate, ON, "ECB")
    # An independent computation in a context wide enough to be exact before the rounding.
    wide = Context(prec=80)
    value = source.to_decimal()
    exact = wide.divide(value, rate) if to_eur else wide.multiply(value, rate)
    quantum = Decimal(1).scaleb(-result.target.digits)
    expected = exact.quantize(quantum, rounding=ROUND_HALF_UP, context=wide)
    assert result.target.to_decimal() == expected
    assert result.target.currency == target
