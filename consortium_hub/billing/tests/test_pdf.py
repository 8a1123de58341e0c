"""Invoice PDFs: rendered from the template and the issuer's settings, downloadable, emailed with the PDF."""

from __future__ import annotations

import io
import struct
import subprocess
import zlib
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from consortium_hub.billing import pdf
from consortium_hub.billing.issuers import settings_for
from consortium_hub.billing.models import Issuer
from consortium_hub.billing.services.invoices import after_issue, credit_note_create
from consortium_hub.billing.tests.test_invoices import ISSUED_ON, add_user, invoice_contact, make_invoice
from consortium_hub.core.models_email import EmailLog
from consortium_hub.core.roles import Role

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


@pytest.fixture
def styled(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    row = settings_for(issuer=Issuer.LEAD, consortium=cast.consortium_a)
    row.issuer_address, row.issuer_tax_id, row.tax_rate_percent = "1 Lead Street\nLondon", "GB999", Decimal("20")
    row.bank_details = "Bank of Alpha\nIBAN GB00 ALPH 0000 0000 0000 00"
    row.footer = "Alpha Consortium Ltd, registered in England no. 123"
    row.logo.save("logo.png", SimpleUploadedFile("logo.png", tiny_png()), save=True)
    return row


def test_the_pdf_shows_number_dates_totals_and_the_issuers_settings(cast, styled):
    invoice = make_invoice(cast, lines=(("ORCID premium membership", "1", "1000.00"), ("Consortium fee", "2", "50")))
    text = pdf_text(pdf.render_invoice_pdf(invoice))
    due = invoice.due_date
    for expected in ("Invoice", "INV-2026-00001", f"{due.day} {due:%B %Y}", "£1,100.00", "£220.00", "£1,320.00",
                     "Tax (20%)", "Alpha University", "1 Lead Street", "GB999", "IBAN GB00 ALPH",
                     "registered in England", "Please quote INV-2026-00001"):
        assert expected in text, expected
    assert pdf.logo_data_uri(styled).startswith("data:image/png;base64,")


def test_pdftotext_reads_the_same_numbers(cast):
    invoice = make_invoice(cast, issuer=Issuer.ORCID, lines=(("Licence fees", "3", "1500.00"),))
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf.render_invoice_pdf(invoice),
                            capture_output=True, check=True)
    text = result.stdout.decode()
    assert "ORCID-2026-00001" in text and "$4,500.00" in text and f"{invoice.due_date:%B %Y}" in text


def test_a_credit_note_pdf_names_the_invoice_it_credits_and_drafts_say_so(cast):
    invoice = make_invoice(cast)
    note = credit_note_create(user=None, invoice=invoice, reason="Billed twice")
    text = pdf_text(pdf.render_invoice_pdf(note))
    assert "Credit note" in text and "INV-2026-00002" in text and "INV-2026-00001" in text
    assert "-£1,000.00" in text and "Billed twice" in text
    assert "DRAFT" in pdf_text(pdf.render_invoice_pdf(make_invoice(cast, issue=False)))


def test_the_renderer_fetches_nothing_but_inline_data():
    fetcher = pdf.data_only_fetcher()
    for url in ("http://example.com/logo.png", "https://example.com/a.css", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain;base64,aGk=").url.startswith("data:")  # inline data is fine


def test_download_is_access_checked(cast, client_for):
    invoice = make_invoice(cast)
    url = reverse("billing:invoice_pdf", args=[invoice.pk])
    for who, status in (("lead_admin_a", 200), ("member_contact_a", 200), ("orcid_admin", 200),
                        ("lead_admin_b", 404), ("lead_support_a", 404), ("engagement_lead", 404)):
        response = client_for(cast[who]).get(url)
        assert response.status_code == status, who
    response = client_for(cast["member_contact_a"]).get(url)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="INV-2026-00001.pdf"'
    assert "INV-2026-00001" in pdf_text(response.content)
    assert client_for(None).get(url).status_code == 302


def test_after_issue_emails_the_pdf_to_the_members_invoice_contacts_once(cast, django_capture_on_commit_callbacks):
    invoice_contact(cast.org_a, "billing@alpha.example")
    invoice_contact(cast.org_a, "accounts@alpha.example")
    a = make_invoice(cast)
    a2 = make_invoice(cast, organisation=cast.org_a2)  # no invoice contact: its main contact
    with django_capture_on_commit_callbacks(execute=True):
        after_issue([a.pk, a2.pk])
    with django_capture_on_commit_callbacks(execute=True):
        after_issue([a.pk])  # the cycle retried: nothing is sent twice
    assert sorted(tuple(m.to) for m in mail.outbox) == [("accounts@alpha.example", "billing@alpha.example"),
                                                          ("ian@inst.example",)]
    message = next(m for m in mail.outbox if "billing@alpha.example" in m.to)
    assert message.subject == "Invoice INV-2026-00001 from Consortium A"
    filename, content, mimetype = message.attachments[0]
    assert (filename, mimetype) == ("INV-2026-00001.pdf", "application/pdf")
    assert "INV-2026-00001" in pdf_text(content) and "£1,000.00" in message.body
    assert f"/billing/invoices/{a.pk}/" in message.body
    assert list(EmailLog.objects.values_list("status", flat=True)) == ["sent", "sent"]


def test_orcids_invoice_goes_to_the_leads_finance_staff(cast, django_capture_on_commit_callbacks):
    add_user(Role.LEAD_FINANCE, "finance@lead-a.example", consortium=cast.consortium_a)
    invoice = make_invoice(cast, issuer=Issuer.ORCID)
    with django_capture_on_commit_callbacks(execute=True):
        after_issue([invoice.pk])
    assert [m.to for m in mail.outbox] == [["finance@lead-a.example"]]
    assert "ORCID-2026-00001" in pdf_text(mail.outbox[0].attachments[0][1])


def test_the_lead_edits_its_settings_and_the_next_pdf_shows_them(cast, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(cast["lead_admin_a"])
    url = reverse("billing:settings")
    response = client.get(url)
    assert response.status_code == 200 and response.context["target"].consortium_id == cast.consortium_a.pk
    data = {"issuer_name": "Alpha Lead Ltd", "issuer_address": "2 Lead Road", "issuer_tax_id": "GB1",
            "invoice_prefix": "ALP", "due_days": "14", "tax_rate_percent": "0", "bank_details": "Sort code 00-00-00",
            "footer": "Thank you", "dunning_days": "5, 20"}
    bad = client.post(url, {**data, "logo": SimpleUploadedFile("logo.png", b"<svg/>"), "invoice_prefix": "A B"})
    assert bad.status_code == 200
    assert "PNG or JPEG" in bad.content.decode() or "letters, digits" in bad.content.decode()
    response = client.post(url, {**data, "logo": SimpleUploadedFile("logo.png", tiny_png())})
    assert response.status_code == 302, response.content.decode()[:3000]
    row = settings_for(issuer=Issuer.LEAD, consortium=cast.consortium_a)
    assert (row.invoice_prefix, row.due_days, row.dunning_days) == ("ALP", 14, [5, 20]) and row.logo
    invoice = make_invoice(cast)
    assert invoice.number == "ALP-2026-00001" and (invoice.due_date - ISSUED_ON).days == 14
    text = pdf_text(pdf.render_invoice_pdf(invoice))
    assert "Sort code 00-00-00" in text and "Thank you" in text and "Alpha Lead Ltd" in text
    assert client_for(cast["member_contact_a"]).get(url).status_code == 403
    assert client_for(cast["lead_support_a"]).get(url).status_code == 403
    assert client_for(cast["lead_admin_b"]).get(url, {"consortium": cast.consortium_a.pk}).status_code == 404
    admin = client_for(cast["orcid_admin"]).get(url)
    assert admin.status_code == 200 and admin.context["target"].consortium_id is None  # ORCID's own
    orcid_finance = add_user(Role.ORCID_FINANCE, "finance@orcid.example")
    assert client_for(orcid_finance).get(url).context["target"].consortium_id is None
    assert client_for(orcid_finance).get(url, {"consortium": cast.consortium_a.pk}).status_code == 403
