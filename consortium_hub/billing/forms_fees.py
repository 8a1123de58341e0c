"""Forms and the filterset of fee schedules.

Plain `Form`s: the services validate (currency, one schedule per year, amounts per currency) and
their errors land on the fields. Consortium choices come from `visible_to(user, ADD, area="billing")`.
The rates form has one field per rate (tier × size), named by `selectors.fees.rate_field_name`.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consortium_hub.billing.models import LICENCE_CURRENCY, FeeKind, FeeSchedule
from consortium_hub.billing.selectors.fees import RateKey, rate_field_name, rate_keys, rates_by_key
from consortium_hub.core.roles import ADD
from consortium_hub.directory.models import Consortium, Membership

AMOUNT_FIELD = {"required": False, "min_value": 0, "max_digits": 14, "decimal_places": 3}


def _visible_consortia(request: Any) -> QuerySet:
    if request is None:
        return Consortium.objects.none()
    return Consortium.objects.visible_to(request.user, area="billing")


class FeeScheduleFilter(django_filters.FilterSet):
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))
    year = django_filters.NumberFilter(label=_("Year"))
    ordering = django_filters.OrderingFilter(fields=(("year", "year"), ("consortium__name", "consortium")),
                                             label=_("Sort by"))

    class Meta:
        model = FeeSchedule
        fields = ["consortium", "year"]


class FeeScheduleCreateForm(forms.Form):
    consortium = forms.ModelChoiceField(label=_("Consortium"), queryset=Consortium.objects.none())
    year = forms.IntegerField(label=_("Billing year"), min_value=2000, max_value=2100)
    copy_last = forms.BooleanField(label=_("Start as a copy of the consortium's last schedule"), required=False,
                                   initial=True, help_text=_("Band, currency and every rate; change them next."))
    size_band = forms.ChoiceField(label=_("Consortium size band"), choices=FeeSchedule.SizeBand.choices,
                                  required=False, help_text=_("For a new schedule (a copy keeps the last one's)."))
    consortium_fee_currency = forms.CharField(label=_("Consortium fee currency"), max_length=3, required=False,
                                              help_text=_("ISO code; empty: the consortium's billing currency."))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"year": timezone.localdate().year + 1, "copy_last": True})
        super().__init__(*args, **kwargs)
        consortia = Consortium.objects.visible_to(user, ADD, area="billing").order_by("name")
        self.fields["consortium"].queryset = consortia
        if consortia.count() == 1:
            self.fields["consortium"].initial = consortia.first()

    def clean_consortium_fee_currency(self) -> str:
        return self.cleaned_data["consortium_fee_currency"].strip().upper()


def _rate_label(key: RateKey, currency: str) -> str:
    kind, tier, size = key
    tier_label = Membership.Tier(tier).label
    if kind == FeeKind.LICENCE:
        return str(_("Licence fee, %(tier)s (%(cur)s)") % {"tier": tier_label, "cur": LICENCE_CURRENCY})
    return str(_("Consortium fee, %(tier)s, %(size)s (%(cur)s)") % {
        "tier": tier_label, "size": Membership.Size(size).label, "cur": currency})


class FeeRatesForm(forms.Form):
    """The schedule's band and currency and every rate at once; an empty rate means none (members of that
    tier/size are left out of the cycle)."""

    size_band = forms.ChoiceField(label=_("Consortium size band"), choices=FeeSchedule.SizeBand.choices)
    consortium_fee_currency = forms.CharField(label=_("Consortium fee currency"), max_length=3)

    def __init__(self, *args: Any, schedule: FeeSchedule, **kwargs: Any) -> None:
        rates = rates_by_key(schedule)
        initial = {"size_band": schedule.size_band, "consortium_fee_currency": schedule.consortium_fee_currency}
        initial |= {rate_field_name(key): amount for key, amount in rates.items()}
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for key in rate_keys():
            self.fields[rate_field_name(key)] = forms.DecimalField(
                label=_rate_label(key, schedule.consortium_fee_currency), **AMOUNT_FIELD)

    def clean_consortium_fee_currency(self) -> str:
        return self.cleaned_data["consortium_fee_currency"].strip().upper()

    def table(self) -> list[dict[str, Any]]:
        """The rate fields as the rates table lays them out: a row per tier, licence then each member size."""
        return [{"tier": label,
                 "licence": self[rate_field_name((FeeKind.LICENCE, tier, ""))],
                 "consortium": [self[rate_field_name((FeeKind.CONSORTIUM, tier, size))]
                                for size in Membership.Size.values]}
                for tier, label in Membership.Tier.choices]
