"""Background jobs of the directory (the job runner imports every app's tasks module)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from consortium_hub.jobs.queue import job


@job(retries=0)
def apply_import(batch_id: int) -> None:
    """Apply a confirmed import batch: every row or none (see directory.importing.run_batch).

    Not retried: a batch either applies or fails with its reasons; an unexpected error marks it failed
    so its page never waits for ever.
    """
    from consortium_hub.directory import importing

    try:
        importing.run_batch(batch_id)
    except Exception:
        importing.mark_failed(batch_id, _("The import failed unexpectedly and nothing was imported. Try again "
                                          "later, or ask an administrator to look at the job log."))
        raise
