"""Money: an integer count of a currency's minor units and its ISO 4217 code.

Never a float. Decimal and strings are accepted at the edges and converted exactly;
an amount with more decimals than the currency has is refused rather than rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bounty.ledger.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency

# ISO 4217 minor-unit exponents for the programme's currencies and every currency of the
# ECB reference-rate list, so an imported rate never names a currency we cannot hold.
CURRENCY_DIGITS: dict[str, int] = {
    "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "USD": 2, "JPY": 0, "BGN": 2, "CZK": 2,
    "DKK": 2, "HUF": 2, "PLN": 2, "RON": 2, "SEK": 2, "CHF": 2, "ISK": 0, "NOK": 2,
    "TRY": 2, "BRL": 2, "CNY": 2, "HKD": 2, "IDR": 2, "ILS": 2, "INR": 2, "KRW": 0,
    "MXN": 2, "MYR": 2, "NZD": 2, "PHP": 2, "SGD": 2, "THB": 2, "ZAR": 2, "HRK": 2,
    "RUB": 2, "CYP": 2, "EEK": 2, "LTL": 2, "LVL": 2, "MTL": 2, "SIT": 2, "SKK": 2,
    "TRL": 0, "ROL": 2,
}


# Parsed amounts stay below 10**30 units: far beyond any budget, and it keeps a typo such as
# "1e999999999" from building an enormous integer.
MAX_INTEGER_DIGITS = 30


def minor_digits(currency: str) -> int:
    """The number of decimals of `currency`; raises UnknownCurrency for anything else."""
    try:
        return CURRENCY_DIGITS[currency]
    except KeyError:
        raise UnknownCurrency(currency) from None


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An exact amount: `minor` units of `currency` (negative for credits and refunds)."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise InvalidAmount(f"minor units must be an integer, got {type(self.minor).__name__}")
        minor_digits(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, amount: str | Decimal | int, currency: str) -> Money:
        """Exact amount from a decimal string such as "10000000" or "0.03".

        Refuses floats, non-numbers, and more decimals than the currency has.
        """
        if isinstance(amount, float):
            raise InvalidAmount("amounts are never floats: pass a string or Decimal")
        digits = minor_digits(currency.upper() if isinstance(currency, str) else currency)
        try:
            value = Decimal(str(amount).strip().replace("_", ""))
        except InvalidOperation:
            raise InvalidAmount(f"{amount!r} is not a number") from None
        if not value.is_finite():
            raise InvalidAmount(f"{amount!r} is not a finite number")
        if value.adjusted() >= MAX_INTEGER_DIGITS:
            raise InvalidAmount(f"{amount} is too large for an amount of money")
        # Scaled on the digits themselves: Decimal arithmetic would round beyond 28
        # significant digits, and an exponent such as 1E-999999999 must not cost a huge power.
        _, coefficient, exponent = value.as_tuple()
        shift = int(exponent) + digits
        if shift < 0 and any(coefficient[shift:]):
            raise InvalidAmount(f"{amount} has more than {digits} decimals for {currency.upper()}")
        kept = coefficient if shift >= 0 else coefficient[:shift]
        magnitude = int("".join(map(str, kept)) or "0") * 10 ** max(shift, 0)
        return cls(-magnitude if value.is_signed() else magnitude, currency.upper())

    @property
    def digits(self) -> int:
        return minor_digits(self.currency)

    def to_decimal(self) -> Decimal:
        # Built from sign, digits and exponent: exact at any size, unlike scaleb in a context.
        sign, coefficient, _ = Decimal(self.minor).as_tuple()
        return Decimal((sign, coefficient, -self.digits))

    def amount_str(self) -> str:
        """The amount with exactly the currency's minor digits, e.g. "5000000.00"."""
        return f"{self.to_decimal():.{self.digits}f}"

    def __str__(self) -> str:
        return f"{self.currency} {self.amount_str()}"

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def is_negative(self) -> bool:
        return self.minor < 0
