from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from consortium_hub.core.access import AccessControlledModel


class ChangeRecord(AccessControlledModel):
    """One create, update or delete of a domain model. Written only by audit.receivers."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("updated")
        DELETE = "delete", _("deleted")

    access_area = "audit"
    consortium_path = "consortium_id"
    organisation_path = "organisation_id"

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=255)
    action = models.CharField(max_length=10, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # The object this change belongs to on screen (a contact's role change shows on the contact).
    parent_content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="+")
    parent_object_id = models.CharField(max_length=64, blank=True)
    # Plain ids, not foreign keys: the record must outlive the consortium or organisation it names.
    consortium_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    organisation_id = models.BigIntegerField(null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    request_id = models.CharField(max_length=64, blank=True)
    via = models.CharField(max_length=40, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["content_type", "object_id"]),
            models.Index(fields=["parent_content_type", "parent_object_id"]),
            models.Index(fields=["consortium_id", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.object_repr} {self.get_action_display()}"

    @property
    def changed_fields(self) -> list[tuple[str, object, object]]:
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]
