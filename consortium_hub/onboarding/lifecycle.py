"""Membership status keeps itself current: the daily roll-forward by dates and onboarding plans.

Rules for day D, for memberships whose status is not pinned:
- onboarding, started on or before D, no open onboarding plan → active (on its start date, or D if later);
  if the member does not meet the contact rules yet it stays onboarding and shows in the directory's
  list of rule breaches;
- onboarding or active, end date before D → lapsed (terminated, when it ends by termination),
  effective the day after the end date.

Days the job missed are worked through in order, each once (jobs.queue.days_to_catch_up); a change
already made is not made again, because each rule only matches the status it changes.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from consortium_hub.audit.context import acting_as
from consortium_hub.directory.models import Membership
from consortium_hub.directory.services import membership_change_status
from consortium_hub.jobs.queue import days_to_catch_up
from consortium_hub.onboarding.models import Plan

log = logging.getLogger(__name__)
SCHEDULE = "membership-status"


def roll_memberships_forward(*, day: dt.date) -> list[tuple[int, str, str]]:
    """Apply the rules for `day`; returns (membership id, from, to) for each change made."""
    changes: list[tuple[int, str, str]] = []
    open_plans = Plan.objects.filter(membership=OuterRef("pk"), status=Plan.Status.OPEN)
    ready = (Membership.objects.filter(status=Membership.Status.ONBOARDING, status_pinned=False,
                                       start_date__lte=day)
             .exclude(end_date__lt=day).annotate(has_open_plan=Exists(open_plans)).filter(has_open_plan=False)
             .select_related("organisation"))
    for membership in ready:
        try:
            membership_change_status(user=None, membership=membership, to_status=Membership.Status.ACTIVE,
                                     effective_on=max(membership.start_date, day),
                                     reason="Onboarding complete and start date reached")
        except ValidationError as exc:
            log.info("Membership %s stays onboarding: %s", membership.pk, exc.messages)
            continue
        changes.append((membership.pk, Membership.Status.ONBOARDING, Membership.Status.ACTIVE))
    ended = Membership.objects.filter(status__in=[Membership.Status.ONBOARDING, Membership.Status.ACTIVE],
                                      status_pinned=False, end_date__lt=day)
    for membership in ended:
        to_status = Membership.Status.TERMINATED if membership.ends_by_termination else Membership.Status.LAPSED
        before = membership.status
        membership_change_status(user=None, membership=membership, to_status=to_status,
                                 effective_on=membership.end_date + dt.timedelta(days=1),
                                 reason="End date passed")
        changes.append((membership.pk, before, to_status))
    return changes


def catch_up(*, today: dt.date) -> list[tuple[int, str, str]]:
    changes = []
    with acting_as(None, via="job:membership-status"):
        for day in days_to_catch_up(SCHEDULE, today):
            changes.extend(roll_memberships_forward(day=day))
    return changes


@db_periodic_task(crontab(minute="5"), name="onboarding.roll_membership_statuses")
def roll_membership_statuses() -> None:
    """Hourly, so a day is covered soon after midnight even if the worker started late; each day runs once."""
    catch_up(today=timezone.localdate())
