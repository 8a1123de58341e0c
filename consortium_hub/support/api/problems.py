"""Support API: problems (CRUD for ORCID support, read-only for leads) with link/unlink actions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.core.roles import CHANGE
from consortium_hub.support import forms_escalation as f
from consortium_hub.support.api.escalation import ActionPermission
from consortium_hub.support.models import Problem, Ticket
from consortium_hub.support.selectors import problems as selectors
from consortium_hub.support.services import problems as services


class LinkedTicketSerializer(serializers.ModelSerializer):
    consortium_name = serializers.CharField(source="consortium.name", read_only=True)

    class Meta:
        model = Ticket
        fields = ["id", "reference", "subject", "consortium", "consortium_name", "status"]
        read_only_fields = fields


class ProblemSerializer(serializers.ModelSerializer):
    ticket_count = serializers.IntegerField(read_only=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=f.orcid_staff(), required=False, allow_null=True)

    class Meta:
        model = Problem
        fields = ["id", "reference", "title", "state", "description", "root_cause", "workaround", "owner",
                  "resolved_at", "created_at", "updated_at", "ticket_count"]
        read_only_fields = ["reference", "resolved_at", "created_at", "updated_at", "ticket_count"]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["owner"].queryset = f.orcid_staff()
        return fields


class ProblemDetailSerializer(ProblemSerializer):
    tickets = LinkedTicketSerializer(source="visible_tickets", many=True, read_only=True)
    articles = serializers.SerializerMethodField()

    class Meta(ProblemSerializer.Meta):
        fields = [name for name in ProblemSerializer.Meta.fields if name != "ticket_count"] + ["tickets", "articles"]
        read_only_fields = [*ProblemSerializer.Meta.read_only_fields, "tickets", "articles"]

    def get_articles(self, problem: Problem) -> list[dict[str, Any]]:
        return [{"id": a.pk, "title": a.title, "body": a.body} for a in getattr(problem, "known_error_articles", [])]


class ProblemTicketRefSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="The ticket's reference.")


class ProblemViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, AccessViewSet):
    access_area = "problems"
    filterset_class = f.ProblemFilter
    permission_classes = [ActionPermission]
    action_needs = {"link": CHANGE, "unlink": CHANGE}
    ordering_fields = ["created_at", "reference", "state"]

    def get_queryset(self) -> Any:
        if self.action == "list":
            return selectors.problem_list(user=self.request.user)
        return selectors.problem_detail(user=self.request.user)

    def get_serializer_class(self) -> Any:
        return ProblemSerializer if self.action in ("list", "create") else ProblemDetailSerializer

    def _detail(self, problem: Problem) -> Response:
        return Response(ProblemDetailSerializer(selectors.problem_detail(user=self.request.user).get(pk=problem.pk),
                                                context=self.get_serializer_context()).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = ProblemSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        problem = services.problem_create(user=request.user, **incoming.validated_data)
        response = self._detail(problem)
        response.status_code = 201
        return response

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        problem = self.get_object()
        incoming = ProblemSerializer(problem, data=request.data, partial=kwargs.get("partial", False),
                                     context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        services.problem_update(user=request.user, problem=problem, **incoming.validated_data)
        return self._detail(problem)

    def perform_destroy(self, instance: Problem) -> None:
        services.problem_delete(user=self.request.user, problem=instance)

    def _ticket_action(self, request: Request, service: Any) -> Response:
        problem = self.get_object()
        incoming = ProblemTicketRefSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        ticket = services.visible_ticket(request.user, incoming.validated_data["ticket"])
        service(user=request.user, problem=problem, ticket=ticket)
        return self._detail(problem)

    @extend_schema(request=ProblemTicketRefSerializer, responses={200: ProblemDetailSerializer})
    @action(detail=True, methods=["post"])
    def link(self, request: Request, pk: Any = None) -> Response:
        return self._ticket_action(request, services.problem_link_ticket)

    @extend_schema(request=ProblemTicketRefSerializer, responses={200: ProblemDetailSerializer})
    @action(detail=True, methods=["post"])
    def unlink(self, request: Request, pk: Any = None) -> Response:
        return self._ticket_action(request, services.problem_unlink_ticket)


def register(router) -> None:
    """Add this part's viewsets to the support router."""
    router.register("problems", ProblemViewSet, basename="problem")
