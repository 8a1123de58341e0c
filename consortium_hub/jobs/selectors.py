from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from consortium_hub.jobs.models import JobRun


def job_runs(*, user: Any) -> QuerySet[JobRun]:
    return JobRun.objects.visible_to(user)
