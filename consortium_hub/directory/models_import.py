"""Uploaded spreadsheets waiting for (or done with) an import into the directory.

Why not an AccessControlledModel: a batch is not directory data. It is one person's upload, and a
file may name several consortia (or none the uploader can reach), so it has no single consortium
or organisation the role grants could scope it by. Only its uploader may see or confirm it; the
selector `directory.importing.batches_for` enforces that with a `created_by` filter, and what
the batch writes is checked row by row by the directory services (which also audit every change).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportBatch(models.Model):
    class Kind(models.TextChoices):
        ORGANISATIONS = "organisations", _("Organisations")
        CONTACTS = "contacts", _("Contacts")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"
        UNKNOWN = "", _("Unknown")

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        QUEUED = "queued", _("Queued")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    content = models.BinaryField(_("file content"), blank=True, default=b"")
    original_filename = models.CharField(_("original file name"), max_length=255, blank=True)
    format = models.CharField(_("format"), max_length=10, choices=Format.choices, blank=True)
    size = models.PositiveIntegerField(_("size in bytes"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.CASCADE,
                                   related_name="import_batches")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PREVIEWED)
    # What the uploader was shown (and, after a failed apply, why it failed): see directory.importing.Preview.
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    create_count = models.PositiveIntegerField(_("rows creating a record"), default=0)
    update_count = models.PositiveIntegerField(_("rows updating a record"), default=0)
    problem_count = models.PositiveIntegerField(_("problems"), default=0)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        indexes = [models.Index(fields=["created_by", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_filename or self.pk}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("directory:import_preview", args=[self.pk])

    @property
    def area(self) -> str:
        return "directory" if self.kind == self.Kind.ORGANISATIONS else "contacts"

    @property
    def can_confirm(self) -> bool:
        return self.status == self.Status.PREVIEWED and self.problem_count == 0 and self.row_count > 0
