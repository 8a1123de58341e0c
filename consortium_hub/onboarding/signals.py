"""Signal connections of the onboarding app, made by `OnboardingConfig.ready()`."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_migrate, post_save
from django.utils import timezone


def create_orcid_templates(sender: Any, **kwargs: Any) -> None:
    """After migrations (and test-database flushes): ORCID's ready-made plan templates exist."""
    from consortium_hub.audit.context import acting_as
    from consortium_hub.onboarding.services.plans import ensure_orcid_templates

    with acting_as(None, via="command"):
        ensure_orcid_templates()


def start_support_staff_plan(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """New or replacement support staff get an onboarding plan from the support-staff template.

    Runs in the same transaction as the role assignment: both exist, or neither.
    """
    from consortium_hub.core.roles import Role
    from consortium_hub.onboarding.models import Plan, PlanKind
    from consortium_hub.onboarding.services.plans import default_template, support_staff_plan_start

    if raw or not created or instance.role != Role.LEAD_SUPPORT:
        return
    consortium = instance.consortium
    if default_template(consortium=consortium, kind=PlanKind.SUPPORT_STAFF) is None:
        return
    if Plan.objects.filter(consortium=consortium, staff_member=instance.user, kind=PlanKind.SUPPORT_STAFF).exists():
        return
    support_staff_plan_start(user=None, consortium=consortium, staff_member=instance.user,
                             start_date=timezone.localdate())


def connect(app_config: Any) -> None:
    from consortium_hub.accounts.models import RoleAssignment

    post_migrate.connect(create_orcid_templates, sender=app_config,
                         dispatch_uid="onboarding.create_orcid_templates")
    post_save.connect(start_support_staff_plan, sender=RoleAssignment, dispatch_uid="onboarding.support_staff_plan")
