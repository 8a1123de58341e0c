from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from consortium_hub.core.access import get_for_user_or_404
from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.core.imports import size_problem
from consortium_hub.directory import feed, importing, selectors, services
from consortium_hub.directory.api import serializers as s
from consortium_hub.directory.filters import ConsortiumFilter, ContactFilter, MembershipFilter, OrganisationFilter
from consortium_hub.directory.models import Consortium


class ConsortiumViewSet(AccessViewSet):
    serializer_class = s.ConsortiumSerializer
    selector = staticmethod(selectors.consortium_list)
    filterset_class = ConsortiumFilter


class WritableViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, AccessViewSet):
    """Writes go through the area's services, which check access again and validate."""

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = self.create_object(serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = self.update_object(serializer.instance, serializer.validated_data)

    def perform_destroy(self, instance: Any) -> None:
        self.delete_object(instance)


class OrganisationViewSet(WritableViewSet):
    serializer_class = s.OrganisationSerializer
    selector = staticmethod(selectors.organisation_list)
    filterset_class = OrganisationFilter

    def create_object(self, data: dict) -> Any:
        return services.organisation_create(user=self.request.user, **data)

    def update_object(self, instance: Any, data: dict) -> Any:
        return services.organisation_update(user=self.request.user, organisation=instance, **data)

    def delete_object(self, instance: Any) -> None:
        services.organisation_delete(user=self.request.user, organisation=instance)


class ContactViewSet(WritableViewSet):
    access_area = "contacts"
    serializer_class = s.ContactSerializer
    selector = staticmethod(selectors.contact_list)
    filterset_class = ContactFilter

    def create_object(self, data: dict) -> Any:
        return services.contact_create(user=self.request.user, **data)

    def update_object(self, instance: Any, data: dict) -> Any:
        data.pop("organisation", None)
        return services.contact_update(user=self.request.user, contact=instance, **data)

    def delete_object(self, instance: Any) -> None:
        services.contact_delete(user=self.request.user, contact=instance)


class MembershipViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, AccessViewSet):
    serializer_class = s.MembershipSerializer
    selector = staticmethod(selectors.membership_list)
    filterset_class = MembershipFilter

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("reason", None)
        serializer.instance = services.membership_create(user=self.request.user, **data)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("organisation", None)
        serializer.instance = services.membership_update(user=self.request.user, membership=serializer.instance,
                                                         **data)


class ChangeFeedViewSet(AccessViewSet):
    """ORCID's feed of directory changes not yet acknowledged (`?all=1` includes acknowledged ones)."""

    access_area = "feed"
    object_area = "feed"
    serializer_class = s.ChangeSerializer

    def get_queryset(self) -> Any:
        consortium = None
        if self.request.query_params.get("consortium"):
            consortium = get_for_user_or_404(self.request.user, Consortium,
                                             pk=self.request.query_params["consortium"])
        return selectors.change_feed(user=self.request.user, consortium=consortium,
                                     include_acknowledged=self.request.query_params.get("all") == "1")

    @extend_schema(request=s.AcknowledgeSerializer, responses={200: dict})
    @action(detail=False, methods=["post"])
    def acknowledge(self, request: Any) -> Response:
        body = s.AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        consortium = None
        if body.validated_data.get("consortium"):
            consortium = get_for_user_or_404(request.user, Consortium, pk=body.validated_data["consortium"])
        count = feed.acknowledge(user=request.user, change_ids=body.validated_data.get("ids"), consortium=consortium)
        return Response({"acknowledged": count}, status=status.HTTP_200_OK)


class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bulk import of organisations or contacts: upload for a preview, then confirm.

    A batch is seen only by its uploader (see directory.models_import); what it writes is checked and
    audited by the directory services, row by row, when the confirmed batch is applied.
    """

    serializer_class = s.ImportBatchSerializer
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self) -> Any:
        return importing.batches_for(self.request.user)

    def get_object(self) -> Any:
        # Someone else's batch is 404, like any object the user cannot see.
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    @extend_schema(request={"multipart/form-data": s.ImportUploadSerializer},
                   responses={201: s.ImportBatchSerializer})
    def create(self, request: Any) -> Response:
        body = s.ImportUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        too_large = size_problem(upload.size) is not None
        batch = importing.create_batch(user=request.user, kind=body.validated_data["kind"], filename=upload.name,
                                       content=None if too_large else upload.read(), size=upload.size)
        return Response(s.ImportBatchSerializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={202: s.ImportBatchSerializer, 409: dict})
    @action(detail=True, methods=["post"])
    def confirm(self, request: Any, pk: Any = None) -> Response:
        batch = self.get_object()
        if batch.status != batch.Status.PREVIEWED:
            return Response({"detail": _("This import was already confirmed.")}, status=status.HTTP_409_CONFLICT)
        if not batch.can_confirm:
            return Response({"detail": _("This file has problems; correct them and upload it again."),
                             "preview": batch.preview}, status=status.HTTP_400_BAD_REQUEST)
        if not importing.confirm_batch(batch=batch, user=request.user):
            return Response({"detail": _("This import was already confirmed.")}, status=status.HTTP_409_CONFLICT)
        batch.refresh_from_db()
        return Response(s.ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)
