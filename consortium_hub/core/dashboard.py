"""The home page: what needs this user's attention, by role. Each panel is one small query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consortium_hub.core.access import access_scope


@dataclass
class Panel:
    title: str
    count: int
    url: str
    hint: str = ""


def panels_for(*, user: Any) -> list[Panel]:
    from consortium_hub.accounts.models import Invitation
    from consortium_hub.directory import selectors
    from consortium_hub.directory.models import Membership
    from consortium_hub.jobs.models import JobRun

    scope = access_scope(user)
    panels: list[Panel] = []
    if scope.allows_anything("feed", "view"):
        panels.append(Panel(_("Directory changes to acknowledge"), selectors.change_feed(user=user).count(),
                            reverse("directory:change_feed"), _("Changes to members and contacts since you last looked.")))
    if scope.allows_anything("contacts", "view"):
        panels.append(Panel(_("Members breaking the contact rules"),
                            selectors.members_breaking_contact_rules(user=user).count(),
                            reverse("directory:contact_rule_breaches"),
                            _("Active members need exactly one voting contact and a main contact.")))
    if scope.allows_anything("directory", "view"):
        panels.append(Panel(_("Members onboarding"),
                            Membership.objects.visible_to(user).filter(status=Membership.Status.ONBOARDING).count(),
                            reverse("directory:membership_list") + "?status=onboarding"))
    if scope.allows_anything("onboarding", "view"):
        from consortium_hub.onboarding.selectors.plans import plans_in_progress, tasks_owed

        today = timezone.localdate()
        panels.append(Panel(_("Onboarding tasks you owe, overdue"),
                            tasks_owed(user=user).filter(due_date__lt=today).count(),
                            reverse("onboarding:home"), _("Tasks your side owes whose due date has passed.")))
        panels.append(Panel(_("Onboarding plans in progress"), plans_in_progress(user=user).count(),
                            reverse("onboarding:plan_list") + "?status=open"))
    if scope.allows_anything("people", "add"):
        panels.append(Panel(_("Invitations pending"),
                            Invitation.objects.visible_to(user).filter(accepted_at__isnull=True).count(),
                            reverse("accounts:people")))
    if scope.allows_anything("jobs", "view"):
        panels.append(Panel(_("Failed background jobs"),
                            JobRun.objects.visible_to(user).filter(status=JobRun.Status.FAILED).count(),
                            reverse("jobs:run_list") + "?status=failed"))
    return panels
