"""Onboarding plans: templates, instantiating them, completing tasks, reminders.

Every write here is keyword-only, atomic and access-checked; the audit receiver records the saves.
Business days always come from `consortium_hub.calendars` (the consortium's calendar): this module
never counts weekdays or holidays itself.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium_hub.core.access import access_scope, require
from consortium_hub.core.roles import ADD, CHANGE, DELETE, ROLE_SCOPE, Role, Scope, role_grants
from consortium_hub.directory.models import Consortium, ContactRole, Membership
from consortium_hub.onboarding.models import (
    DueUnit,
    EvidenceKind,
    Party,
    Plan,
    PlanKind,
    PlanTemplate,
    Task,
    TaskTemplate,
)

MAX_EVIDENCE_FILE_BYTES = 10 * 1024 * 1024
EVIDENCE_LINK_MAX_LENGTH = Task._meta.get_field("evidence_link").max_length
# Reminder escalation: (step, business days overdue at which it is sent). Step 1 the day after the due date.
REMINDER_STEPS: tuple[tuple[int, int], ...] = ((1, 0), (2, 5), (3, 10))
REMINDER_SCHEDULE = "onboarding-reminders"
TEMPLATE_FIELDS = ("name", "kind", "description", "is_default")
TASK_TEMPLATE_FIELDS = ("title", "description", "owner_party", "due_offset", "due_unit", "evidence")


# --- Due dates ------------------------------------------------------------------------------------

def _calendar_spec(consortium: Consortium) -> Any:
    from consortium_hub.calendars.business_time import spec_for
    from consortium_hub.calendars.selectors import calendar_for_consortium

    return spec_for(calendar_for_consortium(consortium))


def _business_days_from(spec: Any, start: dt.date, offset: int) -> dt.date:
    from consortium_hub.calendars.business_time import (
        MAX_SCAN_DAYS,
        NoBusinessTime,
        add_business_days,
        is_business_day,
    )

    no_days = ValidationError(_("The consortium's business calendar has no working days, so due dates in business "
                                "days cannot be set: give the calendar its working hours first."))
    if offset >= 0:
        try:
            return add_business_days(spec, start, offset)
        except NoBusinessTime as exc:
            raise no_days from exc
    # Before the start (pre-signing criteria): walk back over business days.
    day, remaining = start, -offset
    for _step in range(MAX_SCAN_DAYS + -offset * 7):
        if not remaining:
            return day
        day -= dt.timedelta(days=1)
        if is_business_day(spec, day):
            remaining -= 1
    if not remaining:
        return day
    raise no_days


def due_date_for(*, consortium: Consortium, start: dt.date, offset: int, unit: str) -> dt.date:
    """A task's due date: `offset` business days of the consortium's calendar, or calendar days."""
    if unit == DueUnit.CALENDAR_DAYS:
        return start + dt.timedelta(days=offset)
    return _business_days_from(_calendar_spec(consortium), start, offset)


class _DueDates:
    """Due dates for one consortium, reading its calendar once however many tasks are dated."""

    def __init__(self, consortium: Consortium) -> None:
        self.consortium = consortium
        self._spec: Any = None

    @property
    def spec(self) -> Any:
        if self._spec is None:
            self._spec = _calendar_spec(self.consortium)
        return self._spec

    def due(self, *, start: dt.date, offset: int, unit: str) -> dt.date:
        if unit == DueUnit.CALENDAR_DAYS:
            return start + dt.timedelta(days=offset)
        return _business_days_from(self.spec, start, offset)


# --- Parties --------------------------------------------------------------------------------------

def parties_for(*, user: Any, plan: Plan) -> frozenset[str]:
    """The owner parties whose tasks of `plan` the user may complete (no query: the access scope is cached).

    Lead staff (onboarding change grant in the plan's consortium) act for the lead and on a member's
    behalf; a member's contacts act for their own organisation; ORCID staff with the change grant
    there (ORCID admins, the consortium's engagement lead) act for ORCID.
    """
    scope = access_scope(user)
    organisation_id = plan.membership.organisation_id if plan.membership_id else None
    parties: set[str] = set()
    for grant in scope.grants:
        if not role_grants(grant.role, "onboarding", CHANGE):
            continue
        kind = ROLE_SCOPE.get(grant.role)
        if kind == Scope.ORCID and grant.consortium_id in (None, plan.consortium_id):
            parties.add(Party.ORCID)
        elif kind == Scope.CONSORTIUM and grant.consortium_id == plan.consortium_id:
            parties.update({Party.LEAD, Party.MEMBER})
        elif kind == Scope.ORGANISATION and organisation_id and grant.organisation_id == organisation_id:
            parties.add(Party.MEMBER)
    return frozenset(parties)


def party_refusal(task: Task) -> str:
    return {
        Party.LEAD: _("“%(task)s” is for the consortium lead's staff to complete."),
        Party.MEMBER: _("“%(task)s” is for the member organisation's contacts (or the consortium lead's staff on "
                        "their behalf) to complete."),
        Party.ORCID: _("“%(task)s” is for ORCID staff to complete."),
    }.get(task.owner_party, _("You cannot complete “%(task)s”.")) % {"task": task.title}


# --- Templates ------------------------------------------------------------------------------------

def _require_template(user: Any, action: str, template: PlanTemplate) -> None:
    require(user, action, "onboarding_templates", consortium_id=template.consortium_id)


def _save_template(template: PlanTemplate) -> PlanTemplate:
    if template.is_default:
        # One default per kind and owner. The database keeps this for consortia; for ORCID's own
        # templates (consortium NULL) a unique index does not, so the service always moves the flag.
        others = (PlanTemplate.objects.select_for_update()
                  .filter(consortium_id=template.consortium_id, kind=template.kind, is_default=True)
                  .exclude(pk=template.pk))
        for other in others:
            other.is_default = False
            other.save(update_fields=["is_default", "updated_at"])
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def template_create(*, user: Any, consortium: Consortium | None, name: str, kind: str, description: str = "",
                    is_default: bool = False) -> PlanTemplate:
    """A new plan template; consortium None is one of ORCID's, shared with every consortium (ORCID admins)."""
    require(user, ADD, "onboarding_templates", consortium_id=consortium.pk if consortium else None)
    return _save_template(PlanTemplate(consortium=consortium, name=name, kind=kind, description=description,
                                       is_default=is_default))


@transaction.atomic
def template_update(*, user: Any, template: PlanTemplate, **data: Any) -> PlanTemplate:
    """Change a template's name, kind, description or default flag (its owner cannot change)."""
    _require_template(user, CHANGE, template)
    if "consortium" in data and data["consortium"] != template.consortium:
        raise ValidationError({"consortium": _("A template cannot move to another consortium.")})
    unknown = set(data) - set(TEMPLATE_FIELDS) - {"consortium"}
    if unknown:
        raise ValidationError(_("Unknown template fields: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    new_kind = data.get("kind", template.kind)
    if new_kind != PlanKind.MEMBER and template.pk and template.tasks.filter(owner_party=Party.MEMBER).exists():
        raise ValidationError({"kind": _("This template has tasks for the member; only a new-member template can.")})
    for name in TEMPLATE_FIELDS:
        if name in data:
            setattr(template, name, data[name])
    return _save_template(template)


def _check_member_party(template: PlanTemplate, owner_party: str) -> None:
    if owner_party == Party.MEMBER and template.kind != PlanKind.MEMBER:
        raise ValidationError({"owner_party": _("Only a new-member plan has a member to own tasks.")})


@transaction.atomic
def task_template_add(*, user: Any, template: PlanTemplate, title: str, owner_party: str = Party.LEAD,
                      due_offset: int = 0, due_unit: str = DueUnit.BUSINESS_DAYS,
                      evidence: str = EvidenceKind.NONE, description: str = "",
                      depends_on: Iterable[TaskTemplate] = ()) -> TaskTemplate:
    """Add a task at the end of `template`."""
    _require_template(user, CHANGE, template)
    _check_member_party(template, owner_party)
    last = template.tasks.aggregate(last=Max("position"))["last"]
    task = TaskTemplate(template=template, position=(last or 0) + 1, title=title, description=description,
                        owner_party=owner_party, due_offset=due_offset, due_unit=due_unit, evidence=evidence)
    task.full_clean()
    task.save()
    _set_template_dependencies(task, list(depends_on))
    return task


@transaction.atomic
def task_template_update(*, user: Any, task_template: TaskTemplate,
                         depends_on: Iterable[TaskTemplate] | None = None, **data: Any) -> TaskTemplate:
    template = task_template.template
    _require_template(user, CHANGE, template)
    unknown = set(data) - set(TASK_TEMPLATE_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown task fields: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    _check_member_party(template, data.get("owner_party", task_template.owner_party))
    for name, value in data.items():
        setattr(task_template, name, value)
    task_template.full_clean()
    task_template.save()
    if depends_on is not None:
        _set_template_dependencies(task_template, list(depends_on))
    return task_template


@transaction.atomic
def task_template_delete(*, user: Any, task_template: TaskTemplate) -> None:
    """Remove a task from its template (plans already started keep their copy of it)."""
    _require_template(user, DELETE, task_template.template)
    task_template.delete()


@transaction.atomic
def template_reorder(*, user: Any, template: PlanTemplate, order: Sequence[int]) -> None:
    """Put the template's tasks in `order` (their ids, every task exactly once)."""
    _require_template(user, CHANGE, template)
    tasks = {t.pk: t for t in template.tasks.select_for_update()}
    if sorted(order) != sorted(tasks) or len(set(order)) != len(order):
        raise ValidationError(_("The new order must list every task of the template exactly once."))
    for position, pk in enumerate(order, start=1):
        task = tasks[pk]
        if task.position != position:
            task.position = position
            task.save(update_fields=["position", "updated_at"])


@transaction.atomic
def task_template_move(*, user: Any, task_template: TaskTemplate, by: int) -> None:
    """Move a task `by` places (-1 up, +1 down) in its template's order."""
    order = list(task_template.template.tasks.order_by("position", "pk").values_list("pk", flat=True))
    index = order.index(task_template.pk)
    target = min(max(index + by, 0), len(order) - 1)
    order.insert(target, order.pop(index))
    template_reorder(user=user, template=task_template.template, order=order)


def _set_template_dependencies(task: TaskTemplate, prerequisites: list[TaskTemplate]) -> None:
    """Make `task` depend on exactly `prerequisites`: tasks of the same template, without a cycle."""
    for other in prerequisites:
        if other.template_id != task.template_id:
            raise ValidationError({"depends_on": _("“%(other)s” belongs to another template; a task can only depend "
                                                   "on tasks of its own template.") % {"other": other.title}})
        if other.pk == task.pk:
            raise ValidationError({"depends_on": _("“%(task)s” cannot depend on itself.") % {"task": task.title}})
    through = TaskTemplate.depends_on.through
    graph: dict[int, set[int]] = defaultdict(set)
    for source, target in through.objects.filter(from_tasktemplate__template_id=task.template_id).values_list(
            "from_tasktemplate_id", "to_tasktemplate_id"):
        graph[source].add(target)
    graph[task.pk] = {p.pk for p in prerequisites}
    titles = dict(TaskTemplate.objects.filter(template_id=task.template_id).values_list("pk", "title"))
    for other in prerequisites:
        path = _path(graph, other.pk, task.pk)
        if path:
            chain = " → ".join(f"“{titles.get(pk, pk)}”" for pk in path)
            raise ValidationError({"depends_on": _(
                "“%(task)s” cannot depend on “%(other)s”: that would make a circle, because “%(other)s” already "
                "waits for “%(task)s” (%(chain)s).") % {"task": task.title, "other": other.title, "chain": chain}})
    task.depends_on.set(prerequisites)


def _path(graph: dict[int, set[int]], start: int, goal: int) -> list[int]:
    """A chain of dependencies from `start` to `goal`, or [] when there is none."""
    stack: list[tuple[int, list[int]]] = [(start, [start])]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if node == goal:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack.extend((nxt, [*path, nxt]) for nxt in graph.get(node, ()))
    return []


# --- ORCID's ready-made templates -----------------------------------------------------------------

@transaction.atomic
def ensure_orcid_templates() -> list[PlanTemplate]:
    """Create ORCID's templates (consortium checklist, member plan, support-staff plan) if missing.

    Idempotent: a template is recognised by its name among ORCID's templates of its kind and, once there,
    left as ORCID admins edited it. Each becomes the default of its kind unless ORCID already has one.
    A system action (post_migrate, management command): no user, so no access check.
    """
    from consortium_hub.onboarding.checklists import ORCID_TEMPLATES

    created = []
    for spec in ORCID_TEMPLATES:
        if PlanTemplate.objects.filter(consortium__isnull=True, kind=spec.kind, name=spec.name).exists():
            continue
        has_default = PlanTemplate.objects.filter(consortium__isnull=True, kind=spec.kind, is_default=True).exists()
        template = PlanTemplate(consortium=None, kind=spec.kind, name=spec.name, description=spec.description,
                                is_default=not has_default)
        template.full_clean()
        template.save()
        by_key: dict[str, TaskTemplate] = {}
        for position, task_spec in enumerate(spec.tasks, start=1):
            task = TaskTemplate(template=template, position=position, title=task_spec.title,
                                description=task_spec.description, owner_party=task_spec.owner_party,
                                due_offset=task_spec.due_offset, due_unit=task_spec.due_unit,
                                evidence=task_spec.evidence)
            task.full_clean()
            task.save()
            by_key[task_spec.key] = task
        for task_spec in spec.tasks:
            if task_spec.depends_on:
                by_key[task_spec.key].depends_on.set([by_key[k] for k in task_spec.depends_on])
        created.append(template)
    return created


# --- Plans ----------------------------------------------------------------------------------------

@transaction.atomic
def plan_start(*, user: Any, consortium: Consortium, kind: str, start_date: dt.date,
               template: PlanTemplate | None = None, membership: Membership | None = None,
               staff_member: Any = None, title: str = "") -> Plan:
    """Instantiate `template` (or the default for `kind`) as a plan with dated tasks and dependencies.

    `user=None` is a system action (an approval job); otherwise the user needs onboarding ADD there.
    """
    if user is not None:
        require(user, ADD, "onboarding", consortium_id=consortium.pk)
    if kind not in PlanKind.values:
        raise ValidationError({"kind": _("Unknown plan kind %(k)s.") % {"k": kind}})
    if kind == PlanKind.MEMBER and membership is None:
        raise ValidationError(_("A member plan needs a membership."))
    if membership is not None and membership.consortium_id != consortium.pk:
        raise ValidationError({"membership": _("This membership belongs to another consortium.")})
    if kind == PlanKind.SUPPORT_STAFF:
        _check_support_staff(consortium=consortium, staff_member=staff_member)
    if template is not None:
        if template.consortium_id not in (None, consortium.pk):
            raise ValidationError({"template": _("This template belongs to another consortium.")})
        if template.kind != kind:
            raise ValidationError({"template": _("“%(t)s” is a template for %(kind)s plans.")
                                   % {"t": template, "kind": template.get_kind_display().lower()}})
    if membership is not None and Plan.objects.filter(membership=membership, status=Plan.Status.OPEN).exists():
        raise ValidationError({"membership": _("%(org)s already has an open onboarding plan.")
                               % {"org": membership.organisation}})
    if template is None:
        template = default_template(consortium=consortium, kind=kind)
    try:
        with transaction.atomic():
            plan = Plan.objects.create(
                consortium=consortium, template=template, kind=kind, membership=membership,
                staff_member=staff_member, start_date=start_date,
                title=title or _default_title(kind, membership, staff_member, consortium),
            )
    except IntegrityError as exc:  # a racing twin started one first
        raise ValidationError(_("This member already has an open onboarding plan.")) from exc
    if template is None:
        return plan
    dates = _DueDates(consortium)
    by_template_task: dict[int, Task] = {}
    template_tasks = list(template.tasks.prefetch_related("depends_on"))
    for tt in template_tasks:
        by_template_task[tt.pk] = Task.objects.create(
            plan=plan, template_task=tt, position=tt.position, title=tt.title, description=tt.description,
            owner_party=tt.owner_party, evidence=tt.evidence,
            due_date=dates.due(start=start_date, offset=tt.due_offset, unit=tt.due_unit),
        )
    for tt in template_tasks:
        prerequisites = [by_template_task[d.pk] for d in tt.depends_on.all() if d.pk in by_template_task]
        if prerequisites:
            by_template_task[tt.pk].depends_on.set(prerequisites)
    return plan


def _check_support_staff(*, consortium: Consortium, staff_member: Any) -> None:
    if staff_member is None:
        raise ValidationError({"staff_member": _("A support-staff plan needs the staff member it is for.")})
    if not staff_member.role_assignments.filter(role=Role.LEAD_SUPPORT, consortium=consortium).exists():
        raise ValidationError({"staff_member": _("%(name)s is not support staff of %(c)s.")
                               % {"name": staff_member, "c": consortium}})


def default_template(*, consortium: Consortium, kind: str) -> PlanTemplate | None:
    own = PlanTemplate.objects.filter(consortium=consortium, kind=kind, is_default=True).first()
    return own or PlanTemplate.objects.filter(consortium__isnull=True, kind=kind, is_default=True).first()


def _default_title(kind: str, membership: Membership | None, staff_member: Any, consortium: Consortium) -> str:
    if kind == PlanKind.MEMBER and membership is not None:
        return _("Onboarding %(org)s") % {"org": membership.organisation}
    if kind == PlanKind.SUPPORT_STAFF and staff_member is not None:
        return _("Support staff onboarding: %(name)s") % {"name": staff_member}
    return _("New consortium checklist: %(c)s") % {"c": consortium}


def member_plan_start(*, user: Any, membership: Membership, start_date: dt.date | None = None,
                      template: PlanTemplate | None = None) -> Plan:
    """Lead staff start a member's plan by hand (approval starts it itself through `plan_start`)."""
    return plan_start(user=user, consortium=membership.consortium, kind=PlanKind.MEMBER,
                      start_date=start_date or timezone.localdate(), template=template, membership=membership)


@transaction.atomic
def consortium_checklist_start(*, user: Any, consortium: Consortium, start_date: dt.date | None = None,
                               template: PlanTemplate | None = None) -> Plan:
    """ORCID staff start a new consortium's checklist, from its formation (agreement) date unless given."""
    if not access_scope(user).is_orcid_staff():
        raise PermissionDenied(_("ORCID staff start a consortium's checklist."))
    start = start_date or consortium.formed_on
    if start is None:
        raise ValidationError({"start_date": _("%(c)s has no formation date: give the date its agreement was "
                                               "signed.") % {"c": consortium}})
    if Plan.objects.filter(consortium=consortium, kind=PlanKind.CONSORTIUM, status=Plan.Status.OPEN).exists():
        raise ValidationError(_("%(c)s already has an open consortium checklist.") % {"c": consortium})
    return plan_start(user=user, consortium=consortium, kind=PlanKind.CONSORTIUM, start_date=start, template=template)


def support_staff_plan_start(*, user: Any, consortium: Consortium, staff_member: Any,
                             start_date: dt.date | None = None, template: PlanTemplate | None = None) -> Plan:
    """A lead admin starts the plan of a new support-staff member (a user holding lead_support there)."""
    return plan_start(user=user, consortium=consortium, kind=PlanKind.SUPPORT_STAFF,
                      start_date=start_date or timezone.localdate(), template=template, staff_member=staff_member)


# --- Tasks ----------------------------------------------------------------------------------------

def _locked_task(task: Task) -> Task:
    return (Task.objects.select_for_update(of=("self",))
            .select_related("plan", "plan__membership", "plan__membership__organisation").get(pk=task.pk))


def _check_evidence(task: Task, *, note: str, file: File | None, link: str) -> None:
    errors: dict[str, str] = {}
    if task.evidence == EvidenceKind.NOTE and not note.strip():
        errors["note"] = _("“%(task)s” needs a note saying what was done.") % {"task": task.title}
    if task.evidence == EvidenceKind.FILE and not file:
        errors["file"] = _("“%(task)s” needs a file as evidence.") % {"task": task.title}
    if file and file.size > MAX_EVIDENCE_FILE_BYTES:
        errors["file"] = _("The file is %(size).1f MB; evidence files can be at most %(max)d MB.") % {
            "size": file.size / 1024 / 1024, "max": MAX_EVIDENCE_FILE_BYTES // 1024 // 1024}
    if task.evidence == EvidenceKind.LINK and not link.strip():
        errors["link"] = _("“%(task)s” needs a link (URL) as evidence.") % {"task": task.title}
    if link.strip():
        try:
            URLValidator(schemes=["http", "https"])(link.strip())
        except ValidationError:
            errors["link"] = _("Enter a full web address, starting with https://.")
        else:
            if len(link.strip()) > EVIDENCE_LINK_MAX_LENGTH:
                errors["link"] = _("Links can be at most %(n)d characters.") % {"n": EVIDENCE_LINK_MAX_LENGTH}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def task_complete(*, user: Any, task: Task, note: str = "", file: File | None = None, link: str = "") -> Task:
    """Mark `task` done with its evidence.

    Refused while a prerequisite is open (naming it), without the evidence the task requires, and for
    anyone outside the owning party (see `parties_for`). When it was the last open task the plan is
    complete, except a member plan whose membership is not active yet: that waits for
    `plan_activate_membership` (the confirmation step).
    """
    task = _locked_task(task)
    if not access_scope(user).can(CHANGE, task):
        raise PermissionDenied
    if task.owner_party not in parties_for(user=user, plan=task.plan):
        raise PermissionDenied(party_refusal(task))
    if task.plan.status != Plan.Status.OPEN:
        raise ValidationError(_("This plan is %(status)s; its tasks cannot change.")
                              % {"status": task.plan.get_status_display().lower()})
    if task.status == Task.Status.DONE:
        raise ValidationError(_("“%(task)s” is already done.") % {"task": task.title})
    waiting = [d.title for d in task.depends_on.all() if d.status != Task.Status.DONE]
    if waiting:
        raise ValidationError(_("“%(task)s” cannot be completed yet: %(prereqs)s must be done first.") % {
            "task": task.title, "prereqs": ", ".join(f"“{t}”" for t in waiting)})
    _check_evidence(task, note=note, file=file, link=link)
    task.status = Task.Status.DONE
    task.completed_at = timezone.now()
    task.completed_by = user if getattr(user, "is_authenticated", False) else None
    task.evidence_note = note.strip()
    task.evidence_link = link.strip()
    if file:
        task.evidence_file = file
    task.save()
    plan = task.plan
    if not plan.tasks.exclude(status=Task.Status.DONE).exists() and not awaits_activation(plan, all_done=True):
        _mark_complete(plan)
    return task


def awaits_activation(plan: Plan, *, all_done: bool) -> bool:
    """A member plan with every task done whose membership is not active yet: the confirmation step."""
    return (all_done and plan.status == Plan.Status.OPEN and plan.kind == PlanKind.MEMBER
            and plan.membership_id is not None and plan.membership.status != Membership.Status.ACTIVE)


def _mark_complete(plan: Plan) -> None:
    plan.status = Plan.Status.COMPLETE
    plan.completed_at = timezone.now()
    plan.save(update_fields=["status", "completed_at", "updated_at"])


@transaction.atomic
def plan_activate_membership(*, user: Any, plan: Plan) -> Plan:
    """The confirmation step: every task is done, so make the membership active and the plan complete.

    `directory.services.membership_change_status` checks the contact rules; its refusal (a
    ValidationError with the reason) leaves both the membership and the plan unchanged.
    """
    from consortium_hub.directory.services import membership_change_status

    plan = Plan.objects.select_for_update(of=("self",)).select_related("membership__organisation").get(pk=plan.pk)
    if not access_scope(user).can(CHANGE, plan):
        raise PermissionDenied
    if plan.kind != PlanKind.MEMBER or plan.membership_id is None:
        raise ValidationError(_("Only a new member's plan activates a membership."))
    if plan.status != Plan.Status.OPEN:
        raise ValidationError(_("This plan is already %(status)s.") % {"status": plan.get_status_display().lower()})
    remaining = plan.tasks.exclude(status=Task.Status.DONE).count()
    if remaining:
        raise ValidationError(_("%(n)d task(s) of this plan are still open.") % {"n": remaining})
    membership_change_status(user=user, membership=plan.membership, to_status=Membership.Status.ACTIVE,
                             reason=_("Onboarding plan “%(plan)s” complete") % {"plan": plan.title})
    _mark_complete(plan)
    return plan


@transaction.atomic
def task_reopen(*, user: Any, task: Task) -> Task:
    """Undo a completion (lead admins and ORCID admins: the onboarding delete grant). A complete plan reopens."""
    task = _locked_task(task)
    if not access_scope(user).can(DELETE, task):
        raise PermissionDenied(_("Lead admins reopen tasks."))
    if task.status != Task.Status.DONE:
        raise ValidationError(_("“%(task)s” is not done.") % {"task": task.title})
    plan = task.plan
    if plan.status == Plan.Status.CANCELLED:
        raise ValidationError(_("This plan is cancelled; its tasks cannot change."))
    task.status = Task.Status.PENDING
    task.completed_at = None
    task.completed_by = None
    task.save()
    if plan.status == Plan.Status.COMPLETE:
        if plan.membership_id and Plan.objects.filter(membership_id=plan.membership_id, status=Plan.Status.OPEN) \
                .exclude(pk=plan.pk).exists():
            raise ValidationError(_("This member has another open plan; this one cannot reopen."))
        plan.status = Plan.Status.OPEN
        plan.completed_at = None
        plan.save(update_fields=["status", "completed_at", "updated_at"])
    return task


# --- Overdue reminders ----------------------------------------------------------------------------

def reminder_step(*, due_date: dt.date, today: dt.date, spec: Any) -> int:
    """The escalation step an open task due on `due_date` has reached by `today` (0: not overdue)."""
    from consortium_hub.calendars.business_time import business_days_between

    if today <= due_date:
        return 0
    late = business_days_between(spec, due_date, today)
    return max(step for step, business_days in REMINDER_STEPS if late >= business_days)


class _Recipients:
    """Who hears about overdue tasks, read once per run for all the consortia and members involved."""

    def __init__(self, tasks: list[Task]) -> None:
        from consortium_hub.accounts.models import RoleAssignment

        consortium_ids = {t.plan.consortium_id for t in tasks}
        organisation_ids = {t.plan.membership.organisation_id for t in tasks if t.plan.membership_id}
        self.lead_admins: dict[int, set[str]] = defaultdict(set)
        self.lead_support: dict[int, set[str]] = defaultdict(set)
        for consortium_id, role, email in RoleAssignment.objects.filter(
                consortium_id__in=consortium_ids, role__in=[Role.LEAD_ADMIN, Role.LEAD_SUPPORT],
                user__is_active=True).values_list("consortium_id", "role", "user__email"):
            (self.lead_admins if role == Role.LEAD_ADMIN else self.lead_support)[consortium_id].add(email)
        self.main_contacts: dict[int, set[str]] = defaultdict(set)
        for organisation_id, email in ContactRole.objects.filter(
                organisation_id__in=organisation_ids, role=ContactRole.Kind.MAIN).values_list(
                "organisation_id", "contact__email"):
            self.main_contacts[organisation_id].add(email)
        self._orcid_admins: set[str] | None = None

    def orcid_admins(self) -> set[str]:
        from consortium_hub.accounts.models import User

        if self._orcid_admins is None:
            self._orcid_admins = set(User.objects.filter(
                is_active=True, role_assignments__role=Role.ORCID_ADMIN).values_list("email", flat=True))
        return self._orcid_admins

    def engagement_lead(self, consortium: Consortium) -> set[str]:
        lead = consortium.engagement_lead
        if lead is not None and lead.is_active:
            return {lead.email}
        return self.orcid_admins()  # no engagement lead yet: ORCID's admins stand in

    def owners(self, task: Task) -> set[str]:
        plan = task.plan
        if task.owner_party == Party.LEAD:
            return self.lead_admins[plan.consortium_id] | self.lead_support[plan.consortium_id]
        if task.owner_party == Party.MEMBER:
            contacts = self.main_contacts[plan.membership.organisation_id] if plan.membership_id else set()
            return contacts or set(self.lead_admins[plan.consortium_id])  # nobody to tell at the member: the lead
        return self.engagement_lead(plan.consortium)

    def escalation(self, task: Task) -> set[str]:
        copied = set(self.lead_admins[task.plan.consortium_id])
        if task.owner_party == Party.ORCID:
            copied |= self.engagement_lead(task.plan.consortium)
        return copied


def send_overdue_reminders(*, today: dt.date) -> int:
    """Remind the owners of every overdue open task, once per escalation step; return the emails sent.

    Step 1 once the due date has passed, step 2 at 5 and step 3 at 10 business days overdue (the
    consortium's calendar); step 3 also copies the consortium's lead admins and, for ORCID's tasks,
    its engagement lead. `once()` keys make each step go out once however often this runs; when a
    task reaches several steps at once (first run after a long gap) only the highest is sent and the
    lower ones are marked as covered.
    """
    from consortium_hub.core.email import send_templated_email
    from consortium_hub.jobs.queue import once

    tasks = list(Task.objects.filter(status=Task.Status.PENDING, plan__status=Plan.Status.OPEN, due_date__lt=today)
                 .select_related("plan__consortium__engagement_lead", "plan__membership__organisation")
                 .order_by("plan__consortium_id", "due_date", "pk"))
    if not tasks:
        return 0
    recipients = _Recipients(tasks)
    calendars: dict[int, _DueDates] = {}
    sent = 0
    for task in tasks:
        plan = task.plan
        dates = calendars.setdefault(plan.consortium_id, _DueDates(plan.consortium))
        step = reminder_step(due_date=task.due_date, today=today, spec=dates.spec)
        if not step:
            continue
        with transaction.atomic():
            for lower in range(1, step):
                once(f"task-reminder:{task.pk}:{lower}")
            if not once(f"task-reminder:{task.pk}:{step}"):
                continue
            to = recipients.owners(task)
            copied = recipients.escalation(task) - to if step == len(REMINDER_STEPS) else set()
            if not to and not copied:
                continue
            send_templated_email(to=sorted(to | copied), template="onboarding/email/task_reminder", context={
                "task": task, "plan": plan, "step": step, "final_step": len(REMINDER_STEPS),
                "days_late": (today - task.due_date).days, "copied": sorted(copied), "today": today,
                "plan_url": settings.SITE_URL + reverse("onboarding:plan_detail", args=[plan.pk]),
            })
            sent += 1
    return sent


def catch_up_reminders(*, today: dt.date) -> int:
    """The daily schedule: every day since the last run (each day once, even with racing schedulers)."""
    from consortium_hub.jobs.queue import days_to_catch_up

    return sum(send_overdue_reminders(today=day) for day in days_to_catch_up(REMINDER_SCHEDULE, today))
