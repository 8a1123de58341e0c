"""Background jobs of agreements (the job runner imports every app's tasks module).

Hourly, so a day is covered soon after midnight even if the worker started late; each day's work
runs once (`jobs.queue.days_to_catch_up`), and each reminder goes once (`jobs.queue.once`).
"""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from consortium_hub.audit.context import acting_as


@db_periodic_task(crontab(minute="15"), name="agreements.send_renewal_reminders")
def send_renewal_reminders() -> None:
    from consortium_hub.agreements.services.reminders import catch_up_renewal_reminders

    with acting_as(None, via="job:send_renewal_reminders"):
        catch_up_renewal_reminders(today=timezone.localdate())


@db_periodic_task(crontab(minute="10"), name="agreements.roll_agreement_statuses")
def roll_agreement_statuses() -> None:
    from consortium_hub.agreements.services.renewals import catch_up_agreement_statuses

    with acting_as(None, via="job:roll_agreement_statuses"):
        catch_up_agreement_statuses(today=timezone.localdate())
