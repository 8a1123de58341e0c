"""Writes of fee schedules: create, copy from the last one, change rates, delete.

Every function is keyword-only, atomic and access-checked (area `billing`: lead admin and lead
finance of the consortium; ORCID finance only reads). Amounts are Decimal (core.money): a float
raises FloatNotAllowed, an amount finer than its currency's minor unit is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from consortium_hub.billing.models import AMOUNT, FeeRate, FeeSchedule, Invoice
from consortium_hub.billing.selectors.fees import (FIRST_YEAR, LAST_YEAR, RateKey, rate_currency, rate_field_name,
                                                   rate_keys)
from consortium_hub.core.access import require
from consortium_hub.core.money import minor_unit, round_money, to_decimal
from consortium_hub.core.roles import ADD, CHANGE, DELETE
from consortium_hub.directory import identifiers
from consortium_hub.directory.models import Consortium

Amount = Decimal | int | str
# The rates to set: a key maps to its new amount, or to None to remove that rate. Keys left out stay.
Rates = Mapping[RateKey, Amount | None]


@transaction.atomic
def fee_schedule_create(*, user: Any, consortium: Consortium, year: int,
                        size_band: str = FeeSchedule.SizeBand.BAND_1, consortium_fee_currency: str = "",
                        rates: Rates | None = None) -> FeeSchedule:
    """A new, empty (or `rates`-filled) schedule; the consortium fee currency defaults to the lead's."""
    require(user, ADD, "billing", consortium_id=consortium.pk)
    schedule = FeeSchedule(consortium=consortium, year=year, size_band=size_band,
                           consortium_fee_currency=consortium_fee_currency or consortium.billing_currency)
    _validate(schedule)
    schedule.save()
    if rates:
        _set_rates(schedule, rates)
    return schedule


@transaction.atomic
def fee_schedule_copy(*, user: Any, consortium: Consortium, year: int) -> FeeSchedule:
    """The schedule for `year`, starting as a copy of the consortium's last schedule before it."""
    require(user, ADD, "billing", consortium_id=consortium.pk)
    source = (FeeSchedule.objects.filter(consortium=consortium, year__lt=year).prefetch_related("rates")
              .order_by("-year").first())
    if source is None:
        raise ValidationError({"year": _("%(c)s has no schedule before %(y)s to copy; create one instead.")
                                       % {"c": consortium, "y": year}})
    schedule = FeeSchedule(consortium=consortium, year=year, size_band=source.size_band,
                           consortium_fee_currency=source.consortium_fee_currency)
    _validate(schedule)
    schedule.save()
    for rate in source.rates.all():
        copy = FeeRate(schedule=schedule, kind=rate.kind, tier=rate.tier, size=rate.size, amount=rate.amount)
        copy.full_clean(validate_constraints=False)  # a fresh schedule has no rates to clash with
        copy.save()
    return schedule


@transaction.atomic
def fee_schedule_update(*, user: Any, schedule: FeeSchedule, size_band: str | None = None,
                        consortium_fee_currency: str | None = None, rates: Rates | None = None) -> FeeSchedule:
    """Change the band, the consortium-fee currency and/or rates. Rises are flagged, never refused
    (selectors.fees.licence_rises)."""
    require(user, CHANGE, "billing", consortium_id=schedule.consortium_id)
    schedule = FeeSchedule.objects.select_for_update().get(pk=schedule.pk)
    if size_band is not None:
        schedule.size_band = size_band
    if consortium_fee_currency is not None:
        schedule.consortium_fee_currency = consortium_fee_currency
    _validate(schedule)
    schedule.save()  # the audit receiver skips a save that changed nothing
    _set_rates(schedule, rates or {})
    return schedule


@transaction.atomic
def fee_schedule_delete(*, user: Any, schedule: FeeSchedule) -> None:
    """Only a schedule nothing was invoiced from: issued invoices keep their basis."""
    require(user, DELETE, "billing", consortium_id=schedule.consortium_id)
    if Invoice.objects.filter(cycle__consortium_id=schedule.consortium_id, cycle__year=schedule.year).exists():
        raise ValidationError(_("Invoices of %(y)s were issued from this schedule; it can no longer be deleted.")
                              % {"y": schedule.year})
    for rate in schedule.rates.all():
        rate.delete()  # one by one, so each removal is in the schedule's history
    schedule.delete()


def _validate(schedule: FeeSchedule) -> None:
    errors: dict[str, list[str]] = {}
    if not FIRST_YEAR <= (schedule.year or 0) <= LAST_YEAR:
        errors["year"] = [_("Choose a year between %(a)s and %(b)s.") % {"a": FIRST_YEAR, "b": LAST_YEAR}]
    try:
        identifiers.validate_currency(schedule.consortium_fee_currency)
    except ValidationError as exc:
        errors["consortium_fee_currency"] = exc.messages
    else:
        if -minor_unit(schedule.consortium_fee_currency).as_tuple().exponent > AMOUNT["decimal_places"]:
            errors["consortium_fee_currency"] = [_("Invoices keep amounts to %(n)s decimal places; %(cur)s needs more.")
                                                 % {"n": AMOUNT["decimal_places"],
                                                    "cur": schedule.consortium_fee_currency}]
    try:
        schedule.full_clean()  # includes one schedule per consortium and year
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _set_rates(schedule: FeeSchedule, rates: Rates) -> None:
    """Apply `rates`, then check every rate fits its currency (the consortium-fee currency may have changed)."""
    known = set(rate_keys())
    existing = {(r.kind, r.tier, r.size): r for r in FeeRate.objects.filter(schedule=schedule)}
    errors: dict[str, list[str]] = {}
    for key, value in rates.items():
        key = (str(key[0]), str(key[1]), str(key[2] or ""))
        if key not in known:
            errors.setdefault("rates", []).append(_("There is no fee for %(key)s.") % {"key": "/".join(key)})
            continue
        rate = existing.get(key)
        if value is None or value == "":
            if rate is not None:
                rate.delete()
                del existing[key]
            continue
        amount = to_decimal(value)  # a float raises FloatNotAllowed: a programming error, not user input
        if rate is None:
            rate = existing[key] = FeeRate(schedule=schedule, kind=key[0], tier=key[1], size=key[2], amount=amount)
        elif rate.amount == amount:
            continue
        rate.amount = amount
        problem = _amount_problem(amount, rate_currency(schedule, key[0]))
        if problem:
            errors.setdefault(rate_field_name(key), []).append(problem)
            continue
        rate.full_clean(validate_constraints=False)  # the key is unique by construction above
        rate.save()
    for key, rate in existing.items():
        problem = _amount_problem(rate.amount, rate_currency(schedule, rate.kind))
        if problem and rate_field_name(key) not in errors:
            errors[rate_field_name(key)] = [problem]
    if errors:
        raise ValidationError(errors)


def _amount_problem(amount: Decimal, currency: str) -> str:
    if not amount.is_finite() or amount < 0:
        return _("A fee cannot be negative.")
    if round_money(amount, currency) != amount:
        return _("%(cur)s amounts have no unit smaller than %(unit)s.") % {"cur": currency,
                                                                           "unit": minor_unit(currency)}
    return ""


def rates_from_fields(cleaned: Mapping[str, Any]) -> dict[RateKey, Decimal | None]:
    """The rates of a form with one field per rate (forms_fees.FeeRatesForm): empty means no rate."""
    return {key: cleaned.get(rate_field_name(key)) for key in rate_keys() if rate_field_name(key) in cleaned}


__all__ = ["fee_schedule_copy", "fee_schedule_create", "fee_schedule_delete", "fee_schedule_update",
           "rates_from_fields"]
