from django.contrib import admin

from consortium_hub.jobs.models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "attempt", "started_at", "duration_ms")
    list_filter = ("status",)
    search_fields = ("name", "task_id")
