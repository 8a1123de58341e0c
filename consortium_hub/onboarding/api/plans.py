"""API for onboarding plans: templates, plans and their tasks, over the same selectors and services.

  /api/v1/onboarding/templates/            list, create          (onboarding_templates grant)
  /api/v1/onboarding/templates/<id>/       retrieve, update
  /api/v1/onboarding/plans/                list (progress counts)
  /api/v1/onboarding/plans/<id>/           retrieve
  /api/v1/onboarding/plans/start/          POST: start a plan (member, consortium checklist, support staff)
  /api/v1/onboarding/plans/<id>/activate/  POST: the confirmation step of a finished member plan
  /api/v1/onboarding/tasks/                list (?plan=, ?party=, ?status=, ?overdue=true)
  /api/v1/onboarding/tasks/<id>/           retrieve
  /api/v1/onboarding/tasks/<id>/complete/  POST note / file (multipart) / link
  /api/v1/onboarding/tasks/<id>/reopen/    POST
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.accounts.models import User
from consortium_hub.core.access import access_scope
from consortium_hub.core.api.permissions import AccessPermission
from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.core.roles import CHANGE, DELETE
from consortium_hub.directory.api.serializers import VisibleRelatedField
from consortium_hub.directory.models import Consortium, Membership
from consortium_hub.onboarding.forms_plans import PlanFilter, PlanTemplateFilter, TaskFilter
from consortium_hub.onboarding.models import Plan, PlanKind, PlanTemplate, Task, TaskTemplate
from consortium_hub.onboarding.selectors import plans as selectors
from consortium_hub.onboarding.services import plans as services


# --- Serializers ----------------------------------------------------------------------------------

class TaskTemplateSerializer(serializers.ModelSerializer):
    depends_on = serializers.SerializerMethodField()

    class Meta:
        model = TaskTemplate
        fields = ["id", "position", "title", "description", "owner_party", "due_offset", "due_unit", "evidence",
                  "depends_on"]
        read_only_fields = fields

    def get_depends_on(self, task: TaskTemplate) -> list[int]:
        return [d.pk for d in task.depends_on.all()]


class PlanTemplateSerializer(serializers.ModelSerializer):
    consortium = VisibleRelatedField(model=Consortium, area="onboarding_templates", allow_null=True, required=False)
    tasks = TaskTemplateSerializer(many=True, read_only=True)

    class Meta:
        model = PlanTemplate
        fields = ["id", "consortium", "name", "kind", "description", "is_default", "tasks", "created_at",
                  "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []  # the service moves the default flag and reports conflicts itself


class PlanSerializer(serializers.ModelSerializer):
    organisation = serializers.IntegerField(source="membership.organisation_id", read_only=True, default=None)
    task_total = serializers.IntegerField(read_only=True)
    task_done = serializers.IntegerField(read_only=True)
    task_overdue = serializers.IntegerField(read_only=True)
    percent_done = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = ["id", "consortium", "template", "kind", "title", "membership", "organisation", "staff_member",
                  "start_date", "status", "completed_at", "task_total", "task_done", "task_overdue", "percent_done",
                  "url", "created_at", "updated_at"]
        read_only_fields = fields

    def get_percent_done(self, plan: Plan) -> int:
        total = getattr(plan, "task_total", 0)
        return (plan.task_done * 100 // total) if total else 0

    def get_url(self, plan: Plan) -> str:
        return reverse("onboarding:plan_detail", args=[plan.pk])


@extend_schema_field(OpenApiTypes.INT)
class VisibleId(VisibleRelatedField):
    """A related id (on a plain serializer, where the schema cannot infer the type)."""


class PlanStartSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PlanKind.choices)
    membership = VisibleId(model=Membership, area="onboarding", required=False, allow_null=True)
    consortium = VisibleId(model=Consortium, area="onboarding", required=False, allow_null=True)
    staff_member = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    template = serializers.PrimaryKeyRelatedField(queryset=PlanTemplate.objects.none(), required=False,
                                                  allow_null=True)
    start_date = serializers.DateField(required=False, allow_null=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["template"].queryset = PlanTemplate.objects.visible_to(request.user)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        kind = data["kind"]
        if kind == PlanKind.MEMBER and not data.get("membership"):
            raise serializers.ValidationError({"membership": "A member plan needs a membership."})
        if kind != PlanKind.MEMBER and not data.get("consortium"):
            raise serializers.ValidationError({"consortium": "Name the consortium."})
        if kind == PlanKind.SUPPORT_STAFF and not data.get("staff_member"):
            raise serializers.ValidationError({"staff_member": "Name the support staff member."})
        return data


class TaskSerializer(serializers.ModelSerializer):
    overdue = serializers.BooleanField(read_only=True)
    depends_on = serializers.SerializerMethodField()
    completed_by = serializers.CharField(source="completed_by.email", read_only=True, default=None)
    evidence_file = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = ["id", "plan", "position", "title", "description", "owner_party", "due_date", "overdue", "status",
                  "evidence", "depends_on", "completed_at", "completed_by", "evidence_note", "evidence_link",
                  "evidence_file", "created_at", "updated_at"]
        read_only_fields = fields

    def get_depends_on(self, task: Task) -> list[int]:
        return [d.pk for d in task.depends_on.all()]

    def get_evidence_file(self, task: Task) -> str | None:
        return reverse("onboarding:task_evidence", args=[task.pk]) if task.evidence_file else None


class TaskCompleteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
    file = serializers.FileField(required=False, allow_null=True, default=None)
    link = serializers.CharField(required=False, allow_blank=True, default="")


# --- Viewsets -------------------------------------------------------------------------------------

class PlanTemplateViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, AccessViewSet):
    access_area = "onboarding_templates"
    serializer_class = PlanTemplateSerializer
    selector = staticmethod(selectors.template_with_tasks)
    filterset_class = PlanTemplateFilter
    ordering_fields = ["name", "kind", "created_at"]

    def get_queryset(self) -> Any:
        return super().get_queryset().order_by("kind", "name", "pk")

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.template_create(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("consortium", None)
        serializer.instance = services.template_update(user=self.request.user, template=serializer.instance, **data)


class PlanViewSet(AccessViewSet):
    access_area = "onboarding"
    serializer_class = PlanSerializer
    selector = staticmethod(selectors.plan_list)
    filterset_class = PlanFilter
    ordering_fields = ["start_date", "title", "created_at"]

    def get_queryset(self) -> Any:
        return super().get_queryset().order_by("-start_date", "pk")

    @extend_schema(request=PlanStartSerializer, responses={201: PlanSerializer})
    @action(detail=False, methods=["post"])
    def start(self, request: Request) -> Response:
        incoming = PlanStartSerializer(data=request.data, context={"request": request})
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        common = {"user": request.user, "start_date": data.get("start_date"), "template": data.get("template")}
        if data["kind"] == PlanKind.MEMBER:
            plan = services.member_plan_start(membership=data["membership"], **common)
        elif data["kind"] == PlanKind.CONSORTIUM:
            plan = services.consortium_checklist_start(consortium=data["consortium"], **common)
        else:
            plan = services.support_staff_plan_start(consortium=data["consortium"],
                                                     staff_member=data["staff_member"], **common)
        return Response(self.get_serializer(self.get_queryset().get(pk=plan.pk)).data, status=201)

    @extend_schema(request=None, responses={200: PlanSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: Any = None) -> Response:
        plan = services.plan_activate_membership(user=request.user, plan=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=plan.pk)).data)


class TaskPermission(AccessPermission):
    """`complete` and `reopen` are changes (not additions): the services check the owner party and grants."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(view, "action", None) in ("complete", "reopen"):
            if not request.user or not request.user.is_authenticated:
                return False
            needed = CHANGE if view.action == "complete" else DELETE
            return access_scope(request.user).allows_anything("onboarding", needed)
        return super().has_permission(request, view)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if getattr(view, "action", None) in ("complete", "reopen"):
            return True  # the service decides, with its message
        return super().has_object_permission(request, view, obj)


class TaskViewSet(AccessViewSet):
    access_area = "onboarding"
    serializer_class = TaskSerializer
    selector = staticmethod(selectors.task_list)
    filterset_class = TaskFilter
    permission_classes = [TaskPermission]
    ordering_fields = ["due_date", "position", "created_at"]

    @extend_schema(request={"multipart/form-data": TaskCompleteSerializer, "application/json": TaskCompleteSerializer},
                   responses={200: TaskSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser, JSONParser])
    def complete(self, request: Request, pk: Any = None) -> Response:
        task = self.get_object()
        incoming = TaskCompleteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.task_complete(user=request.user, task=task, **incoming.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=task.pk)).data)

    @extend_schema(request=None, responses={200: TaskSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: Any = None) -> Response:
        task = self.get_object()
        services.task_reopen(user=request.user, task=task)
        return Response(self.get_serializer(self.get_queryset().get(pk=task.pk)).data)


def register(router) -> None:
    """Add this part's viewsets to the onboarding router."""
    router.register("templates", PlanTemplateViewSet, basename="plan-template")
    router.register("plans", PlanViewSet, basename="plan")
    router.register("tasks", TaskViewSet, basename="plan-task")
