"""Uploads API: POST a file (multipart: `organisation`, `file`) to get its preview, then `apply` it.

`/registry/uploads/` list, detail (counts and every rejected row's problems), create (= preview; nothing
is written to ORCID yet), `apply` (POST, with the language of permission emails).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.core.api.fields import VisibleRelatedField
from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.core.roles import CHANGE
from consortium_hub.directory.models import Organisation
from consortium_hub.registry.api.permissions import ActionPermission
from consortium_hub.registry.filters import UploadFilter
from consortium_hub.registry.models import AffiliationUpload, PermissionLink
from consortium_hub.registry.selectors import affiliations as selectors
from consortium_hub.registry.services import affiliations as services

COUNT_FIELDS = ["rows_total", "rows_accepted", "rows_rejected", "rows_unchanged"]


class UploadSerializer(serializers.ModelSerializer):
    class Meta:
        model = AffiliationUpload
        fields = ["id", "organisation", "filename", "content_sha256", "uploaded_by", "language", *COUNT_FIELDS,
                  "applied_at", "finished_at", "summary_sent_at", "created_at"]
        read_only_fields = fields


class UploadProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Spreadsheet row (the header is row 1); null for "
                                                              "the file as a whole.")
    column = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


class UploadDetailSerializer(UploadSerializer):
    problems = UploadProblemSerializer(many=True, read_only=True)
    already_applied_as = serializers.SerializerMethodField(
        help_text="The earlier upload of this same file that was applied; this one cannot be applied then.")

    class Meta(UploadSerializer.Meta):
        fields = [*UploadSerializer.Meta.fields, "problems", "already_applied_as"]
        read_only_fields = fields

    def get_already_applied_as(self, upload: AffiliationUpload) -> int | None:
        earlier = services.applied_earlier(upload)
        return earlier.pk if earlier else None


class UploadCreateSerializer(serializers.Serializer):
    organisation = VisibleRelatedField(model=Organisation, area="affiliations")
    file = serializers.FileField(help_text="CSV (UTF-8) or XLSX in the columns of ORCID's Affiliation Manager.")


class ApplySerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=PermissionLink.Language.choices, required=False,
                                       help_text="Language of the permission emails; the upload's by default.")


class UploadViewSet(mixins.CreateModelMixin, AccessViewSet):
    """Affiliation uploads the user can see; creating one previews it, `apply` writes it."""

    access_area = "affiliations"
    selector = staticmethod(selectors.upload_list)
    filterset_class = UploadFilter
    permission_classes = [ActionPermission]
    action_needs = {"apply": CHANGE}
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    ordering_fields: list[str] = []

    def get_queryset(self) -> Any:
        if self.action == "list":
            return selectors.upload_list(user=self.request.user)
        return selectors.upload_detail(user=self.request.user)

    def get_serializer_class(self) -> Any:
        if self.action == "list":
            return UploadSerializer
        if self.action == "create":
            return UploadCreateSerializer
        return UploadDetailSerializer

    def _detail(self, upload: AffiliationUpload, code: int = status.HTTP_200_OK) -> Response:
        return Response(UploadDetailSerializer(upload, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request={"multipart/form-data": UploadCreateSerializer}, responses={201: UploadDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = UploadCreateSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        upload = services.preview_upload(user=request.user, organisation=incoming.validated_data["organisation"],
                                         uploaded_file=incoming.validated_data["file"])
        return self._detail(upload, status.HTTP_201_CREATED)

    @extend_schema(request=ApplySerializer, responses={200: UploadDetailSerializer})
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: Any = None) -> Response:
        upload = self.get_object()
        incoming = ApplySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        language = incoming.validated_data.get("language") or upload.language
        return self._detail(services.apply_upload(user=request.user, upload=upload, language=language))


def register(router: Any) -> None:
    router.register("uploads", UploadViewSet, basename="registry-upload")
