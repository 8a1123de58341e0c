"""Filtersets of the ORCID registry link, shared by the list pages, the CSV exports and the API, so all
three filter the same way. Choices come from `visible_to(...)`: a dropdown never names another
consortium's organisations."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from consortium_hub.directory.models import Consortium, Organisation
from consortium_hub.registry.models import (Affiliation, AffiliationUpload, AdoptionSnapshot, OrcidApiCall,
                                            OrcidGrant, PermissionLink, Section)


def _organisations(area: str) -> Any:
    def choices(request: Any) -> QuerySet[Organisation]:
        if request is None:
            return Organisation.objects.none()
        return Organisation.objects.visible_to(request.user, area=area).order_by("legal_name")
    return choices


def _consortia(area: str) -> Any:
    """Consortia in which the user holds `area`; members (organisation-scoped) get none to choose from."""
    def choices(request: Any) -> QuerySet[Consortium]:
        if request is None:
            return Consortium.objects.none()
        return Consortium.objects.visible_to(request.user, area=area).order_by("name")
    return choices


class AffiliationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Email, ORCID iD or put-code"), method="search")
    organisation = django_filters.ModelChoiceFilter(queryset=_organisations("affiliations"), label=_("Organisation"))
    consortium = django_filters.ModelChoiceFilter(queryset=_consortia("affiliations"), label=_("Consortium"),
                                                  field_name="organisation__consortium")
    # distinct=False: status and section are columns of the row itself, so no join can repeat rows.
    status = django_filters.MultipleChoiceFilter(choices=Affiliation.Status.choices, label=_("Status"),
                                                 distinct=False)
    section = django_filters.ChoiceFilter(choices=Section.choices, label=_("Section"))
    upload = django_filters.NumberFilter(field_name="upload_id", label=_("Upload number"))
    ordering = django_filters.OrderingFilter(
        fields=(("updated_at", "updated"), ("email", "email"), ("status", "status"), ("section", "section"),
                ("organisation__legal_name", "organisation"), ("start_date", "start")),
        label=_("Sort by"),
    )

    class Meta:
        model = Affiliation
        fields = ["q", "organisation", "consortium", "status", "section", "upload"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(email__icontains=value) | Q(orcid_id__icontains=value) | Q(put_code=value))


class UploadFilter(django_filters.FilterSet):
    organisation = django_filters.ModelChoiceFilter(queryset=_organisations("affiliations"), label=_("Organisation"))
    applied = django_filters.BooleanFilter(field_name="applied_at", lookup_expr="isnull", exclude=True,
                                           label=_("Applied"))
    ordering = django_filters.OrderingFilter(fields=(("created_at", "uploaded"), ("applied_at", "applied"),
                                                     ("filename", "file")), label=_("Sort by"))

    class Meta:
        model = AffiliationUpload
        fields = ["organisation", "applied"]


class GrantFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Email or ORCID iD"), method="search")
    organisation = django_filters.ModelChoiceFilter(queryset=_organisations("affiliations"), label=_("Organisation"))
    status = django_filters.ChoiceFilter(choices=OrcidGrant.Status.choices, label=_("Status"))
    ordering = django_filters.OrderingFilter(fields=(("email", "email"), ("granted_at", "granted"),
                                                     ("updated_at", "updated")), label=_("Sort by"))

    class Meta:
        model = OrcidGrant
        fields = ["q", "organisation", "status"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(email__icontains=value) | Q(orcid_id__icontains=value)) if value else queryset


class PermissionLinkFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(lookup_expr="icontains", label=_("Email"))
    organisation = django_filters.ModelChoiceFilter(queryset=_organisations("affiliations"), label=_("Organisation"))
    status = django_filters.ChoiceFilter(choices=PermissionLink.Status.choices, label=_("Status"))
    ordering = django_filters.OrderingFilter(fields=(("created_at", "created"), ("expires_at", "expires"),
                                                     ("email", "email")), label=_("Sort by"))

    class Meta:
        model = PermissionLink
        fields = ["email", "organisation", "status"]


class ApiCallFilter(django_filters.FilterSet):
    consortium = django_filters.ModelChoiceFilter(queryset=_consortia("registry_calls"), label=_("Consortium"))
    organisation = django_filters.ModelChoiceFilter(queryset=_organisations("registry_calls"),
                                                    label=_("Organisation"))
    method = django_filters.ChoiceFilter(choices=[(m, m) for m in ("GET", "POST", "PUT", "DELETE")],
                                         label=_("Method"))
    status_code = django_filters.NumberFilter(label=_("HTTP status"))
    failed = django_filters.BooleanFilter(method="filter_failed", label=_("Failed calls only"))
    since = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("From"))
    until = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("Until"))

    class Meta:
        model = OrcidApiCall
        fields = ["consortium", "organisation", "method", "status_code", "failed", "since", "until"]

    def filter_failed(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        failed = Q(status_code__isnull=True) | Q(status_code__gte=400)
        if value is None:
            return queryset
        return queryset.filter(failed) if value else queryset.exclude(failed)


class AdoptionSnapshotFilter(django_filters.FilterSet):
    organisation = django_filters.ModelChoiceFilter(queryset=_organisations("adoption"), label=_("Organisation"))
    consortium = django_filters.ModelChoiceFilter(queryset=_consortia("adoption"), label=_("Consortium"),
                                                  field_name="organisation__consortium")
    since = django_filters.DateFilter(field_name="taken_on", lookup_expr="gte", label=_("From"))
    until = django_filters.DateFilter(field_name="taken_on", lookup_expr="lte", label=_("Until"))

    class Meta:
        model = AdoptionSnapshot
        fields = ["organisation", "consortium", "since", "until"]
