"""The daily adoption refresh (imported by `RegistryConfig.ready()`, so the worker schedules it)."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from consortium_hub.audit.context import acting_as
from consortium_hub.jobs.queue import days_to_catch_up

SCHEDULE = "registry-adoption"


def refresh_today() -> int:
    """Refresh every member's figure once today; 0 if today is done already.

    Yesterday's figures cannot be taken later (ORCID's search only knows today), so no day is caught up:
    `max_days=0` makes `days_to_catch_up` offer today alone, once across all workers.
    """
    from consortium_hub.registry.services.adoption import refresh_adoption

    saved = 0
    for day in days_to_catch_up(SCHEDULE, timezone.localdate(), max_days=0):
        with acting_as(None, via="job:refresh_adoption_figures"):
            saved += refresh_adoption(today=day)
    return saved


@db_periodic_task(crontab(minute="35"), name="registry.refresh_adoption_figures")
def refresh_adoption_figures() -> None:
    """Hourly, so the day is covered soon after midnight even if the worker started late; each day runs once."""
    refresh_today()
