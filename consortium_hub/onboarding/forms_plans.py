"""Forms and filtersets of onboarding plans and templates.

Forms are plain `Form`s: the services validate (constraints, cycles, access), and a ModelForm would
check the one-default-per-kind constraint before the service gets to move the default flag.
Choices come from `visible_to(user, ADD, area=...)`, so they never offer another consortium's rows.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from consortium_hub.accounts.models import User
from consortium_hub.core.access import access_scope
from consortium_hub.core.roles import ADD, Role
from consortium_hub.directory.models import Consortium, Membership
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
from consortium_hub.onboarding.services.plans import MAX_EVIDENCE_FILE_BYTES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# --- Templates ------------------------------------------------------------------------------------

class PlanTemplateForm(forms.Form):
    consortium = forms.ModelChoiceField(label=_("Consortium"), queryset=Consortium.objects.none(), required=False,
                                        empty_label=_("ORCID: shared with every consortium"))
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("For"), choices=PlanKind.choices)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    is_default = forms.BooleanField(label=_("Use by default for this kind of plan"), required=False)

    def __init__(self, *args: Any, user: Any, instance: PlanTemplate | None = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs.setdefault("initial", {"consortium": instance.consortium_id, "name": instance.name,
                                          "kind": instance.kind, "description": instance.description,
                                          "is_default": instance.is_default})
        super().__init__(*args, **kwargs)
        field = self.fields["consortium"]
        field.queryset = Consortium.objects.visible_to(user, ADD, area="onboarding_templates")
        orcid_wide = access_scope(user).can_in(ADD, "onboarding_templates", consortium_id=None)
        field.required = not orcid_wide
        if not orcid_wide:
            field.empty_label = None
        if instance is not None:
            field.disabled = True
            field.required = False


class TaskTemplateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=255)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    owner_party = forms.ChoiceField(label=_("Owner"), choices=Party.choices)
    due_offset = forms.IntegerField(label=_("Due after"), initial=0, min_value=-365, max_value=3650,
                                    help_text=_("Counted from the plan's start; negative means before it."))
    due_unit = forms.ChoiceField(label=_("Counted in"), choices=DueUnit.choices, initial=DueUnit.BUSINESS_DAYS,
                                 help_text=_("Business days follow the consortium's calendar (weekends, holidays)."))
    evidence = forms.ChoiceField(label=_("Evidence required"), choices=EvidenceKind.choices,
                                 initial=EvidenceKind.NONE)
    depends_on = forms.ModelMultipleChoiceField(label=_("Depends on"), queryset=TaskTemplate.objects.none(),
                                                required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, template: PlanTemplate, instance: TaskTemplate | None = None,
                 **kwargs: Any) -> None:
        if instance is not None:
            kwargs.setdefault("initial", {
                "title": instance.title, "description": instance.description, "owner_party": instance.owner_party,
                "due_offset": instance.due_offset, "due_unit": instance.due_unit, "evidence": instance.evidence,
                "depends_on": [t.pk for t in instance.depends_on.all()]})
        super().__init__(*args, **kwargs)
        others = template.tasks.order_by("position", "pk")
        if instance is not None:
            others = others.exclude(pk=instance.pk)
        self.fields["depends_on"].queryset = others
        if template.kind != PlanKind.MEMBER:
            self.fields["owner_party"].choices = [c for c in Party.choices if c[0] != Party.MEMBER]


# --- Plans ----------------------------------------------------------------------------------------

def _templates(user: Any, kind: str) -> QuerySet[PlanTemplate]:
    return PlanTemplate.objects.visible_to(user).filter(kind=kind).select_related("consortium")


class _StartForm(forms.Form):
    template = forms.ModelChoiceField(label=_("Template"), queryset=PlanTemplate.objects.none(), required=False,
                                      empty_label=_("The default template"))
    start_date = forms.DateField(label=_("Start"), widget=DATE)
    kind: str = ""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = _templates(user, self.kind)
        self.fields["template"].label_from_instance = lambda t: (
            f"{t.name} ({t.consortium or _('ORCID')})")
        self.consortia = Consortium.objects.visible_to(user, ADD, area="onboarding")


class MemberPlanStartForm(_StartForm):
    kind = PlanKind.MEMBER
    membership = forms.ModelChoiceField(label=_("Member"), queryset=Membership.objects.none())
    field_order = ["membership", "template", "start_date"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["membership"].queryset = (
            Membership.objects.visible_to(user, ADD, area="onboarding")
            .exclude(plans__status=Plan.Status.OPEN)
            .filter(status__in=[Membership.Status.APPLICANT, Membership.Status.ONBOARDING, Membership.Status.ACTIVE])
            .select_related("organisation", "consortium").order_by("consortium__name", "organisation__legal_name"))
        self.fields["membership"].label_from_instance = lambda m: (
            f"{m.organisation} — {m.consortium} ({m.get_status_display()})")


class ConsortiumChecklistStartForm(_StartForm):
    kind = PlanKind.CONSORTIUM
    consortium = forms.ModelChoiceField(label=_("Consortium"), queryset=Consortium.objects.none())
    field_order = ["consortium", "template", "start_date"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["consortium"].queryset = self.consortia
        self.fields["start_date"].required = False
        self.fields["start_date"].help_text = _("The date the consortium agreement was signed; empty: its formation "
                                                "date.")


class SupportStaffPlanStartForm(_StartForm):
    kind = PlanKind.SUPPORT_STAFF
    consortium = forms.ModelChoiceField(label=_("Consortium"), queryset=Consortium.objects.none())
    staff_member = forms.ModelChoiceField(label=_("Support staff member"), queryset=User.objects.none(),
                                          help_text=_("Someone holding the lead support role in the consortium."))
    field_order = ["consortium", "staff_member", "template", "start_date"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["consortium"].queryset = self.consortia
        self.fields["staff_member"].queryset = (
            User.objects.filter(role_assignments__role=Role.LEAD_SUPPORT,
                                role_assignments__consortium__in=self.consortia).distinct().order_by("name", "email"))


START_FORMS: dict[str, type[_StartForm]] = {
    PlanKind.MEMBER: MemberPlanStartForm,
    PlanKind.CONSORTIUM: ConsortiumChecklistStartForm,
    PlanKind.SUPPORT_STAFF: SupportStaffPlanStartForm,
}


class TaskCompleteForm(forms.Form):
    """The evidence a task's template asks for; a note can always be added."""

    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    file = forms.FileField(label=_("File"), required=False,
                           help_text=_("At most %(n)d MB.") % {"n": MAX_EVIDENCE_FILE_BYTES // 1024 // 1024})
    link = forms.URLField(label=_("Link"), required=False, assume_scheme="https", max_length=200)

    def __init__(self, *args: Any, task: Task, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.task = task
        if task.evidence != EvidenceKind.FILE:
            del self.fields["file"]
        if task.evidence != EvidenceKind.LINK:
            del self.fields["link"]
        required = {EvidenceKind.NOTE: "note", EvidenceKind.FILE: "file", EvidenceKind.LINK: "link"}.get(task.evidence)
        if required:
            self.fields[required].required = True

    def clean_file(self) -> Any:
        file = self.cleaned_data.get("file")
        if file and file.size > MAX_EVIDENCE_FILE_BYTES:
            raise forms.ValidationError(_("The file is too large: evidence files can be at most %(n)d MB.")
                                        % {"n": MAX_EVIDENCE_FILE_BYTES // 1024 // 1024})
        return file


# --- Filtersets (pages and API) -------------------------------------------------------------------

def _visible_consortia(request: Any) -> QuerySet[Consortium]:
    if request is None:
        return Consortium.objects.none()
    return Consortium.objects.visible_to(request.user)


class PlanTemplateFilter(django_filters.FilterSet):
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))
    orcid = django_filters.BooleanFilter(field_name="consortium", lookup_expr="isnull", label=_("ORCID's own"))
    kind = django_filters.ChoiceFilter(choices=PlanKind.choices, label=_("For"))

    class Meta:
        model = PlanTemplate
        fields = ["consortium", "orcid", "kind"]


class PlanFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))
    kind = django_filters.ChoiceFilter(choices=PlanKind.choices, label=_("For"))
    status = django_filters.ChoiceFilter(choices=Plan.Status.choices, label=_("Status"))
    ordering = django_filters.OrderingFilter(
        fields=(("start_date", "start"), ("title", "title"), ("consortium__name", "consortium")), label=_("Sort by"))

    class Meta:
        model = Plan
        fields = ["q", "consortium", "kind", "status"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(membership__organisation__legal_name__icontains=value))


class TaskFilter(django_filters.FilterSet):
    plan = django_filters.NumberFilter(field_name="plan_id", label=_("Plan id"))
    party = django_filters.ChoiceFilter(field_name="owner_party", choices=Party.choices, label=_("Owner"))
    status = django_filters.ChoiceFilter(choices=Task.Status.choices, label=_("Status"))
    overdue = django_filters.BooleanFilter(field_name="overdue", label=_("Overdue"))

    class Meta:
        model = Task
        fields = ["plan", "party", "status", "overdue"]
