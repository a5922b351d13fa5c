"""Drafts of ledger transactions and the balance rule, before anything is stored.

Sign convention: a positive amount is a debit, a negative amount a credit. A transaction
balances when, for every currency, its lines sum to zero.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from bounty.ledger.errors import InvalidAmount, LedgerError, UnbalancedTransaction
from bounty.ledger.money import Money


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """One line: `amount` to the account with code `account` (debit if positive).

    `rate_id` and `original` record a conversion: the stored exchange rate used and the
    amount in the currency it came from.
    """

    account: str
    amount: Money
    rate_id: int | None = None
    original: Money | None = None

    def __post_init__(self) -> None:
        if self.amount.minor == 0:
            raise InvalidAmount(f"a ledger line of zero on {self.account} records nothing")


@dataclass(frozen=True, slots=True)
class TransactionDraft:
    """A whole transaction, validated as balanced on construction."""

    kind: str
    memo: str
    entries: Sequence[EntryDraft]
    idempotency_key: str
    effective_on: date | None = None
    reverses_id: int | None = None
    meta: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.entries) < 2:
            raise LedgerError("a transaction needs at least two lines")
        if not self.idempotency_key:
            raise LedgerError("a transaction needs an idempotency key")
        off = imbalances(entry.amount for entry in self.entries)
        if off:
            raise UnbalancedTransaction(off)

    def reversed(self, idempotency_key: str, memo: str, reverses_id: int) -> TransactionDraft:
        """The correcting transaction: every line negated, pointing at the original."""
        return TransactionDraft(
            kind="reversal",
            memo=memo,
            entries=[
                EntryDraft(e.account, -e.amount, e.rate_id, -e.original if e.original else None)
                for e in self.entries
            ],
            idempotency_key=idempotency_key,
            reverses_id=reverses_id,
        )


def imbalances(amounts: Iterable[Money]) -> dict[str, int]:
    """Per currency, how far `amounts` are from summing to zero (empty when balanced)."""
    totals: dict[str, int] = defaultdict(int)
    for amount in amounts:
        totals[amount.currency] += amount.minor
    return {currency: total for currency, total in totals.items() if total != 0}


def lines_digest(lines: Iterable[tuple[str, str, int]]) -> str:
    """A fingerprint of a transaction's lines as (account code, currency, minor units).

    Stored with the transaction, so any later change to a line in the database shows.
    Order-independent: the lines are sorted before hashing.
    """
    canonical = "\n".join(f"{acc}|{cur}|{minor}" for acc, cur, minor in sorted(lines))
    return hashlib.sha256(canonical.encode()).hexdigest()
