"""Reads of fee schedules: lists, the rates table, and licence fees that rose more than 3%.

A schedule holds one rate per key (kind, tier, size): licence fees by tier (size "", USD: the
schedule fixes the consortium's size band) and consortium fees by tier and member size (the
schedule's consortium-fee currency). Lists start from `visible_to(user)`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from consortium_hub.billing.models import LICENCE_CURRENCY, FeeKind, FeeRate, FeeSchedule
from consortium_hub.core.money import percent_change, round_money
from consortium_hub.directory.models import Membership

# Billing years the hub accepts (pages answer 404 outside them, services refuse them).
FIRST_YEAR, LAST_YEAR = 2000, 2100
# A licence fee rising more than this over the previous schedule's same rate is flagged (not refused).
LICENCE_RISE_FLAG_PERCENT = Decimal("3")

RateKey = tuple[str, str, str]  # (kind, tier, size); size is "" for licence fees


def licence_keys() -> list[RateKey]:
    return [(FeeKind.LICENCE, tier, "") for tier in Membership.Tier.values]


def consortium_keys() -> list[RateKey]:
    return [(FeeKind.CONSORTIUM, tier, size) for tier in Membership.Tier.values for size in Membership.Size.values]


def rate_keys() -> list[RateKey]:
    """Every rate a schedule can hold, in the order the rates table shows them."""
    return licence_keys() + consortium_keys()


def rate_field_name(key: RateKey) -> str:
    """The form field (and error key) of one rate: licence_basic, consortium_premium_large."""
    kind, tier, size = key
    return "_".join(part for part in (kind, tier, size) if part)


def rate_currency(schedule: FeeSchedule, kind: str) -> str:
    return LICENCE_CURRENCY if kind == FeeKind.LICENCE else schedule.consortium_fee_currency


def rates_by_key(schedule: FeeSchedule) -> dict[RateKey, Decimal]:
    """The schedule's rates (uses prefetched `rates` when present), to their currency's minor unit (the
    database keeps three places for every currency)."""
    return {(r.kind, r.tier, r.size): round_money(r.amount, rate_currency(schedule, r.kind))
            for r in schedule.rates.all()}


def fee_schedule_list(*, user: Any) -> QuerySet[FeeSchedule]:
    return (FeeSchedule.objects.visible_to(user)
            .select_related("consortium")
            .prefetch_related(Prefetch("rates", queryset=FeeRate.objects.order_by("kind", "tier", "size")))
            .order_by("consortium__name", "-year", "pk"))


def fee_schedule_with_rates(*, user: Any) -> QuerySet[FeeSchedule]:
    """For the detail page and API: one schedule with its consortium and rates."""
    return fee_schedule_list(user=user)


def previous_schedule(schedule: FeeSchedule) -> FeeSchedule | None:
    """The consortium's latest schedule before this one's year (the one a copy starts from)."""
    return (FeeSchedule.objects.filter(consortium_id=schedule.consortium_id, year__lt=schedule.year)
            .prefetch_related("rates").order_by("-year").first())


@dataclass(frozen=True)
class LicenceRise:
    """A licence fee more than LICENCE_RISE_FLAG_PERCENT above the previous schedule's same rate."""

    tier: str
    previous_year: int
    previous: Decimal
    current: Decimal
    percent: Decimal

    @property
    def tier_label(self) -> str:
        return str(Membership.Tier(self.tier).label)

    @property
    def message(self) -> str:
        return _("The %(tier)s licence fee rises %(percent)s%% over %(year)s (%(old)s → %(new)s %(cur)s), "
                 "more than the %(limit)s%% ORCID expects.") % {
            "tier": Membership.Tier(self.tier).label, "percent": self.percent, "year": self.previous_year,
            "old": self.previous, "new": self.current, "cur": LICENCE_CURRENCY, "limit": LICENCE_RISE_FLAG_PERCENT}

    def as_dict(self) -> dict[str, Any]:
        return {"code": "licence_fee_rise", "tier": self.tier, "previous_year": self.previous_year,
                "previous": str(self.previous), "current": str(self.current), "percent": str(self.percent),
                "message": self.message}


def _rises(current: dict[str, Decimal], previous: dict[str, Decimal], previous_year: int) -> list[LicenceRise]:
    rises = []
    for tier in Membership.Tier.values:
        if tier not in current or tier not in previous:
            continue
        change = percent_change(previous[tier], current[tier])
        if change is not None and change > LICENCE_RISE_FLAG_PERCENT:
            rises.append(LicenceRise(tier, previous_year, previous[tier], current[tier], change))
    return rises


def licence_rises(schedule: FeeSchedule) -> list[LicenceRise]:
    """This schedule's licence fees that rose more than 3% over the previous schedule's (a warning)."""
    before = previous_schedule(schedule)
    if before is None:
        return []
    current = {tier: amount for (kind, tier, _size), amount in rates_by_key(schedule).items()
               if kind == FeeKind.LICENCE}
    previous = {tier: amount for (kind, tier, _size), amount in rates_by_key(before).items()
                if kind == FeeKind.LICENCE}
    return _rises(current, previous, before.year)


def licence_rises_for(schedules: Iterable[FeeSchedule]) -> dict[int, list[LicenceRise]]:
    """The rises of many schedules (a list page) in one query, whatever their number."""
    schedules = list(schedules)
    if not schedules:
        return {}
    consortium_ids = {s.consortium_id for s in schedules}
    years: dict[int, set[int]] = defaultdict(set)
    for consortium_id, year in FeeSchedule.objects.filter(consortium_id__in=consortium_ids).values_list(
            "consortium_id", "year"):
        years[consortium_id].add(year)
    licence: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(dict)
    for consortium_id, year, tier, amount in (
            FeeRate.objects.filter(kind=FeeKind.LICENCE, schedule__consortium_id__in=consortium_ids)
            .values_list("schedule__consortium_id", "schedule__year", "tier", "amount")):
        licence[(consortium_id, year)][tier] = round_money(amount, LICENCE_CURRENCY)
    result: dict[int, list[LicenceRise]] = {}
    for s in schedules:
        earlier = [y for y in years[s.consortium_id] if y < s.year]
        if not earlier:
            result[s.pk] = []
            continue
        before = max(earlier)
        result[s.pk] = _rises(licence[(s.consortium_id, s.year)], licence[(s.consortium_id, before)], before)
    return result


@dataclass(frozen=True)
class RateRow:
    tier_label: str
    licence: Decimal | None
    consortium: list[Decimal | None]  # by member size, in Membership.Size order


def rate_table(schedule: FeeSchedule) -> list[RateRow]:
    """One row per tier: its licence fee and its consortium fee for each member size."""
    rates = rates_by_key(schedule)
    return [RateRow(label, rates.get((FeeKind.LICENCE, tier, "")),
                    [rates.get((FeeKind.CONSORTIUM, tier, size)) for size in Membership.Size.values])
            for tier, label in Membership.Tier.choices]
