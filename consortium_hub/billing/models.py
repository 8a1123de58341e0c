"""The annual billing cycle: fee schedules, cycles, invoices (and credit notes), payments.

Two issuers: ORCID invoices the lead for licence fees (USD); the lead invoices each member for its
licence fee and its consortium fee (the lead's currency). Amounts are Decimal (core.money).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consortium_hub.core.access import any_of
from consortium_hub.core.models import DomainModel
from consortium_hub.directory.models import Membership

AMOUNT = {"max_digits": 14, "decimal_places": 3}  # 3 places hold every ISO currency's minor unit
LICENCE_CURRENCY = "USD"


def by_issuer(model, scope, action: str, issuer_field: str) -> Q:
    """ORCID's invoices to the lead (area orcid_billing) are for ORCID finance and the lead's finance
    staff; the lead's invoices to members (area billing) are for the lead's billing staff and each
    member's own contacts. Lines and payments follow their invoice."""
    return any_of((Q(**{issuer_field: "lead"}), scope.q_for_area(model, action, "billing")),
                  (Q(**{issuer_field: "orcid"}), scope.q_for_area(model, action, "orcid_billing")))


class Issuer(models.TextChoices):
    ORCID = "orcid", _("ORCID")
    LEAD = "lead", _("Consortium lead")


class FeeKind(models.TextChoices):
    LICENCE = "licence", _("ORCID licence fee")
    CONSORTIUM = "consortium", _("Consortium fee")


class BillingSettings(DomainModel):
    """How an issuer bills: one row per consortium (the lead as issuer) and one for ORCID (consortium None)."""

    access_area = "billing"
    consortium_path = "consortium"

    consortium = models.OneToOneField("directory.Consortium", null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="billing_settings")
    issuer_name = models.CharField(_("issuer name"), max_length=255)
    issuer_address = models.TextField(_("issuer address"), blank=True)
    issuer_tax_id = models.CharField(_("issuer tax id"), max_length=60, blank=True)
    invoice_prefix = models.CharField(_("invoice number prefix"), max_length=20, default="INV")
    due_days = models.PositiveIntegerField(_("payment due after (days)"), default=30)
    tax_rate_percent = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=0)
    bank_details = models.TextField(_("bank details"), blank=True)
    logo = models.FileField(_("logo"), upload_to="billing/logos/", blank=True)
    footer = models.TextField(_("invoice footer"), blank=True)
    # Days relative to an agreement's end date (negative = after) when renewal reminders go out.
    renewal_reminder_days = models.JSONField(_("renewal reminders (days before the end)"), default=list)
    # Days past the due date for each overdue reminder level.
    dunning_days = models.JSONField(_("overdue reminders (days past due)"), default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consortium"], condition=Q(consortium__isnull=True),
                                               name="one_orcid_billing_settings")]

    def __str__(self) -> str:
        return self.issuer_name


class FeeSchedule(DomainModel):
    """A consortium's fees for one billing year."""

    class SizeBand(models.TextChoices):
        BAND_1 = "5-10", _("5–10 members")
        BAND_2 = "11-20", _("11–20 members")
        BAND_3 = "21-50", _("21–50 members")
        BAND_4 = "51+", _("51 or more members")

    access_area = "billing"
    consortium_path = "consortium"
    shared_with_members = False

    consortium = models.ForeignKey("directory.Consortium", on_delete=models.CASCADE, related_name="fee_schedules")
    year = models.PositiveIntegerField(_("billing year"))
    size_band = models.CharField(_("consortium size band"), max_length=10, choices=SizeBand.choices,
                                 default=SizeBand.BAND_1)
    consortium_fee_currency = models.CharField(_("consortium fee currency"), max_length=3)

    class Meta:
        ordering = ["consortium", "-year"]
        constraints = [models.UniqueConstraint(fields=["consortium", "year"], name="one_fee_schedule_per_year")]

    def __str__(self) -> str:
        return f"{self.consortium} {self.year}"


class FeeRate(DomainModel):
    """One fee per member: licence fees by tier (the schedule fixes the size band), consortium fees by
    tier and member size."""

    access_area = "billing"
    consortium_path = "schedule__consortium"
    audit_parent = "schedule"

    schedule = models.ForeignKey(FeeSchedule, on_delete=models.CASCADE, related_name="rates")
    kind = models.CharField(_("fee"), max_length=12, choices=FeeKind.choices)
    tier = models.CharField(_("tier"), max_length=10, choices=Membership.Tier.choices)
    size = models.CharField(_("member size"), max_length=10, choices=Membership.Size.choices, blank=True)
    amount = models.DecimalField(_("annual amount"), **AMOUNT)

    class Meta:
        ordering = ["schedule", "kind", "tier", "size"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "kind", "tier", "size"], name="one_rate_per_key"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="fee_rate_not_negative"),
        ]


class BillingCycle(DomainModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        COMMITTED = "committed", _("Committed")

    access_area = "billing"
    consortium_path = "consortium"

    consortium = models.ForeignKey("directory.Consortium", on_delete=models.CASCADE, related_name="billing_cycles")
    year = models.PositiveIntegerField(_("billing year"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    last_committed_at = models.DateTimeField(null=True, blank=True)
    last_committed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["consortium", "-year"]
        constraints = [models.UniqueConstraint(fields=["consortium", "year"], name="one_cycle_per_year")]

    def __str__(self) -> str:
        return f"{self.consortium} {self.year}"


class InvoiceSequence(models.Model):
    """The last number issued per issuer and year. Locked with select_for_update while a number is
    taken, inside the transaction that writes the invoice, so numbers have no gaps."""

    issuer_key = models.CharField(max_length=40)  # "orcid" or "lead:<consortium id>"
    year = models.PositiveIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer_key", "year"], name="one_sequence_per_issuer_year")]


class Invoice(DomainModel):
    """An invoice or credit note. Issued documents never change; corrections are credit notes."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")
        OVERDUE = "overdue", _("Overdue")
        VOID = "void", _("Void")

    consortium_path = "consortium"
    organisation_path = "recipient_organisation"

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    issuer = models.CharField(_("issuer"), max_length=10, choices=Issuer.choices)
    consortium = models.ForeignKey("directory.Consortium", on_delete=models.PROTECT, related_name="invoices")
    # The member billed by the lead; None for ORCID's invoice to the lead.
    recipient_organisation = models.ForeignKey("directory.Organisation", null=True, blank=True,
                                               on_delete=models.PROTECT, related_name="invoices")
    cycle = models.ForeignKey(BillingCycle, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices")
    credited_invoice = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="credit_notes")
    year = models.PositiveIntegerField(_("year"))
    sequence = models.PositiveIntegerField(null=True, blank=True)
    number = models.CharField(_("number"), max_length=40, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    issue_date = models.DateField(_("issued on"), null=True, blank=True)
    due_date = models.DateField(_("due on"), null=True, blank=True)
    # Snapshots at issue: an issued invoice must read the same forever.
    issuer_details = models.TextField(_("from"), blank=True)
    recipient_details = models.TextField(_("to"), blank=True)
    recipient_tax_id = models.CharField(_("recipient tax id"), max_length=60, blank=True)
    tax_rate_percent = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=0)
    subtotal = models.DecimalField(_("subtotal"), default=0, **AMOUNT)
    tax_total = models.DecimalField(_("tax"), default=0, **AMOUNT)
    total = models.DecimalField(_("total"), default=0, **AMOUNT)
    amount_paid = models.DecimalField(_("paid"), default=0, **AMOUNT)
    note = models.TextField(_("note"), blank=True, help_text=_("For a credit note: why it was issued."))

    class Meta:
        ordering = ["-year", "-sequence", "-pk"]
        constraints = [
            # Gapless numbering: one number per issuer (lead per consortium) and year.
            models.UniqueConstraint(fields=["issuer", "consortium", "year", "sequence"],
                                    condition=Q(issuer="lead"), name="lead_invoice_number_unique"),
            models.UniqueConstraint(fields=["issuer", "year", "sequence"], condition=Q(issuer="orcid"),
                                    name="orcid_invoice_number_unique"),
            # Idempotent billing: one invoice per member per cycle from the lead, one to the lead from ORCID.
            models.UniqueConstraint(fields=["cycle", "recipient_organisation"],
                                    condition=Q(kind="invoice", issuer="lead", cycle__isnull=False),
                                    name="one_member_invoice_per_cycle"),
            models.UniqueConstraint(fields=["cycle"], condition=Q(kind="invoice", issuer="orcid", cycle__isnull=False),
                                    name="one_orcid_invoice_per_cycle"),
        ]
        indexes = [models.Index(fields=["consortium", "status", "due_date"])]

    def __str__(self) -> str:
        return self.number or f"{self.get_kind_display()} (draft)"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("billing:invoice_detail", args=[self.pk])

    @classmethod
    def access_q(cls, scope, action: str):
        return by_issuer(cls, scope, action, "issuer")

    @property
    def balance(self):
        return self.total - self.amount_paid


class InvoiceLine(DomainModel):
    consortium_path = "invoice__consortium"
    organisation_path = "invoice__recipient_organisation"
    audit_parent = "invoice"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    description = models.CharField(_("description"), max_length=255)
    fee_kind = models.CharField(_("fee"), max_length=12, choices=FeeKind.choices, blank=True)
    membership = models.ForeignKey("directory.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    months = models.PositiveSmallIntegerField(_("months billed"), default=12)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3, default=1)
    unit_price = models.DecimalField(_("unit price"), **AMOUNT)
    amount = models.DecimalField(_("amount"), **AMOUNT)

    class Meta:
        ordering = ["invoice", "position", "pk"]

    @classmethod
    def access_q(cls, scope, action: str):
        return by_issuer(cls, scope, action, "invoice__issuer")


class Payment(DomainModel):
    consortium_path = "invoice__consortium"
    organisation_path = "invoice__recipient_organisation"
    audit_parent = "invoice"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), **AMOUNT)
    received_on = models.DateField(_("received on"))
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["-received_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive")]

    @classmethod
    def access_q(cls, scope, action: str):
        return by_issuer(cls, scope, action, "invoice__issuer")
