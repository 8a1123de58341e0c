"""Outgoing email: rendered from templates, sent by the job queue, logged.

Every feature sends mail through `send_templated_email`; nothing calls Django's send_mail directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from consortium_hub.jobs.queue import enqueue, job


def send_templated_email(*, to: Sequence[str], template: str, context: dict[str, Any],
                         reply_to: Sequence[str] = (), attachments: Sequence[tuple[str, bytes, str]] = ()) -> None:
    """Render `<template>_subject.txt`, `<template>.txt` and (optionally) `<template>.html` and queue it.

    Rendering happens now, inside the caller's request or job, so the job carries plain text and
    never re-reads objects that may have changed. `attachments` are (filename, content, mimetype)
    triples the caller has rendered too (an invoice PDF); they travel with the job.
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
        raise
    EmailLog.objects.filter(pk=log_id).update(status=EmailLog.Status.SENT, sent_at=timezone.now(), error="")
