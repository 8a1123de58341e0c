"""Background jobs of communiqués (the job runner imports every app's tasks module)."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from consortium_hub.audit.context import acting_as


@db_periodic_task(crontab(minute="50", hour="6"), name="communiques.send_response_reminders")
def send_response_reminders() -> None:
    """Daily: remind leads of responses due tomorrow or overdue (each copy, each kind, once)."""
    from consortium_hub.communiques.services.reminders import catch_up_response_reminders

    with acting_as(None, via="job:send_response_reminders"):
        catch_up_response_reminders(today=timezone.localdate())
