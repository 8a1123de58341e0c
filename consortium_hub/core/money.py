"""Money: Decimal amounts rounded to each currency's minor unit, never floats.

Every amount in the hub passes through here: fee rates, proration, invoice lines, tax, totals,
payments and balances. Rounding is explicit (half up, to the currency's exponent from CLDR via
Babel) and happens at the line, so lines always sum exactly to the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, get_currency_precision


class FloatNotAllowed(TypeError):
    """Raised when a float reaches money code: binary fractions cannot represent cents exactly."""


def to_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):
        raise FloatNotAllowed("Money amounts must be Decimal, int or str, never float.")
    if isinstance(value, Decimal):
        return value
    return Decimal(value)


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of `currency`: Decimal('0.01') for USD, Decimal('1') for JPY."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def round_money(amount: Decimal | int | str, currency: str) -> Decimal:
    return to_decimal(amount).quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", round_money(self.amount, self.currency))

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"Cannot combine {self.currency} with {other.currency}.")

    def format(self, locale: str = "en") -> str:
        return format_currency(self.amount, self.currency, locale=locale)

    def __str__(self) -> str:
        return self.format()


def zero(currency: str) -> Money:
    return Money(Decimal(0), currency)


def prorate_by_months(annual: Decimal, *, months: int, currency: str) -> Decimal:
    """The share of an annual fee for `months` whole months (0–12), rounded to the minor unit."""
    if not 0 <= months <= 12:
        raise ValueError("A year has 0 to 12 billable months.")
    return round_money(to_decimal(annual) * months / 12, currency)


def tax_on(net: Decimal, *, rate_percent: Decimal, currency: str) -> Decimal:
    return round_money(to_decimal(net) * to_decimal(rate_percent) / 100, currency)


def percent_change(old: Decimal, new: Decimal) -> Decimal | None:
    """(new - old) / old in percent, to two places; None when there is no previous amount."""
    old, new = to_decimal(old), to_decimal(new)
    if old == 0:
        return None
    return ((new - old) * 100 / old).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
