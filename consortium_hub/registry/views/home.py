"""The ORCID area's entry point: the first of its pages the user may open."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path

from consortium_hub.core.access import access_scope
from consortium_hub.core.roles import VIEW

# (access area, page) in the order the area's tabs show them.
TABS = (("affiliations", "registry:affiliation_list"), ("adoption", "registry:adoption"),
        ("registry_calls", "registry:call_list"), ("registry_settings", "registry:settings_list"))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = access_scope(request.user)
    for area, url_name in TABS:
        if scope.allows_anything(area, VIEW):
            return redirect(url_name)
    raise PermissionDenied


urlpatterns = [path("", home, name="home")]
