"""Tickets API: read through the selectors, write through the services.

`/tickets/` list, detail, create (JSON or multipart with `attachments`); actions on one ticket:
`reply`, `note`, `status`, `assign`, `merge` (POST) and `messages` (GET, filtered by what the user may see).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.accounts.models import User
from consortium_hub.core.access import get_for_user_or_404
from consortium_hub.core.api.fields import VisibleRelatedField
from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.directory.models import Organisation
from consortium_hub.support.models import Ticket, TicketAttachment, TicketMessage
from consortium_hub.support.selectors import tickets as selectors
from consortium_hub.support.services import tickets as services


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketAttachment
        fields = ["id", "filename", "content_type", "size"]


class MessageSerializer(serializers.ModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = TicketMessage
        fields = ["id", "visibility", "author_user", "author_email", "body", "via", "attachments", "created_at"]
        read_only_fields = fields


def _attachments_field() -> serializers.ListField:
    return serializers.ListField(child=serializers.FileField(), required=False, write_only=True,
                                 help_text="Files (multipart): " + services.ACCEPTED_LABEL + ", at most 10 MB each.")


def _validate_files(files: list[Any]) -> list[Any]:
    problems = services.attachment_problems(files)
    if problems:
        raise serializers.ValidationError(problems)
    return files


class TicketSerializer(serializers.ModelSerializer):
    organisation = VisibleRelatedField(model=Organisation, area="support")
    body = serializers.CharField(write_only=True, help_text="The first message.")
    cc = serializers.ListField(child=serializers.EmailField(), required=False, write_only=True)
    attachments = _attachments_field()
    requester_email = serializers.EmailField(required=False, allow_blank=True,
                                             help_text="Lead staff raising it for a member; otherwise yours.")

    class Meta:
        model = Ticket
        fields = ["id", "reference", "consortium", "organisation", "subject", "category", "priority", "status",
                  "requester_email", "assignee", "merged_into", "tier", "first_response_due", "resolution_due",
                  "first_responded_at", "resolved_at", "sla_breached", "body", "cc", "attachments", "created_at",
                  "updated_at"]
        read_only_fields = ["reference", "consortium", "status", "assignee", "merged_into", "tier",
                            "first_response_due", "resolution_due", "first_responded_at", "resolved_at",
                            "sla_breached", "created_at", "updated_at"]

    def validate_attachments(self, files: list[Any]) -> list[Any]:
        return _validate_files(files)


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField()
    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False, allow_blank=True,
                                     help_text="Lead staff: the status to set with the reply.")
    attachments = _attachments_field()

    def validate_attachments(self, files: list[Any]) -> list[Any]:
        return _validate_files(files)


class NoteSerializer(serializers.Serializer):
    body = serializers.CharField()
    share_with_orcid = serializers.BooleanField(default=False)
    attachments = _attachments_field()

    def validate_attachments(self, files: list[Any]) -> list[Any]:
        return _validate_files(files)


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Ticket.Status.choices)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(allow_null=True, help_text="A lead admin or lead support user; null: nobody.")


class MergeSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text="The ticket this one is merged into (and closed).")


class TicketViewSet(mixins.CreateModelMixin, AccessViewSet):
    """Support tickets the user can see; members raise and answer their organisation's tickets."""

    access_area = "support"
    serializer_class = TicketSerializer
    selector = staticmethod(selectors.ticket_list)
    filterset_class = selectors.TicketFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    # Sorting is the FilterSet's `ordering` (its "priority" sorts by urgency, not alphabetically).
    ordering_fields: list[str] = []

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.ticket_create(
            user=self.request.user, organisation=data["organisation"], subject=data["subject"], body=data["body"],
            category=data.get("category", Ticket.Category.TECHNICAL),
            priority=data.get("priority", Ticket.Priority.NORMAL), requester_email=data.get("requester_email", ""),
            cc=data.get("cc", []), attachments=data.get("attachments", []), via="api")

    def _allowed(self, check: Any) -> Ticket:
        """The ticket (404 when invisible), or 403 before the body is read when the user may not act."""
        ticket = self.get_object()
        if not check(self.request.user, ticket):
            raise PermissionDenied
        return ticket

    def _body(self, serializer_class: Any, request: Request) -> dict[str, Any]:
        body = serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        return body.validated_data

    def _ticket_response(self, ticket: Ticket) -> Response:
        ticket = selectors.ticket_list(user=self.request.user).get(pk=ticket.pk)
        return Response(TicketSerializer(ticket, context=self.get_serializer_context()).data)

    @extend_schema(request=ReplySerializer, responses={201: MessageSerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: Any = None) -> Response:
        ticket = self._allowed(services.can_reply)
        data = self._body(ReplySerializer, request)
        message = services.ticket_reply(user=request.user, ticket=ticket, body=data["body"],
                                        status=data.get("status") or None,
                                        attachments=data.get("attachments", []), via="api")
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=NoteSerializer, responses={201: MessageSerializer})
    @action(detail=True, methods=["post"])
    def note(self, request: Request, pk: Any = None) -> Response:
        ticket = self._allowed(services.can_write_notes)
        data = self._body(NoteSerializer, request)
        message = services.ticket_note(user=request.user, ticket=ticket, body=data["body"],
                                       share_with_orcid=data["share_with_orcid"],
                                       attachments=data.get("attachments", []))
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=StatusSerializer, responses={200: TicketSerializer})
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def set_status(self, request: Request, pk: Any = None) -> Response:
        ticket = self._allowed(services.can_set_status)
        data = self._body(StatusSerializer, request)
        return self._ticket_response(services.ticket_set_status(user=request.user, ticket=ticket,
                                                                status=data["status"]))

    @extend_schema(request=AssignSerializer, responses={200: TicketSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: Any = None) -> Response:
        ticket = self._allowed(services.is_lead_staff)
        data = self._body(AssignSerializer, request)
        assignee = None
        if data["assignee"] is not None:
            assignee = User.objects.filter(pk=data["assignee"]).first()
            if assignee is None:
                raise serializers.ValidationError({"assignee": "No such user."})
        return self._ticket_response(services.ticket_assign(user=request.user, ticket=ticket, assignee=assignee))

    @extend_schema(request=MergeSerializer, responses={200: TicketSerializer})
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: Any = None) -> Response:
        ticket = self._allowed(services.is_lead_staff)
        data = self._body(MergeSerializer, request)
        target = get_for_user_or_404(request.user, selectors.ticket_list(user=request.user), pk=data["target"])
        return self._ticket_response(services.ticket_merge(user=request.user, source=ticket, target=target))

    @extend_schema(responses={200: MessageSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def messages(self, request: Request, pk: Any = None) -> Response:
        ticket = self.get_object()
        page = self.paginate_queryset(selectors.ticket_messages(user=request.user, ticket=ticket))
        return self.get_paginated_response(MessageSerializer(page, many=True).data)


def register(router) -> None:
    """Add this part's viewsets to the support router."""
    router.register("tickets", TicketViewSet, basename="ticket")
