"""Money: exact parsing, refusals, arithmetic within one currency, formatting per currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bounty.ledger import (
    CURRENCY_DIGITS,
    CurrencyMismatch,
    InvalidAmount,
    Money,
    UnknownCurrency,
    minor_digits,
)

# Within the range the database stores (a signed 64-bit count of minor units).
BIGINT = 2**63 - 1


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("10000000", "EUR", 1_000_000_000),
        ("0.03", "EUR", 3),
        ("0.5", "GBP", 50),
        ("1234.56", "CAD", 123_456),
        ("-12.5", "AUD", -1250),
        ("1.2300", "EUR", 123),  # trailing zeros beyond the minor unit are exact
        ("1e3", "EUR", 100_000),
        (" 1_000.50 ", "EUR", 100_050),
        ("150", "JPY", 150),
        ("0", "EUR", 0),
        ("1234567890123456789012345678.91", "EUR", 123456789012345678901234567891),
    ],
)
def test_parse_is_exact(text: str, currency: str, minor: int) -> None:
    money = Money.parse(text, currency)
    assert money == Money(minor, currency)


def test_parse_accepts_decimal_and_int_and_lower_case_code() -> None:
    assert Money.parse(Decimal("2.50"), "eur") == Money(250, "EUR")
    assert Money.parse(7, "JPY") == Money(7, "JPY")


def test_parse_refuses_floats() -> None:
    with pytest.raises(InvalidAmount, match="never floats"):
        Money.parse(0.1, "EUR")  # type: ignore[arg-type]


def test_constructor_refuses_non_integer_minor_units() -> None:
    with pytest.raises(InvalidAmount):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        Money(True, "EUR")
    with pytest.raises(InvalidAmount):
        Money(Decimal(1), "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "currency"),
    [("0.001", "EUR"), ("1.005", "GBP"), ("1.5", "JPY"), ("0.1", "JPY"), ("1E-999999999", "EUR")],
)
def test_parse_refuses_more_decimals_than_the_currency_has(text: str, currency: str) -> None:
    with pytest.raises(
        InvalidAmount, match=f"more than {minor_digits(currency)} decimals for {currency}"
    ):
        Money.parse(text, currency)


@pytest.mark.parametrize("text", ["", "abc", "1,5", "NaN", "Infinity", "-inf", "True"])
def test_parse_refuses_non_numbers(text: str) -> None:
    with pytest.raises(InvalidAmount):
        Money.parse(text, "EUR")


def test_parse_refuses_absurd_magnitudes_without_building_them() -> None:
    with pytest.raises(InvalidAmount, match="too large"):
        Money.parse("1e999999999", "EUR")


@pytest.mark.parametrize("code", ["XYZ", "eu", "", "EURO"])
def test_unknown_currency_is_refused(code: str) -> None:
    with pytest.raises(UnknownCurrency, match="unknown currency"):
        Money.parse("1", code)
    with pytest.raises(UnknownCurrency):
        Money(1, code)


def test_arithmetic_within_one_currency() -> None:
    a, b = Money.parse("10.25", "EUR"), Money.parse("0.75", "EUR")
    assert a + b == Money(1100, "EUR")
    assert a - b == Money(950, "EUR")
    assert -a == Money(-1025, "EUR")
    assert b < a and b <= a and a <= a
    assert not a < b
    assert (b - a).is_negative() and not a.is_negative()
    assert Money.zero("JPY") == Money(0, "JPY")


@pytest.mark.parametrize("op", ["add", "sub", "lt", "le"])
def test_arithmetic_refuses_mixing_currencies(op: str) -> None:
    eur, gbp = Money(100, "EUR"), Money(100, "GBP")
    with pytest.raises(CurrencyMismatch, match="cannot combine EUR with GBP"):
        getattr(eur, f"__{op}__")(gbp)


def test_arithmetic_refuses_non_money() -> None:
    with pytest.raises(TypeError):
        Money(1, "EUR") + 1  # type: ignore[operator]


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(500_000_000, "EUR"), "5000000.00"),
        (Money(5, "EUR"), "0.05"),
        (Money(-5, "GBP"), "-0.05"),
        (Money(0, "CAD"), "0.00"),
        (Money(161, "JPY"), "161"),
        (Money(-7, "ISK"), "-7"),
        (Money(10**40 + 1, "EUR"), "1" + "0" * 38 + ".01"),
    ],
)
def test_amount_str_has_exactly_the_currency_digits(money: Money, text: str) -> None:
    assert money.amount_str() == text
    assert str(money) == f"{money.currency} {text}"


def test_to_decimal_is_exact() -> None:
    assert Money(123, "EUR").to_decimal() == Decimal("1.23")
    assert Money(123, "JPY").to_decimal() == Decimal("123")
    assert Money(10**40 + 1, "EUR").to_decimal() == Decimal("1" + "0" * 38 + ".01")


@settings(max_examples=300, deadline=None)
@given(
    currency=st.sampled_from(sorted(CURRENCY_DIGITS)),
    minor=st.integers(min_value=-BIGINT, max_value=BIGINT),
)
def test_parse_of_amount_str_round_trips(currency: str, minor: int) -> None:
    money = Money(minor, currency)
    text = money.amount_str()
    digits = CURRENCY_DIGITS[currency]
    assert ("." in text) == (digits > 0)
    if digits:
        assert len(text.rsplit(".", 1)[1]) == digits
    assert Money.parse(text, currency) == money


@settings(max_examples=100, deadline=None)
@given(minor=st.integers(min_value=-BIGINT, max_value=BIGINT))
def test_round_trip_covers_both_exponents(minor: int) -> None:
    for currency in ("EUR", "JPY"):
        assert Money.parse(Money(minor, currency).amount_str(), currency).minor == minor
