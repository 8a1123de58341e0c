"""Invoice arithmetic, pure: line amounts, tax and totals with explicit rounding (core.money)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from consortium_hub.core.money import round_money, tax_on, to_decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal


def line_amount(*, quantity: Decimal | int | str, unit_price: Decimal | str, currency: str) -> Decimal:
    return round_money(to_decimal(quantity) * to_decimal(unit_price), currency)


def totals(*, line_amounts: Iterable[Decimal], tax_rate_percent: Decimal | str, currency: str) -> Totals:
    """Lines are already rounded; tax is rounded once on the subtotal; total = subtotal + tax exactly."""
    subtotal = round_money(sum((to_decimal(a) for a in line_amounts), Decimal(0)), currency)
    tax = tax_on(subtotal, rate_percent=to_decimal(tax_rate_percent), currency=currency)
    return Totals(subtotal=subtotal, tax_total=tax, total=subtotal + tax)
