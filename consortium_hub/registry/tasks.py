"""Background jobs of the ORCID Registry link: thin, they take ids and call `services.sync`.

Huey autodiscovers this module.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from consortium_hub.audit.context import acting_as
from consortium_hub.jobs.queue import job


@job()
def write_affiliations(organisation_id: int) -> None:
    """Send the due affiliations of this organisation's ORCID client (and of every member sharing it)."""
    from consortium_hub.registry.services.sync import run_writer

    run_writer(organisation_id=organisation_id)


@db_periodic_task(crontab(minute="*"), name="registry.sweep_due_affiliations")
def sweep_due_affiliations() -> None:
    """Every minute: start the writer for each client with due rows (retries whose time has come)."""
    from consortium_hub.registry.services.sync import sweep_due_writes

    with acting_as(None, via="job:sweep_due_affiliations"):
        sweep_due_writes()

from consortium_hub.registry import tasks_adoption, tasks_permissions  # noqa: E402,F401  (Huey discovers this module only)
