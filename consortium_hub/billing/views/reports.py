"""Billing pages: reports. Receivables by consortium, currency and age, with a chart and CSV."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from consortium_hub.billing import charts
from consortium_hub.billing.forms_invoices import ReceivablesForm
from consortium_hub.billing.selectors import reports as selectors
from consortium_hub.billing.views.invoices import AREA, csv_response, may_edit_settings
from consortium_hub.core.access import require_area
from consortium_hub.core.roles import VIEW


def _report(request: HttpRequest) -> tuple[ReceivablesForm, selectors.Receivables]:
    require_area(request.user, AREA, VIEW)
    form = ReceivablesForm(request.GET or None, user=request.user)
    report = selectors.receivables(user=request.user, today=timezone.localdate(), **form.filters())
    return form, report


@login_required
def receivables(request: HttpRequest) -> HttpResponse:
    form, report = _report(request)
    labels = {key: str(label) for key, label in selectors.BUCKETS}
    chart_list = [{"currency": row.currency, "row": row,
                   "svg": charts.ageing_chart(currency=row.currency, cells=row.cells, labels=labels)}
                  for row in report.totals]
    return render(request, "billing/receivables.html", {
        "form": form, "report": report, "charts": chart_list, "buckets": selectors.BUCKETS,
        "querystring": request.GET.urlencode(), "can_edit_settings": may_edit_settings(request.user)})


@login_required
def receivables_csv(request: HttpRequest) -> HttpResponse:
    _form, report = _report(request)
    return csv_response(f"receivables-{report.today.isoformat()}.csv", selectors.receivables_csv_rows(report))


urlpatterns = [
    path("reports/receivables/", receivables, name="receivables"),
    path("reports/receivables.csv", receivables_csv, name="receivables_csv"),
]
