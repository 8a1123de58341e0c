"""Reads of membership applications. Every selector starts from `visible_to(user)`.

The one exception is the applicant's own view through the private link (`application_for_token`)
and the public application page's consortium (`open_consortium`): both are for anonymous people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from consortium_hub.accounts.services import hash_token
from consortium_hub.directory.models import Consortium, ContactRole, Membership, Organisation
from consortium_hub.onboarding.models import Application, Plan

OPEN_CONSORTIUM_STATUSES = (Consortium.Status.ACTIVE, Consortium.Status.FORMING)


def application_list(*, user: Any) -> QuerySet[Application]:
    return (Application.objects.visible_to(user)
            .select_related("consortium", "organisation", "membership", "reviewed_by", "submitted_by"))


def open_consortium(*, pk: int) -> Consortium:
    """The consortium of a public application page: only active or forming ones take applications."""
    consortium = Consortium.objects.filter(pk=pk, status__in=OPEN_CONSORTIUM_STATUSES).first()
    if consortium is None:
        raise Http404
    return consortium


def application_for_token(*, token: str) -> Application | None:
    """The application a private link opens (the token's hash is what is stored)."""
    if not token:
        return None
    return (Application.objects.select_related("consortium")
            .filter(edit_token_hash=hash_token(token)).first())


def plan_for(*, application: Application) -> Plan | None:
    """The onboarding plan approval started for the application's membership."""
    if application.membership_id is None:
        return None
    return Plan.objects.filter(membership_id=application.membership_id).order_by("-pk").first()


@dataclass(frozen=True)
class Duplicate:
    organisation: Organisation
    reasons: tuple[str, ...]
    # Only organisations of the application's consortium, without a current membership, can be linked.
    linkable: bool
    why_not_linkable: str = ""
    voting_contact: Any = None


@dataclass
class DuplicateCheck:
    matches: list[Duplicate] = field(default_factory=list)
    # The ROR ID is recorded for an organisation the user cannot see (another consortium).
    ror_elsewhere: bool = False

    @property
    def linkable(self) -> list[Duplicate]:
        return [d for d in self.matches if d.linkable]

    @property
    def blocks_new_organisation(self) -> bool:
        """A new organisation would break the hub-wide ROR or the consortium's name uniqueness."""
        return self.ror_elsewhere or bool(self.matches)


def application_duplicates(*, user: Any, application: Application) -> DuplicateCheck:
    """Organisations that may be the applicant: the same ROR ID anywhere the user can see, or the
    same legal name (ignoring case) in the application's consortium."""
    match = Q(consortium_id=application.consortium_id, legal_name__iexact=application.legal_name)
    if application.ror_id:
        match |= Q(ror_id=application.ror_id)
    visible = Organisation.objects.visible_to(user)
    organisations = list(visible.filter(match).select_related("consortium")
                         .prefetch_related("memberships").order_by("legal_name"))
    voters = {r.organisation_id: r.contact for r in ContactRole.objects.filter(
        organisation__in=organisations, role=ContactRole.Kind.VOTING).select_related("contact")}
    check = DuplicateCheck()
    for organisation in organisations:
        reasons = []
        if application.ror_id and organisation.ror_id == application.ror_id:
            reasons.append("ror")
        if (organisation.consortium_id == application.consortium_id
                and organisation.legal_name.lower() == application.legal_name.lower()):
            reasons.append("name")
        why = ""
        if organisation.consortium_id != application.consortium_id:
            why = str(_("It belongs to %(consortium)s.") % {"consortium": organisation.consortium})
        else:
            current = [m for m in organisation.memberships.all()
                       if m.status in (Membership.Status.ONBOARDING, Membership.Status.ACTIVE)]
            if current:
                why = str(_("It already has a membership that is %(status)s.")
                          % {"status": current[0].get_status_display().lower()})
        check.matches.append(Duplicate(organisation=organisation, reasons=tuple(reasons), linkable=not why,
                                       why_not_linkable=why, voting_contact=voters.get(organisation.pk)))
    if application.ror_id:
        check.ror_elsewhere = (Organisation.objects.filter(ror_id=application.ror_id)
                               .exclude(pk__in=[o.pk for o in organisations]).exists())
    return check


def _visible_consortia(request: Any) -> QuerySet:
    if request is None:
        return Consortium.objects.none()
    return Consortium.objects.visible_to(request.user, area="onboarding")


class ApplicationFilter(django_filters.FilterSet):
    """Shared by the review list and the API."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(choices=Application.Status.choices, label=_("Status"))
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))
    ordering = django_filters.OrderingFilter(
        fields=(("created_at", "submitted"), ("legal_name", "name"), ("wished_start", "start"),
                ("status", "status")),
        label=_("Sort by"),
    )

    class Meta:
        model = Application
        fields = ["q", "status", "consortium"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(legal_name__icontains=value) | Q(public_name__icontains=value)
                               | Q(contact_name__icontains=value) | Q(contact_email__icontains=value)
                               | Q(ror_id__icontains=value))
