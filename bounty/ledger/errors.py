"""Errors of the money core. Each carries a message a person can act on."""


class LedgerError(ValueError):
    """Base of every refusal by the money rules."""


class UnknownCurrency(LedgerError):
    def __init__(self, code: str) -> None:
        super().__init__(f"unknown currency {code!r}: use an ISO 4217 code such as EUR, GBP, CAD, AUD")
        self.code = code


class InvalidAmount(LedgerError):
    """An amount that cannot be money: not a number, too many decimals, or negative."""


class CurrencyMismatch(LedgerError):
    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"cannot combine {left} with {right}: convert at a recorded rate first")


class UnbalancedTransaction(LedgerError):
    def __init__(self, imbalance: dict[str, int]) -> None:
        detail = ", ".join(f"{cur} off by {amount} minor units" for cur, amount in sorted(imbalance.items()))
        super().__init__(f"transaction does not balance: {detail}")
        self.imbalance = imbalance


class InvalidShares(LedgerError):
    """Shares that cannot split money: negative, unparseable, or not summing to exactly 1."""


class InsufficientFunds(LedgerError):
    def __init__(self, what: str, needed: str, available: str) -> None:
        super().__init__(f"{what} cannot cover {needed}: only {available} is available")
        self.needed = needed
        self.available = available


class MissingRate(LedgerError):
    def __init__(self, currency: str, on: str) -> None:
        super().__init__(
            f"no exchange rate for EUR/{currency} on or before {on}: import one with `bounty fx import`"
        )
        self.currency = currency
