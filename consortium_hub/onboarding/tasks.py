"""Background jobs of onboarding (the job runner imports every app's tasks module)."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from consortium_hub.audit.context import acting_as


@db_periodic_task(crontab(minute="40", hour="6"), name="onboarding.send_task_reminders")
def send_task_reminders() -> None:
    """Daily: overdue onboarding task reminders, catching up on any days the scheduler missed."""
    from consortium_hub.onboarding.services.plans import catch_up_reminders

    with acting_as(None, via="job:send_task_reminders"):
        catch_up_reminders(today=timezone.localdate())
