"""Researchers' grants and the permission links sent to them: read-only lists (status and dates; a token
never reaches a page), and sending a new link when one failed or expired."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consortium_hub.core.access import access_scope, get_for_user_or_404
from consortium_hub.core.roles import CHANGE
from consortium_hub.core.viewkit import ListPage
from consortium_hub.registry.filters import GrantFilter, PermissionLinkFilter
from consortium_hub.registry.selectors import affiliations as selectors
from consortium_hub.registry.services import permissions
from consortium_hub.registry.views.affiliations import querystring

AREA = "affiliations"


class GrantList(ListPage):
    area = AREA
    selector = staticmethod(selectors.grant_list)
    filterset_class = GrantFilter
    template_name = "registry/grant_list.html"
    partial_template_name = "registry/grant_list_table.html"

    def extra_context(self) -> dict[str, Any]:
        return {"title": _("Researchers' permissions")}


class PermissionLinkList(ListPage):
    area = AREA
    selector = staticmethod(selectors.permission_link_list)
    filterset_class = PermissionLinkFilter
    template_name = "registry/link_list.html"
    partial_template_name = "registry/link_list_table.html"

    def extra_context(self) -> dict[str, Any]:
        return {"title": _("Permission links"), "export_query": querystring(self.request), "now": timezone.now(),
                "can_change": access_scope(self.request.user).allows_anything(AREA, CHANGE)}


@login_required
@require_POST
def link_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """A new link to the same address (the service mails it); a link still on its way is not doubled, and a
    researcher who has granted access already is not asked again."""
    old = get_for_user_or_404(request.user, selectors.permission_link_list(user=request.user), CHANGE, pk=pk)
    asked_at = timezone.now()
    link = permissions.request_permission(organisation=old.organisation, email=old.email, language=old.language,
                                          created_by=request.user)
    if link is None:
        messages.info(request, _("%(email)s has already granted access to this organisation; no link was "
                                 "sent.") % {"email": old.email})
    elif link.created_at < asked_at:
        messages.info(request, _("A link to %(email)s is still on its way and has not expired; no new link was "
                                 "sent.") % {"email": old.email})
    else:
        messages.success(request, _("A new link was sent to %(email)s.") % {"email": old.email})
    return redirect("registry:link_list")


urlpatterns = [
    path("permissions/", GrantList.as_view(), name="grant_list"),
    path("permission-links/", PermissionLinkList.as_view(), name="link_list"),
    path("permission-links/<int:pk>/resend/", link_resend, name="link_resend"),
]
