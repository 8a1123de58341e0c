"""Renewal reminders to members: each offset at most once, whatever the scheduler does.

Who: the member's main relationship and invoice contacts. Which agreements: active member
agreements with no renewal decision yet. When: at the lead's offsets
(`billing.issuers.settings_for(issuer="lead", consortium=…).renewal_reminder_days`, days before the
end date; negative = after it), by default 60 and 30 days before the end and 7 days after.

The rules, decided for a scheduler that ran twice or missed days:
- an offset is *due* once its day (end date − offset days) is today or earlier, and never if that day
  is before the agreement was recorded (a member recorded 20 days before the end gets no "60 days"
  reminder);
- each offset goes at most once, claimed with `once("renewal-reminder:<agreement>:<offset>")` in the
  same transaction as the email is queued (a racing twin loses the claim; a failure releases it);
- when several due offsets have not gone (the scheduler was down across two reminder days, or the
  feature was switched on for agreements already near their end), only the latest goes and the
  earlier ones are claimed without sending: the member never gets two reminders at once, nor a stale
  "60 days left" after the "30 days left" one;
- an agreement whose member has no main or invoice contact gets nothing and nothing is claimed, so
  the reminder goes on the first day someone can receive it.

`catch_up_renewal_reminders` works through every day the daily schedule missed, in order (each day
once, `jobs.queue.days_to_catch_up`), so reminders go out on the day they would have.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from consortium_hub.agreements import terms
from consortium_hub.agreements.models import Agreement, RenewalDecision
from consortium_hub.billing.issuers import settings_for
from consortium_hub.billing.models import Issuer
from consortium_hub.core.email import send_templated_email
from consortium_hub.directory.models import ContactRole
from consortium_hub.jobs.models import OnceMarker
from consortium_hub.jobs.queue import days_to_catch_up, once

log = logging.getLogger(__name__)

SCHEDULE = "renewal-reminders"
TEMPLATE = "agreements/email/renewal_reminder"
RECIPIENT_ROLES = (ContactRole.Kind.MAIN, ContactRole.Kind.INVOICE)
# Offsets further than this from the end date are not looked for (a year either side).
HORIZON_DAYS = 366
_CHUNK = 500


def reminder_key(agreement_id: int, offset: int) -> str:
    return f"renewal-reminder:{agreement_id}:{offset}"


def reminder_offsets(values: Iterable[Any]) -> list[int]:
    """The configured offsets as distinct whole numbers of days (anything else is ignored)."""
    offsets = set()
    for value in values or ():
        try:
            offsets.add(int(value))
        except (TypeError, ValueError):
            log.warning("Ignoring renewal reminder offset %r: not a whole number of days", value)
    return sorted(offsets, reverse=True)


def plan_reminders(*, end_date: dt.date, created_on: dt.date, offsets: Iterable[int], today: dt.date,
                   claimed: Iterable[int]) -> tuple[int | None, list[int]]:
    """(the offset to send today or None, the due offsets it supersedes) for one agreement."""
    claimed = set(claimed)
    due = sorted((end_date - dt.timedelta(days=o), o) for o in set(offsets)
                 if created_on <= end_date - dt.timedelta(days=o) <= today)
    latest_claimed = max((day for day, o in due if o in claimed), default=None)
    unclaimed = [(day, o) for day, o in due if o not in claimed]
    fresh = [(day, o) for day, o in unclaimed if latest_claimed is None or day > latest_claimed]
    send = fresh[-1][1] if fresh else None
    return send, [o for _day, o in unclaimed if o != send]


def send_renewal_reminders(*, today: dt.date) -> int:
    """Send the reminders due on `today` (see the module's docstring); returns how many emails went."""
    undecided = ~Exists(RenewalDecision.objects.filter(agreement=OuterRef("pk")))
    candidates = list(
        Agreement.objects.filter(kind=Agreement.Kind.MEMBER, status=Agreement.Status.ACTIVE,
                                 end_date__gte=today - dt.timedelta(days=HORIZON_DAYS),
                                 end_date__lte=today + dt.timedelta(days=HORIZON_DAYS))
        .filter(undecided).select_related("consortium", "organisation").order_by("end_date", "pk"))
    offsets_of: dict[int, list[int]] = {}
    due: list[tuple[Agreement, list[int]]] = []
    for agreement in candidates:
        if agreement.consortium_id not in offsets_of:
            lead_settings = settings_for(issuer=Issuer.LEAD, consortium=agreement.consortium)
            offsets_of[agreement.consortium_id] = reminder_offsets(lead_settings.renewal_reminder_days)
        created_on = timezone.localdate(agreement.created_at)
        offsets = [o for o in offsets_of[agreement.consortium_id]
                   if created_on <= agreement.end_date - dt.timedelta(days=o) <= today]
        if offsets:
            due.append((agreement, offsets))
    if not due:
        return 0
    claimed = _claimed_keys([reminder_key(a.pk, o) for a, offsets in due for o in offsets])
    recipients = _recipients({a.organisation_id for a, _ in due})
    sent = 0
    for agreement, offsets in due:
        send, superseded = plan_reminders(
            end_date=agreement.end_date, created_on=timezone.localdate(agreement.created_at), offsets=offsets,
            today=today, claimed=[o for o in offsets if reminder_key(agreement.pk, o) in claimed])
        if send is None and not superseded:
            continue
        to = recipients.get(agreement.organisation_id, [])
        with transaction.atomic():
            for offset in superseded:
                once(reminder_key(agreement.pk, offset))
            if send is None:
                continue
            if not to:
                log.warning("No main or invoice contact to remind of agreement %s ending %s", agreement.pk,
                            agreement.end_date)
                continue
            if once(reminder_key(agreement.pk, send)):
                _send(agreement, send, to)
                sent += 1
    return sent


def catch_up_renewal_reminders(*, today: dt.date) -> int:
    """The daily schedule: every day since the last run, in order, each day once."""
    return sum(send_renewal_reminders(today=day) for day in days_to_catch_up(SCHEDULE, today))


def _claimed_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), _CHUNK):
        found.update(OnceMarker.objects.filter(key__in=keys[i:i + _CHUNK]).values_list("key", flat=True))
    return found


def _recipients(organisation_ids: set[int]) -> dict[int, list[str]]:
    emails: dict[int, set[str]] = {}
    rows = (ContactRole.objects.filter(organisation_id__in=organisation_ids, role__in=RECIPIENT_ROLES)
            .values_list("organisation_id", "contact__email"))
    for organisation_id, email in rows:
        if email:
            emails.setdefault(organisation_id, set()).add(email)
    return {org: sorted(addresses) for org, addresses in emails.items()}


def _send(agreement: Agreement, offset: int, to: list[str]) -> None:
    deadline = terms.notice_deadline(end_date=agreement.end_date, notice_days=agreement.notice_days)
    send_templated_email(to=to, template=TEMPLATE, context={
        "agreement": agreement, "organisation": agreement.organisation, "consortium": agreement.consortium,
        "offset": offset, "days": abs(offset), "after_end": offset < 0, "notice_deadline": deadline,
        "agreement_url": settings.SITE_URL + reverse("agreements:agreement_detail", args=[agreement.pk]),
    })
