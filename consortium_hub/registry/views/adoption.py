"""Adoption figures: how many ORCID records carry an affiliation to each member, of which how many the
affiliation manager wrote, the change since the figure before, and a consortium's total over time
(an inline SVG chart with a table of the same numbers beside it), with a CSV of every figure."""

from __future__ import annotations


from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium_hub.billing import charts
from consortium_hub.core.access import require_area
from consortium_hub.core.roles import VIEW
from consortium_hub.core.viewkit import paginate
from consortium_hub.directory.models import Consortium
from consortium_hub.registry.forms import AdoptionForm
from consortium_hub.registry.selectors import adoption as selectors
from consortium_hub.registry.views.affiliations import querystring
from consortium_hub.registry.views.exports import csv_response

AREA = "adoption"
# The chart shows a consortium's last figure of each month, for this many months (daily bars would not fit).
CHART_MONTHS = 12


def _chosen_consortium(request: HttpRequest) -> tuple[AdoptionForm, Consortium | None]:
    consortia = Consortium.objects.visible_to(request.user, area=AREA).order_by("name")
    form = AdoptionForm(request.GET or None, consortia=consortia)
    if form.is_bound and form.is_valid() and form.cleaned_data["consortium"]:
        return form, form.cleaned_data["consortium"]
    only = list(consortia[:2])
    # Someone who sees one consortium (its lead, or a member) needs no choice to get its chart.
    return form, only[0] if len(only) == 1 else None


def monthly(points: list[selectors.AdoptionPoint], months: int = CHART_MONTHS) -> list[selectors.AdoptionPoint]:
    """The last point of each month, for the last `months` months that have one."""
    last_of_month: dict[tuple[int, int], selectors.AdoptionPoint] = {}
    for point in points:
        last_of_month[(point.day.year, point.day.month)] = point
    return list(last_of_month.values())[-months:]


@login_required
def adoption(request: HttpRequest) -> HttpResponse:
    require_area(request.user, AREA, VIEW)
    form, consortium = _chosen_consortium(request)
    latest = selectors.adoption_by_organisation(request.user, consortium_id=consortium.pk if consortium else None)
    totals = (latest.order_by().values("organisation__consortium_id", "organisation__consortium__name")
              .annotate(records_total=Sum("records_total"), records_from_hub=Sum("records_from_hub"),
                        organisations=Count("pk"))
              .order_by("organisation__consortium__name"))
    page = paginate(request, latest)
    chart = points = None
    if consortium is not None:
        points = monthly(selectors.adoption_over_time(request.user, consortium_id=consortium.pk))
        if points:
            chart = charts.bar_chart(
                title=_("ORCID records affiliated with members of %(consortium)s") % {"consortium": consortium},
                bars=selectors.adoption_chart_bars(points))
    return render(request, "registry/adoption.html", {
        "title": _("Adoption"), "form": form, "consortium": consortium, "page": page, "objects": page.object_list,
        "totals": totals, "chart": chart, "points": points, "querystring": querystring(request),
        "export_query": querystring(request),
    })


@login_required
def adoption_csv(request: HttpRequest) -> HttpResponse:
    require_area(request.user, AREA, VIEW)
    _form, consortium = _chosen_consortium(request)
    rows = selectors.adoption_csv_rows(request.user, consortium_id=consortium.pk if consortium else None)
    return csv_response(f"adoption-{timezone.localdate().isoformat()}.csv", rows)


urlpatterns = [
    path("adoption/", adoption, name="adoption"),
    path("adoption.csv", adoption_csv, name="adoption_csv"),
]
