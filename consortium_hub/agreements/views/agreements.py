"""Agreement pages: list, detail with history, create and edit, the signed document, the renewal decision.

Lead agreements are ORCID's: lead admins see them but only ORCID admins record or change them.
The signed PDF is only ever sent through `agreement_document` (access-checked, as a download),
never from a public media URL.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from consortium_hub.agreements import selectors, terms
from consortium_hub.agreements.filters import AgreementFilter
from consortium_hub.agreements.forms import AgreementForm, DecisionForm
from consortium_hub.agreements.models import Agreement
from consortium_hub.agreements.services import agreements as services
from consortium_hub.agreements.services.renewals import renewal_decide
from consortium_hub.core.access import access_scope, get_for_user_or_404, require_area
from consortium_hub.core.roles import ADD, CHANGE, VIEW
from consortium_hub.core.viewkit import HistoryPage, ListPage, form_page

AREA = "agreements"
FORM_TEMPLATE = "agreements/agreement_form.html"


def detail_url(agreement: Agreement) -> str:
    return reverse("agreements:agreement_detail", args=[agreement.pk])


class AgreementList(ListPage):
    area = AREA
    selector = staticmethod(selectors.agreement_list)
    filterset_class = AgreementFilter
    template_name = "agreements/agreement_list.html"
    partial_template_name = "agreements/agreement_list_table.html"

    def extra_context(self) -> dict[str, Any]:
        return {"title": _("Agreements"), "can_add": access_scope(self.request.user).allows_anything(AREA, ADD),
                "current": "agreements"}


@login_required
def agreement_create(request: HttpRequest) -> HttpResponse:
    require_area(request.user, AREA, ADD)
    form = AgreementForm(request.POST or None, request.FILES or None, user=request.user,
                         initial={"membership": request.GET.get("membership")})
    return form_page(request, form=form, template=FORM_TEMPLATE,
                     save=lambda data: services.agreement_create(user=request.user, **form.service_data()),
                     success_url=detail_url, success_message=_("Agreement recorded."),
                     context={"title": _("New agreement"), "cancel_url": reverse("agreements:agreement_list")})


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_area(request.user, AREA, VIEW)
    agreement = get_for_user_or_404(request.user, selectors.agreement_detail(user=request.user), pk=pk)
    decisions = list(agreement.decisions.all())
    try:
        renewed_from = agreement.renewed_from
    except ObjectDoesNotExist:
        renewed_from = None
    can_edit = services.can_write(request.user, agreement)
    next_start, next_end = terms.next_term(end_date=agreement.end_date, term_months=agreement.term_months,
                                           month_aligned=agreement.kind == Agreement.Kind.MEMBER)
    return render(request, "agreements/agreement_detail.html", {
        "agreement": agreement, "decision": decisions[0] if decisions else None, "renewed_from": renewed_from,
        "can_edit": can_edit, "can_decide": can_edit and not decisions and agreement.status == Agreement.Status.ACTIVE,
        "notice_deadline": terms.notice_deadline(end_date=agreement.end_date, notice_days=agreement.notice_days),
        "next_start": next_start, "next_end": next_end, "current": "detail"})


def _editable(request: HttpRequest, pk: int) -> Agreement:
    require_area(request.user, AREA, CHANGE)
    agreement = get_for_user_or_404(request.user, selectors.agreement_list(user=request.user), CHANGE, pk=pk)
    if not services.can_write(request.user, agreement):
        raise PermissionDenied  # the lead agreement, for a lead admin
    return agreement


@login_required
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _editable(request, pk)
    initial = {name: getattr(agreement, name) for name in services.AGREEMENT_FIELDS}
    form = AgreementForm(request.POST or None, request.FILES or None, user=request.user, agreement=agreement,
                         initial=initial)
    return form_page(request, form=form, template=FORM_TEMPLATE,
                     save=lambda data: services.agreement_update(user=request.user, agreement=agreement,
                                                                 **form.service_data()),
                     success_url=detail_url, success_message=_("Agreement saved."),
                     context={"title": _("Edit %(agreement)s") % {"agreement": agreement}, "agreement": agreement,
                              "cancel_url": detail_url(agreement)})


@login_required
def agreement_decide(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _editable(request, pk)
    form = DecisionForm(request.POST or None, agreement=agreement)
    decisions = list(agreement.decisions.all())
    next_start, next_end = terms.next_term(end_date=agreement.end_date, term_months=agreement.term_months,
                                           month_aligned=agreement.kind == Agreement.Kind.MEMBER)
    return form_page(request, form=form, template="agreements/agreement_decide.html",
                     save=lambda data: renewal_decide(user=request.user, agreement=agreement, **data),
                     success_url=lambda decision: detail_url(agreement),
                     success_message=_("Renewal decision recorded."),
                     context={"title": _("Renewal decision: %(agreement)s") % {"agreement": agreement},
                              "agreement": agreement, "decision": decisions[0] if decisions else None,
                              "next_start": next_start, "next_end": next_end,
                              "notice_deadline": terms.notice_deadline(end_date=agreement.end_date,
                                                                       notice_days=agreement.notice_days),
                              "cancel_url": detail_url(agreement)})


@login_required
def agreement_document(request: HttpRequest, pk: int) -> HttpResponse:
    require_area(request.user, AREA, VIEW)
    agreement = get_for_user_or_404(request.user, Agreement, pk=pk)
    if not agreement.document:
        raise Http404
    # Sent as a download: uploaded content is never rendered inside the hub's origin.
    return FileResponse(agreement.document.open("rb"), as_attachment=True, filename=f"agreement-{agreement.pk}.pdf",
                        content_type="application/pdf")


class AgreementHistory(HistoryPage):
    model = Agreement
    template_name = "agreements/agreement_history.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        require_area(request.user, AREA, VIEW)
        return super().get(request, pk)


urlpatterns = [
    path("", AgreementList.as_view(), name="agreement_list"),
    path("new/", agreement_create, name="agreement_create"),
    path("<int:pk>/", agreement_detail, name="agreement_detail"),
    path("<int:pk>/edit/", agreement_edit, name="agreement_edit"),
    path("<int:pk>/decide/", agreement_decide, name="agreement_decide"),
    path("<int:pk>/document/", agreement_document, name="agreement_document"),
    path("<int:pk>/history/", AgreementHistory.as_view(), name="agreement_history"),
]
