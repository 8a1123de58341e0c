"""The registry API's permission: custom actions declare the grant they need instead of POST → add."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from consortium_hub.core.access import access_scope
from consortium_hub.core.api.permissions import METHOD_ACTIONS, AccessPermission
from consortium_hub.core.roles import CHANGE


def _needed(request: Request, view: Any) -> str:
    declared = getattr(view, "action_needs", {}).get(getattr(view, "action", None))
    return declared or METHOD_ACTIONS.get(request.method, CHANGE)


class ActionPermission(AccessPermission):
    """`action_needs = {"retry": CHANGE}` on a viewset: that action needs CHANGE (area-wide and on the object)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return access_scope(request.user).allows_anything(view.access_area, _needed(request, view))

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        needed = _needed(request, view)
        return needed == "view" or access_scope(request.user).can(needed, obj)
