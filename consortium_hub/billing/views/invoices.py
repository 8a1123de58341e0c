"""Billing pages: invoices and credit notes, payments, PDFs, the overdue list, member statements and the
billing settings. Thin: look up (get_for_user_or_404 / selectors), call a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from consortium_hub.billing import forms_invoices as f
from consortium_hub.billing.issuers import settings_for
from consortium_hub.billing.models import Invoice, Issuer
from consortium_hub.billing.pdf import pdf_filename, render_invoice_pdf
from consortium_hub.billing.selectors import invoices as selectors
from consortium_hub.billing.selectors.invoices import add_money
from consortium_hub.billing.services import billing_settings as settings_services
from consortium_hub.billing.services import invoices as services
from consortium_hub.billing.services.payments import payment_record
from consortium_hub.core import downloads
from consortium_hub.core.access import access_scope, get_for_user_or_404, require_area
from consortium_hub.core.roles import ADD, CHANGE, VIEW
from consortium_hub.core.viewkit import ListPage, form_page, history_for, paginate
from consortium_hub.directory.models import Consortium, Organisation

AREA = "billing"  # every role that sees any invoice holds the billing view grant (see core.roles)


def csv_response(filename: str, rows: list[list[Any]]) -> HttpResponse:
    return downloads.csv_response(filename, rows)


def _may_add(user: Any) -> bool:
    scope = access_scope(user)
    return scope.allows_anything("billing", ADD) or scope.allows_anything("orcid_billing", ADD)


# --- Lists ----------------------------------------------------------------------------------------

class InvoiceList(ListPage):
    area = AREA
    title = gettext_lazy("Invoices")
    selector = staticmethod(selectors.invoice_list)
    filterset_class = f.InvoiceFilter
    template_name = "billing/invoice_list.html"
    partial_template_name = "billing/invoice_list_table.html"

    def extra_context(self) -> dict[str, Any]:
        filterset = self.filterset_class(self.request.GET or None, queryset=self.get_queryset(), request=self.request)
        queryset = filterset.qs if filterset.is_bound else filterset.queryset
        return {"currency_totals": selectors.currency_totals(queryset), "can_add": _may_add(self.request.user),
                "today": timezone.localdate(), "can_edit_settings": may_edit_settings(self.request.user)}


class OverdueList(ListPage):
    area = AREA
    title = gettext_lazy("Overdue invoices")
    filterset_class = f.OverdueFilter
    template_name = "billing/invoice_overdue.html"
    partial_template_name = "billing/invoice_overdue_table.html"

    def get_queryset(self) -> Any:
        return selectors.overdue_list(user=self.request.user, today=timezone.localdate())

    def extra_context(self) -> dict[str, Any]:
        filterset = self.filterset_class(self.request.GET or None, queryset=self.get_queryset(), request=self.request)
        queryset = filterset.qs if filterset.is_bound else filterset.queryset
        return {"currency_totals": selectors.currency_totals(queryset), "today": timezone.localdate(),
                "can_edit_settings": may_edit_settings(self.request.user)}


# --- One invoice ----------------------------------------------------------------------------------

def _invoice(request: HttpRequest, pk: int, action: str = VIEW, *, detail: bool = False) -> Invoice:
    queryset = (selectors.invoice_detail if detail else selectors.invoice_list)(user=request.user)
    return get_for_user_or_404(request.user, queryset, action, pk=pk)


@login_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk, detail=True)
    currency = invoice.currency
    lines = [add_money(line, currency) for line in invoice.lines.all()]
    payments = [add_money(p, currency) for p in invoice.payments.all()]
    credit_notes = [add_money(n) for n in invoice.credit_notes.all()]
    can_change = access_scope(request.user).can(CHANGE, invoice)
    is_invoice = invoice.kind == Invoice.Kind.INVOICE
    open_ = invoice.status in selectors.OPEN_STATUSES
    return render(request, "billing/invoice_detail.html", {
        "invoice": invoice, "lines": lines, "payments": payments, "credit_notes": credit_notes,
        "today": timezone.localdate(), "can_change": can_change,
        "may_issue": can_change and invoice.status == Invoice.Status.DRAFT,
        "may_pay": can_change and is_invoice and open_ and invoice.balance_due > 0,
        "may_credit": can_change and is_invoice and (open_ or invoice.status == Invoice.Status.PAID)
        and invoice.balance_due > 0,
        "recipient": _recipient_name(invoice),
    })


def _recipient_name(invoice: Invoice) -> str:
    if invoice.recipient_organisation_id:
        return invoice.recipient_organisation.legal_name
    lead = invoice.consortium.lead_organisation
    return _("%(lead)s (lead of %(c)s)") % {"lead": lead.legal_name if lead else _("the lead"), "c": invoice.consortium}


@login_required
def invoice_history(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    page = paginate(request, history_for(invoice))
    return render(request, "billing/invoice_history.html", {
        "invoice": invoice, "object": invoice, "page": page, "objects": page.object_list,
        "querystring": _without_page(request)})


def _without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@login_required
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(invoice)}"'
    return response


@login_required
@require_POST
def invoice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk, CHANGE)
    try:
        issued = services.invoice_issue(user=request.user, invoice=invoice, notify=True)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Issued as %(number)s, due on %(due)s. It is being emailed to the recipients.")
                         % {"number": issued.number, "due": issued.due_date})
    return redirect("billing:invoice_detail", invoice.pk)


@login_required
def invoice_void(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk, CHANGE)
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.invoice_void_draft(user=request.user, invoice=invoice)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("The draft is void."))
            return redirect("billing:invoice_detail", invoice.pk)
    return render(request, "billing/invoice_void.html", {"invoice": invoice, "errors": errors},
                  status=400 if errors else 200)


@login_required
def invoice_create(request: HttpRequest) -> HttpResponse:
    if not _may_add(request.user):
        raise PermissionDenied
    posted = request.method == "POST"
    form = f.InvoiceCreateForm(request.POST if posted else None, user=request.user)
    lines = f.LineFormSet(request.POST if posted else None, prefix="lines")
    if posted and form.is_valid() and lines.is_valid():
        data = form.cleaned_data
        line_data = [row for row in lines.cleaned_data if row and not row.get("DELETE")]
        try:
            invoice = services.invoice_create_manual(
                user=request.user, issuer=data["issuer"], consortium=data["consortium"],
                recipient_organisation=data.get("recipient_organisation"), currency=data.get("currency") or None,
                tax_rate_percent=data.get("tax_rate_percent"), recipient_tax_id=data.get("recipient_tax_id", ""),
                year=data["year"], lines=line_data)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("Draft saved. Check it, then issue it."))
            return redirect("billing:invoice_detail", invoice.pk)
    return render(request, "billing/invoice_form.html", {"form": form, "lines": lines, "title": _("New invoice")},
                  status=400 if posted else 200)


@login_required
def payment_create(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk, CHANGE)
    form = f.PaymentForm(request.POST or None)
    return form_page(request, form=form, template="billing/invoice_payment_form.html",
                     save=lambda data: payment_record(user=request.user, invoice=invoice, **data),
                     success_url=reverse("billing:invoice_detail", args=[invoice.pk]),
                     success_message=_("Payment recorded."),
                     context={"invoice": invoice, "title": _("Record a payment on %(doc)s") % {"doc": invoice}})


@login_required
def credit_note_create(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk, CHANGE)
    form = f.CreditNoteForm(request.POST or None)
    return form_page(request, form=form, template="billing/invoice_credit_form.html",
                     save=lambda data: services.credit_note_create(user=request.user, invoice=invoice, notify=True,
                                                                   **form.service_kwargs()),
                     success_url=lambda note: reverse("billing:invoice_detail", args=[note.pk]),
                     success_message=_("Credit note issued and emailed to the recipients."),
                     context={"invoice": invoice, "title": _("Credit %(doc)s") % {"doc": invoice}})


# --- Statements -----------------------------------------------------------------------------------

def _statement(request: HttpRequest, pk: int) -> Any:
    organisation = get_for_user_or_404(request.user, Organisation.objects.select_related("consortium"), pk=pk)
    require_area(request.user, AREA, VIEW)
    currency = (request.GET.get("currency") or "").strip().upper() or None
    return selectors.statement(user=request.user, organisation=organisation, currency=currency)


@login_required
def statement(request: HttpRequest, pk: int) -> HttpResponse:
    result = _statement(request, pk)
    return render(request, "billing/statement.html", {"statement": result, "organisation": result.organisation,
                                                      "today": timezone.localdate()})


@login_required
def statement_csv(request: HttpRequest, pk: int) -> HttpResponse:
    result = _statement(request, pk)
    rows: list[list[Any]] = [["currency", "date", "type", "document", "description", "debit", "credit", "balance"]]
    for currency, entries in result.entries.items():
        rows.extend([currency, e.date.isoformat(), e.kind, e.document, e.description, e.debit or "", e.credit or "",
                     e.balance] for e in entries)
    stamp = timezone.localdate().isoformat()
    return csv_response(f"statement-{result.organisation.pk}-{stamp}.csv", rows)


# --- Billing settings -----------------------------------------------------------------------------

def _settings_choices(user: Any) -> list[tuple[str, str]]:
    """(query string, label) of every issuer whose settings the user may change."""
    scope = access_scope(user)
    choices = []
    if scope.can_in(CHANGE, "orcid_billing", consortium_id=None):
        choices.append(("issuer=orcid", _("ORCID (invoices to the leads)")))
    for consortium in Consortium.objects.visible_to(user, CHANGE, area="billing").order_by("name"):
        choices.append((f"consortium={consortium.pk}", consortium.name))
    return choices


def may_edit_settings(user: Any) -> bool:
    scope = access_scope(user)
    return scope.allows_anything("billing", CHANGE) or scope.allows_anything("orcid_billing", CHANGE)


def _settings_target(request: HttpRequest, choices: list[tuple[str, str]]) -> Any:
    if request.GET.get("consortium"):
        consortium = get_for_user_or_404(request.user, Consortium, pk=request.GET["consortium"])
        target = settings_for(issuer=Issuer.LEAD, consortium=consortium)
    elif request.GET.get("issuer") == Issuer.ORCID or (choices and choices[0][0] == "issuer=orcid"):
        target = settings_for(issuer=Issuer.ORCID, consortium=None)
    elif choices:
        consortium = Consortium.objects.get(pk=choices[0][0].split("=", 1)[1])
        target = settings_for(issuer=Issuer.LEAD, consortium=consortium)
    else:
        raise PermissionDenied
    if not settings_services.may_change_settings(request.user, target):
        raise PermissionDenied
    return target


@login_required
def billing_settings(request: HttpRequest) -> HttpResponse:
    choices = _settings_choices(request.user)
    target = _settings_target(request, choices)
    posted = request.method == "POST"
    form = f.BillingSettingsForm(request.POST if posted else None, request.FILES if posted else None, instance=target)
    current = "issuer=orcid" if target.consortium_id is None else f"consortium={target.consortium_id}"
    return form_page(request, form=form, template="billing/settings.html",
                     save=lambda data: settings_services.billing_settings_update(
                         user=request.user, billing_settings=target, **form.service_kwargs()),
                     success_url=f"{reverse('billing:settings')}?{current}",
                     success_message=_("Billing settings saved. New documents use them."),
                     context={"target": target, "choices": choices, "current": current,
                              "title": _("Billing settings: %(issuer)s") % {"issuer": target.issuer_name}})


urlpatterns = [
    path("invoices/", InvoiceList.as_view(), name="invoice_list"),
    path("invoices/new/", invoice_create, name="invoice_create"),
    path("invoices/overdue/", OverdueList.as_view(), name="overdue_list"),
    path("invoices/<int:pk>/", invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/history/", invoice_history, name="invoice_history"),
    path("invoices/<int:pk>/pdf/", invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/issue/", invoice_issue, name="invoice_issue"),
    path("invoices/<int:pk>/void/", invoice_void, name="invoice_void"),
    path("invoices/<int:pk>/pay/", payment_create, name="payment_create"),
    path("invoices/<int:pk>/credit/", credit_note_create, name="credit_note_create"),
    path("members/<int:pk>/statement/", statement, name="statement"),
    path("members/<int:pk>/statement.csv", statement_csv, name="statement_csv"),
    path("settings/", billing_settings, name="settings"),
]
