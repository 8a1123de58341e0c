from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from consortium_hub.core.access import access_scope
from consortium_hub.core.navigation import AREAS


def navigation(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    scope = access_scope(request.user)
    items = []
    for slug, label, url_name in AREAS:
        url = reverse(url_name) if url_name else reverse("core:coming", args=[slug])
        items.append({"slug": slug, "label": label, "url": url, "coming": url_name is None,
                      "current": request.path.startswith(url) if url_name else request.path == url})
    return {
        "nav_areas": items,
        "access": scope,
        "is_orcid_staff": scope.is_orcid_staff(),
        "is_orcid_admin": scope.has_role("orcid_admin"),
    }
