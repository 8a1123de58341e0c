"""Affiliations API: the rows with their ORCID status; create, update and delete go through the services
(the writer then takes them to ORCID), and `retry` sends a failed row again.

`/registry/affiliations/` list (the list page's filters), detail, create, update, delete; `retry` (POST).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.core.api.fields import VisibleRelatedField
from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.core.roles import CHANGE
from consortium_hub.directory.models import Organisation
from consortium_hub.registry.api.permissions import ActionPermission
from consortium_hub.registry.filters import AffiliationFilter
from consortium_hub.registry.forms import AFFILIATION_FIELDS, affiliation_initial
from consortium_hub.registry.models import Affiliation
from consortium_hub.registry.selectors import affiliations as selectors
from consortium_hub.registry.services import affiliations as services

STATE_FIELDS = ["status", "orcid_id", "put_code", "orcid_error", "attempts", "next_attempt_at", "last_synced_at",
                "upload", "created_at", "updated_at"]


class AffiliationSerializer(serializers.ModelSerializer):
    organisation = VisibleRelatedField(model=Organisation, area="affiliations")

    class Meta:
        model = Affiliation
        fields = ["id", "organisation", *AFFILIATION_FIELDS, *STATE_FIELDS]
        read_only_fields = STATE_FIELDS


class AffiliationUpdateSerializer(AffiliationSerializer):
    """An edit never moves a row to another organisation."""

    organisation = serializers.PrimaryKeyRelatedField(read_only=True)


class AffiliationViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin,
                         AccessViewSet):
    """Affiliation rows the user can see (members: their organisation's)."""

    access_area = "affiliations"
    serializer_class = AffiliationSerializer
    selector = staticmethod(selectors.affiliation_list)
    filterset_class = AffiliationFilter
    permission_classes = [ActionPermission]
    action_needs = {"retry": CHANGE}
    # Sorting is the FilterSet's `ordering`.
    ordering_fields: list[str] = []

    def get_serializer_class(self) -> Any:
        return AffiliationUpdateSerializer if self.action in ("update", "partial_update") else AffiliationSerializer

    def _row(self, affiliation: Affiliation, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.affiliation_list(user=self.request.user).get(pk=affiliation.pk)
        return Response(AffiliationSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = AffiliationSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        organisation = data.pop("organisation")
        row = {name: data.get(name, "") for name in AFFILIATION_FIELDS}
        return self._row(services.affiliation_create(user=request.user, organisation=organisation, data=row),
                         status.HTTP_201_CREATED)

    @extend_schema(request=AffiliationUpdateSerializer, responses={200: AffiliationSerializer})
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        affiliation = self.get_object()
        partial = kwargs.get("partial", False)
        incoming = AffiliationUpdateSerializer(affiliation, data=request.data, partial=partial,
                                               context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        row = affiliation_initial(affiliation) if partial else {name: "" for name in AFFILIATION_FIELDS}
        row.update({name: value for name, value in incoming.validated_data.items() if name in AFFILIATION_FIELDS})
        return self._row(services.affiliation_update(user=request.user, affiliation=affiliation, data=row))

    @extend_schema(request=AffiliationUpdateSerializer, responses={200: AffiliationSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(responses={200: AffiliationSerializer},
                   description="Removes the affiliation from the researcher's ORCID record (status `pending_delete` "
                               "until the writer has done it), or marks it deleted when it was never written.")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        affiliation = self.get_object()
        return self._row(services.affiliation_delete(user=request.user, affiliation=affiliation))

    @extend_schema(request=None, responses={200: AffiliationSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: Any = None) -> Response:
        affiliation = self.get_object()
        services.affiliation_retry(user=request.user, affiliation=affiliation)
        return self._row(affiliation)


def register(router: Any) -> None:
    router.register("affiliations", AffiliationViewSet, basename="registry-affiliation")
