"""Reads of onboarding plans and templates. Every selector starts from `visible_to(user)`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import BooleanField, Count, ExpressionWrapper, Prefetch, Q, QuerySet
from django.utils import timezone

from consortium_hub.core.access import access_scope
from consortium_hub.core.roles import CHANGE, ROLE_SCOPE, Scope, role_grants
from consortium_hub.directory.models import Organisation
from consortium_hub.onboarding.models import Party, Plan, PlanTemplate, Task, TaskTemplate

OWED_LIMIT = 100


def template_list(*, user: Any) -> QuerySet[PlanTemplate]:
    return (PlanTemplate.objects.visible_to(user).select_related("consortium")
            .annotate(task_count=Count("tasks")))


def template_with_tasks(*, user: Any) -> QuerySet[PlanTemplate]:
    """Templates with their tasks and each task's prerequisites (for the detail page and the API)."""
    tasks = TaskTemplate.objects.order_by("position", "pk").prefetch_related(
        Prefetch("depends_on", queryset=TaskTemplate.objects.order_by("position", "pk")))
    return (PlanTemplate.objects.visible_to(user).select_related("consortium")
            .prefetch_related(Prefetch("tasks", queryset=tasks)))


def _progress(queryset: QuerySet[Plan], today: dt.date) -> QuerySet[Plan]:
    return queryset.annotate(
        task_total=Count("tasks", distinct=True),
        task_done=Count("tasks", filter=Q(tasks__status=Task.Status.DONE), distinct=True),
        task_overdue=Count("tasks", filter=Q(tasks__status=Task.Status.PENDING, tasks__due_date__lt=today),
                           distinct=True),
    )


def plan_list(*, user: Any, today: dt.date | None = None) -> QuerySet[Plan]:
    """Plans with their progress: task_total, task_done, task_overdue."""
    today = today or timezone.localdate()
    return _progress(Plan.objects.visible_to(user).select_related(
        "consortium", "membership__organisation", "staff_member", "template"), today)


def plans_for_organisation(*, user: Any, organisation: Organisation) -> QuerySet[Plan]:
    """The member's plans (newest first) with progress, for its organisation page."""
    return plan_list(user=user).filter(membership__organisation=organisation).order_by("-start_date", "-pk")


def plans_in_progress(*, user: Any, today: dt.date | None = None) -> QuerySet[Plan]:
    """Open plans, by consortium, for the onboarding home's progress bars."""
    return (plan_list(user=user, today=today).filter(status=Plan.Status.OPEN)
            .order_by("consortium__name", "start_date", "pk"))


def plan_tasks(*, plan: Plan, today: dt.date | None = None) -> QuerySet[Task]:
    """A plan's tasks (the plan was fetched with visible_to) with prerequisites and an `overdue` flag."""
    today = today or timezone.localdate()
    return (plan.tasks.select_related("completed_by")
            .prefetch_related(Prefetch("depends_on", queryset=Task.objects.order_by("position", "pk")))
            .annotate(overdue=_overdue(today))
            .order_by("position", "due_date", "pk"))


def _overdue(today: dt.date) -> ExpressionWrapper:
    return ExpressionWrapper(Q(status=Task.Status.PENDING, due_date__lt=today), output_field=BooleanField())


def task_list(*, user: Any, today: dt.date | None = None) -> QuerySet[Task]:
    today = today or timezone.localdate()
    return (Task.objects.visible_to(user)
            .select_related("plan", "plan__consortium", "plan__membership__organisation", "completed_by")
            .prefetch_related(Prefetch("depends_on", queryset=Task.objects.order_by("position", "pk")))
            .annotate(overdue=_overdue(today))
            .order_by("due_date", "plan_id", "position", "pk"))


def owed_filter(*, user: Any) -> Q:
    """Which tasks the user's party owes: lead tasks where they are lead staff, member tasks of their
    organisation, ORCID tasks where they act for ORCID (the same rule as services.parties_for, except
    that lead staff do not *owe* member tasks, they may only complete them on the member's behalf)."""
    q = Q(pk__in=[])
    lead_consortia: set[int] = set()
    organisations: set[int] = set()
    orcid_consortia: set[int] = set()
    for grant in access_scope(user).grants:
        if not role_grants(grant.role, "onboarding", CHANGE):
            continue
        kind = ROLE_SCOPE.get(grant.role)
        if kind == Scope.ORCID:
            if grant.consortium_id is None:
                q |= Q(owner_party=Party.ORCID)
            else:
                orcid_consortia.add(grant.consortium_id)
        elif kind == Scope.CONSORTIUM and grant.consortium_id:
            lead_consortia.add(grant.consortium_id)
        elif kind == Scope.ORGANISATION and grant.organisation_id:
            organisations.add(grant.organisation_id)
    if lead_consortia:
        q |= Q(owner_party=Party.LEAD, plan__consortium_id__in=lead_consortia)
    if organisations:
        q |= Q(owner_party=Party.MEMBER, plan__membership__organisation_id__in=organisations)
    if orcid_consortia:
        q |= Q(owner_party=Party.ORCID, plan__consortium_id__in=orcid_consortia)
    return q


def tasks_owed(*, user: Any, today: dt.date | None = None) -> QuerySet[Task]:
    """"What I owe and by when": open tasks of open plans owed by the user's party, overdue first."""
    return (task_list(user=user, today=today)
            .filter(owed_filter(user=user), status=Task.Status.PENDING, plan__status=Plan.Status.OPEN)
            .order_by("due_date", "plan__consortium__name", "plan_id", "position", "pk"))
