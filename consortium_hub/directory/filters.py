"""Filtersets shared by the list pages and the API, so both filter the same way."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from consortium_hub.directory.models import Consortium, Contact, ContactRole, Membership, Organisation


def _visible_consortia(request) -> QuerySet:
    if request is None:
        return Consortium.objects.none()
    return Consortium.objects.visible_to(request.user)


class OrganisationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))
    country = django_filters.CharFilter(label=_("Country code"), lookup_expr="iexact")
    type = django_filters.ChoiceFilter(choices=Organisation.Type.choices, label=_("Type"))
    membership_status = django_filters.ChoiceFilter(choices=Membership.Status.choices, label=_("Membership status"),
                                                    field_name="memberships__status", distinct=True)
    ordering = django_filters.OrderingFilter(
        fields=(("legal_name", "name"), ("country", "country"), ("created_at", "created"), ("updated_at", "updated")),
        label=_("Sort by"),
    )

    class Meta:
        model = Organisation
        fields = ["q", "consortium", "country", "type", "membership_status"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(legal_name__icontains=value) | Q(public_name__icontains=value) | Q(ror_id__icontains=value)
            | Q(ringgold_id=value) | Q(grid_id__iexact=value) | Q(isni__icontains=value) | Q(city__icontains=value)
        )


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"),
                                                  field_name="organisation__consortium")
    role = django_filters.ChoiceFilter(choices=ContactRole.Kind.choices, label=_("Role"), field_name="roles__role",
                                       distinct=True)
    organisation = django_filters.NumberFilter(field_name="organisation_id", label=_("Organisation id"))
    ordering = django_filters.OrderingFilter(fields=(("name", "name"), ("email", "email"),
                                                     ("organisation__legal_name", "organisation")),
                                             label=_("Sort by"))

    class Meta:
        model = Contact
        fields = ["q", "consortium", "role", "organisation"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value) | Q(orcid_id__icontains=value)
                               | Q(job_title__icontains=value))


class MembershipFilter(django_filters.FilterSet):
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))
    status = django_filters.ChoiceFilter(choices=Membership.Status.choices, label=_("Status"))
    tier = django_filters.ChoiceFilter(choices=Membership.Tier.choices, label=_("Tier"))
    size = django_filters.ChoiceFilter(choices=Membership.Size.choices, label=_("Size"))
    ordering = django_filters.OrderingFilter(fields=(("organisation__legal_name", "organisation"),
                                                     ("start_date", "start"), ("status", "status")),
                                             label=_("Sort by"))

    class Meta:
        model = Membership
        fields = ["consortium", "status", "tier", "size"]


class ConsortiumFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=Consortium.Status.choices, label=_("Status"))
    ordering = django_filters.OrderingFilter(fields=(("name", "name"), ("country", "country")), label=_("Sort by"))

    class Meta:
        model = Consortium
        fields = ["q", "status"]
