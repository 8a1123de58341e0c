"""Signal connections of the onboarding app, made by `OnboardingConfig.ready()`."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_migrate


def create_orcid_templates(sender: Any, **kwargs: Any) -> None:
    """After migrations (and test-database flushes): ORCID's ready-made plan templates exist."""
    from consortium_hub.audit.context import acting_as
    from consortium_hub.onboarding.services.plans import ensure_orcid_templates

    with acting_as(None, via="command"):
        ensure_orcid_templates()


def connect(app_config: Any) -> None:
    post_migrate.connect(create_orcid_templates, sender=app_config,
                         dispatch_uid="onboarding.create_orcid_templates")
