"""The API side of the access mechanism: the same visible_to and lookup as the pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, mixins, viewsets
from rest_framework.views import exception_handler

from consortium_hub.core.access import get_for_user_or_404
from consortium_hub.core.api.permissions import AccessPermission  # noqa: F401  (re-exported)

class AccessViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Read endpoints whose queryset is the area's selector; writes are added per resource and call services."""

    selector: Any = None
    access_area: str = "directory"
    # Set when the model's own area is not the grant that applies here (see get_for_user_or_404).
    object_area: str | None = None

    def get_queryset(self) -> Any:
        return self.selector(user=self.request.user)

    def get_object(self) -> Any:
        lookup = {self.lookup_field: self.kwargs[self.lookup_url_kwarg or self.lookup_field]}
        obj = get_for_user_or_404(self.request.user, self.get_queryset(), area=self.object_area, **lookup)
        self.check_object_permissions(self.request, obj)
        return obj


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """Service-layer ValidationErrors become 400s with field messages, PermissionDenied 403."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    return exception_handler(exc, context)
