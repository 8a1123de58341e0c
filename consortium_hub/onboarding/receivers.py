"""New or replacement support staff get an onboarding plan from the support-staff template."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from consortium_hub.accounts.models import RoleAssignment
from consortium_hub.core.roles import Role


@receiver(post_save, sender=RoleAssignment)
def start_support_staff_plan(sender: Any, instance: RoleAssignment, created: bool, raw: bool = False,
                             **kwargs: Any) -> None:
    if raw or not created or instance.role != Role.LEAD_SUPPORT:
        return
    from consortium_hub.onboarding.models import Plan, PlanKind
    from consortium_hub.onboarding.services.plans import _default_template, plan_start

    consortium = instance.consortium
    if _default_template(consortium=consortium, kind=PlanKind.SUPPORT_STAFF) is None:
        return  # no template to start from: nothing to plan
    if Plan.objects.filter(consortium=consortium, staff_member=instance.user, kind=PlanKind.SUPPORT_STAFF).exists():
        return
    # Same transaction as the role: both exist, or neither.
    plan_start(user=None, consortium=consortium, kind=PlanKind.SUPPORT_STAFF, staff_member=instance.user,
               start_date=timezone.localdate())
