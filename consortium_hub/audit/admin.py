from django.contrib import admin

from consortium_hub.audit.models import ChangeRecord


@admin.register(ChangeRecord)
class ChangeRecordAdmin(admin.ModelAdmin):
    """Read-only: the change log is never edited, not even by ORCID admins."""

    list_display = ("at", "content_type", "object_repr", "action", "user", "request_id")
    list_filter = ("action", "content_type")
    search_fields = ("object_repr", "request_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
