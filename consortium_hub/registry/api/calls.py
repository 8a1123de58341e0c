"""Read-only API of the log of calls the hub made to ORCID (never a token or a body)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.registry.filters import ApiCallFilter
from consortium_hub.registry.models import OrcidApiCall
from consortium_hub.registry.selectors import calls as selectors


class ApiCallSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrcidApiCall
        fields = ["id", "consortium", "organisation", "method", "path", "status_code", "error_code", "duration_ms",
                  "created_at"]
        read_only_fields = fields


class ApiCallViewSet(AccessViewSet):
    """Calls to ORCID's API, newest first (ORCID staff; lead staff for their consortium)."""

    access_area = "registry_calls"
    serializer_class = ApiCallSerializer
    selector = staticmethod(selectors.api_call_list)
    filterset_class = ApiCallFilter
    ordering_fields = ["created_at", "duration_ms", "status_code"]


def register(router: Any) -> None:
    router.register("calls", ApiCallViewSet, basename="registry-call")
