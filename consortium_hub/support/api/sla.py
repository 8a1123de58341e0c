"""Support API: SLA policies (list, read, update) and the monthly SLA report of a consortium."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.core.access import access_scope, get_for_user_or_404
from consortium_hub.core.api.permissions import METHOD_ACTIONS
from consortium_hub.directory.models import Consortium
from consortium_hub.support.models import SLAPolicy
from consortium_hub.support.selectors import sla as selectors
from consortium_hub.support.services import sla as services


class SLAPolicyPermission(permissions.BasePermission):
    """SLA policies fall under two areas (a consortium's: `support`; ORCID's: `orcid_support`)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        scope = access_scope(request.user)
        action = METHOD_ACTIONS.get(request.method, "change")
        return scope.allows_anything("support", action) or scope.allows_anything("orcid_support", action)


class SLAPolicySerializer(serializers.ModelSerializer):
    consortium_name = serializers.SerializerMethodField()

    class Meta:
        model = SLAPolicy
        fields = ["id", "consortium", "consortium_name", "priority", "first_response_hours", "resolution_hours",
                  "updated_at"]
        read_only_fields = ["id", "consortium", "consortium_name", "priority", "updated_at"]

    def get_consortium_name(self, policy: SLAPolicy) -> str:
        """The consortium's name; "ORCID" for ORCID's targets on escalated tickets."""
        return policy.consortium.name if policy.consortium_id else "ORCID"


class SLAPolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                       viewsets.GenericViewSet):
    """Targets per consortium and priority in business hours (consortium null: ORCID's, for escalated
    tickets). Filter with `?consortium=<id>` or `?consortium=orcid`. Changing a target recalculates the
    deadlines of that desk's tickets in the background."""

    serializer_class = SLAPolicySerializer
    permission_classes = [SLAPolicyPermission]
    filter_backends: list = []

    def get_queryset(self) -> Any:
        queryset = selectors.policy_list(user=self.request.user)
        consortium = self.request.query_params.get("consortium")
        if consortium == "orcid":
            queryset = queryset.filter(consortium__isnull=True)
        elif consortium:
            queryset = queryset.filter(consortium_id=consortium) if consortium.isdigit() else queryset.none()
        return queryset

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # A desk's policies are written with the defaults on first use, so every visible desk is listed.
        services.ensure_default_sla_policies_for(consortia=selectors.sla_consortia(user=request.user),
                                                 orcid=selectors.can_view_orcid_policies(request.user))
        return super().list(request, *args, **kwargs)

    def get_object(self) -> SLAPolicy:
        action = METHOD_ACTIONS.get(self.request.method, "change")
        return selectors.policy_for_user_or_404(self.request.user, action, pk=self.kwargs["pk"])

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.sla_policy_update(user=self.request.user, policy=serializer.instance,
                                                         **serializer.validated_data)


class SLAReportViewSet(viewsets.GenericViewSet):
    """`GET /sla-reports/<consortium id>/?month=YYYY-MM`: the month's SLA figures and the 12 months
    ending with it (tickets created per month in the desk's timezone)."""

    permission_classes = [permissions.IsAuthenticated]
    queryset = Consortium.objects.none()
    filter_backends: list = []

    @extend_schema(responses={200: OpenApiTypes.OBJECT},
                   parameters=[OpenApiParameter("month", str, description="YYYY-MM; the current month if absent")])
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        consortium = get_for_user_or_404(request.user, Consortium, pk=pk)
        if not selectors.can_view_consortium_sla(request.user, consortium):
            self.permission_denied(request)
        report = selectors.sla_report(user=request.user, consortium=consortium,
                                      month=selectors.parse_month(request.query_params.get("month")))
        return Response({"consortium": consortium.pk, "consortium_name": consortium.name,
                         "timezone": report.timezone, "month": report.month.as_dict(),
                         "months": [m.as_dict() for m in report.months]})


def register(router) -> None:
    """Add this part's viewsets to the support router."""
    router.register("sla-policies", SLAPolicyViewSet, basename="sla-policy")
    router.register("sla-reports", SLAReportViewSet, basename="sla-report")

