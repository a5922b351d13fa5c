"""Allocation by share (largest remainder): exact sums, fairness, order-independence, tie-break."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bounty.ledger import InvalidShares, Money, allocate, parse_shares

PROGRAMME = {
    "EU": Decimal("0.5"),
    "UK": Decimal("0.25"),
    "CA": Decimal("0.15"),
    "AU": Decimal("0.1"),
}
CODES = ["AT", "AU", "BE", "CA", "DE", "EU", "FR", "NL", "UK", "ZA"]


@st.composite
def share_sets(draw: st.DrawFn, allow_zero: bool = True) -> dict[str, Fraction]:
    """Between 1 and 10 codes whose exact shares sum to 1 (some may be zero)."""
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=len(CODES), unique=True))
    low = 0 if allow_zero else 1
    weights = draw(st.lists(st.integers(low, 1000), min_size=len(codes), max_size=len(codes)))
    if sum(weights) == 0:
        weights[0] = 1
    total = sum(weights)
    return {code: Fraction(weight, total) for code, weight in zip(codes, weights, strict=True)}


totals = st.builds(
    Money,
    st.integers(min_value=0, max_value=10**15),
    st.sampled_from(["EUR", "GBP", "JPY"]),
)


@settings(max_examples=600, deadline=None)
@given(total=totals, shares=share_sets())
def test_parts_sum_exactly_and_stay_within_one_minor_unit(
    total: Money, shares: dict[str, Fraction]
) -> None:
    parts = allocate(total, shares)
    assert set(parts) == set(shares)
    assert sum(p.minor for p in parts.values()) == total.minor
    for code, part in parts.items():
        assert part.currency == total.currency
        exact = total.minor * shares[code]
        assert abs(part.minor - exact) < 1
        # Largest remainder only ever rounds a quota up or down, never further.
        assert part.minor in (
            exact.numerator // exact.denominator,
            -(-exact.numerator // exact.denominator),
        )


@settings(max_examples=500, deadline=None)
@given(total=totals, shares=share_sets(), data=st.data())
def test_result_does_not_depend_on_the_order_of_shares(
    total: Money, shares: dict[str, Fraction], data: st.DataObject
) -> None:
    shuffled = dict(data.draw(st.permutations(list(shares.items()))))
    assert list(allocate(total, shuffled).items()) == list(allocate(total, shares).items())


@settings(max_examples=400, deadline=None)
@given(total=totals, shares=share_sets())
def test_zero_share_gets_zero(total: Money, shares: dict[str, Fraction]) -> None:
    with_zero = {**shares, "ZZ": Fraction(0)}
    parts = allocate(total, with_zero)
    assert parts["ZZ"] == Money(0, total.currency)
    assert {k: v for k, v in parts.items() if k != "ZZ"} == allocate(total, shares)


@settings(max_examples=400, deadline=None)
@given(total=totals, shares=share_sets())
def test_negative_totals_mirror_positive_ones(total: Money, shares: dict[str, Fraction]) -> None:
    positive = allocate(total, shares)
    negative = allocate(-total, shares)
    assert list(negative) == list(positive)
    assert {code: -part for code, part in positive.items()} == negative


@st.composite
def decimal_share_texts(draw: st.DrawFn) -> dict[str, str]:
    """Shares as the CLI and the seed files write them: decimals with up to 4 places, sum 1."""
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=len(CODES), unique=True))
    cuts = sorted(
        draw(st.lists(st.integers(0, 10_000), min_size=len(codes) - 1, max_size=len(codes) - 1))
    )
    bounds = [0, *cuts, 10_000]
    return {
        code: str(Decimal(bounds[i + 1] - bounds[i]).scaleb(-4)) for i, code in enumerate(codes)
    }


@settings(max_examples=300, deadline=None)
@given(total=totals, shares=decimal_share_texts())
def test_decimal_string_shares_split_like_fractions(total: Money, shares: dict[str, str]) -> None:
    as_fractions = {code: Fraction(Decimal(text)) for code, text in shares.items()}
    assert sum(as_fractions.values()) == 1
    assert allocate(total, shares) == allocate(total, as_fractions)


def test_result_is_ordered_by_descending_share_then_code() -> None:
    parts = allocate(Money(100, "EUR"), {"b": "0.25", "a": "0.25", "c": "0.5"})
    assert list(parts) == ["c", "a", "b"]


def test_tie_goes_to_the_alphabetically_first_code() -> None:
    parts = allocate(Money.parse("0.01", "EUR"), {"UK": "0.5", "EU": "0.5"})
    assert parts == {"EU": Money(1, "EUR"), "UK": Money(0, "EUR")}
    parts = allocate(Money.parse("0.01", "EUR"), {"ZZ": "0.5", "AA": "0.5"})
    assert parts == {"AA": Money(1, "EUR"), "ZZ": Money(0, "EUR")}


def test_equal_remainders_go_to_the_larger_share_first() -> None:
    # Quotas 1.5 and 0.5: equal remainders; the larger share wins although its code sorts last.
    parts = allocate(Money(2, "EUR"), {"AA": "0.25", "ZZ": "0.75"})
    assert parts == {"ZZ": Money(2, "EUR"), "AA": Money(0, "EUR")}


def test_largest_remainder_beats_larger_share() -> None:
    # Quotas 0.6 (share 0.6) and 0.4 (share 0.4) of one unit; then 3 units of 1/3 each.
    assert allocate(Money(1, "EUR"), {"A": "0.4", "B": "0.6"})["B"] == Money(1, "EUR")
    parts = allocate(
        Money(2, "EUR"), {"A": Fraction(1, 3), "B": Fraction(1, 3), "C": Fraction(1, 3)}
    )
    assert parts == {"A": Money(1, "EUR"), "B": Money(1, "EUR"), "C": Money(0, "EUR")}


def test_programme_fund_splits_by_published_shares() -> None:
    parts = allocate(Money.parse("10000000.00", "EUR"), PROGRAMME)
    assert {c: p.amount_str() for c, p in parts.items()} == {
        "EU": "5000000.00",
        "UK": "2500000.00",
        "CA": "1500000.00",
        "AU": "1000000.00",
    }
    assert list(parts) == ["EU", "UK", "CA", "AU"]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.01", {"EU": 1, "UK": 0, "CA": 0, "AU": 0}),
        ("0.03", {"EU": 2, "UK": 1, "CA": 0, "AU": 0}),
        # Quotas 3.5, 1.75, 1.05, 0.7: the largest remainders (UK .75, AU .7) beat EU's .5.
        ("0.07", {"EU": 3, "UK": 2, "CA": 1, "AU": 1}),
    ],
)
def test_tiny_amounts_sum_exactly(amount: str, expected: dict[str, int]) -> None:
    parts = allocate(Money.parse(amount, "EUR"), PROGRAMME)
    assert {c: p.minor for c, p in parts.items()} == expected
    assert sum(p.minor for p in parts.values()) == Money.parse(amount, "EUR").minor


def test_shuffled_programme_shares_give_the_same_split() -> None:
    items = list(PROGRAMME.items())
    expected = allocate(Money.parse("0.03", "EUR"), PROGRAMME)
    rng = random.Random(2026)
    for _ in range(20):
        rng.shuffle(items)
        assert allocate(Money.parse("0.03", "EUR"), dict(items)) == expected


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ({"EU": "0.5", "UK": "0.25"}, "sum to exactly 1"),
        ({"EU": "0.6", "UK": "0.5"}, "sum to exactly 1"),
        ({"EU": "1.5", "UK": "-0.5"}, "share of UK is negative"),
        ({"EU": 0.5, "UK": 0.5}, "float"),
        ({"EU": "half", "UK": "0.5"}, "share of EU is not a number"),
        ({"EU": None, "UK": "1"}, "share of EU is not a number"),
        ({"EU": True, "UK": "0"}, "share of EU is not a number"),
        ({"EU": "NaN", "UK": "1"}, "share of EU is not a number"),
        ({"EU": Decimal("Infinity"), "UK": "1"}, "share of EU is not a number"),
        ({}, "no shares"),
    ],
)
def test_invalid_shares_are_refused(shares: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidShares, match=message):
        allocate(Money(100, "EUR"), shares)  # type: ignore[arg-type]


def test_parse_shares_reads_the_command_line_form() -> None:
    assert parse_shares("EU=0.5,UK=0.25,CA=0.15,AU=0.1") == PROGRAMME
    assert parse_shares(" eu = 0.5 , uk=0.50, ") == {"EU": Decimal("0.5"), "UK": Decimal("0.50")}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("EU=0.5,UK", "'UK' is not of the form CODE=SHARE"),
        ("EU=0.5,=0.5", "not of the form CODE=SHARE"),
        ("EU=0.5,eu=0.5", "EU is given twice"),
        ("EU=0.5,UK=x", "share of UK is not a number"),
        ("EU=1.5,UK=-0.5", "share of UK is negative"),
        ("EU=0.5,UK=0.4", "sum to exactly 1"),
        ("", "no shares"),
    ],
)
def test_parse_shares_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidShares, match=message):
        parse_shares(text)
