"""Affiliation manager pages: the rows with their ORCID status, one row with its History tab, and adding,
editing, deleting and retrying rows. Objects come from `get_for_user_or_404`; every write is a service call
(the writer then takes the row to ORCID in the background)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consortium_hub.core.access import access_scope, get_for_user_or_404, require_area
from consortium_hub.core.roles import ADD, CHANGE, DELETE, VIEW
from consortium_hub.core.viewkit import HistoryPage, ListPage, form_page, history_for, paginate
from consortium_hub.registry.filters import AffiliationFilter
from consortium_hub.registry.forms import AffiliationForm, affiliation_initial
from consortium_hub.registry.models import Affiliation
from consortium_hub.registry.selectors import affiliations as selectors
from consortium_hub.registry.services import affiliations as services

AREA = "affiliations"


def querystring(request: HttpRequest, *drop: str) -> str:
    params = request.GET.copy()
    for name in ("page", *drop):
        params.pop(name, None)
    return params.urlencode()


def organisation_initial(request: HttpRequest) -> dict[str, Any]:
    """`?organisation=ID` preselects it; without it the form's own default (the only choice) stands."""
    chosen = request.GET.get("organisation")
    return {"organisation": chosen} if chosen else {}


class AffiliationList(ListPage):
    area = AREA
    selector = staticmethod(selectors.affiliation_list)
    filterset_class = AffiliationFilter
    template_name = "registry/affiliation_list.html"
    partial_template_name = "registry/affiliation_list_table.html"

    def extra_context(self) -> dict[str, Any]:
        scope = access_scope(self.request.user)
        # The summary counts every status under the other filters, so each count is a link that narrows to it.
        others = self.request.GET.copy()
        others.pop("status", None)
        summary_filter = AffiliationFilter(others or None, queryset=self.get_queryset(), request=self.request)
        rows = summary_filter.qs if summary_filter.is_bound else summary_filter.queryset
        return {"title": _("Affiliations"), "summary": selectors.status_summary(rows),
                "summary_query": querystring(self.request, "status"), "export_query": querystring(self.request),
                "can_add": scope.allows_anything(AREA, ADD), "can_change": scope.allows_anything(AREA, CHANGE),
                "retryable": selectors.RETRYABLE_STATUSES, "orcid_base": settings.ORCID_BASE_URL}


def _affiliation(request: HttpRequest, pk: int, action: str = VIEW) -> Affiliation:
    return get_for_user_or_404(request.user, selectors.affiliation_list(user=request.user), action, pk=pk)


def _detail_url(affiliation: Affiliation) -> str:
    return reverse("registry:affiliation_detail", args=[affiliation.pk])


@login_required
def affiliation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    affiliation = _affiliation(request, pk)
    can_change = access_scope(request.user).can(CHANGE, affiliation)
    return render(request, "registry/affiliation_detail.html", {
        "affiliation": affiliation, "title": str(affiliation), "can_change": can_change,
        "can_retry": can_change and affiliation.status in selectors.RETRYABLE_STATUSES,
        "live": affiliation.status != Affiliation.Status.DELETED, "orcid_base": settings.ORCID_BASE_URL,
    })


@login_required
def affiliation_create(request: HttpRequest) -> HttpResponse:
    require_area(request.user, AREA, ADD)
    form = AffiliationForm(request.POST or None, organisations=selectors.organisations_for_upload(user=request.user),
                           initial=organisation_initial(request))

    def save(data: dict[str, Any]) -> Affiliation:
        return services.affiliation_create(user=request.user, organisation=data["organisation"],
                                           data=form.row_data())

    return form_page(request, form=form, template="core/form.html", save=save,
                     success_url=_detail_url,
                     success_message=_("Affiliation added. It is written to ORCID once the researcher has given "
                                       "permission."),
                     context={"title": _("Add an affiliation"), "cancel_url": reverse("registry:affiliation_list")})


@login_required
def affiliation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    affiliation = _affiliation(request, pk, CHANGE)
    form = AffiliationForm(request.POST or None, initial=affiliation_initial(affiliation))
    return form_page(request, form=form, template="core/form.html",
                     save=lambda data: services.affiliation_update(user=request.user, affiliation=affiliation,
                                                                   data=form.row_data()),
                     success_url=_detail_url, success_message=_("Affiliation saved."),
                     context={"title": _("Edit %(affiliation)s") % {"affiliation": affiliation},
                              "affiliation": affiliation, "cancel_url": _detail_url(affiliation)})


@login_required
def affiliation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    affiliation = _affiliation(request, pk, DELETE)
    context: dict[str, Any] = {"affiliation": affiliation, "title": _("Delete %(affiliation)s?") % {
        "affiliation": affiliation}}
    if request.method == "POST":
        try:
            services.affiliation_delete(user=request.user, affiliation=affiliation)
        except ValidationError as exc:
            context["errors"] = exc.messages
        else:
            messages.success(request, _("The affiliation is being deleted from ORCID."))
            return redirect(_detail_url(affiliation))
    return render(request, "registry/affiliation_delete.html", context)


@login_required
@require_POST
def affiliation_retry(request: HttpRequest, pk: int) -> HttpResponse:
    affiliation = _affiliation(request, pk, CHANGE)
    try:
        services.affiliation_retry(user=request.user, affiliation=affiliation)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, _("The affiliation will be sent to ORCID again."))
    return redirect(_detail_url(affiliation))


class AffiliationHistory(HistoryPage):
    model = Affiliation
    template_name = "registry/affiliation_history.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        affiliation = _affiliation(request, pk)
        page = paginate(request, history_for(affiliation))
        return render(request, self.template_name, {"object": affiliation, "affiliation": affiliation, "page": page,
                                                    "objects": page.object_list,
                                                    "querystring": querystring(request)})


urlpatterns = [
    path("affiliations/", AffiliationList.as_view(), name="affiliation_list"),
    path("affiliations/new/", affiliation_create, name="affiliation_create"),
    path("affiliations/<int:pk>/", affiliation_detail, name="affiliation_detail"),
    path("affiliations/<int:pk>/edit/", affiliation_edit, name="affiliation_edit"),
    path("affiliations/<int:pk>/delete/", affiliation_delete, name="affiliation_delete"),
    path("affiliations/<int:pk>/retry/", affiliation_retry, name="affiliation_retry"),
    path("affiliations/<int:pk>/history/", AffiliationHistory.as_view(), name="affiliation_history"),
]
