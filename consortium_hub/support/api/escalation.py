"""Support API: escalation. `escalations/` (POST: the lead escalates a ticket) and `orcid-tickets/`
(ORCID's queue: list, detail, take, reply, resolve, hand-back)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.core.access import access_scope
from consortium_hub.core.api.permissions import AccessPermission
from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.core.roles import CHANGE
from consortium_hub.support import forms_escalation as f
from consortium_hub.support.models import Ticket, TicketMessage
from consortium_hub.support.selectors import escalation as selectors
from consortium_hub.support.services import escalation as services


class ActionPermission(AccessPermission):
    """Custom actions declare the grant they need (`action_needs = {"resolve": CHANGE}`) instead of the
    POST → add default; the services check the object."""

    def has_permission(self, request: Request, view: Any) -> bool:
        needed = getattr(view, "action_needs", {}).get(getattr(view, "action", None))
        if needed is None:
            return super().has_permission(request, view)
        return bool(request.user and request.user.is_authenticated
                    and access_scope(request.user).allows_anything(view.access_area, needed))


class OrcidMessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author_user.email", default="", read_only=True)

    class Meta:
        model = TicketMessage
        fields = ["id", "visibility", "author", "author_email", "body", "via", "created_at"]


class OrcidTicketSerializer(serializers.ModelSerializer):
    consortium_name = serializers.CharField(source="consortium.name", read_only=True)
    organisation_name = serializers.CharField(source="organisation.legal_name", default="", read_only=True)
    orcid_assignee_email = serializers.CharField(source="orcid_assignee.email", default="", read_only=True)

    class Meta:
        model = Ticket
        fields = ["id", "reference", "subject", "consortium", "consortium_name", "organisation_name", "priority",
                  "category", "status", "tier", "escalated_at", "escalated_by", "escalation_summary", "orcid_status",
                  "orcid_assignee", "orcid_assignee_email", "orcid_first_response_due", "orcid_resolution_due",
                  "orcid_first_responded_at", "orcid_resolved_at"]
        read_only_fields = fields


class OrcidTicketDetailSerializer(OrcidTicketSerializer):
    messages = OrcidMessageSerializer(source="orcid_visible", many=True, read_only=True)

    class Meta(OrcidTicketSerializer.Meta):
        fields = [*OrcidTicketSerializer.Meta.fields, "messages"]
        read_only_fields = fields


class OrcidReplySerializer(serializers.Serializer):
    body = serializers.CharField()
    ask_for_information = serializers.BooleanField(default=False)


class OrcidResolveSerializer(serializers.Serializer):
    body = serializers.CharField(required=False, allow_blank=True, default="")


class OrcidHandBackSerializer(serializers.Serializer):
    reason = serializers.CharField()


class OrcidTicketViewSet(AccessViewSet):
    """ORCID's queue of escalated tickets from every consortium (no internal notes, ever)."""

    access_area = "orcid_support"
    object_area = "orcid_support"
    filterset_class = f.OrcidQueueFilter
    permission_classes = [ActionPermission]
    action_needs = {"take": CHANGE, "reply": CHANGE, "resolve": CHANGE, "hand_back": CHANGE}

    def get_queryset(self) -> Any:
        if self.action == "list":
            return selectors.orcid_queue(user=self.request.user,
                                         active_only=not self.request.query_params.get("orcid_status"))
        return selectors.orcid_ticket(user=self.request.user)

    def get_serializer_class(self) -> Any:
        return OrcidTicketSerializer if self.action == "list" else OrcidTicketDetailSerializer

    def _done(self, ticket: Ticket) -> Response:
        visible = selectors.orcid_ticket(user=self.request.user).filter(pk=ticket.pk).first()
        if visible is None:  # handed back: no longer ORCID's to see
            return Response(OrcidTicketSerializer(ticket).data)
        return Response(OrcidTicketDetailSerializer(visible).data)

    @extend_schema(request=None, responses={200: OrcidTicketDetailSerializer})
    @action(detail=True, methods=["post"])
    def take(self, request: Request, pk: Any = None) -> Response:
        return self._done(services.orcid_ticket_take(user=request.user, ticket=self.get_object()))

    @extend_schema(request=OrcidReplySerializer, responses={200: OrcidTicketDetailSerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: Any = None) -> Response:
        ticket = self.get_object()
        incoming = OrcidReplySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.orcid_ticket_reply(user=request.user, ticket=ticket, via="api", **incoming.validated_data)
        return self._done(ticket)

    @extend_schema(request=OrcidResolveSerializer, responses={200: OrcidTicketDetailSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: Any = None) -> Response:
        ticket = self.get_object()
        incoming = OrcidResolveSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return self._done(services.orcid_ticket_resolve(user=request.user, ticket=ticket, via="api",
                                                        **incoming.validated_data))

    @extend_schema(request=OrcidHandBackSerializer, responses={200: OrcidTicketSerializer})
    @action(detail=True, methods=["post"], url_path="hand-back")
    def hand_back(self, request: Request, pk: Any = None) -> Response:
        ticket = self.get_object()
        incoming = OrcidHandBackSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return self._done(services.orcid_ticket_hand_back(user=request.user, ticket=ticket, via="api",
                                                          **incoming.validated_data))


class TicketEscalateSerializer(serializers.Serializer):
    ticket = serializers.PrimaryKeyRelatedField(queryset=Ticket.objects.none())
    tier = serializers.ChoiceField(choices=[Ticket.Tier.TIER_2.value, Ticket.Tier.TIER_3.value])
    summary = serializers.CharField()

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["ticket"].queryset = Ticket.objects.visible_to(request.user, CHANGE, area="support")
        return fields


class EscalationViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
    """POST {ticket, tier, summary}: the lead hands a ticket to ORCID (Tier 2/3)."""

    access_area = "support"
    serializer_class = TicketEscalateSerializer
    permission_classes = [ActionPermission]
    action_needs = {"create": CHANGE}

    def get_queryset(self) -> Any:
        return Ticket.objects.visible_to(self.request.user, CHANGE, area="support")

    @extend_schema(request=TicketEscalateSerializer, responses={201: OrcidTicketSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        ticket = services.ticket_escalate(user=request.user, ticket=data["ticket"], tier=int(data["tier"]),
                                          summary=data["summary"])
        return Response(OrcidTicketSerializer(ticket).data, status=201)


def register(router) -> None:
    """Add this part's viewsets to the support router."""
    router.register("orcid-tickets", OrcidTicketViewSet, basename="orcid-ticket")
    router.register("escalations", EscalationViewSet, basename="escalation")
