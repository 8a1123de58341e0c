"""Billing pages: fee schedules (list, rates table, create or copy, edit rates, history).

Lead admins and lead finance staff write their consortium's schedules; ORCID finance reads all of
them. A licence fee rising more than 3% over the previous schedule's is flagged, never refused.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from consortium_hub.billing.forms_fees import FeeRatesForm, FeeScheduleCreateForm, FeeScheduleFilter
from consortium_hub.billing.models import LICENCE_CURRENCY, FeeSchedule
from consortium_hub.billing.selectors import fees as selectors
from consortium_hub.billing.services import fees as services
from consortium_hub.core.access import access_scope, get_for_user_or_404, require_area
from consortium_hub.core.roles import ADD, CHANGE, VIEW
from consortium_hub.core.viewkit import HistoryPage, form_page, paginate
from consortium_hub.directory.models import Membership


def querystring_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def detail_url(schedule: FeeSchedule) -> str:
    return reverse("billing:fee_schedule_detail", args=[schedule.pk])


@login_required
def fee_schedule_list(request: HttpRequest) -> HttpResponse:
    """ListPage's flow (filters, pagination, htmx partial), plus the page's rise flags in one query."""
    require_area(request.user, "billing", VIEW)
    filterset = FeeScheduleFilter(request.GET or None, queryset=selectors.fee_schedule_list(user=request.user),
                                  request=request)
    page = paginate(request, filterset.qs if filterset.is_bound else filterset.queryset)
    rises = selectors.licence_rises_for(page.object_list)
    rows = [{"schedule": s, "rates": selectors.rates_by_key(s), "rises": rises.get(s.pk, [])}
            for s in page.object_list]
    context = {"filter": filterset, "page": page, "rows": rows, "querystring": querystring_without_page(request),
               "can_add": access_scope(request.user).allows_anything("billing", ADD)}
    template = "billing/fee_schedule_list_table.html" if request.htmx else "billing/fee_schedule_list.html"
    return render(request, template, context)


@login_required
def fee_schedule_create(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "billing", ADD)
    form = FeeScheduleCreateForm(request.POST or None, user=request.user)

    def save(data: dict) -> FeeSchedule:
        if data["copy_last"]:
            return services.fee_schedule_copy(user=request.user, consortium=data["consortium"], year=data["year"])
        return services.fee_schedule_create(user=request.user, consortium=data["consortium"], year=data["year"],
                                            size_band=data["size_band"] or FeeSchedule.SizeBand.BAND_1,
                                            consortium_fee_currency=data["consortium_fee_currency"])

    return form_page(request, form=form, template="billing/fee_schedule_create.html", save=save,
                     success_url=lambda schedule: reverse("billing:fee_schedule_edit", args=[schedule.pk]),
                     success_message=_("Fee schedule created: check its rates."),
                     context={"title": _("New fee schedule"), "cancel_url": reverse("billing:fee_schedule_list")})


@login_required
def fee_schedule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_for_user_or_404(request.user, selectors.fee_schedule_with_rates(user=request.user), pk=pk)
    return render(request, "billing/fee_schedule_detail.html", {
        "schedule": schedule, "table": selectors.rate_table(schedule), "sizes": Membership.Size.labels,
        "rises": selectors.licence_rises(schedule), "licence_currency": LICENCE_CURRENCY,
        "previous": selectors.previous_schedule(schedule),
        "can_change": access_scope(request.user).can(CHANGE, schedule)})


@login_required
def fee_schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_for_user_or_404(request.user, selectors.fee_schedule_with_rates(user=request.user), CHANGE, pk=pk)
    form = FeeRatesForm(request.POST or None, schedule=schedule)

    def save(data: dict) -> FeeSchedule:
        return services.fee_schedule_update(
            user=request.user, schedule=schedule, size_band=data["size_band"],
            consortium_fee_currency=data["consortium_fee_currency"], rates=services.rates_from_fields(data))

    return form_page(request, form=form, template="billing/fee_schedule_form.html", save=save,
                     success_url=detail_url, success_message=_("Fee schedule saved."),
                     context={"title": _("Fees of %(s)s") % {"s": schedule}, "schedule": schedule,
                              "sizes": Membership.Size.labels, "licence_currency": LICENCE_CURRENCY})


class FeeScheduleHistory(HistoryPage):
    model = FeeSchedule
    template_name = "billing/fee_schedule_history.html"


urlpatterns = [
    path("fees/", fee_schedule_list, name="fee_schedule_list"),
    path("fees/new/", fee_schedule_create, name="fee_schedule_create"),
    path("fees/<int:pk>/", fee_schedule_detail, name="fee_schedule_detail"),
    path("fees/<int:pk>/edit/", fee_schedule_edit, name="fee_schedule_edit"),
    path("fees/<int:pk>/history/", FeeScheduleHistory.as_view(), name="fee_schedule_history"),
]
