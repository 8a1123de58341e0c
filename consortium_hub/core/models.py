from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from consortium_hub.core.access import AccessControlledModel


class DomainModel(AccessControlledModel):
    """Base of every domain model: access-controlled, audited, timestamped.

    The audit receiver (consortium_hub.audit.receivers) records every save and delete of a
    subclass; nothing else writes the change log.
    """

    audited = True
    # Fields whose values never go into the change log (secrets, hashes).
    audit_exclude: tuple[str, ...] = ()

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


from consortium_hub.core.models_email import EmailLog  # noqa: E402,F401  (registered with the core app)
