"""ORCID's communiqués to consortium leads, each answered within 3 business days on the lead's calendar."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from consortium_hub.core.models import DomainModel

RESPONSE_BUSINESS_DAYS = 3


class Communique(DomainModel):
    access_area = "communiques"
    consortium_path = "recipients__consortium"

    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("message"))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return self.subject


class CommuniqueRecipient(DomainModel):
    """One consortium's copy of a communiqué, with its response clock."""

    access_area = "communiques"
    consortium_path = "consortium"
    audit_parent = "communique"

    communique = models.ForeignKey(Communique, on_delete=models.CASCADE, related_name="recipients")
    consortium = models.ForeignKey("directory.Consortium", on_delete=models.CASCADE, related_name="communiques")
    respond_by = models.DateTimeField(_("respond by"))
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    response = models.TextField(_("response"), blank=True)

    class Meta:
        ordering = ["respond_by", "pk"]
        constraints = [models.UniqueConstraint(fields=["communique", "consortium"], name="one_copy_per_consortium")]
