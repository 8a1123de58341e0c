"""Invoice and credit note PDFs, rendered with WeasyPrint from `billing/pdf/invoice.html`.

The HTML template is the layout (edit it to change every issuer's documents); each issuer's
BillingSettings supplies its logo, bank details and footer (edited on the billing settings page). The
addresses, numbers, dates and amounts come from the document itself: its snapshots never change.

WeasyPrint fetches nothing from the network or the disk: the logo is inlined as a data: URI and every
other URL is refused, so a template or setting cannot make the server read files or call out.
"""

from __future__ import annotations

import base64
import mimetypes
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from consortium_hub.billing.issuers import settings_for
from consortium_hub.billing.models import BillingSettings, Invoice
from consortium_hub.core.money import Money

TEMPLATE = "billing/pdf/invoice.html"
MAX_LOGO_BYTES = 1024 * 1024


def data_only_fetcher() -> Any:
    """WeasyPrint's fetcher, allowed data: URIs only (no http, https, ftp or file)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


def logo_data_uri(issuer_settings: BillingSettings) -> str:
    if not issuer_settings.logo:
        return ""
    try:
        with issuer_settings.logo.open("rb") as handle:
            content = handle.read(MAX_LOGO_BYTES + 1)
    except OSError:
        return ""  # a missing file must not stop the invoice
    if len(content) > MAX_LOGO_BYTES:
        return ""
    mimetype = mimetypes.guess_type(issuer_settings.logo.name)[0] or "image/png"
    return f"data:{mimetype};base64,{base64.b64encode(content).decode('ascii')}"


def pdf_context(invoice: Invoice) -> dict[str, Any]:
    issuer_settings = settings_for(issuer=invoice.issuer, consortium=invoice.consortium)
    currency = invoice.currency
    lines = list(invoice.lines.all())
    for line in lines:
        line.unit_price_display = Money(line.unit_price, currency).format()
        line.amount_display = Money(line.amount, currency).format()
    if invoice.recipient_details:
        recipient = invoice.recipient_details
    elif invoice.recipient_organisation_id:
        recipient = invoice.recipient_organisation.legal_name
    else:
        recipient = f"Lead of {invoice.consortium.name}"
    return {
        "invoice": invoice, "recipient": recipient, "issuer": invoice.issuer_details or issuer_settings.issuer_name,
        "lines": lines, "settings": issuer_settings, "logo": logo_data_uri(issuer_settings),
        "is_credit_note": invoice.kind == Invoice.Kind.CREDIT_NOTE,
        "subtotal": Money(invoice.subtotal, currency).format(),
        "tax_total": Money(invoice.tax_total, currency).format(),
        "total": Money(invoice.total, currency).format(), "generated_on": timezone.localdate(),
    }


def render_invoice_html(invoice: Invoice) -> str:
    return render_to_string(TEMPLATE, pdf_context(invoice))


def render_invoice_pdf(invoice: Invoice) -> bytes:
    from weasyprint import HTML

    return HTML(string=render_invoice_html(invoice), url_fetcher=data_only_fetcher(), base_url="").write_pdf()


def pdf_filename(invoice: Invoice) -> str:
    name = invoice.number or f"draft-{invoice.pk}"
    return f"{name}.pdf"
