"""Payments: partial and full, the status they move, and what is refused (overpayment, void, drafts)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from consortium_hub.billing.models import Invoice, Issuer, Payment
from consortium_hub.billing.services.invoices import balance_due, credit_note_create, invoice_void_draft
from consortium_hub.billing.services.payments import payment_record
from consortium_hub.billing.tests.test_invoices import make_invoice
from consortium_hub.core.money import FloatNotAllowed

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def test_partial_then_full_payment_moves_issued_to_partially_paid_to_paid(cast):
    invoice = make_invoice(cast)
    assert invoice.status == "issued"
    first = payment_record(user=cast["lead_admin_a"], invoice=invoice, amount="400.00", received_on=TODAY,
                           reference="BACS 123")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, balance_due(invoice)) == ("partially_paid", Decimal("400.00"),
                                                                            Decimal("600.00"))
    assert first.recorded_by == cast["lead_admin_a"] and first.reference == "BACS 123"
    payment_record(user=cast["lead_admin_a"], invoice=invoice, amount=Decimal("600.00"), received_on=TODAY)
    invoice.refresh_from_db()
    assert (invoice.status, balance_due(invoice)) == ("paid", Decimal(0))
    assert invoice.payments.count() == 2


def test_an_overpayment_is_refused_with_the_amount_still_due_and_nothing_is_recorded(cast):
    invoice = make_invoice(cast)
    payment_record(user=None, invoice=invoice, amount="999.99", received_on=TODAY)
    with pytest.raises(ValidationError) as refused:
        payment_record(user=None, invoice=invoice, amount="0.02", received_on=TODAY)
    assert "This payment of £0.02 is more than the £0.01 still due on INV-2026-00001" in str(refused.value)
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("999.99") and invoice.payments.count() == 1
    payment_record(user=None, invoice=invoice, amount="0.01", received_on=TODAY)
    with pytest.raises(ValidationError, match="already paid in full"):
        payment_record(user=None, invoice=invoice, amount="1", received_on=TODAY)


def test_payments_on_void_draft_and_credit_notes_are_refused(cast):
    void = invoice_void_draft(user=None, invoice=make_invoice(cast, issue=False))
    with pytest.raises(ValidationError, match="void"):
        payment_record(user=None, invoice=void, amount="1", received_on=TODAY)
    with pytest.raises(ValidationError, match="draft"):
        payment_record(user=None, invoice=make_invoice(cast, issue=False), amount="1", received_on=TODAY)
    note = credit_note_create(user=None, invoice=make_invoice(cast), reason="x",
                              lines=[{"description": "", "amount": "5"}])
    with pytest.raises(ValidationError, match="credit notes"):
        payment_record(user=None, invoice=note, amount="1", received_on=TODAY)
    assert Payment.objects.count() == 0


def test_amounts_are_checked(cast):
    invoice = make_invoice(cast)
    for amount, message in (("0", "more than zero"), ("-5", "more than zero"), ("1.005", "decimal places"),
                            ("abc", "not an amount")):
        with pytest.raises(ValidationError, match=message):
            payment_record(user=None, invoice=invoice, amount=amount, received_on=TODAY)
    with pytest.raises(FloatNotAllowed):
        payment_record(user=None, invoice=invoice, amount=10.5, received_on=TODAY)
    with pytest.raises(ValidationError, match="future"):
        payment_record(user=None, invoice=invoice, amount="1", received_on=TODAY + dt.timedelta(days=1))


def test_a_partly_paid_invoice_past_due_stays_overdue_until_paid(cast):
    invoice = make_invoice(cast, issue_date=TODAY - dt.timedelta(days=45))
    payment_record(user=None, invoice=invoice, amount="100", received_on=TODAY)
    invoice.refresh_from_db()
    assert invoice.status == "overdue"
    payment_record(user=None, invoice=invoice, amount="900", received_on=TODAY)
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_zero_decimal_currencies_are_rounded_to_their_minor_unit(cast):
    invoice = make_invoice(cast, currency="JPY", lines=(("Licence", "1", "150000"),))
    with pytest.raises(ValidationError, match="decimal places"):
        payment_record(user=None, invoice=invoice, amount="0.5", received_on=TODAY)
    payment_record(user=None, invoice=invoice, amount="150000", received_on=TODAY)
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_orcid_invoices_are_paid_by_orcid_finance_not_by_the_lead(cast):
    from django.core.exceptions import PermissionDenied

    from consortium_hub.billing.tests.test_invoices import add_user
    from consortium_hub.core.roles import Role

    invoice = make_invoice(cast, issuer=Issuer.ORCID)
    lead_finance = add_user(Role.LEAD_FINANCE, "finance@lead-a.example", consortium=cast.consortium_a)
    with pytest.raises(PermissionDenied):
        payment_record(user=lead_finance, invoice=invoice, amount="1", received_on=TODAY)
    orcid_finance = add_user(Role.ORCID_FINANCE, "finance@orcid.example")
    payment_record(user=orcid_finance, invoice=invoice, amount="1000", received_on=TODAY)
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"


def test_record_payment_page(cast, client_for):
    invoice = make_invoice(cast)
    client = client_for(cast["lead_admin_a"])
    url = reverse("billing:payment_create", args=[invoice.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"amount": "1000.01", "received_on": TODAY.isoformat(), "reference": "x"})
    assert response.status_code == 200 and "more than the £1,000.00 still due" in response.content.decode()
    response = client.post(url, {"amount": "250", "received_on": TODAY.isoformat(), "reference": "BACS 9"})
    assert response.status_code == 302
    page = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert "BACS 9" in page and "£750.00" in page and "Partially paid" in page
    assert client_for(cast["member_contact_a"]).get(url).status_code == 403
    assert client_for(cast["lead_admin_b"]).get(url).status_code == 404
