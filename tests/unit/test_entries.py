"""Transaction drafts: balance per currency, refusals, reversal, and the lines digest."""

from __future__ import annotations

import pytest

from bounty.ledger import (
    EntryDraft,
    InvalidAmount,
    LedgerError,
    Money,
    TransactionDraft,
    UnbalancedTransaction,
    imbalances,
)
from bounty.ledger.entries import lines_digest


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def gbp(text: str) -> Money:
    return Money.parse(text, "GBP")


def draft(*entries: EntryDraft, key: str = "k-1") -> TransactionDraft:
    return TransactionDraft(kind="test", memo="memo", entries=list(entries), idempotency_key=key)


def test_balanced_draft_is_accepted() -> None:
    made = draft(
        EntryDraft("a", eur("10.00")), EntryDraft("b", eur("-7.50")), EntryDraft("c", eur("-2.50"))
    )
    assert [e.amount.minor for e in made.entries] == [1000, -750, -250]


def test_two_currencies_each_balanced_are_accepted() -> None:
    made = draft(
        EntryDraft("a", eur("10.00")),
        EntryDraft("b", eur("-10.00")),
        EntryDraft("c", gbp("8.50")),
        EntryDraft("d", gbp("-8.50")),
    )
    assert len(made.entries) == 4


def test_one_unbalanced_currency_is_refused_by_name_and_amount() -> None:
    with pytest.raises(UnbalancedTransaction, match="GBP off by 5 minor units") as caught:
        draft(
            EntryDraft("a", eur("10.00")),
            EntryDraft("b", eur("-10.00")),
            EntryDraft("c", gbp("8.55")),
            EntryDraft("d", gbp("-8.50")),
        )
    assert caught.value.imbalance == {"GBP": 5}
    assert "EUR" not in str(caught.value)


def test_amounts_in_different_currencies_never_offset() -> None:
    # 10 EUR against 10 GBP sums to zero minor units but balances in neither currency.
    with pytest.raises(UnbalancedTransaction) as caught:
        draft(EntryDraft("a", eur("10.00")), EntryDraft("b", gbp("-10.00")))
    assert caught.value.imbalance == {"EUR": 1000, "GBP": -1000}


def test_zero_line_is_refused() -> None:
    with pytest.raises(InvalidAmount, match="zero on a"):
        EntryDraft("a", eur("0"))


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_lines_are_refused(count: int) -> None:
    with pytest.raises(LedgerError, match="at least two lines"):
        TransactionDraft(
            kind="t", memo="m", entries=[EntryDraft("a", eur("1"))][:count], idempotency_key="k"
        )


def test_missing_idempotency_key_is_refused() -> None:
    with pytest.raises(LedgerError, match="idempotency key"):
        draft(EntryDraft("a", eur("1")), EntryDraft("b", eur("-1")), key="")


def test_reversed_negates_every_line_and_points_at_the_original() -> None:
    original = draft(
        EntryDraft("a", eur("117.65"), rate_id=7, original=gbp("100.00")),
        EntryDraft("b", eur("-117.65")),
    )
    reversal = original.reversed("k-1:reversal", "wrong pool", reverses_id=31)
    assert reversal.kind == "reversal"
    assert reversal.memo == "wrong pool"
    assert reversal.idempotency_key == "k-1:reversal"
    assert reversal.reverses_id == 31
    assert list(reversal.entries) == [
        EntryDraft("a", eur("-117.65"), rate_id=7, original=gbp("-100.00")),
        EntryDraft("b", eur("117.65")),
    ]
    # Together they net to nothing on every account.
    net = imbalances(e.amount for e in [*original.entries, *reversal.entries])
    assert net == {}


def test_imbalances_per_currency() -> None:
    assert imbalances([eur("1"), eur("-1"), gbp("2")]) == {"GBP": 200}
    assert imbalances([]) == {}


LINES = [
    ("pool:available", "EUR", -1000),
    ("member:EU:pledged", "EUR", 500),
    ("member:UK:pledged", "EUR", 500),
]


def test_lines_digest_is_order_independent() -> None:
    assert lines_digest(LINES) == lines_digest(list(reversed(LINES)))
    assert lines_digest(LINES) == lines_digest([LINES[1], LINES[0], LINES[2]])
    assert len(lines_digest(LINES)) == 64


@pytest.mark.parametrize(
    "changed",
    [
        [("pool:available", "EUR", -1001), *LINES[1:]],  # amount
        [("pool:reserved", "EUR", -1000), *LINES[1:]],  # account
        [("pool:available", "GBP", -1000), *LINES[1:]],  # currency
        LINES[:2],  # a line dropped
        [*LINES, ("member:CA:pledged", "EUR", 1)],  # a line added
    ],
)
def test_lines_digest_changes_when_any_line_changes(changed: list[tuple[str, str, int]]) -> None:
    assert lines_digest(changed) != lines_digest(LINES)
