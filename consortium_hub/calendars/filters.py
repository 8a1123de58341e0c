"""Filtersets shared by the calendar list page and the API."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from consortium_hub.calendars.models import BusinessCalendar
from consortium_hub.directory.models import Consortium


def _visible_consortia(request) -> QuerySet:
    if request is None:
        return Consortium.objects.none()
    return Consortium.objects.visible_to(request.user, area="calendars")


class CalendarFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Search"))
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))
    orcid = django_filters.BooleanFilter(field_name="consortium", lookup_expr="isnull", label=_("ORCID calendars"))
    ordering = django_filters.OrderingFilter(fields=(("name", "name"), ("timezone", "timezone"),
                                                     ("consortium__name", "consortium")), label=_("Sort by"))

    class Meta:
        model = BusinessCalendar
        fields = ["q", "consortium", "orcid"]
