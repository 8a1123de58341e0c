from __future__ import annotations

from typing import Any

from rest_framework import mixins

from consortium_hub.calendars import selectors, services
from consortium_hub.calendars.api import serializers as s
from consortium_hub.calendars.filters import CalendarFilter
from consortium_hub.core.api.viewsets import AccessViewSet


class CalendarViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, AccessViewSet):
    """Business calendars: read with periods, closures and open-now; write through the services."""

    access_area = "calendars"
    serializer_class = s.CalendarSerializer
    selector = staticmethod(selectors.calendar_list)
    filterset_class = CalendarFilter

    def perform_create(self, serializer: Any) -> None:
        data = serializer.service_data()
        data.setdefault("consortium", None)
        serializer.instance = services.calendar_create(user=self.request.user, **data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.calendar_update(user=self.request.user, calendar=serializer.instance,
                                                       **serializer.service_data())


class ClosureViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, AccessViewSet):
    """Custom closed days of a calendar."""

    access_area = "calendars"
    serializer_class = s.ClosureSerializer
    selector = staticmethod(selectors.closure_list)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.closure_add(user=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance: Any) -> None:
        services.closure_remove(user=self.request.user, closure=instance)
