"""FilterSets shared by the agreement pages and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consortium_hub.agreements.models import Agreement, RenewalDecision
from consortium_hub.directory.models import Consortium, Membership


def _visible_consortia(request: Any) -> QuerySet:
    if request is None:
        return Consortium.objects.none()
    return Consortium.objects.visible_to(request.user, area="agreements")


class AgreementFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    kind = django_filters.ChoiceFilter(choices=Agreement.Kind.choices, label=_("Kind"))
    status = django_filters.ChoiceFilter(choices=Agreement.Status.choices, label=_("Status"))
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))
    tier = django_filters.ChoiceFilter(choices=Membership.Tier.choices, label=_("Tier"))
    ending_within = django_filters.NumberFilter(label=_("Ending within (days)"), method="ending_within_days",
                                                min_value=0)
    ordering = django_filters.OrderingFilter(
        fields=(("end_date", "end"), ("start_date", "start"), ("organisation__legal_name", "member"),
                ("status", "status")),
        label=_("Sort by"))

    class Meta:
        model = Agreement
        fields = ["q", "kind", "status", "consortium", "tier", "ending_within"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(organisation__legal_name__icontains=value)
                               | Q(organisation__public_name__icontains=value)
                               | Q(consortium__name__icontains=value))

    def ending_within_days(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        if value is None:
            return queryset
        today = timezone.localdate()
        return queryset.filter(end_date__gte=today, end_date__lte=today + dt.timedelta(days=int(value)))


class PipelineFilter(django_filters.FilterSet):
    """The renewal pipeline's filters besides its window tabs."""

    kind = django_filters.ChoiceFilter(choices=Agreement.Kind.choices, label=_("Kind"))
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))
    decided = django_filters.BooleanFilter(label=_("Decision recorded"), method="with_decision")

    class Meta:
        model = Agreement
        fields = ["kind", "consortium", "decided"]

    def with_decision(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(decisions__isnull=not value).distinct()


class DecisionFilter(django_filters.FilterSet):
    agreement = django_filters.NumberFilter(field_name="agreement_id", label=_("Agreement"))
    decision = django_filters.ChoiceFilter(choices=RenewalDecision.Decision.choices, label=_("Decision"))
    consortium = django_filters.NumberFilter(field_name="agreement__consortium_id", label=_("Consortium"))

    class Meta:
        model = RenewalDecision
        fields = ["agreement", "decision", "consortium"]
