from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest

from consortium_hub.core.access import access_scope
from consortium_hub.core.roles import Role


def restrict_admin_to_orcid_admins(site: AdminSite) -> None:
    """The Django admin bypasses consortium scoping, so only ORCID admins may enter it."""

    def has_permission(request: HttpRequest) -> bool:
        user: Any = request.user
        return bool(user.is_active and user.is_staff and access_scope(user).has_role(Role.ORCID_ADMIN))

    site.has_permission = has_permission
