"""The daily reminder to leads about communiqués awaiting their response.

- `due_tomorrow`: unanswered, and `respond_by` falls on tomorrow's date in the consortium calendar's
  timezone (not yet past).
- `overdue`: unanswered and `respond_by` has passed.
Each copy gets each kind at most once (`once("communique-reminder:<copy>:<kind>")`), sent to the
consortium's lead admins and lead support staff. A consortium with nobody to tell claims nothing, so
the reminder goes on the first run someone can receive it. The schedule works through missed days
with `days_to_catch_up`; since every reminder is claimed once, one pass covers them all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from consortium_hub.calendars.selectors import calendar_for_consortium
from consortium_hub.communiques.models import CommuniqueRecipient
from consortium_hub.communiques.services.communiques import lead_emails
from consortium_hub.core.email import send_templated_email
from consortium_hub.jobs.queue import days_to_catch_up, once

SCHEDULE = "communique-reminders"
TEMPLATE = "communiques/email/communique_reminder"
DUE_TOMORROW, OVERDUE = "due_tomorrow", "overdue"


def reminder_key(recipient_id: int, kind: str) -> str:
    return f"communique-reminder:{recipient_id}:{kind}"


def reminder_kind(recipient: CommuniqueRecipient, *, now: dt.datetime, tz: Any) -> str | None:
    if recipient.responded_at is not None:
        return None
    if recipient.respond_by <= now:
        return OVERDUE
    tomorrow = now.astimezone(tz).date() + dt.timedelta(days=1)
    return DUE_TOMORROW if recipient.respond_by.astimezone(tz).date() == tomorrow else None


def send_response_reminders(*, now: dt.datetime | None = None) -> int:
    """Send every reminder due at `now`; returns how many emails went."""
    now = now or timezone.now()
    candidates = list(CommuniqueRecipient.objects
                      .filter(responded_at__isnull=True, respond_by__lt=now + dt.timedelta(days=2))
                      .select_related("communique", "consortium").order_by("respond_by", "pk"))
    if not candidates:
        return 0
    zones: dict[int, Any] = {}
    to_by_consortium = lead_emails({c.consortium_id for c in candidates})
    sent = 0
    for copy in candidates:
        if copy.consortium_id not in zones:
            zones[copy.consortium_id] = _zone(copy.consortium)
        kind = reminder_kind(copy, now=now, tz=zones[copy.consortium_id])
        to = to_by_consortium.get(copy.consortium_id)
        if kind is None or not to:
            continue
        with transaction.atomic():
            if once(reminder_key(copy.pk, kind)):
                send_templated_email(to=to, template=TEMPLATE, context={
                    "communique": copy.communique, "copy": copy, "consortium": copy.consortium, "kind": kind,
                    "url": settings.SITE_URL + reverse("communiques:respond", args=[copy.pk])})
                sent += 1
    return sent


def catch_up_response_reminders(*, today: dt.date, now: dt.datetime | None = None) -> int:
    """The daily schedule: once per day not yet covered (missed days need no separate pass)."""
    if not list(days_to_catch_up(SCHEDULE, today)):
        return 0
    return send_response_reminders(now=now)


def _zone(consortium: Any) -> ZoneInfo:
    return ZoneInfo(calendar_for_consortium(consortium).timezone)
