"""Background jobs of support SLAs: thin, they take ids and call `support.services.sla`.

Imported by `support.sla_signals` (so `SupportConfig.ready()` registers them with the queue).
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from consortium_hub.audit.context import acting_as
from consortium_hub.jobs.queue import job


@db_periodic_task(crontab(minute="*/5"), name="support.check_sla_deadlines")
def check_sla_deadlines() -> None:
    """Every five minutes: warnings (80% of the business time gone) and breaches, each emailed once."""
    from consortium_hub.support.services.sla import check_sla_deadlines as check

    with acting_as(None, via="job:check_sla_deadlines"):
        check()


@job()
def recalculate_consortium_sla(consortium_id: int) -> None:
    """After a calendar or policy change: recalculate the stored deadlines of one consortium's tickets."""
    from consortium_hub.directory.models import Consortium
    from consortium_hub.support.services.sla import recalculate_for_consortium

    consortium = Consortium.objects.filter(pk=consortium_id).first()
    if consortium is not None:
        recalculate_for_consortium(consortium)
