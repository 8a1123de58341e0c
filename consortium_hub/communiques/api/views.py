"""Communiqué API: communiqués (list, detail, send) and each consortium's copies (list, detail, respond)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.communiques import forms as f
from consortium_hub.communiques.models import Communique, CommuniqueRecipient
from consortium_hub.communiques.selectors import communiques as selectors
from consortium_hub.communiques.services import communiques as services
from consortium_hub.core.access import access_scope
from consortium_hub.core.api.permissions import AccessPermission
from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.core.roles import CHANGE
from consortium_hub.directory.models import Consortium

AREA = "communiques"


class CopySerializer(serializers.ModelSerializer):
    consortium_name = serializers.CharField(source="consortium.name", read_only=True)
    subject = serializers.CharField(source="communique.subject", read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)
    on_time = serializers.SerializerMethodField()

    class Meta:
        model = CommuniqueRecipient
        fields = ["id", "communique", "subject", "consortium", "consortium_name", "respond_by", "responded_at",
                  "responded_by", "response", "overdue", "on_time"]
        read_only_fields = fields

    def get_on_time(self, copy: CommuniqueRecipient) -> bool | None:
        return None if copy.responded_at is None else copy.responded_at <= copy.respond_by


class CommuniqueSerializer(serializers.ModelSerializer):
    copies = CopySerializer(many=True, read_only=True)

    class Meta:
        model = Communique
        fields = ["id", "subject", "body", "sent_by", "sent_at", "copies"]
        read_only_fields = fields


class CommuniqueSendSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=255)
    body = serializers.CharField()
    consortia = serializers.PrimaryKeyRelatedField(many=True, queryset=Consortium.objects.none(), required=False,
                                                   default=list)
    all_consortia = serializers.BooleanField(default=False,
                                             help_text="Send to every consortium you may send to.")

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["consortia"].child_relation.queryset = services.sendable_consortia(request.user)
        return fields

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.pop("all_consortia", False):
            data["consortia"] = list(services.sendable_consortia(self.context["request"].user))
        if not data.get("consortia"):
            raise serializers.ValidationError({"consortia": "Choose at least one consortium, or all_consortia."})
        return data


class CommuniqueRespondSerializer(serializers.Serializer):
    response = serializers.CharField()


class CommuniqueViewSet(AccessViewSet):
    access_area = AREA
    serializer_class = CommuniqueSerializer
    selector = staticmethod(selectors.communique_list)
    filterset_class = f.CommuniqueFilter
    lookup_value_regex = r"\d+"

    @extend_schema(request=CommuniqueSendSerializer, responses={201: CommuniqueSerializer})
    def create(self, request: Request) -> Response:
        incoming = CommuniqueSendSerializer(data=request.data, context={"request": request})
        incoming.is_valid(raise_exception=True)
        communique = services.communique_send(user=request.user, **incoming.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=communique.pk)).data, status=201)


class RespondPermission(AccessPermission):
    """Responding changes a copy (leads hold view + change, not add)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(view, "action", None) == "respond":
            return bool(request.user and request.user.is_authenticated
                        and access_scope(request.user).allows_anything(AREA, CHANGE))
        return super().has_permission(request, view)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if getattr(view, "action", None) == "respond":
            return access_scope(request.user).can(CHANGE, obj)
        return super().has_object_permission(request, view, obj)


class CopyViewSet(AccessViewSet):
    access_area = AREA
    serializer_class = CopySerializer
    selector = staticmethod(selectors.copy_list)
    filterset_class = f.CopyFilter
    permission_classes = [RespondPermission]

    @extend_schema(request=CommuniqueRespondSerializer, responses={200: CopySerializer})
    @action(detail=True, methods=["post"])
    def respond(self, request: Request, pk: Any = None) -> Response:
        copy = self.get_object()
        if not services.can_respond(request.user, copy):
            raise PermissionDenied("Only the consortium's lead staff respond to its communiqués.")
        incoming = CommuniqueRespondSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.communique_respond(user=request.user, recipient=copy, **incoming.validated_data)
        return Response(self.get_serializer(selectors.copy_list(user=request.user, now=timezone.now())
                                            .get(pk=copy.pk)).data)
