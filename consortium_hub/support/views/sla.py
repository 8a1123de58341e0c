"""Support pages: SLA targets (a consortium's and ORCID's) and the monthly SLA report."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from consortium_hub.core.access import get_for_user_or_404
from consortium_hub.core.viewkit import form_page
from consortium_hub.directory.models import Consortium
from consortium_hub.support.forms_sla import SLATargetsForm
from consortium_hub.support.selectors import sla as selectors
from consortium_hub.support.services import sla as services


@login_required
def sla_home(request: HttpRequest) -> HttpResponse:
    """Where SLAs start: each desk the user can see (targets, report) and ORCID's targets."""
    consortia = list(selectors.sla_consortia(user=request.user))
    return render(request, "support/sla_home.html", {
        "consortia": consortia, "show_orcid": selectors.can_view_orcid_policies(request.user)})


def _targets_page(request: HttpRequest, consortium: Consortium | None) -> HttpResponse:
    rows = selectors.targets_table(consortium=consortium)
    can_change = selectors.can_change_policies(request.user, consortium)
    context = {"consortium": consortium, "rows": rows, "can_change": can_change,
               "title": (_("SLA targets: %(name)s") % {"name": consortium}) if consortium
               else _("ORCID's SLA targets for escalated tickets")}
    if request.method == "POST" and not can_change:
        raise PermissionDenied
    if not can_change:
        return render(request, "support/sla_policies.html", context)
    form = SLATargetsForm(request.POST or None, rows=rows)
    return form_page(request, form=form, template="support/sla_policies.html",
                     save=lambda data: services.sla_policies_update(user=request.user, consortium=consortium,
                                                                    targets=form.targets()),
                     success_url=request.path, success_message=_("SLA targets saved; open tickets' deadlines "
                                                                 "are being recalculated."),
                     context=context)


@login_required
def consortium_policies(request: HttpRequest, pk: int) -> HttpResponse:
    consortium = get_for_user_or_404(request.user, Consortium, pk=pk)
    if not selectors.can_view_consortium_sla(request.user, consortium):
        raise PermissionDenied
    return _targets_page(request, consortium)


@login_required
def orcid_policies(request: HttpRequest) -> HttpResponse:
    if not selectors.can_view_orcid_policies(request.user):
        raise PermissionDenied
    return _targets_page(request, None)


def _report_for(request: HttpRequest, pk: int) -> selectors.SLAReport:
    consortium = get_for_user_or_404(request.user, Consortium, pk=pk)
    if not selectors.can_view_consortium_sla(request.user, consortium):
        raise PermissionDenied
    month = selectors.parse_month(request.GET.get("month"))
    return selectors.sla_report(user=request.user, consortium=consortium, month=month)


@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    sla = _report_for(request, pk)
    return render(request, "support/sla_report.html", {
        "report": sla, "consortium": sla.consortium, "chart": bar_chart(sla.months),
        "month_value": sla.month.month.strftime("%Y-%m")})


CSV_HEADER = ["month", "tickets", "first_response_measured", "first_response_met", "first_response_met_percent",
              "first_response_median_business_hours", "resolution_measured", "resolution_met",
              "resolution_met_percent", "resolution_median_business_hours"]


@login_required
def report_csv(request: HttpRequest, pk: int) -> HttpResponse:
    sla = _report_for(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="sla-{sla.consortium.pk}-'
                                       f'{sla.month.month:%Y-%m}.csv"')
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for m in sla.months:
        writer.writerow([f"{m.month:%Y-%m}", m.tickets, m.first_response_measured, m.first_response_met,
                         _blank(m.first_response_share), _blank(m.first_response_median), m.resolution_measured,
                         m.resolution_met, _blank(m.resolution_share), _blank(m.resolution_median)])
    return response


def _blank(value: Any) -> Any:
    return "" if value is None else value


# --- A small inline SVG bar chart -------------------------------------------------------------------

CHART_WIDTH, CHART_HEIGHT = 720, 240
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 44, 8, 12, 36


def bar_chart(months: list[selectors.MonthFigures]) -> dict[str, Any]:
    """Geometry of a grouped bar chart (share of tickets meeting the first-response and resolution
    targets per month, 0-100%) for `support/sla_report.html`; the page shows the same numbers as a
    table, which is what screen readers use."""
    plot_width = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    group = plot_width / max(len(months), 1)
    bar = group * 0.36
    bottom = CHART_TOP + plot_height
    groups = []
    for i, m in enumerate(months):
        x0 = CHART_LEFT + i * group + group * 0.12
        bars = []
        for j, (series, value, label) in enumerate((("first-response", m.first_response_share, _("First response")),
                                                    ("resolution", m.resolution_share, _("Resolution")))):
            height = 0 if value is None else plot_height * value / 100
            bars.append({"series": series, "x": round(x0 + j * bar, 1), "y": round(bottom - height, 1),
                         "width": round(bar, 1), "height": round(height, 1), "value": value,
                         "title": f"{m.month:%b %Y} {label}: " + ("–" if value is None else f"{value}%")})
        groups.append({"label": f"{m.month:%b %y}", "label_x": round(CHART_LEFT + i * group + group / 2, 1),
                       "bars": bars})
    ticks = [{"value": v, "y": round(bottom - plot_height * v / 100, 1)} for v in (0, 25, 50, 75, 100)]
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": CHART_LEFT, "right": CHART_WIDTH - CHART_RIGHT,
            "label_y": bottom + 20, "groups": groups, "ticks": ticks}


urlpatterns: list = [
    path("sla/", sla_home, name="sla_home"),
    path("sla/targets/orcid/", orcid_policies, name="sla_orcid_policies"),
    path("sla/targets/<int:pk>/", consortium_policies, name="sla_policies"),
    path("sla/report/<int:pk>/", report, name="sla_report"),
    path("sla/report/<int:pk>/csv/", report_csv, name="sla_report_csv"),
]
