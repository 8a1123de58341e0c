"""Agreements: the consortium lead agreement (ORCID ↔ lead) and member agreements (lead ↔ member)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from consortium_hub.core.models import DomainModel
from consortium_hub.directory.models import Membership


class Agreement(DomainModel):
    class Kind(models.TextChoices):
        LEAD = "lead", _("Consortium lead agreement (ORCID and the lead)")
        MEMBER = "member", _("Member agreement (the lead and a member)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        TERMINATED = "terminated", _("Terminated")

    access_area = "agreements"
    consortium_path = "consortium"
    organisation_path = "organisation"

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    consortium = models.ForeignKey("directory.Consortium", on_delete=models.PROTECT, related_name="agreements")
    # Member agreements only.
    organisation = models.ForeignKey("directory.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="agreements")
    membership = models.ForeignKey("directory.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="agreements")
    tier = models.CharField(_("tier"), max_length=10, choices=Membership.Tier.choices, blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    term_months = models.PositiveIntegerField(_("term (months)"), default=12)
    auto_renew = models.BooleanField(_("renews automatically"), default=True)
    notice_days = models.PositiveIntegerField(_("notice period (days)"), default=90)
    document = models.FileField(_("signed agreement (PDF)"), upload_to="agreements/%Y/", blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        ordering = ["end_date", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="agreement_end_after_start"),
            models.CheckConstraint(name="agreement_member_has_organisation",
                                   condition=Q(kind="lead", organisation__isnull=True)
                                   | Q(kind="member", organisation__isnull=False)),
        ]
        indexes = [models.Index(fields=["status", "end_date"])]

    def __str__(self) -> str:
        who = self.organisation or self.consortium
        return f"{self.get_kind_display()}: {who} ({self.start_date}–{self.end_date})"


class RenewalDecision(DomainModel):
    """What was decided for an agreement's next term, by whom and when."""

    class Decision(models.TextChoices):
        RENEW = "renew", _("Renew")
        CHANGE_TIER = "change_tier", _("Renew with a tier change")
        TERMINATE = "terminate", _("Terminate at month end")

    access_area = "agreements"
    consortium_path = "agreement__consortium"
    organisation_path = "agreement__organisation"
    audit_parent = "agreement"

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="decisions")
    decision = models.CharField(_("decision"), max_length=12, choices=Decision.choices)
    new_tier = models.CharField(_("new tier"), max_length=10, choices=Membership.Tier.choices, blank=True)
    effective_on = models.DateField(_("effective on"))
    note = models.TextField(_("note"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # The agreement that continues this one after a renewal.
    next_agreement = models.OneToOneField(Agreement, null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="renewed_from")

    class Meta:
        ordering = ["-created_at"]
