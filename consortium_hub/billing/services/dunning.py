"""Overdue follow-up: statuses and reminder levels.

For day D, every issued invoice whose due date is before D and which still has something to pay:
- becomes overdue (status);
- reaches reminder level n once D is at least `dunning_days[n-1]` days past its due date (the issuer's
  BillingSettings, e.g. [7, 30, 60]). Each level is claimed once ever (`once("dunning:<id>:<level>")`),
  whatever ran twice or raced. When several levels are first reached on the same day (the first run
  over old invoices, or levels edited), all are claimed and only the highest is sent.

Days the schedule missed are worked through in order, each once (jobs.queue.days_to_catch_up), so a
level whose day was missed goes out on the catch-up run, once. The emails themselves are jobs
(tasks.send_dunning_reminder): they skip invoices settled meanwhile.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from consortium_hub.billing.issuers import DEFAULT_DUNNING_DAYS
from consortium_hub.billing.models import BillingSettings, Invoice, Issuer
from consortium_hub.billing.selectors.invoices import OPEN_STATUSES, with_balances
from consortium_hub.billing.services.invoices import balance_due, send_document_email, settled_status
from consortium_hub.core.money import Money
from consortium_hub.jobs.models import OnceMarker
from consortium_hub.jobs.queue import days_to_catch_up, enqueue, once

log = logging.getLogger(__name__)
SCHEDULE = "billing-dunning"


def levels_of(days: list | None) -> list[int]:
    """The configured days past due, cleaned: positive whole days, ascending, no repeats."""
    cleaned = set()
    for value in days or []:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if number > 0:
            cleaned.add(number)
    return sorted(cleaned)


def _levels_by_issuer() -> dict[tuple[str, int | None], list[int]]:
    found: dict[tuple[str, int | None], list[int]] = {}
    for row in BillingSettings.objects.values("consortium_id", "dunning_days"):
        issuer = Issuer.ORCID if row["consortium_id"] is None else Issuer.LEAD
        found[(issuer, row["consortium_id"])] = levels_of(row["dunning_days"])
    return found


def reminder_key(invoice_id: int, level: int) -> str:
    return f"dunning:{invoice_id}:{level}"


def run_day(*, day: dt.date) -> list[tuple[int, int]]:
    """Statuses and reminders for `day`; returns the (invoice id, level) reminders queued."""
    levels = _levels_by_issuer()
    candidates = (with_balances(Invoice.objects.filter(kind=Invoice.Kind.INVOICE, status__in=OPEN_STATUSES,
                                                       due_date__lt=day))
                  .filter(balance_due__gt=0).order_by("due_date", "pk"))
    candidates = list(candidates)
    # Levels claimed earlier, in one query, so each day tries to claim only what is new.
    most = max([len(v) for v in levels.values()] + [len(DEFAULT_DUNNING_DAYS)])
    keys = [reminder_key(invoice.pk, n) for invoice in candidates for n in range(1, most + 1)]
    claimed_before = set(OnceMarker.objects.filter(key__in=keys).values_list("key", flat=True))
    queued = []
    for invoice in candidates:
        with transaction.atomic():  # the status and the claims of one invoice together
            status = settled_status(invoice, today=day, credited=invoice.credited)
            if status != invoice.status:
                invoice.status = status
                invoice.save(update_fields=["status", "updated_at"])
            days_past = (day - invoice.due_date).days
            key = (invoice.issuer, invoice.consortium_id if invoice.issuer == Issuer.LEAD else None)
            configured = levels.get(key, DEFAULT_DUNNING_DAYS)
            reached = [n for n, days in enumerate(configured, start=1) if days_past >= days]
            claimed = [n for n in reached
                       if reminder_key(invoice.pk, n) not in claimed_before and once(reminder_key(invoice.pk, n))]
            if claimed:
                enqueue(_send_task(), invoice.pk, max(claimed), day.isoformat())
                queued.append((invoice.pk, max(claimed)))
    return queued


def _send_task():
    from consortium_hub.billing.tasks import send_dunning_reminder

    return send_dunning_reminder


def catch_up_dunning(*, today: dt.date) -> list[tuple[int, int]]:
    """The daily schedule: every day since the last run, in order, each once."""
    queued = []
    for day in days_to_catch_up(SCHEDULE, today):
        queued.extend(run_day(day=day))
    return queued


def send_reminder(*, invoice_id: int, level: int, day: dt.date) -> int:
    """Email reminder `level` with the invoice's PDF, unless it was settled meanwhile."""
    invoice = Invoice.objects.select_related("consortium").get(pk=invoice_id)
    if invoice.status not in OPEN_STATUSES or balance_due(invoice) <= 0:
        log.info("Reminder %s of %s skipped: settled meanwhile.", level, invoice)
        return 0
    settings_row = BillingSettings.objects.filter(
        consortium=None if invoice.issuer == Issuer.ORCID else invoice.consortium).first()
    final = len(levels_of(settings_row.dunning_days if settings_row else DEFAULT_DUNNING_DAYS)) or level
    return send_document_email(invoice_id=invoice.pk, template="billing/email/dunning", extra={
        "level": level, "final_level": max(final, level), "days_overdue": (day - invoice.due_date).days,
        "balance": Money(balance_due(invoice), invoice.currency)})
