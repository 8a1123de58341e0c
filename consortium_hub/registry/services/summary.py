"""The upload summary: once the writer owes no row of an upload anything more, its uploader is told
how many rows ended in each status, with a link to the upload's page (sent once, whoever finishes last).

Rows that wait for a researcher's permission (no granted grant: never given, or revoked) count as
settled even in a pending state: only the researcher can move them on, and that may never happen.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from consortium_hub.core.email import send_templated_email
from consortium_hub.jobs.queue import once
from consortium_hub.registry.models import Affiliation, AffiliationUpload
from consortium_hub.registry.selectors.affiliations import status_summary
from consortium_hub.registry.services.sync import owed_rows

UPLOAD_URL_NAME = "registry:upload_detail"
TEMPLATE = "registry/email/upload_summary"


def upload_finished(upload_id: int) -> bool:
    """True once the writer owes none of the upload's rows an outcome (see `sync.owed_rows`)."""
    return not owed_rows().filter(upload_id=upload_id).exists()


@transaction.atomic
def send_upload_summary(*, upload_id: int, now: dt.datetime | None = None) -> bool:
    """Send the summary of a finished upload; True if this call sent it (False: not finished, or sent)."""
    if not upload_finished(upload_id):
        return False
    # The claim and the email commit together: a failure rolls both back, and the next batch tries again.
    if not once(f"registry-upload-summary:{upload_id}"):
        return False
    upload = (AffiliationUpload.objects.select_for_update(of=("self",)).select_related("organisation", "uploaded_by")
              .defer("content").get(pk=upload_id))
    now = now or timezone.now()
    counts = status_summary(Affiliation.objects.filter(upload_id=upload_id))
    uploader = upload.uploaded_by
    if uploader is not None and uploader.email:
        send_templated_email(
            to=[uploader.email], template=TEMPLATE,
            context={"upload": upload, "organisation_name": upload.organisation.display_name,
                     "counts": counts, "total": sum(c.count for c in counts),
                     "upload_url": settings.SITE_URL + reverse(UPLOAD_URL_NAME, kwargs={"pk": upload.pk})},
        )
    upload.summary_sent_at = now
    upload.finished_at = upload.finished_at or now
    upload.save(update_fields=["summary_sent_at", "finished_at", "updated_at"])
    return True
