"""Forms and filtersets of communiqués."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from consortium_hub.communiques.models import Communique, CommuniqueRecipient
from consortium_hub.communiques.selectors.communiques import ANSWERED, OPEN, OVERDUE
from consortium_hub.communiques.services.communiques import sendable_consortia
from consortium_hub.directory.models import Consortium


class SendForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=255)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 10}))
    all_consortia = forms.BooleanField(label=_("Send to every consortium listed below"), required=False)
    consortia = forms.ModelMultipleChoiceField(label=_("Consortia"), queryset=Consortium.objects.none(),
                                               required=False, widget=forms.CheckboxSelectMultiple,
                                               help_text=_("Each consortium's lead admins and lead support staff "
                                                           "are emailed and have 3 business days to respond."))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consortia"].queryset = sendable_consortia(user)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("all_consortia"):
            data["consortia"] = list(self.fields["consortia"].queryset)
        if not data.get("consortia"):
            self.add_error("consortia", _("Choose at least one consortium, or all of them."))
        data.pop("all_consortia", None)
        return data


class RespondForm(forms.Form):
    response = forms.CharField(label=_("Your response"), widget=forms.Textarea(attrs={"rows": 8}))


def _visible_consortia(request: Any) -> QuerySet[Consortium]:
    if request is None:
        return Consortium.objects.none()
    return Consortium.objects.visible_to(request.user).order_by("name")


class CommuniqueFilter(django_filters.FilterSet):
    """ORCID's list: communiqués by subject and recipient consortium."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    consortium = django_filters.ModelChoiceFilter(field_name="recipients__consortium", queryset=_visible_consortia,
                                                  label=_("Sent to"), distinct=True)

    class Meta:
        model = Communique
        fields = ["q", "consortium"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(subject__icontains=value) | Q(body__icontains=value)) if value else queryset


class CopyFilter(django_filters.FilterSet):
    """A lead's list of its copies."""

    state = django_filters.ChoiceFilter(label=_("State"), field_name="bucket",
                                        choices=[(OVERDUE, _("Overdue")), (OPEN, _("Awaiting response")),
                                                 (ANSWERED, _("Answered"))])
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))

    class Meta:
        model = CommuniqueRecipient
        fields = ["state", "consortium"]
