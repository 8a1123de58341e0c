from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EmailLog(models.Model):
    """Every email the hub sends: what, to whom, and whether it went."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    to = models.TextField()
    subject = models.CharField(max_length=255)
    template = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at"]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"
