"""API of each consortium's ORCID member API credentials (lead admins). The secret is write-only: it is
accepted on create and update and never returned; `secret_set` says whether one is stored."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.core.api.fields import VisibleRelatedField
from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.directory.models import Consortium
from consortium_hub.registry.models import RegistryClient
from consortium_hub.registry.selectors import client_settings as selectors
from consortium_hub.registry.services.registry_clients import registry_client_save


class RegistryClientSerializer(serializers.ModelSerializer):
    consortium = VisibleRelatedField(model=Consortium, area="registry_settings")
    client_secret = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                          style={"input_type": "password"},
                                          help_text="Required when the consortium has no credentials yet; "
                                                    "omit it to keep the stored secret.")
    secret_set = serializers.SerializerMethodField()

    class Meta:
        model = RegistryClient
        fields = ["id", "consortium", "client_id", "client_secret", "secret_set", "rate_per_second", "created_at",
                  "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def get_secret_set(self, client: RegistryClient) -> bool:
        # client_secret is required on the model, so a saved row always holds one.
        return client.pk is not None


class RegistryClientUpdateSerializer(RegistryClientSerializer):
    consortium = serializers.PrimaryKeyRelatedField(read_only=True)


class RegistryClientViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, AccessViewSet):
    """ORCID member API credentials per consortium; without them the hub's configured client is used."""

    access_area = "registry_settings"
    serializer_class = RegistryClientSerializer
    selector = staticmethod(selectors.registry_client_list)
    ordering_fields = ["client_id"]

    def get_serializer_class(self) -> Any:
        return RegistryClientUpdateSerializer if self.action in ("update", "partial_update") \
            else RegistryClientSerializer

    def _detail(self, client: RegistryClient, code: int = status.HTTP_200_OK) -> Response:
        return Response(RegistryClientSerializer(client, context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = RegistryClientSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        client = registry_client_save(user=request.user, consortium=data["consortium"], client_id=data["client_id"],
                                      client_secret=data.get("client_secret", ""),
                                      rate_per_second=data.get("rate_per_second"))
        return self._detail(client, status.HTTP_201_CREATED)

    @extend_schema(request=RegistryClientUpdateSerializer, responses={200: RegistryClientSerializer})
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        client = self.get_object()
        incoming = RegistryClientUpdateSerializer(client, data=request.data, partial=kwargs.get("partial", False),
                                                  context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        saved = registry_client_save(
            user=request.user, consortium=client.consortium, client_id=data.get("client_id", client.client_id),
            client_secret=data.get("client_secret", ""),
            rate_per_second=data["rate_per_second"] if "rate_per_second" in data else client.rate_per_second)
        return self._detail(saved)

    @extend_schema(request=RegistryClientUpdateSerializer, responses={200: RegistryClientSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)


def register(router: Any) -> None:
    router.register("clients", RegistryClientViewSet, basename="registry-client")
