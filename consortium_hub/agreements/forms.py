"""Forms of the agreement pages. They collect input; the services validate it and say what is wrong."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from consortium_hub.agreements.models import Agreement, RenewalDecision
from consortium_hub.agreements.services.agreements import (
    MAX_DOCUMENT_BYTES,
    can_create_lead_agreements,
    document_problem,
)
from consortium_hub.core.roles import ADD
from consortium_hub.directory.models import Consortium, Membership

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MembershipChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return _("%(org)s — %(status)s from %(start)s (%(tier)s)") % {
            "org": obj.organisation, "status": obj.get_status_display().lower(),
            "start": obj.start_date.isoformat(), "tier": obj.get_tier_display()}


class AgreementForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Agreement.Kind.choices, initial=Agreement.Kind.MEMBER)
    membership = MembershipChoiceField(label=_("Member (membership)"), queryset=Membership.objects.none(),
                                       required=False, help_text=_("For a member agreement."))
    consortium = forms.ModelChoiceField(label=_("Consortium"), queryset=Consortium.objects.none(), required=False,
                                        help_text=_("For the consortium lead agreement."))
    tier = forms.ChoiceField(label=_("Tier"), choices=[("", _("The membership's tier")), *Membership.Tier.choices],
                             required=False)
    signed_on = forms.DateField(label=_("Signed on"), required=False, widget=DATE)
    start_date = forms.DateField(label=_("Start"), widget=DATE,
                                 help_text=_("Member agreements start on the 1st of a month."))
    end_date = forms.DateField(label=_("End"), widget=DATE,
                               help_text=_("Member agreements end on the last day of a month."))
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=120, initial=12)
    auto_renew = forms.BooleanField(label=_("Renews automatically"), required=False, initial=True)
    notice_days = forms.IntegerField(label=_("Notice period (days)"), min_value=0, max_value=730, initial=90)
    status = forms.ChoiceField(label=_("Status"), choices=Agreement.Status.choices, initial=Agreement.Status.ACTIVE)
    document = forms.FileField(
        label=_("Signed agreement (PDF)"), required=False,
        help_text=_("A PDF of at most %(size)d MB.") % {"size": MAX_DOCUMENT_BYTES // (1024 * 1024)},
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}))

    def __init__(self, *args: Any, user: Any, agreement: Agreement | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agreement = agreement
        if agreement is not None:
            # Who an agreement is between is fixed once recorded.
            for name in ("kind", "membership", "consortium"):
                del self.fields[name]
            if agreement.kind == Agreement.Kind.LEAD:
                del self.fields["tier"]
            else:
                self.fields["tier"].required = True
                self.fields["tier"].choices = Membership.Tier.choices
            if agreement.document:
                self.fields["document"].help_text = _("A PDF of at most 10 MB replaces the stored one; leave empty "
                                                      "to keep it.")
            return
        self.fields["membership"].queryset = (Membership.objects.visible_to(user, ADD, area="agreements")
                                              .select_related("organisation").order_by("organisation__legal_name",
                                                                                        "-start_date"))
        if can_create_lead_agreements(user):
            self.fields["consortium"].queryset = Consortium.objects.visible_to(user, ADD, area="agreements")
        else:
            # Lead admins record member agreements only; the lead agreement is ORCID's.
            del self.fields["kind"]
            del self.fields["consortium"]

    def clean_document(self) -> Any:
        file = self.cleaned_data.get("document")
        if file:
            problem = document_problem(file)
            if problem:
                raise ValidationError(problem)
        return file or None

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if self.agreement is None:
            data.setdefault("kind", Agreement.Kind.MEMBER)
            if data["kind"] == Agreement.Kind.MEMBER:
                data.pop("consortium", None)
            else:
                data.pop("membership", None)
                data["tier"] = ""
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=RenewalDecision.Decision.choices,
                                 widget=forms.RadioSelect)
    new_tier = forms.ChoiceField(label=_("New tier"), choices=[("", "—"), *Membership.Tier.choices], required=False,
                                 help_text=_("Only when renewing with a tier change."))
    note = forms.CharField(label=_("Note"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))

    def __init__(self, *args: Any, agreement: Agreement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if agreement.kind == Agreement.Kind.LEAD:
            self.fields["decision"].choices = [c for c in RenewalDecision.Decision.choices
                                               if c[0] != RenewalDecision.Decision.CHANGE_TIER]
            del self.fields["new_tier"]
