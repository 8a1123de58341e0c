"""API for membership applications: read through the selector, write through the services.

Public submission stays a page (no anonymous API); lead staff may create applications here.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.core.access import get_for_user_or_404
from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.directory.api.serializers import VisibleRelatedField
from consortium_hub.directory.models import Consortium, Organisation
from consortium_hub.onboarding.models import Application
from consortium_hub.onboarding.selectors import applications as selectors
from consortium_hub.onboarding.services import applications as services


class ApplicationSerializer(serializers.ModelSerializer):
    consortium = VisibleRelatedField(model=Consortium, area="onboarding")
    attachment = serializers.FileField(write_only=True, required=False, allow_null=True,
                                       help_text="A PDF of at most 5 MB (multipart upload).")
    has_attachment = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = ["id", "consortium", "status", *services.APPLICATION_FIELDS, "attachment", "has_attachment",
                  "submitted_by", "reviewed_by", "reviewed_at", "review_note", "organisation", "membership",
                  "created_at", "updated_at"]
        read_only_fields = ["status", "submitted_by", "reviewed_by", "reviewed_at", "review_note", "organisation",
                            "membership", "created_at", "updated_at"]
        validators: list = []

    def get_has_attachment(self, application: Application) -> bool:
        return bool(application.attachment)

    def validate_attachment(self, file: Any) -> Any:
        problem = services.attachment_problem(file) if file else None
        if problem:
            raise serializers.ValidationError(problem)
        return file


class ApproveSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(
        required=False, allow_null=True,
        help_text="An existing organisation of the application's consortium to link; omit to create a new one.")


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class RequestChangesSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=5000)


class ApprovalSerializer(serializers.Serializer):
    application = ApplicationSerializer()
    organisation = serializers.IntegerField(source="organisation.pk")
    organisation_created = serializers.BooleanField()
    membership = serializers.IntegerField(source="membership.pk")
    plan = serializers.IntegerField(source="plan.pk")
    contacts = serializers.SerializerMethodField()
    notes = serializers.ListField(child=serializers.CharField())

    def get_contacts(self, approval: services.Approval) -> list[int]:
        return [c.pk for c in approval.contacts]


class ApplicationViewSet(mixins.CreateModelMixin, AccessViewSet):
    """Membership applications the user can see; create (lead staff) and review actions."""

    access_area = "onboarding"
    serializer_class = ApplicationSerializer
    selector = staticmethod(selectors.application_list)
    filterset_class = selectors.ApplicationFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        consortium = data.pop("consortium")
        attachment = data.pop("attachment", None)
        submission = services.application_submit(consortium=consortium, user=self.request.user,
                                                 attachment=attachment, **data)
        serializer.instance = submission.application

    def _respond(self, application: Application) -> Response:
        return Response(ApplicationSerializer(application, context=self.get_serializer_context()).data)

    @extend_schema(request=ApproveSerializer, responses={200: ApprovalSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: Any = None) -> Response:
        application = self.get_object()
        body = ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        organisation = None
        if body.validated_data.get("organisation"):
            organisation = get_for_user_or_404(request.user, Organisation, pk=body.validated_data["organisation"])
        approval = services.application_approve(user=request.user, application=application,
                                                organisation=organisation)
        return Response(ApprovalSerializer(approval, context=self.get_serializer_context()).data)

    @extend_schema(request=DeclineSerializer, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: Any = None) -> Response:
        application = self.get_object()
        body = DeclineSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._respond(services.application_decline(user=request.user, application=application,
                                                          reason=body.validated_data["reason"]))

    @extend_schema(request=RequestChangesSerializer, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"], url_path="request-changes", url_name="request-changes")
    def request_changes(self, request: Request, pk: Any = None) -> Response:
        application = self.get_object()
        body = RequestChangesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._respond(services.application_request_changes(user=request.user, application=application,
                                                                  message=body.validated_data["message"]))


def register(router) -> None:
    """Add this part's viewsets to the onboarding router."""
    router.register("applications", ApplicationViewSet, basename="application")
