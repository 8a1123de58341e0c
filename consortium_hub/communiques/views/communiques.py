"""Communiqué pages: ORCID sends and follows responses; a lead reads its copies and responds."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium_hub.communiques import forms as f
from consortium_hub.communiques.models import CommuniqueRecipient
from consortium_hub.communiques.selectors import communiques as selectors
from consortium_hub.communiques.services import communiques as services
from consortium_hub.core.access import access_scope, get_for_user_or_404, require_area
from consortium_hub.core.roles import ADD, CHANGE, VIEW
from consortium_hub.core.viewkit import ListPage, form_page

AREA = "communiques"


class OrcidCommuniqueList(ListPage):
    """ORCID staff: communiqués with each consortium's response status."""

    area = AREA
    filterset_class = f.CommuniqueFilter
    template_name = "communiques/communique_list.html"
    partial_template_name = "communiques/communique_list_table.html"
    selector = staticmethod(selectors.communique_list)

    def extra_context(self) -> dict[str, Any]:
        return {"title": _("Communiqués"), "can_send": access_scope(self.request.user).allows_anything(AREA, ADD)}


class LeadCopyList(ListPage):
    """A lead: its copies, overdue first."""

    area = AREA
    filterset_class = f.CopyFilter
    template_name = "communiques/copy_list.html"
    partial_template_name = "communiques/copy_list_table.html"
    selector = staticmethod(selectors.copy_list)

    def extra_context(self) -> dict[str, Any]:
        return {"title": _("Communiqués from ORCID")}


@login_required
def communique_list(request: HttpRequest) -> HttpResponse:
    require_area(request.user, AREA, VIEW)
    view = OrcidCommuniqueList if access_scope(request.user).is_orcid_staff() else LeadCopyList
    return view.as_view()(request)


@login_required
def communique_detail(request: HttpRequest, pk: int) -> HttpResponse:
    communique = get_for_user_or_404(request.user, selectors.communique_list(user=request.user), pk=pk)
    copies = communique.copies
    for copy in copies:
        copy.may_respond = copy.responded_at is None and services.can_respond(request.user, copy)
    return render(request, "communiques/communique_detail.html", {
        "communique": communique, "copies": copies, "title": communique.subject,
        "is_orcid_staff": access_scope(request.user).is_orcid_staff(),
    })


@login_required
def communique_send(request: HttpRequest) -> HttpResponse:
    require_area(request.user, AREA, ADD)
    form = f.SendForm(request.POST or None, user=request.user)
    return form_page(request, form=form, template="core/form.html",
                     save=lambda data: services.communique_send(user=request.user, **data),
                     success_url=lambda c: reverse("communiques:detail", args=[c.pk]),
                     success_message=_("Communiqué sent."),
                     context={"title": _("New communiqué"), "cancel_url": reverse("communiques:list")})


@login_required
def copy_respond(request: HttpRequest, pk: int) -> HttpResponse:
    copy = get_for_user_or_404(request.user, CommuniqueRecipient.objects.select_related("communique", "consortium"),
                               CHANGE, pk=pk)
    if not services.can_respond(request.user, copy):
        raise PermissionDenied
    form = f.RespondForm(request.POST or None)
    return form_page(request, form=form, template="communiques/respond.html",
                     save=lambda data: services.communique_respond(user=request.user, recipient=copy, **data),
                     success_url=reverse("communiques:detail", args=[copy.communique_id]),
                     success_message=_("Response sent to ORCID."),
                     context={"copy": copy, "communique": copy.communique, "now": timezone.now(),
                              "title": _("Respond: %(subject)s") % {"subject": copy.communique.subject}})


@login_required
def response_stats(request: HttpRequest) -> HttpResponse:
    require_area(request.user, AREA, VIEW)
    return render(request, "communiques/stats.html", {"rows": selectors.response_stats(user=request.user),
                                                      "title": _("Communiqué responses")})


urlpatterns = [
    path("", communique_list, name="list"),
    path("new/", communique_send, name="send"),
    path("stats/", response_stats, name="stats"),
    path("<int:pk>/", communique_detail, name="detail"),
    path("copies/<int:pk>/respond/", copy_respond, name="respond"),
]
