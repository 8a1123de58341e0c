"""Background jobs of billing (the job runner imports every app's tasks module).

- `email_invoice`: an issued invoice or credit note, as PDF, to its recipients (once per document).
- `send_dunning_reminder`: one overdue reminder level of one invoice (the daily pass claims it once).
- `run_dunning`: the daily overdue pass, catching up on days the scheduler missed.

`send_templated_email_with_attachments` / `deliver_email_with_attachments` stand in for
`core.email.send_templated_email(..., attachments=...)` until the shared function takes attachments:
same rendering, same EmailLog, same delivery, plus the attached files. Remove them then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from consortium_hub.audit.context import acting_as
from consortium_hub.jobs.queue import enqueue, job, once


@job()
def email_invoice(invoice_id: int) -> None:
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


# --- Email with attachments (until core.email takes them) ----------------------------------------------

def send_templated_email_with_attachments(*, to: Sequence[str], template: str, context: dict[str, Any],
                                          attachments: Sequence[tuple[str, bytes, str]],
                                          reply_to: Sequence[str] = ()) -> None:
    """core.email.send_templated_email plus (filename, content, mimetype) attachments."""
    from consortium_hub.core.models_email import EmailLog

    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}.txt", context)
    try:
        html = render_to_string(f"{template}.html", context)
    except Exception:  # noqa: BLE001 - the HTML part is optional
        html = ""
    log = EmailLog.objects.create(to=", ".join(to), subject=subject[:255], template=template)
    enqueue(deliver_email_with_attachments, log.pk, list(to), subject, body, html, list(reply_to),
            [tuple(a) for a in attachments])


@job(retries=5, retry_delay=30)
def deliver_email_with_attachments(log_id: int, to: list[str], subject: str, body: str, html: str,
                                   reply_to: list[str], attachments: list[tuple[str, bytes, str]]) -> None:
    from consortium_hub.core.models_email import EmailLog

    message = EmailMultiAlternatives(subject=subject, body=body, to=to, reply_to=reply_to or None,
                                     from_email=settings.DEFAULT_FROM_EMAIL)
    if html:
        message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    try:
        message.send()
    except Exception as exc:
        EmailLog.objects.filter(pk=log_id).update(status=EmailLog.Status.FAILED, error=str(exc)[:2000])
        raise
    EmailLog.objects.filter(pk=log_id).update(status=EmailLog.Status.SENT, sent_at=timezone.now(), error="")
