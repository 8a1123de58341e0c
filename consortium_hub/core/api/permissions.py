"""Kept apart from core.api: DRF imports its default permission class while rest_framework.views
is still loading, so this module must not import DRF views."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from consortium_hub.core.access import access_scope
from consortium_hub.core.roles import ADD, CHANGE, DELETE, VIEW

METHOD_ACTIONS = {"GET": VIEW, "HEAD": VIEW, "OPTIONS": VIEW, "POST": ADD, "PUT": CHANGE, "PATCH": CHANGE,
                  "DELETE": DELETE}


class AccessPermission(permissions.BasePermission):
    """Authenticated, holding the area's grant somewhere, and (for objects) on this object."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        area = getattr(view, "access_area", None)
        if area is None:
            return True
        return access_scope(request.user).allows_anything(area, METHOD_ACTIONS.get(request.method, CHANGE))

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        action = METHOD_ACTIONS.get(request.method, CHANGE)
        return action == VIEW or access_scope(request.user).can(action, obj)


