from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from consortium_hub.core.access import AccessControlledModel


class JobRun(AccessControlledModel):
    """One execution attempt of a background job, recorded by jobs.signals."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        RETRYING = "retrying", _("will retry")

    access_area = "jobs"
    consortium_path = None

    task_id = models.CharField(max_length=64, db_index=True)
    name = models.CharField(max_length=200, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices)
    attempt = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} {self.status}"


class OnceMarker(models.Model):
    """A job effect that must happen once (a reminder, a period's run), keyed by what it covers.

    The unique key makes "once" a database fact: two schedulers racing insert one row, the loser
    gets an IntegrityError and skips.
    """

    key = models.CharField(max_length=255, unique=True)
    done_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key
