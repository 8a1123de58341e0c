"""Periodic schedules. Each is thin and catches up on the periods it missed."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from consortium_hub.jobs.models import JobRun

JOB_RUN_RETENTION_DAYS = 90


@db_periodic_task(crontab(minute="17", hour="3"), name="jobs.prune_job_runs")
def prune_job_runs() -> None:
    """Keep three months of job history; older runs only cost space."""
    cutoff = timezone.now() - dt.timedelta(days=JOB_RUN_RETENTION_DAYS)
    JobRun.objects.filter(started_at__lt=cutoff).delete()


