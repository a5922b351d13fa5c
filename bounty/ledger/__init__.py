"""The pure money core: amounts, allocation by share, transaction drafts and balance rules.

Standard library only, so the rules of money can be read and tested without a database
or a web application. Persistence lives in `bounty.models` and `bounty.services`.
"""

from bounty.ledger.allocation import allocate, parse_shares
from bounty.ledger.entries import EntryDraft, TransactionDraft, imbalances
from bounty.ledger.errors import (
    CurrencyMismatch,
    InsufficientFunds,
    InvalidAmount,
    InvalidShares,
    LedgerError,
    MissingRate,
    UnbalancedTransaction,
    UnknownCurrency,
)
from bounty.ledger.fx import Conversion, convert
from bounty.ledger.money import CURRENCY_DIGITS, Money, minor_digits

__all__ = [
    "CURRENCY_DIGITS",
    "Conversion",
    "CurrencyMismatch",
    "EntryDraft",
    "InsufficientFunds",
    "InvalidAmount",
    "InvalidShares",
    "LedgerError",
    "MissingRate",
    "Money",
    "TransactionDraft",
    "UnbalancedTransaction",
    "UnknownCurrency",
    "allocate",
    "convert",
    "imbalances",
    "minor_digits",
    "parse_shares",
]
