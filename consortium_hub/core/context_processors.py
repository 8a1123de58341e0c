from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from consortium_hub.core.access import access_scope
from consortium_hub.core.navigation import AREAS
from consortium_hub.core.roles import GRANTS, VIEW


def navigation(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    scope = access_scope(request.user)
    items = []
    for area in AREAS:
        if area.url_name is None:
            url = reverse("core:coming", args=[area.slug])
            items.append({"slug": area.slug, "label": area.label, "url": url, "coming": True,
                          "current": request.path == url})
        elif any(scope.allows_anything(grant, VIEW) for grant in area.grants):
            items.append({"slug": area.slug, "label": area.label, "url": reverse(area.url_name), "coming": False,
                          "current": request.path.startswith(area.prefixes)})
    return {
        "nav_areas": items,
        # The access areas this user may view somewhere, for templates' links ({% if "billing" in can_view %}).
        "can_view": {area for grants in GRANTS.values() for area in grants
                     if area != "*" and scope.allows_anything(area, VIEW)},
        "access": scope,
        "is_orcid_staff": scope.is_orcid_staff(),
        "is_orcid_admin": scope.has_role("orcid_admin"),
    }
