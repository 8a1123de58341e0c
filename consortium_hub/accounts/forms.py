from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from consortium_hub.core.access import access_scope
from consortium_hub.core.roles import ADD, ORCID_ROLES, Role
from consortium_hub.directory.models import Consortium, Organisation


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    consortium = forms.ModelChoiceField(label=_("Consortium"), queryset=Consortium.objects.none(), required=False,
                                        help_text=_("For consortium lead roles."))
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none(),
                                          required=False, help_text=_("For member organisation contacts."))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = access_scope(user)
        if not scope.has_role(Role.ORCID_ADMIN):
            self.fields["role"].choices = [(r, label) for r, label in Role.choices if r not in ORCID_ROLES]
        self.fields["consortium"].queryset = Consortium.objects.visible_to(user, ADD, area="people")
        self.fields["organisation"].queryset = (Organisation.objects.visible_to(user, ADD, area="people")
                                                .select_related("consortium"))


class AcceptInvitationForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, min_length=10)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data
