from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from consortium_hub.accounts.models import User
from consortium_hub.core.roles import ADD, Role
from consortium_hub.directory import identifiers
from consortium_hub.directory.models import Consortium, Contact, ContactRole, Membership, Organisation


class ConsortiumForm(forms.ModelForm):
    billing_currency = forms.ChoiceField(label=_("Billing currency"), choices=identifiers.currency_choices)
    timezone = forms.ChoiceField(label=_("Timezone"), choices=identifiers.timezone_choices)

    class Meta:
        model = Consortium
        fields = ["name", "country", "lead_organisation", "billing_currency", "timezone", "engagement_lead",
                  "formed_on", "status"]
        widgets = {"formed_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lead_orgs = Organisation.objects.visible_to(user)
        if self.instance.pk:
            lead_orgs = lead_orgs.filter(consortium=self.instance)
        else:
            lead_orgs = lead_orgs.none()
        self.fields["lead_organisation"].queryset = lead_orgs
        self.fields["engagement_lead"].queryset = User.objects.filter(
            role_assignments__role=Role.ORCID_ENGAGEMENT).distinct()


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["consortium", "legal_name", "public_name", "type", "country", "region", "city", "website",
                  "ror_id", "ringgold_id", "grid_id", "isni", "crossref_funder_id"]
        help_texts = {"ror_id": _("e.g. 05dxps055 or https://ror.org/05dxps055")}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consortium"].queryset = Consortium.objects.visible_to(user, ADD, area="directory")


class ContactForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=ContactRole.Kind.choices,
                                      widget=forms.CheckboxSelectMultiple, required=False)
    take_voting = forms.BooleanField(
        label=_("Make this the organisation's voting contact, replacing the current one"), required=False)

    class Meta:
        model = Contact
        fields = ["organisation", "name", "email", "phone", "job_title", "orcid_id"]
        help_texts = {"orcid_id": _("e.g. 0000-0002-1825-0097 or https://orcid.org/0000-0002-1825-0097")}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.visible_to(user, ADD, area="contacts")
        if self.instance.pk:
            self.fields["organisation"].disabled = True
            self.initial["roles"] = [r.role for r in self.instance.roles.all()]

    def clean_orcid_id(self) -> str:
        return identifiers.normalise_orcid_id(self.cleaned_data.get("orcid_id", ""))

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class MembershipForm(forms.ModelForm):
    reason = forms.CharField(label=_("Reason for a status change"), required=False, max_length=255)

    class Meta:
        model = Membership
        fields = ["organisation", "tier", "size", "status", "start_date", "end_date"]
        widgets = {"start_date": forms.DateInput(attrs={"type": "date"}),
                   "end_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.visible_to(user, ADD, area="directory")
        if self.instance.pk:
            self.fields["organisation"].disabled = True

    def _post_clean(self) -> None:
        # Fill the consortium from the organisation before the model's own checks run.
        organisation = self.cleaned_data.get("organisation")
        if organisation is not None:
            self.instance.consortium_id = organisation.consortium_id
        super()._post_clean()


class AcknowledgeForm(forms.Form):
    change_ids = forms.CharField(required=False)
    consortium = forms.IntegerField(required=False)


class PinStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Membership.Status.choices)
    pin_reason = forms.CharField(label=_("Why pin it"), max_length=255)
