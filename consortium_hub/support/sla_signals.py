"""Recalculate stored SLA deadlines when what they depend on changes.

`connect()` is called by `SupportConfig.ready()`. A save or delete of a business calendar, one of its
working periods or closures, or an SLA policy schedules one `tasks_sla.recalculate_consortium_sla`
job per affected consortium when the transaction commits (however many rows the transaction
changed). ORCID's default calendar and ORCID's policies affect escalated tickets: one job per
consortium that has any. Receivers only look up ids; the work happens in the job.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

ORCID = "orcid"


def schedule_recalculation(consortium_id: int | str) -> None:
    """On commit (at once outside a transaction), enqueue the recalculation of one consortium, or of
    every consortium with escalated tickets for `ORCID`. Scheduled once per transaction and target."""
    key = ("support.sla.recalculate", consortium_id)
    connection = transaction.get_connection()
    for _savepoints, callback, *_rest in getattr(connection, "run_on_commit", ()):
        if getattr(callback, "sla_key", None) == key:
            return

    def run() -> None:
        from consortium_hub.support.models import Ticket
        from consortium_hub.support.tasks_sla import recalculate_consortium_sla

        if consortium_id == ORCID:
            ids = (Ticket.objects.filter(tier__gt=1).order_by("consortium_id")
                   .values_list("consortium_id", flat=True).distinct())
            for pk in ids:
                recalculate_consortium_sla(pk)
        else:
            recalculate_consortium_sla(consortium_id)

    run.sla_key = key  # type: ignore[attr-defined]
    transaction.on_commit(run)


def _calendar_target(consortium_id: int | None, is_orcid_default: bool) -> int | str | None:
    if consortium_id is not None:
        return consortium_id
    return ORCID if is_orcid_default else None  # ORCID's other calendars count nothing


def calendar_changed(sender: Any, instance: Any, raw: bool = False, created: bool = False, **kwargs: Any) -> None:
    if raw or created:  # a new calendar replaces nothing tickets were counted with
        return
    target = _calendar_target(instance.consortium_id, instance.is_orcid_default)
    if target is not None:
        schedule_recalculation(target)


def calendar_part_changed(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """A working period or closure was saved or deleted."""
    from consortium_hub.calendars.models import BusinessCalendar

    if raw:
        return
    row = BusinessCalendar.objects.filter(pk=instance.calendar_id).values_list("consortium_id",
                                                                                "is_orcid_default").first()
    if row is not None:
        target = _calendar_target(*row)
        if target is not None:
            schedule_recalculation(target)


def policy_changed(sender: Any, instance: Any, raw: bool = False, created: bool = False, **kwargs: Any) -> None:
    from consortium_hub.support.services.sla import default_targets

    if raw:
        return
    defaults = default_targets(instance.consortium_id).get(instance.priority)
    if created and defaults == (Decimal(str(instance.first_response_hours)), Decimal(str(instance.resolution_hours))):
        return  # the defaults written down: tickets were already counted with them
    schedule_recalculation(instance.consortium_id if instance.consortium_id is not None else ORCID)


def connect() -> None:
    from consortium_hub.calendars.models import BusinessCalendar, ClosureDay, WorkingPeriod
    from consortium_hub.support import tasks_sla  # noqa: F401  (registers the SLA jobs with the queue)
    from consortium_hub.support.models import SLAPolicy

    post_save.connect(calendar_changed, sender=BusinessCalendar, dispatch_uid="support.sla.calendar")
    for model in (WorkingPeriod, ClosureDay):
        post_save.connect(calendar_part_changed, sender=model, dispatch_uid=f"support.sla.{model.__name__}.save")
        post_delete.connect(calendar_part_changed, sender=model,
                            dispatch_uid=f"support.sla.{model.__name__}.delete")
    post_save.connect(policy_changed, sender=SLAPolicy, dispatch_uid="support.sla.policy.save")
    post_delete.connect(policy_changed, sender=SLAPolicy, dispatch_uid="support.sla.policy.delete")
