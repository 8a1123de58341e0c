"""Forms and filtersets of invoices, payments, credit notes, reports and billing settings.

Plain Forms: the services validate (access, amounts, balances). Choices come from
`visible_to(user, ADD, area=...)`, so they never offer another consortium's rows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consortium_hub.billing.models import BillingSettings, Invoice, Issuer, Payment
from consortium_hub.billing.services.invoices import area_for
from consortium_hub.core.access import access_scope
from consortium_hub.core.roles import ADD
from consortium_hub.directory.models import Consortium, Organisation

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
AMOUNT = {"max_digits": 14, "decimal_places": 3}


def _visible_consortia(request: Any) -> QuerySet[Consortium]:
    if request is None:
        return Consortium.objects.none()
    return Consortium.objects.visible_to(request.user)


# --- Filtersets (pages and API) -------------------------------------------------------------------

class InvoiceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(choices=Invoice.Status.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=Invoice.Kind.choices, label=_("Document"))
    issuer = django_filters.ChoiceFilter(choices=Issuer.choices, label=_("Issuer"))
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))
    currency = django_filters.CharFilter(label=_("Currency"), method="by_currency")
    year = django_filters.NumberFilter(label=_("Year"))
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="by_overdue")
    ordering = django_filters.OrderingFilter(
        fields=(("issue_date", "issued"), ("due_date", "due"), ("number", "number"), ("total", "total"),
                ("balance_due", "balance")), label=_("Sort by"))

    class Meta:
        model = Invoice
        fields = ["q", "status", "kind", "issuer", "consortium", "currency", "year", "overdue"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(recipient_organisation__legal_name__icontains=value)
                               | Q(consortium__name__icontains=value))

    def by_currency(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(currency=value.strip().upper()) if value.strip() else queryset

    def by_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        from consortium_hub.billing.selectors.invoices import is_overdue

        if value is None:
            return queryset
        overdue = is_overdue(timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class OverdueFilter(django_filters.FilterSet):
    issuer = django_filters.ChoiceFilter(choices=Issuer.choices, label=_("Issuer"))
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))
    currency = django_filters.CharFilter(label=_("Currency"), method="by_currency")

    class Meta:
        model = Invoice
        fields = ["issuer", "consortium", "currency"]

    def by_currency(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(currency=value.strip().upper()) if value.strip() else queryset


class PaymentFilter(django_filters.FilterSet):
    invoice = django_filters.NumberFilter(field_name="invoice_id", label=_("Invoice id"))
    consortium = django_filters.NumberFilter(field_name="invoice__consortium_id", label=_("Consortium id"))
    received_after = django_filters.DateFilter(field_name="received_on", lookup_expr="gte", label=_("Received from"))
    received_before = django_filters.DateFilter(field_name="received_on", lookup_expr="lte", label=_("Received until"))

    class Meta:
        model = Payment
        fields = ["invoice", "consortium", "received_after", "received_before"]


class ReceivablesForm(forms.Form):
    issuer = forms.ChoiceField(label=_("Issuer"), required=False, choices=[("", _("All")), *Issuer.choices])
    consortium = forms.ModelChoiceField(label=_("Consortium"), required=False, queryset=Consortium.objects.none(),
                                        empty_label=_("All"))
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consortium"].queryset = Consortium.objects.visible_to(user)

    def filters(self) -> dict[str, Any]:
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"issuer": data.get("issuer") or None,
                "consortium_id": data["consortium"].pk if data.get("consortium") else None,
                "currency": (data.get("currency") or "").upper() or None}


# --- Invoices -------------------------------------------------------------------------------------

class InvoiceCreateForm(forms.Form):
    issuer = forms.ChoiceField(label=_("Issuer"), choices=Issuer.choices, widget=forms.RadioSelect)
    recipient_organisation = forms.ModelChoiceField(
        label=_("Member invoiced"), queryset=Organisation.objects.none(), required=False,
        help_text=_("For the lead's invoices. ORCID's invoices go to the lead of the consortium below."))
    consortium = forms.ModelChoiceField(label=_("Consortium (ORCID's invoices)"),
                                        queryset=Consortium.objects.none(), required=False)
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3,
                               help_text=_("Empty: the consortium's billing currency (ORCID: USD)."))
    tax_rate_percent = forms.DecimalField(label=_("Tax rate (%)"), required=False, min_value=0, max_value=100,
                                          max_digits=5, decimal_places=2,
                                          help_text=_("Empty: the issuer's rate from the billing settings."))
    recipient_tax_id = forms.CharField(label=_("Recipient tax id"), required=False, max_length=60)
    year = forms.IntegerField(label=_("Numbering year"), min_value=2000, max_value=2100)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"year": timezone.localdate().year})
        super().__init__(*args, **kwargs)
        scope = access_scope(user)
        issuers = [(value, label) for value, label in Issuer.choices if scope.allows_anything(area_for(value), ADD)]
        self.fields["issuer"].choices = issuers
        if len(issuers) == 1:
            self.fields["issuer"].initial = issuers[0][0]
        self.fields["recipient_organisation"].queryset = (
            Organisation.objects.visible_to(user, ADD, area="billing").select_related("consortium")
            .order_by("consortium__name", "legal_name"))
        self.fields["recipient_organisation"].label_from_instance = lambda o: f"{o.legal_name} — {o.consortium.name}"
        self.fields["consortium"].queryset = Consortium.objects.visible_to(user, ADD, area="orcid_billing")
        if not any(value == Issuer.ORCID for value, _l in issuers):
            del self.fields["consortium"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("issuer") == Issuer.LEAD:
            org = data.get("recipient_organisation")
            if org is None:
                self.add_error("recipient_organisation", _("Choose the member the lead invoices."))
            else:
                data["consortium"] = org.consortium
        elif data.get("issuer") == Issuer.ORCID:
            data["recipient_organisation"] = None
            if not data.get("consortium"):
                self.add_error("consortium", _("Choose the consortium whose lead ORCID invoices."))
        return data


class LineForm(forms.Form):
    description = forms.CharField(label=_("Description"), max_length=255)
    quantity = forms.DecimalField(label=_("Quantity"), initial=1, min_value=Decimal("0.001"), max_digits=10,
                                  decimal_places=3)
    unit_price = forms.DecimalField(label=_("Unit price"), **AMOUNT)


LineFormSet = forms.formset_factory(LineForm, extra=3, min_num=1, validate_min=True, max_num=50)


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount received"), min_value=Decimal("0.001"), **AMOUNT)
    received_on = forms.DateField(label=_("Received on"), widget=DATE)
    reference = forms.CharField(label=_("Reference"), required=False, max_length=120,
                                help_text=_("The bank's or payer's reference."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"received_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class CreditNoteForm(forms.Form):
    full = forms.BooleanField(label=_("Credit the whole invoice"), required=False, initial=True,
                              help_text=_("A full credit voids the invoice. Untick to credit one amount."))
    amount = forms.DecimalField(label=_("Amount to credit (before tax)"), required=False,
                                min_value=Decimal("0.001"), **AMOUNT)
    description = forms.CharField(label=_("What is credited"), required=False, max_length=200)
    reason = forms.CharField(label=_("Reason"), max_length=200, help_text=_("Printed on the credit note."))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("full") and not data.get("amount"):
            self.add_error("amount", _("Name the amount to credit, or credit the whole invoice."))
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        lines = None if data.get("full") else [{"description": data.get("description", ""), "amount": data["amount"]}]
        return {"lines": lines, "reason": data["reason"]}


# --- Billing settings -----------------------------------------------------------------------------

class DaysListField(forms.CharField):
    """Whole days as a comma-separated list: "7, 30, 60"."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[int]:
        text = super().to_python(value)
        if not text.strip():
            return []
        try:
            return [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError as exc:
            raise forms.ValidationError(_("Write whole numbers of days separated by commas, e.g. 7, 30, 60.")) from exc


class BillingSettingsForm(forms.ModelForm):
    dunning_days = DaysListField(label=_("Overdue reminders (days past due)"), required=False,
                                 help_text=_("One reminder level per number, e.g. 7, 30, 60. Empty: no reminders."))
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    class Meta:
        model = BillingSettings
        fields = ["issuer_name", "issuer_address", "issuer_tax_id", "invoice_prefix", "due_days", "tax_rate_percent",
                  "bank_details", "logo", "footer", "dunning_days"]
        widgets = {"issuer_address": forms.Textarea(attrs={"rows": 4}),
                   "bank_details": forms.Textarea(attrs={"rows": 4}), "footer": forms.Textarea(attrs={"rows": 3}),
                   "logo": forms.FileInput(attrs={"accept": "image/png,image/jpeg"})}
        help_texts = {"invoice_prefix": _("Numbers read PREFIX-YEAR-00001; the sequence continues if you change it."),
                      "logo": _("PNG or JPEG, at most 1 MB.")}

    def _post_clean(self) -> None:
        """Skip the model's own validation: the service validates and saves; the form only parses."""

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        logo = data.pop("logo", None)
        return {**data, "logo": logo if isinstance(logo, UploadedFile) else None}
