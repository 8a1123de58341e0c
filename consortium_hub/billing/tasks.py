"""Background jobs of billing (the job runner imports every app's tasks module).

- `email_invoices`: issued invoices and credit notes, as PDF, to their recipients (once per document).
- `send_dunning_reminder`: one overdue reminder level of one invoice (the daily pass claims it once).
- `run_dunning`: the daily overdue pass, catching up on days the scheduler missed.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from consortium_hub.audit.context import acting_as
from consortium_hub.jobs.queue import job, once


@job()
def email_invoices(invoice_ids: list[int]) -> None:
    """A batch of documents; one failure does not stop the rest, and the retry sends only what is left."""
    failed = []
    for invoice_id in invoice_ids:
        try:
            _email_once(invoice_id)
        except Exception as exc:  # noqa: BLE001 - recorded and re-raised below for the retry
            failed.append((invoice_id, exc))
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(invoice_ids)} invoice emails failed: {failed[0][1]!r}")


def _email_once(invoice_id: int) -> None:
    from consortium_hub.billing.services.invoices import send_document_email

    with transaction.atomic():  # a failure gives the claim back, so the retry sends it
        if once(f"invoice-email:{invoice_id}"):
            send_document_email(invoice_id=invoice_id, template="billing/email/invoice")


@job()
def send_dunning_reminder(invoice_id: int, level: int, day: str) -> None:
    from consortium_hub.billing.services.dunning import send_reminder

    send_reminder(invoice_id=invoice_id, level=level, day=dt.date.fromisoformat(day))


@db_periodic_task(crontab(minute="20"), name="billing.run_dunning")
def run_dunning() -> None:
    """Hourly, so a day is covered soon after midnight even if the worker started late; each day runs once."""
    from consortium_hub.billing.services.dunning import catch_up_dunning

    with acting_as(None, via="job:billing-dunning"):
        catch_up_dunning(today=timezone.localdate())
