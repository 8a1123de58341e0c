"""Forms and the filterset of billing cycles."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consortium_hub.billing.models import BillingCycle
from consortium_hub.core.roles import ADD
from consortium_hub.directory.models import Consortium


def _visible_consortia(request: Any) -> QuerySet:
    if request is None:
        return Consortium.objects.none()
    return Consortium.objects.visible_to(request.user, area="billing")


class CycleFilter(django_filters.FilterSet):
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))
    year = django_filters.NumberFilter(label=_("Year"))
    status = django_filters.ChoiceFilter(choices=BillingCycle.Status.choices, label=_("Status"))
    ordering = django_filters.OrderingFilter(fields=(("year", "year"), ("consortium__name", "consortium"),
                                                     ("last_committed_at", "last_committed_at")),
                                             label=_("Sort by"))

    class Meta:
        model = BillingCycle
        fields = ["consortium", "year", "status"]


class CycleOpenForm(forms.Form):
    consortium = forms.ModelChoiceField(label=_("Consortium"), queryset=Consortium.objects.none())
    year = forms.IntegerField(label=_("Billing year"), min_value=2000, max_value=2100)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"year": timezone.localdate().year})
        super().__init__(*args, **kwargs)
        consortia = Consortium.objects.visible_to(user, ADD, area="billing").order_by("name")
        self.fields["consortium"].queryset = consortia
        if consortia.count() == 1:
            self.fields["consortium"].initial = consortia.first()
