"""Read-only API of researchers' grants and the permission links sent to them. Neither ever carries a
token: grants show status and dates, links their status, expiry and use."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.registry.filters import GrantFilter, PermissionLinkFilter
from consortium_hub.registry.models import OrcidGrant, PermissionLink
from consortium_hub.registry.selectors import affiliations as selectors


class GrantSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrcidGrant
        fields = ["id", "organisation", "email", "orcid_id", "status", "scope", "granted_at", "revoked_at",
                  "created_at", "updated_at"]
        read_only_fields = fields


class PermissionLinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = PermissionLink
        fields = ["id", "organisation", "email", "language", "status", "expires_at", "used_at", "created_by",
                  "created_at"]
        read_only_fields = fields


class GrantViewSet(AccessViewSet):
    """Researchers' permissions to update their ORCID record, per member organisation."""

    access_area = "affiliations"
    serializer_class = GrantSerializer
    selector = staticmethod(selectors.grant_list)
    filterset_class = GrantFilter
    ordering_fields: list[str] = []


class PermissionLinkViewSet(AccessViewSet):
    """Permission links emailed to researchers (the link itself is only in the email and the CSV export)."""

    access_area = "affiliations"
    serializer_class = PermissionLinkSerializer
    selector = staticmethod(selectors.permission_link_list)
    filterset_class = PermissionLinkFilter
    ordering_fields: list[str] = []


def register(router: Any) -> None:
    router.register("grants", GrantViewSet, basename="registry-grant")
    router.register("permission-links", PermissionLinkViewSet, basename="registry-permission-link")
