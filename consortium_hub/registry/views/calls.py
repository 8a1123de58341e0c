"""The log of the hub's calls to ORCID's API: method, path, status, time taken. Never a token or a body."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext as _

from consortium_hub.core.viewkit import ListPage
from consortium_hub.registry.filters import ApiCallFilter
from consortium_hub.registry.selectors import calls as selectors


class ApiCallList(ListPage):
    area = "registry_calls"
    selector = staticmethod(selectors.api_call_list)
    filterset_class = ApiCallFilter
    template_name = "registry/call_list.html"
    partial_template_name = "registry/call_list_table.html"

    def extra_context(self) -> dict[str, Any]:
        return {"title": _("Calls to ORCID")}


urlpatterns = [
    path("calls/", ApiCallList.as_view(), name="call_list"),
]
