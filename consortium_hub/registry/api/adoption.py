"""Read-only API of adoption figures: one snapshot per member and day."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.registry.filters import AdoptionSnapshotFilter
from consortium_hub.registry.models import AdoptionSnapshot
from consortium_hub.registry.selectors.snapshots import snapshot_list


class AdoptionSnapshotSerializer(serializers.ModelSerializer):
    consortium = serializers.IntegerField(source="organisation.consortium_id", read_only=True)

    class Meta:
        model = AdoptionSnapshot
        fields = ["id", "organisation", "consortium", "taken_on", "identifier_type", "identifier", "records_total",
                  "records_from_hub"]
        read_only_fields = fields


class AdoptionSnapshotViewSet(AccessViewSet):
    """ORCID records affiliated with each member per day (members: their own; leads: their consortium)."""

    access_area = "adoption"
    serializer_class = AdoptionSnapshotSerializer
    selector = staticmethod(snapshot_list)
    filterset_class = AdoptionSnapshotFilter
    ordering_fields = ["taken_on", "records_total"]


def register(router: Any) -> None:
    router.register("adoption", AdoptionSnapshotViewSet, basename="adoption-snapshot")
