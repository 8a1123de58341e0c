"""Forms and filtersets of ORCID's side of support: escalation (lead and ORCID) and problem management.

Plain `Form`s: the services validate and check access. Choices come from `visible_to(...)`, so they
never offer rows the user may not see.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from consortium_hub.accounts.models import User
from consortium_hub.core.roles import ORCID_ROLES, Role
from consortium_hub.directory.models import Consortium
from consortium_hub.support.models import Problem, Ticket

TEXT = forms.Textarea(attrs={"rows": 5})


def orcid_staff() -> QuerySet[User]:
    return User.objects.filter(is_active=True, role_assignments__role__in=ORCID_ROLES).distinct().order_by("email")


def orcid_support_staff() -> QuerySet[User]:
    return (User.objects.filter(is_active=True, role_assignments__role__in=[Role.ORCID_SUPPORT, Role.ORCID_ADMIN])
            .distinct().order_by("email"))


# --- Escalation --------------------------------------------------------------------------------------

class EscalateForm(forms.Form):
    tier = forms.TypedChoiceField(label=_("Escalate as"), coerce=int,
                                  choices=[(t.value, t.label) for t in (Ticket.Tier.TIER_2, Ticket.Tier.TIER_3)],
                                  help_text=_("Tier 2: ORCID support. Tier 3: ORCID's technical team."))
    summary = forms.CharField(label=_("Summary for ORCID"), widget=TEXT,
                              help_text=_("What the member needs, what you found and what you tried. ORCID sees "
                                          "this, the public replies and notes you shared with ORCID; never your "
                                          "internal notes."))


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=TEXT)


class ResolveForm(forms.Form):
    body = forms.CharField(label=_("Resolution for the lead"), widget=TEXT, required=False)


class HandBackForm(forms.Form):
    reason = forms.CharField(label=_("Why it goes back to the lead"), widget=TEXT)


def _visible_consortia(request: Any) -> QuerySet[Consortium]:
    if request is None:
        return Consortium.objects.none()
    return Consortium.objects.visible_to(request.user).order_by("name")


class OrcidQueueFilter(django_filters.FilterSet):
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))
    tier = django_filters.TypedChoiceFilter(choices=[(2, _("Tier 2")), (3, _("Tier 3"))], coerce=int,
                                            label=_("Tier"))
    orcid_status = django_filters.ChoiceFilter(choices=Ticket.OrcidStatus.choices, label=_("Status at ORCID"),
                                               empty_label=_("Open at ORCID"))
    assignee = django_filters.ModelChoiceFilter(field_name="orcid_assignee", queryset=lambda r: orcid_support_staff(),
                                                label=_("Taken by"))
    unassigned = django_filters.BooleanFilter(field_name="orcid_assignee", lookup_expr="isnull",
                                              label=_("Not taken yet"))

    class Meta:
        model = Ticket
        fields = ["consortium", "tier", "orcid_status", "assignee", "unassigned"]


# --- Problems ----------------------------------------------------------------------------------------

class ProblemForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=255)
    state = forms.ChoiceField(label=_("State"), choices=Problem.State.choices, initial=Problem.State.NEW)
    description = forms.CharField(label=_("Description"), widget=TEXT, required=False)
    root_cause = forms.CharField(label=_("Root cause"), widget=TEXT, required=False)
    workaround = forms.CharField(label=_("Workaround"), widget=TEXT, required=False,
                                 help_text=_("Needed for a known error: what leads can tell members meanwhile."))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, instance: Problem | None = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs.setdefault("initial", {name: getattr(instance, name) for name in
                                          ("title", "state", "description", "root_cause", "workaround")}
                              | {"owner": instance.owner_id})
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = orcid_staff()


class ProblemLinkForm(forms.Form):
    ticket = forms.CharField(label=_("Ticket reference"), max_length=30)


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=255)
    body = forms.CharField(label=_("Article"), widget=forms.Textarea(attrs={"rows": 10}),
                           help_text=_("Every consortium lead can use this as a saved answer."))


class ProblemFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    state = django_filters.ChoiceFilter(choices=Problem.State.choices, label=_("State"))

    class Meta:
        model = Problem
        fields = ["q", "state"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(reference__icontains=value) | Q(title__icontains=value))
