"""Signal receivers of the registry app, connected by `RegistryConfig.ready()`.

The email job reports each attempt (core/email.email_delivered); a permission link's email decides
whether the researcher's rows read "notification sent" or "notification failed", as in ORCID's
Affiliation Manager.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction


def record_permission_email_outcome(sender: Any, log_id: int, status: str, **kwargs: Any) -> None:
    from consortium_hub.core.models_email import EmailLog
    from consortium_hub.registry.models import Affiliation, PermissionLink

    if status == EmailLog.Status.SENT:
        link_status, row_status = PermissionLink.Status.SENT, Affiliation.Status.NOTIFICATION_SENT
        # A retry that got through after a failed attempt corrects the failure.
        rows_from = (Affiliation.Status.NOTIFICATION_REQUESTED, Affiliation.Status.NOTIFICATION_FAILED)
    elif status == EmailLog.Status.FAILED:
        link_status, row_status = PermissionLink.Status.FAILED, Affiliation.Status.NOTIFICATION_FAILED
        rows_from = (Affiliation.Status.NOTIFICATION_REQUESTED,)
    else:
        return
    with transaction.atomic():
        # Only links still waiting on their email: a link already used or expired keeps its status.
        links = list(PermissionLink.objects.select_for_update().filter(
            email_log_id=log_id,
            status__in=(PermissionLink.Status.REQUESTED, PermissionLink.Status.SENT, PermissionLink.Status.FAILED)))
        for link in links:
            if link.status != link_status:
                link.status = link_status
                link.save(update_fields=["status", "updated_at"])
            rows = (Affiliation.objects.select_for_update()
                    .filter(organisation_id=link.organisation_id, email__iexact=link.email, status__in=rows_from)
                    .order_by("pk"))
            for row in rows:
                row.status = row_status
                row.save(update_fields=["status", "updated_at"])


def connect() -> None:
    from consortium_hub.core.email import email_delivered

    email_delivered.connect(record_permission_email_outcome, dispatch_uid="registry.permission_email_outcome")
