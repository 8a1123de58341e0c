"""Billing pages: cycles (list, open, the cycle page with its dry run, commit with confirmation).

The cycle page is per consortium and year and exists before the cycle's row does: it shows the dry
run (every invoice a commit would create, per-currency totals, members left out and why), and the
history of commits. ORCID's invoice to the lead is shown to those who may see ORCID's invoices
(area orcid_billing: ORCID finance, the lead's finance staff); others see that it will be created.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from consortium_hub.billing.forms_cycles import CycleFilter, CycleOpenForm
from consortium_hub.billing.selectors import cycles as selectors
from consortium_hub.billing.selectors.fees import FIRST_YEAR, LAST_YEAR
from consortium_hub.billing.services import cycles as services
from consortium_hub.core.access import access_scope, get_for_user_or_404, require, require_area
from consortium_hub.core.roles import ADD, VIEW
from consortium_hub.core.viewkit import ListPage, form_page
from consortium_hub.directory.models import Consortium

INVOICES_PER_PAGE = 100


def cycle_url(consortium_id: int, year: int) -> str:
    return reverse("billing:cycle_detail", args=[consortium_id, year])


class CycleList(ListPage):
    area = "billing"
    title = gettext_lazy("Billing cycles")
    selector = staticmethod(selectors.cycle_list)
    filterset_class = CycleFilter
    template_name = "billing/cycle_list.html"
    partial_template_name = "billing/cycle_list_table.html"

    def extra_context(self) -> dict:
        return {"can_add": access_scope(self.request.user).allows_anything("billing", ADD)}


@login_required
def cycle_open(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "billing", ADD)
    form = CycleOpenForm(request.POST or None, user=request.user)
    return form_page(request, form=form, template="billing/cycle_open.html",
                     save=lambda data: services.cycle_open(user=request.user, **data),
                     success_url=lambda cycle: cycle_url(cycle.consortium_id, cycle.year),
                     success_message=_("Billing cycle opened: check its dry run before committing."),
                     context={"title": _("Open a billing cycle"), "cancel_url": reverse("billing:cycle_list")})


def _consortium_for(request: HttpRequest, consortium_pk: int, year: int, action: str) -> Consortium:
    """Another consortium's id is a 404, like any object; a visible consortium without the billing grant
    there is a 403."""
    consortium = get_for_user_or_404(request.user, Consortium, pk=consortium_pk)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404
    require(request.user, action, "billing", consortium_id=consortium.pk)
    return consortium


@login_required
def cycle_detail(request: HttpRequest, consortium_pk: int, year: int) -> HttpResponse:
    consortium = _consortium_for(request, consortium_pk, year, VIEW)
    run = services.cycle_dry_run(user=request.user, consortium=consortium, year=year)
    invoices = Paginator(run.member_invoices, INVOICES_PER_PAGE).get_page(request.GET.get("page"))
    left_out = Paginator(run.left_out, INVOICES_PER_PAGE).get_page(request.GET.get("left_page"))
    return render(request, "billing/cycle_detail.html", {
        "consortium": consortium, "year": year, "run": run, "cycle": run.cycle, "invoices": invoices,
        "left_out": left_out, "totals": selectors.totals_visible(run, request.user),
        "show_orcid": selectors.can_see_orcid_invoices(request.user, consortium),
        "history": selectors.cycle_history(run.cycle),
        "can_commit": access_scope(request.user).can_in(ADD, "billing", consortium_id=consortium.pk),
    })


@login_required
def cycle_commit(request: HttpRequest, consortium_pk: int, year: int) -> HttpResponse:
    """GET: the confirmation (what will be issued); POST: commit."""
    consortium = _consortium_for(request, consortium_pk, year, ADD)
    errors: list[str] = []
    if request.method == "POST":
        try:
            result = services.cycle_commit(user=request.user, consortium=consortium, year=year)
        except ValidationError as exc:
            errors = exc.messages
        else:
            if result.created:
                numbers = [i.number for i in result.member_invoices]
                messages.success(request, ngettext(
                    "Issued %(n)s invoice (%(members)s to members%(range)s, %(orcid)s from ORCID).",
                    "Issued %(n)s invoices (%(members)s to members%(range)s, %(orcid)s from ORCID).",
                    result.created) % {"n": result.created, "members": len(result.member_invoices),
                                       "orcid": len(result.orcid_invoices),
                                       "range": f": {numbers[0]}–{numbers[-1]}" if numbers else ""})
            else:
                messages.info(request, _("Nothing to invoice: every member is invoiced in this cycle already."))
            return redirect(cycle_url(consortium.pk, year))
    run = services.cycle_dry_run(user=request.user, consortium=consortium, year=year)
    return render(request, "billing/cycle_commit.html", {
        "consortium": consortium, "year": year, "run": run, "errors": errors,
        "totals": selectors.totals_visible(run, request.user)})


urlpatterns = [
    path("cycles/", CycleList.as_view(), name="cycle_list"),
    path("cycles/open/", cycle_open, name="cycle_open"),
    path("cycles/<int:consortium_pk>/<int:year>/", cycle_detail, name="cycle_detail"),
    path("cycles/<int:consortium_pk>/<int:year>/commit/", cycle_commit, name="cycle_commit"),
]
