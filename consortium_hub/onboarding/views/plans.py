"""Pages for onboarding plans and plan templates (see docs/architecture.md): look up, call, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consortium_hub.core.access import access_scope, get_for_user_or_404, require_area
from consortium_hub.core.roles import ADD, CHANGE, DELETE, VIEW
from consortium_hub.core.viewkit import HistoryPage, ListPage, form_page
from consortium_hub.onboarding import forms_plans as f
from consortium_hub.onboarding.models import Plan, PlanKind, PlanTemplate, Task, TaskTemplate
from consortium_hub.onboarding.selectors import plans as selectors
from consortium_hub.onboarding.services import plans as services


# --- Onboarding home ------------------------------------------------------------------------------

@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What the signed-in user's party owes and by when (overdue first), and plans in progress."""
    require_area(request.user, "onboarding", VIEW)
    today = timezone.localdate()
    owed = list(selectors.tasks_owed(user=request.user, today=today)[:selectors.OWED_LIMIT + 1])
    scope = access_scope(request.user)
    return render(request, "onboarding/home.html", {
        "today": today, "owed": owed[:selectors.OWED_LIMIT], "owed_more": len(owed) > selectors.OWED_LIMIT,
        "plans": selectors.plans_in_progress(user=request.user, today=today),
        "can_start": scope.allows_anything("onboarding", ADD),
        "can_see_templates": scope.allows_anything("onboarding_templates", VIEW),
        "can_see_training": scope.allows_anything("training", VIEW),
        "start_kinds": _start_kinds(request.user),
    })


def _start_kinds(user: Any) -> list[tuple[str, str]]:
    scope = access_scope(user)
    if not scope.allows_anything("onboarding", ADD):
        return []
    return [(k, label) for k, label in PlanKind.choices if k != PlanKind.CONSORTIUM or scope.is_orcid_staff()]


# --- Templates ------------------------------------------------------------------------------------

class TemplateList(ListPage):
    area = "onboarding_templates"
    selector = staticmethod(selectors.template_list)
    filterset_class = f.PlanTemplateFilter
    template_name = "onboarding/template_list.html"
    partial_template_name = "onboarding/template_list_table.html"

    def get_queryset(self) -> Any:
        return super().get_queryset().order_by("consortium__name", "kind", "name")

    def extra_context(self) -> dict[str, Any]:
        return {"can_add": access_scope(self.request.user).allows_anything("onboarding_templates", ADD)}


@login_required
def template_create(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "onboarding_templates", ADD)
    form = f.PlanTemplateForm(request.POST or None, user=request.user)
    return form_page(request, form=form, template="core/form.html",
                     save=lambda data: services.template_create(user=request.user, **data),
                     success_url=lambda t: reverse("onboarding:template_detail", args=[t.pk]),
                     success_message=_("Template created. Add its tasks."),
                     context={"title": _("New plan template"), "cancel_url": reverse("onboarding:template_list")})


@login_required
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_for_user_or_404(request.user, selectors.template_with_tasks(user=request.user), pk=pk)
    return render(request, "onboarding/template_detail.html", {
        "template": template, "tasks": list(template.tasks.all()),
        "can_change": access_scope(request.user).can(CHANGE, template),
    })


@login_required
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_for_user_or_404(request.user, PlanTemplate, CHANGE, pk=pk)
    form = f.PlanTemplateForm(request.POST or None, user=request.user, instance=template)
    return form_page(request, form=form, template="core/form.html",
                     save=lambda data: services.template_update(user=request.user, template=template, **data),
                     success_url=lambda t: reverse("onboarding:template_detail", args=[t.pk]),
                     success_message=_("Template saved."),
                     context={"title": _("Edit %(name)s") % {"name": template}, "template": template,
                              "cancel_url": reverse("onboarding:template_detail", args=[template.pk])})


@login_required
def template_task_add(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_for_user_or_404(request.user, PlanTemplate, CHANGE, pk=pk)
    form = f.TaskTemplateForm(request.POST or None, template=template)
    return form_page(request, form=form, template="core/form.html",
                     save=lambda data: services.task_template_add(user=request.user, template=template, **data),
                     success_url=reverse("onboarding:template_detail", args=[template.pk]),
                     success_message=_("Task added."),
                     context={"title": _("New task in %(name)s") % {"name": template}, "template": template,
                              "cancel_url": reverse("onboarding:template_detail", args=[template.pk])})


@login_required
def template_task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_for_user_or_404(request.user, TaskTemplate.objects.select_related("template"), CHANGE, pk=pk)
    form = f.TaskTemplateForm(request.POST or None, template=task.template, instance=task)
    return form_page(request, form=form, template="core/form.html",
                     save=lambda data: services.task_template_update(user=request.user, task_template=task, **data),
                     success_url=reverse("onboarding:template_detail", args=[task.template_id]),
                     success_message=_("Task saved."),
                     context={"title": _("Edit task %(name)s") % {"name": task}, "template": task.template})


@login_required
def template_task_delete(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_for_user_or_404(request.user, TaskTemplate.objects.select_related("template"), DELETE, pk=pk)
    if request.method == "POST":
        services.task_template_delete(user=request.user, task_template=task)
        messages.success(request, _("Task removed from the template."))
        return redirect("onboarding:template_detail", task.template_id)
    return render(request, "onboarding/template_task_delete.html", {"task": task, "template": task.template})


@login_required
@require_POST
def template_task_move(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_for_user_or_404(request.user, TaskTemplate.objects.select_related("template"), CHANGE, pk=pk)
    by = -1 if request.POST.get("direction") == "up" else 1
    services.task_template_move(user=request.user, task_template=task, by=by)
    return redirect(reverse("onboarding:template_detail", args=[task.template_id]) + f"#task-{task.pk}")


class TemplateHistory(HistoryPage):
    model = PlanTemplate


# --- Plans ----------------------------------------------------------------------------------------

class PlanList(ListPage):
    area = "onboarding"
    selector = staticmethod(selectors.plan_list)
    filterset_class = f.PlanFilter
    template_name = "onboarding/plan_list.html"
    partial_template_name = "onboarding/plan_list_table.html"

    def extra_context(self) -> dict[str, Any]:
        return {"start_kinds": _start_kinds(self.request.user)}


@login_required
def plan_start(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "onboarding", ADD)
    kind = request.GET.get("kind") or PlanKind.MEMBER
    if kind not in f.START_FORMS:
        raise Http404
    if kind == PlanKind.CONSORTIUM and not access_scope(request.user).is_orcid_staff():
        raise PermissionDenied
    initial = {"start_date": timezone.localdate()} if kind != PlanKind.CONSORTIUM else {}
    for name in ("membership", "consortium", "staff_member"):
        if request.GET.get(name):
            initial[name] = request.GET[name]
    form = f.START_FORMS[kind](request.POST or None, user=request.user, initial=initial)

    def save(data: dict[str, Any]) -> Plan:
        if kind == PlanKind.MEMBER:
            return services.member_plan_start(user=request.user, **data)
        if kind == PlanKind.CONSORTIUM:
            return services.consortium_checklist_start(user=request.user, **data)
        return services.support_staff_plan_start(user=request.user, **data)

    return form_page(request, form=form, template="onboarding/plan_start.html", save=save,
                     success_url=lambda p: reverse("onboarding:plan_detail", args=[p.pk]),
                     success_message=_("Plan started."),
                     context={"title": _("Start a plan: %(kind)s") % {"kind": PlanKind(kind).label.lower()},
                              "kind": kind, "start_kinds": _start_kinds(request.user)})


def _plan_queryset() -> Any:
    return Plan.objects.select_related("consortium", "consortium__engagement_lead", "membership__organisation",
                                       "staff_member", "template")


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_for_user_or_404(request.user, _plan_queryset(), pk=pk)
    today = timezone.localdate()
    tasks = list(selectors.plan_tasks(plan=plan, today=today))
    scope = access_scope(request.user)
    parties = services.parties_for(user=request.user, plan=plan)
    can_reopen = scope.can(DELETE, plan)
    done_ids = {t.pk for t in tasks if t.status == Task.Status.DONE}
    for task in tasks:
        task.waiting_on = [d for d in task.depends_on.all() if d.pk not in done_ids]
        task.may_complete = (plan.status == Plan.Status.OPEN and task.status == Task.Status.PENDING
                             and task.owner_party in parties)
        task.may_reopen = can_reopen and task.status == Task.Status.DONE and plan.status != Plan.Status.CANCELLED
        task.form = f.TaskCompleteForm(task=task, auto_id=f"id_task{task.pk}_%s") if task.may_complete else None
    done = len(done_ids)
    return render(request, "onboarding/plan_detail.html", {
        "plan": plan, "tasks": tasks, "today": today, "done": done, "total": len(tasks),
        "percent": (done * 100 // len(tasks)) if tasks else 0,
        "awaits_activation": services.awaits_activation(plan, all_done=done == len(tasks)),
        "can_activate": scope.can(CHANGE, plan),
    })


@login_required
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the evidence form on its own; POST: complete the task (from here or the plan page)."""
    task = get_for_user_or_404(request.user, Task.objects.select_related("plan", "plan__membership__organisation"),
                               CHANGE, pk=pk)
    if task.owner_party not in services.parties_for(user=request.user, plan=task.plan):
        raise PermissionDenied(services.party_refusal(task))
    posted = request.method == "POST"
    form = f.TaskCompleteForm(request.POST if posted else None, request.FILES if posted else None, task=task)
    errors: list[str] = []
    if posted and form.is_valid():
        try:
            services.task_complete(user=request.user, task=task, note=form.cleaned_data.get("note", ""),
                                   file=form.cleaned_data.get("file"), link=form.cleaned_data.get("link", ""))
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, field_errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, field_errors)
            else:
                errors = exc.messages
        else:
            messages.success(request, _("“%(task)s” is done.") % {"task": task.title})
            plan = Plan.objects.select_related("membership").get(pk=task.plan_id)
            all_done = not plan.tasks.exclude(status=Task.Status.DONE).exists()
            if services.awaits_activation(plan, all_done=all_done):
                return redirect("onboarding:plan_activate", plan.pk)
            if plan.status == Plan.Status.COMPLETE:
                messages.success(request, _("Every task is done: the plan is complete."))
            return redirect(reverse("onboarding:plan_detail", args=[plan.pk]) + f"#task-{task.pk}")
    status = 400 if posted else 200
    return render(request, "onboarding/plan_task_complete.html",
                  {"task": task, "plan": task.plan, "form": form, "errors": errors}, status=status)


@login_required
@require_POST
def task_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_for_user_or_404(request.user, Task.objects.select_related("plan"), DELETE, pk=pk)
    try:
        services.task_reopen(user=request.user, task=task)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("“%(task)s” is open again.") % {"task": task.title})
    return redirect(reverse("onboarding:plan_detail", args=[task.plan_id]) + f"#task-{task.pk}")


@login_required
def task_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """The evidence file of a task, for whoever can see the task (files are never served unchecked)."""
    task = get_for_user_or_404(request.user, Task, pk=pk)
    if not task.evidence_file:
        raise Http404
    return FileResponse(task.evidence_file.open("rb"), as_attachment=True,
                        filename=task.evidence_file.name.rsplit("/", 1)[-1])


@login_required
def plan_activate(request: HttpRequest, pk: int) -> HttpResponse:
    """The confirmation step after the last task of a member plan: activate the membership now?"""
    plan = get_for_user_or_404(request.user, _plan_queryset(), pk=pk)
    all_done = not plan.tasks.exclude(status=Task.Status.DONE).exists()
    may_activate = access_scope(request.user).can_in(CHANGE, "directory", consortium_id=plan.consortium_id)
    errors: list[str] = []
    if request.method == "POST":
        if not may_activate:
            raise PermissionDenied
        try:
            services.plan_activate_membership(user=request.user, plan=plan)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("%(org)s is now an active member, and the plan is complete.")
                             % {"org": plan.membership.organisation})
            return redirect("onboarding:plan_detail", plan.pk)
    return render(request, "onboarding/plan_activate.html", {
        "plan": plan, "errors": errors, "may_activate": may_activate,
        "awaits_activation": services.awaits_activation(plan, all_done=all_done),
    }, status=400 if errors else 200)


class PlanHistory(HistoryPage):
    model = Plan


urlpatterns = [
    path("", home, name="home"),
    path("templates/", TemplateList.as_view(), name="template_list"),
    path("templates/new/", template_create, name="template_create"),
    path("templates/<int:pk>/", template_detail, name="template_detail"),
    path("templates/<int:pk>/edit/", template_edit, name="template_edit"),
    path("templates/<int:pk>/history/", TemplateHistory.as_view(), name="template_history"),
    path("templates/<int:pk>/tasks/new/", template_task_add, name="template_task_add"),
    path("templates/tasks/<int:pk>/edit/", template_task_edit, name="template_task_edit"),
    path("templates/tasks/<int:pk>/delete/", template_task_delete, name="template_task_delete"),
    path("templates/tasks/<int:pk>/move/", template_task_move, name="template_task_move"),
    path("plans/", PlanList.as_view(), name="plan_list"),
    path("plans/new/", plan_start, name="plan_start"),
    path("plans/<int:pk>/", plan_detail, name="plan_detail"),
    path("plans/<int:pk>/activate/", plan_activate, name="plan_activate"),
    path("plans/<int:pk>/history/", PlanHistory.as_view(), name="plan_history"),
    path("tasks/<int:pk>/complete/", task_complete, name="task_complete"),
    path("tasks/<int:pk>/reopen/", task_reopen, name="task_reopen"),
    path("tasks/<int:pk>/evidence/", task_evidence, name="task_evidence"),
]
