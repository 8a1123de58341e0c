"""Property tests of money: lines sum to totals, proration stays within the fee, an invoice and its credit
note cancel out, and no float ever becomes an amount."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consortium_hub.billing import calculations
from consortium_hub.core.money import (FloatNotAllowed, Money, minor_unit, percent_change, prorate_by_months,
                                       round_money, tax_on, to_decimal, zero)

# Currencies with 0, 2 and 3 decimal places (JPY, USD/GBP/EUR, KWD/BHD).
CURRENCIES = st.sampled_from(["USD", "GBP", "EUR", "AUD", "JPY", "KWD", "BHD"])
RATES = st.decimals(min_value=0, max_value=100, places=2)  # tax rates in percent, as BillingSettings stores them
MONTHS = st.integers(min_value=0, max_value=12)
LINE_LIMIT = Decimal("1000000")  # a million per line: far above any fee, far below AMOUNT's 14 digits
PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def amounts(draw, currency: str, *, min_value: Decimal = Decimal(0), max_value: Decimal = LINE_LIMIT) -> Decimal:
    """An amount already in `currency`'s minor unit (as fee rates and line amounts are)."""
    places = -minor_unit(currency).as_tuple().exponent
    return draw(st.decimals(min_value=min_value, max_value=max_value, places=places,
                            allow_nan=False, allow_infinity=False))


@st.composite
def invoice_lines(draw, *, signed: bool = False) -> tuple[str, list[Decimal]]:
    currency = draw(CURRENCIES)
    low = -LINE_LIMIT if signed else Decimal(0)
    return currency, draw(st.lists(amounts(currency, min_value=low), min_size=0, max_size=30))


@st.composite
def priced_lines(draw) -> tuple[str, list[tuple[Decimal, Decimal]]]:
    """(quantity, unit price) pairs whose product is not in the minor unit: line_amount must round it."""
    currency = draw(CURRENCIES)
    pairs = st.tuples(st.decimals(min_value=0, max_value=100, places=3),
                      st.decimals(min_value=0, max_value=100000, places=3))
    return currency, draw(st.lists(pairs, max_size=20))


# --- Lines sum to totals ---------------------------------------------------------------------------

@PROPERTIES
@given(invoice_lines(), RATES)
def test_lines_sum_exactly_to_the_subtotal_and_total_is_subtotal_plus_tax(lines, rate):
    currency, line_amounts = lines
    totals = calculations.totals(line_amounts=line_amounts, tax_rate_percent=rate, currency=currency)
    assert totals.subtotal == sum(line_amounts, Decimal(0))
    assert totals.total == totals.subtotal + totals.tax_total
    assert totals.tax_total == tax_on(totals.subtotal, rate_percent=rate, currency=currency)
    for value in (totals.subtotal, totals.tax_total, totals.total):
        assert isinstance(value, Decimal)
        assert value == round_money(value, currency), "every total is in the currency's minor unit"
    # Tax is rounded once, on the subtotal: within half a minor unit of the exact tax.
    exact = totals.subtotal * rate / 100
    assert abs(totals.tax_total - exact) <= minor_unit(currency) / 2


@PROPERTIES
@given(priced_lines(), RATES)
def test_rounded_lines_still_sum_to_the_subtotal(lines, rate):
    currency, pairs = lines
    line_amounts = [calculations.line_amount(quantity=q, unit_price=p, currency=currency) for q, p in pairs]
    for (q, p), amount in zip(pairs, line_amounts):
        assert amount == round_money(amount, currency)
        assert abs(amount - q * p) <= minor_unit(currency) / 2
    totals = calculations.totals(line_amounts=line_amounts, tax_rate_percent=rate, currency=currency)
    assert totals.subtotal == sum(line_amounts, Decimal(0))


@PROPERTIES
@given(invoice_lines())
def test_money_addition_matches_the_subtotal(lines):
    currency, line_amounts = lines
    total = zero(currency)
    for amount in line_amounts:
        total = total + Money(amount, currency)
    assert total.amount == calculations.totals(line_amounts=line_amounts, tax_rate_percent=0,
                                               currency=currency).subtotal


def test_money_refuses_to_mix_currencies():
    with pytest.raises(ValueError):
        Money(Decimal(1), "USD") + Money(Decimal(1), "GBP")


# --- Proration -------------------------------------------------------------------------------------

@st.composite
def annual_fees(draw) -> tuple[str, Decimal]:
    currency = draw(CURRENCIES)
    return currency, draw(amounts(currency))


@PROPERTIES
@given(annual_fees(), MONTHS)
def test_proration_stays_between_zero_and_the_full_fee(fee, months):
    currency, annual = fee
    share = prorate_by_months(annual, months=months, currency=currency)
    assert Decimal(0) <= share <= annual
    assert share == round_money(share, currency)
    assert abs(share - annual * months / 12) <= minor_unit(currency) / 2


@PROPERTIES
@given(annual_fees())
def test_proration_grows_with_the_months_from_nothing_to_everything(fee):
    currency, annual = fee
    shares = [prorate_by_months(annual, months=m, currency=currency) for m in range(13)]
    assert shares[0] == 0 and shares[12] == annual
    assert shares == sorted(shares)


@given(st.integers().filter(lambda m: not 0 <= m <= 12))
def test_proration_refuses_impossible_months(months):
    with pytest.raises(ValueError):
        prorate_by_months(Decimal("100"), months=months, currency="USD")


# --- An invoice and its credit note cancel out -----------------------------------------------------

@PROPERTIES
@given(invoice_lines(signed=True), RATES)
def test_invoice_plus_its_credit_note_is_zero(lines, rate):
    currency, line_amounts = lines
    invoice = calculations.totals(line_amounts=line_amounts, tax_rate_percent=rate, currency=currency)
    credit = calculations.totals(line_amounts=[-a for a in line_amounts], tax_rate_percent=rate, currency=currency)
    assert invoice.subtotal + credit.subtotal == 0
    assert invoice.tax_total + credit.tax_total == 0  # half-up rounds away from zero: symmetric
    assert invoice.total + credit.total == 0


@PROPERTIES
@given(annual_fees(), MONTHS, RATES)
def test_crediting_a_prorated_line_cancels_it(fee, months, rate):
    currency, annual = fee
    line = prorate_by_months(annual, months=months, currency=currency)
    invoice = calculations.totals(line_amounts=[line], tax_rate_percent=rate, currency=currency)
    credit = calculations.totals(line_amounts=[-line], tax_rate_percent=rate, currency=currency)
    assert invoice.total + credit.total == 0


# --- No float ever becomes an amount ---------------------------------------------------------------

FLOATS = st.floats(allow_nan=True, allow_infinity=True)


@given(FLOATS)
def test_no_float_reaches_an_amount(value):
    with pytest.raises(FloatNotAllowed):
        to_decimal(value)
    with pytest.raises(FloatNotAllowed):
        round_money(value, "USD")
    with pytest.raises(FloatNotAllowed):
        Money(value, "USD")
    with pytest.raises(FloatNotAllowed):
        prorate_by_months(value, months=6, currency="USD")
    with pytest.raises(FloatNotAllowed):
        tax_on(Decimal("10"), rate_percent=value, currency="USD")
    with pytest.raises(FloatNotAllowed):
        calculations.totals(line_amounts=[Decimal("1"), value], tax_rate_percent=0, currency="USD")
    with pytest.raises(FloatNotAllowed):
        calculations.line_amount(quantity=1, unit_price=value, currency="USD")
    with pytest.raises(FloatNotAllowed):
        percent_change(Decimal("1"), value)


@given(st.one_of(st.integers(min_value=-10**9, max_value=10**9),
                 st.decimals(min_value=-10**9, max_value=10**9, places=3)))
def test_ints_strings_and_decimals_are_exact(value):
    assert to_decimal(value) == Decimal(value)
    assert to_decimal(str(value)) == Decimal(value)
    assert isinstance(to_decimal(value), Decimal)


def test_float_is_not_a_subclass_loophole():
    assert issubclass(FloatNotAllowed, TypeError)
    with pytest.raises(FloatNotAllowed):
        to_decimal(0.1 + 0.2)


@pytest.mark.django_db
def test_stored_amounts_come_back_as_decimal(cast):
    """Every DecimalField of the billing models reads back as Decimal (never float), through a real save."""
    import datetime as dt

    from django.db import models

    from consortium_hub.billing.issuers import settings_for
    from consortium_hub.billing.models import FeeRate, Invoice, InvoiceLine, Issuer, Payment
    from consortium_hub.billing.services.cycles import cycle_commit
    from consortium_hub.billing.services.fees import fee_schedule_create
    from consortium_hub.billing.tests.test_fees import rates

    lead = cast["lead_admin_a"]
    fee_schedule_create(user=lead, consortium=cast.consortium_a, year=2026, consortium_fee_currency="USD",
                        rates=rates())
    lead_settings = settings_for(issuer=Issuer.LEAD, consortium=cast.consortium_a)
    lead_settings.tax_rate_percent = Decimal("17.5")
    lead_settings.save()
    invoice = cycle_commit(user=lead, consortium=cast.consortium_a, year=2026).member_invoices[0]
    Payment.objects.create(invoice=invoice, amount=Decimal("10.00"), received_on=dt.date(2026, 2, 1))
    checked = 0
    for model in (FeeRate, Invoice, InvoiceLine, Payment, type(lead_settings)):
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.DecimalField)]
        for row in model.objects.all():
            row.refresh_from_db()
            for name in fields:
                assert isinstance(getattr(row, name), Decimal), (model.__name__, name)
                checked += 1
    assert checked > 30
    invoice.refresh_from_db()
    assert invoice.total == invoice.subtotal + invoice.tax_total
    assert invoice.tax_total == tax_on(invoice.subtotal, rate_percent=Decimal("17.5"), currency="USD")
