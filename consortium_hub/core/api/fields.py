from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from consortium_hub.core.roles import ADD


@extend_schema_field(OpenApiTypes.INT)
class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A related-id field whose choices are what the requesting user may add to."""

    def __init__(self, *, model: Any, area: str, **kwargs: Any) -> None:
        self.model, self.area = model, area
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        return self.model.objects.visible_to(self.context["request"].user, ADD, area=self.area)
