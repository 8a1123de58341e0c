"""Outgoing email: rendered from templates, sent by the job queue, logged.

Every feature sends mail through `send_templated_email`; nothing calls Django's send_mail directly.
Features that must react to the outcome (a permission link whose email bounced) keep the returned
`EmailLog` and listen to `email_delivered`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.utils import timezone

from consortium_hub.jobs.queue import enqueue, job

if TYPE_CHECKING:
    from consortium_hub.core.models_email import EmailLog

logger = logging.getLogger(__name__)

# Sent by `deliver_email` each time it records an attempt's outcome (sender EmailLog, `log_id`,
# `status`: "sent" or "failed"). A failed attempt may be retried, so "failed" can later become "sent".
email_delivered = Signal()


def send_templated_email(*, to: Sequence[str], template: str, context: dict[str, Any],
                         reply_to: Sequence[str] = (), attachments: Sequence[tuple[str, bytes, str]] = ()
                         ) -> EmailLog:
    """Render `<template>_subject.txt`, `<template>.txt` and (optionally) `<template>.html` and queue it.

    Rendering happens now, inside the caller's request or job, so the job carries plain text and
    never re-reads objects that may have changed. `attachments` are (filename, content, mimetype)
    triples the caller has rendered too (an invoice PDF); they travel with the job.
    Returns the new `EmailLog` (queued), so a caller can tie its own record to the outcome.
    """
    from consortium_hub.core.models_email import EmailLog

    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}.txt", context)
    try:
        html = render_to_string(f"{template}.html", context)
    except Exception:  # noqa: BLE001 - the HTML part is optional
        html = ""
    log = EmailLog.objects.create(to=", ".join(to), subject=subject[:255], template=template)
    enqueue(deliver_email, log.pk, list(to), subject, body, html, list(reply_to), [tuple(a) for a in attachments])
    return log


@job(retries=5, retry_delay=30)
def deliver_email(log_id: int, to: list[str], subject: str, body: str, html: str, reply_to: list[str],
                  attachments: list[tuple[str, bytes, str]] | None = None) -> None:
    from consortium_hub.core.models_email import EmailLog

    message = EmailMultiAlternatives(subject=subject, body=body, to=to, reply_to=reply_to or None,
                                     from_email=settings.DEFAULT_FROM_EMAIL)
    if html:
        message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments or []:
        message.attach(filename, content, mimetype)
    try:
        message.send()
    except Exception as exc:
        EmailLog.objects.filter(pk=log_id).update(status=EmailLog.Status.FAILED, error=str(exc)[:2000])
        _announce(EmailLog, log_id, EmailLog.Status.FAILED)
        raise
    EmailLog.objects.filter(pk=log_id).update(status=EmailLog.Status.SENT, sent_at=timezone.now(), error="")
    _announce(EmailLog, log_id, EmailLog.Status.SENT)


def _announce(sender: type, log_id: int, status: str) -> None:
    # Robustly: a failing receiver must not make the job retry, which would send the mail again.
    for receiver, result in email_delivered.send_robust(sender=sender, log_id=log_id, status=status):
        if isinstance(result, Exception):
            logger.error("email_delivered receiver %r failed for email %s", receiver, log_id, exc_info=result)
