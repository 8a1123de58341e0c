"""The hourly job marking permission links past their date as expired (see services/permissions.py).

Imported by `tasks.py` (the module Huey discovers), so the worker schedules it.
"""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from consortium_hub.audit.context import acting_as


def expire_due_links() -> int:
    """Mark every link past its date as expired; returns how many. Running twice changes nothing more."""
    from consortium_hub.registry.services.permissions import expire_permission_links

    with acting_as(None, via="job:expire_permission_links"):
        return expire_permission_links(now=timezone.now())


@db_periodic_task(crontab(minute="50"), name="registry.expire_permission_links")
def expire_permission_links_hourly() -> None:
    """Hourly: a link is refused from its expiry on regardless; this only brings its status up to date."""
    expire_due_links()
