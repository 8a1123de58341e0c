"""Invoices: gapless numbering per issuer and year, issuing, immutability, credit notes, access, pages, API.

`make_invoice` is the helper the other billing tests use: it writes drafts through
`invoice_create_manual` and issues them with `invoice_issue`, as the billing cycle does.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from consortium_hub.billing.models import Invoice, InvoiceSequence, Issuer
from consortium_hub.billing.services import invoices as services
from consortium_hub.billing.services.invoices import LineInput, balance_due
from consortium_hub.billing.services.payments import payment_record
from consortium_hub.core.roles import Role
from consortium_hub.core.testing import factories as f
from consortium_hub.core.testing.queries import api_rows, assert_constant_queries, html_rows
from consortium_hub.directory.models import ContactRole

pytestmark = pytest.mark.django_db

ISSUED_ON = timezone.localdate()  # so invoices are not overdue unless a test says so


def make_invoice(cast: Any, *, issuer: str = Issuer.LEAD, organisation: Any = None, consortium: Any = None,
                 lines: Any = (("ORCID premium membership", "1", "1000.00"),), issue: bool = True,
                 issue_date: dt.date | None = ISSUED_ON, year: int | None = 2026, user: Any = None,
                 tax_rate_percent: Any = None, currency: str | None = None) -> Invoice:
    """A draft (or issued) invoice: the lead's to `organisation` (default Alpha University), or ORCID's to
    the lead of `consortium` (default A). user=None acts as the system, like the billing cycle's commit."""
    if issuer == Issuer.LEAD:
        organisation = organisation or cast.org_a
        consortium = organisation.consortium
    else:
        consortium = consortium or cast.consortium_a
        organisation = None
    invoice = services.invoice_create_manual(
        user=user, issuer=issuer, consortium=consortium, recipient_organisation=organisation, year=year,
        tax_rate_percent=tax_rate_percent, currency=currency,
        lines=[LineInput(description=d, quantity=q, unit_price=p) for d, q, p in lines])
    if issue:
        invoice = services.invoice_issue(user=user, invoice=invoice, issue_date=issue_date)
    return invoice


def add_user(role: str, email: str, **scope: Any) -> Any:
    """A user holding `role` (with TOTP set up when the role requires it, as the cast does)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from consortium_hub.core.roles import MFA_REQUIRED_ROLES

    user = f.UserFactory(email=email)
    f.RoleAssignmentFactory(user=user, role=role, **scope)
    if role in MFA_REQUIRED_ROLES:
        TOTP.activate(user, generate_totp_secret())
    return user


def invoice_contact(org: Any, email: str = "billing@alpha.example") -> Any:
    contact = f.ContactFactory(organisation=org, name="Bill Payer", email=email)
    f.ContactRoleFactory(contact=contact, role=ContactRole.Kind.INVOICE)
    return contact


# --- Numbering --------------------------------------------------------------------------------------

def test_numbers_are_taken_at_issue_gapless_per_issuer_and_year(cast):
    draft = make_invoice(cast, issue=False)
    assert (draft.number, draft.sequence, draft.status) == ("", None, "draft")
    a1 = make_invoice(cast)
    a2 = make_invoice(cast, organisation=cast.org_a2)
    b1 = make_invoice(cast, organisation=cast.org_b)
    orcid1 = make_invoice(cast, issuer=Issuer.ORCID)
    orcid2 = make_invoice(cast, issuer=Issuer.ORCID, consortium=cast.consortium_b)
    a_2027 = make_invoice(cast, year=2027)
    assert [a1.number, a2.number, b1.number] == ["INV-2026-00001", "INV-2026-00002", "INV-2026-00001"]
    assert [orcid1.number, orcid2.number] == ["ORCID-2026-00001", "ORCID-2026-00002"]  # one ORCID sequence
    assert a_2027.number == "INV-2027-00001"
    draft = services.invoice_issue(user=None, invoice=draft, issue_date=ISSUED_ON)
    assert draft.number == "INV-2026-00003"  # issued later, numbered in issue order


def test_a_refused_or_rolled_back_issue_leaves_no_gap(cast):
    make_invoice(cast)
    zero = make_invoice(cast, issue=False, lines=(("Waived", "1", "0"),))
    with pytest.raises(ValidationError, match="Nothing to invoice"):
        services.invoice_issue(user=None, invoice=zero)
    voided = services.invoice_void_draft(user=None, invoice=make_invoice(cast, issue=False))
    assert voided.status == "void" and voided.number == ""
    assert make_invoice(cast).number == "INV-2026-00002"
    assert InvoiceSequence.objects.get(issuer_key=f"lead:{cast.consortium_a.pk}", year=2026).last_number == 2


def test_the_prefix_comes_from_the_issuers_settings(cast):
    from consortium_hub.billing.issuers import settings_for

    s = settings_for(issuer=Issuer.LEAD, consortium=cast.consortium_a)
    s.invoice_prefix = "ALPHA"
    s.save()
    assert make_invoice(cast).number == "ALPHA-2026-00001"


# --- Issuing ----------------------------------------------------------------------------------------

def test_issue_sets_dates_snapshots_and_totals_with_explicit_rounding(cast):
    from consortium_hub.billing.issuers import settings_for

    s = settings_for(issuer=Issuer.LEAD, consortium=cast.consortium_a)
    s.issuer_address, s.issuer_tax_id, s.tax_rate_percent = "1 Lead Street\nLondon", "GB123", Decimal("20")
    s.save()
    invoice = make_invoice(cast, lines=(("Licence", "1", "333.33"), ("Consortium fee", "3", "33.34")))
    assert invoice.status == "issued" and invoice.currency == "GBP"
    assert (invoice.issue_date, invoice.due_date) == (ISSUED_ON, ISSUED_ON + dt.timedelta(days=30))
    assert invoice.subtotal == Decimal("433.35")  # 333.33 + 3 × 33.34
    assert invoice.tax_total == Decimal("86.67")  # 433.35 × 20% = 86.670
    assert invoice.total == invoice.subtotal + invoice.tax_total
    assert "1 Lead Street" in invoice.issuer_details and "GB123" in invoice.issuer_details
    assert "Alpha University" in invoice.recipient_details
    lines = list(invoice.lines.all())
    assert [line.amount for line in lines] == [Decimal("333.33"), Decimal("100.02")]


def test_half_cents_round_half_up_and_floats_are_refused(cast):
    from consortium_hub.core.money import FloatNotAllowed

    invoice = make_invoice(cast, lines=(("Pro rata", "0.5", "0.05"),), tax_rate_percent="0")
    assert invoice.total == Decimal("0.03")  # 0.025 → 0.03
    with pytest.raises(FloatNotAllowed):
        make_invoice(cast, lines=(("Float", "1", 10.5),))


def test_orcid_invoices_the_lead_in_usd_due_after_60_days_with_the_leads_tax_id(cast):
    from consortium_hub.billing.issuers import settings_for

    lead = settings_for(issuer=Issuer.LEAD, consortium=cast.consortium_a)
    lead.issuer_tax_id = "GB-LEAD-1"
    lead.save()
    invoice = make_invoice(cast, issuer=Issuer.ORCID)
    assert (invoice.currency, invoice.recipient_organisation) == ("USD", None)
    assert invoice.due_date == ISSUED_ON + dt.timedelta(days=60)
    assert invoice.recipient_tax_id == "GB-LEAD-1"
    assert "Lead of Consortium A" in invoice.recipient_details and "ORCID, Inc." in invoice.issuer_details


def test_recipients_must_fit_the_issuer(cast):
    with pytest.raises(ValidationError, match="not a member"):
        services.invoice_create_manual(user=None, issuer=Issuer.LEAD, consortium=cast.consortium_a,
                                       recipient_organisation=cast.org_b, lines=[LineInput("x", 1)])
    with pytest.raises(ValidationError, match="lead"):
        services.invoice_create_manual(user=None, issuer=Issuer.ORCID, consortium=cast.consortium_a,
                                       recipient_organisation=cast.org_a, lines=[LineInput("x", 1)])
    with pytest.raises(ValidationError, match="at least one line"):
        services.invoice_create_manual(user=None, issuer=Issuer.LEAD, consortium=cast.consortium_a,
                                       recipient_organisation=cast.org_a, lines=[])


# --- Issued invoices never change ---------------------------------------------------------------------

def test_an_issued_invoice_refuses_edits_reissue_and_voiding(cast):
    invoice = make_invoice(cast)
    with pytest.raises(ValidationError, match="issued documents never change"):
        services.invoice_update_draft(user=None, invoice=invoice, lines=[LineInput("Cheaper", 1, "1.00")])
    with pytest.raises(ValidationError, match="issued documents never change"):
        services.invoice_update_draft(user=None, invoice=invoice, tax_rate_percent="10")
    with pytest.raises(ValidationError, match="already issued"):
        services.invoice_issue(user=None, invoice=invoice)
    with pytest.raises(ValidationError, match="Only drafts"):
        services.invoice_void_draft(user=None, invoice=invoice)
    invoice.refresh_from_db()
    assert invoice.total == Decimal("1000.00") and invoice.number == "INV-2026-00001"
    assert [line.description for line in invoice.lines.all()] == ["ORCID premium membership"]


def test_a_draft_can_be_edited_until_issued(cast):
    draft = make_invoice(cast, issue=False)
    draft = services.invoice_update_draft(user=None, invoice=draft, lines=[LineInput("Basic", 2, "400.00")])
    assert draft.total == Decimal("800.00") and draft.lines.count() == 1


# --- Credit notes -----------------------------------------------------------------------------------

def test_a_full_credit_note_sums_to_zero_has_its_own_number_and_voids_the_invoice(cast):
    from consortium_hub.billing.issuers import settings_for

    s = settings_for(issuer=Issuer.LEAD, consortium=cast.consortium_a)
    s.tax_rate_percent = Decimal("20")
    s.save()
    invoice = make_invoice(cast, lines=(("Licence", "1", "999.99"), ("Fee", "1", "0.01")))
    other = make_invoice(cast, organisation=cast.org_a2)
    note = services.credit_note_create(user=None, invoice=invoice, reason="Billed twice")
    invoice.refresh_from_db()
    assert note.kind == "credit_note" and note.credited_invoice == invoice
    assert note.number == "INV-2026-00003" and other.number == "INV-2026-00002"  # same issuer sequence
    assert note.total + invoice.total == 0 and note.tax_total + invoice.tax_total == 0
    assert [line.amount for line in note.lines.all()] == [Decimal("-999.99"), Decimal("-0.01")]
    assert note.lines.first().description == "Billed twice: Licence"
    assert invoice.status == "void" and balance_due(invoice) == 0
    with pytest.raises(ValidationError):
        payment_record(user=None, invoice=invoice, amount="1.00", received_on=ISSUED_ON)
    with pytest.raises(ValidationError, match="Only issued invoices"):
        services.credit_note_create(user=None, invoice=invoice, reason="again")


def test_a_partial_credit_lowers_the_balance_and_cannot_exceed_what_is_open(cast):
    invoice = make_invoice(cast)
    payment_record(user=None, invoice=invoice, amount="600.00", received_on=ISSUED_ON)
    with pytest.raises(ValidationError, match="more than the £400.00 still open"):
        services.credit_note_create(user=None, invoice=invoice, reason="Discount", lines=[{"amount": "400.01",
                                                                                          "description": "x"}])
    with pytest.raises(ValidationError, match="whole invoice|more than"):
        services.credit_note_create(user=None, invoice=invoice, reason="Cancel")  # full credit > open
    note = services.credit_note_create(user=None, invoice=invoice, reason="Late start",
                                       lines=[{"description": "Two months", "amount": "150.00"}])
    invoice.refresh_from_db()
    assert note.total == Decimal("-150.00") and balance_due(invoice) == Decimal("250.00")
    assert invoice.status == "partially_paid"
    services.credit_note_create(user=None, invoice=invoice, reason="Goodwill", lines=[{"description": "",
                                                                                      "amount": "250.00"}])
    invoice.refresh_from_db()
    assert invoice.status == "paid" and balance_due(invoice) == 0


def test_credit_notes_cannot_be_credited_and_drafts_cannot_be_credited(cast):
    invoice = make_invoice(cast)
    note = services.credit_note_create(user=None, invoice=invoice, reason="x", lines=[{"description": "a",
                                                                                        "amount": "1.00"}])
    with pytest.raises(ValidationError, match="cannot itself be credited"):
        services.credit_note_create(user=None, invoice=note, reason="y")
    with pytest.raises(ValidationError, match="Only issued"):
        services.credit_note_create(user=None, invoice=make_invoice(cast, issue=False), reason="y")
    with pytest.raises(ValidationError, match="Say why"):
        services.credit_note_create(user=None, invoice=invoice, reason="  ")


# --- Access in services ------------------------------------------------------------------------------

def test_services_check_the_issuers_grant(cast):
    with pytest.raises(PermissionDenied):
        make_invoice(cast, user=cast["member_contact_a"], issue=False)
    with pytest.raises(PermissionDenied):
        make_invoice(cast, user=cast["lead_admin_b"], issue=False)
    with pytest.raises(PermissionDenied):  # the lead's own admins cannot bill on ORCID's behalf
        make_invoice(cast, issuer=Issuer.ORCID, user=cast["lead_admin_a"], issue=False)
    invoice = make_invoice(cast, user=cast["lead_admin_a"])
    for who in ("member_contact_a", "lead_support_a", "lead_admin_b", "engagement_lead"):
        with pytest.raises(PermissionDenied):
            payment_record(user=cast[who], invoice=invoice, amount="1.00", received_on=ISSUED_ON)
        with pytest.raises(PermissionDenied):
            services.credit_note_create(user=cast[who], invoice=invoice, reason="x")
    orcid_finance = add_user(Role.ORCID_FINANCE, "finance@orcid.example")
    assert make_invoice(cast, issuer=Issuer.ORCID, user=orcid_finance).number == "ORCID-2026-00001"


# --- Visibility -------------------------------------------------------------------------------------

def _visible_numbers(user: Any) -> set[str]:
    from consortium_hub.billing.selectors.invoices import invoice_list

    return {i.number or f"draft-{i.pk}" for i in invoice_list(user=user)}


def test_who_sees_which_invoice(cast):
    a = make_invoice(cast)
    a2 = make_invoice(cast, organisation=cast.org_a2)
    b = make_invoice(cast, organisation=cast.org_b)
    orcid_a = make_invoice(cast, issuer=Issuer.ORCID)
    draft = make_invoice(cast, issue=False)
    lead_finance_a = add_user(Role.LEAD_FINANCE, "finance@lead-a.example", consortium=cast.consortium_a)
    orcid_finance = add_user(Role.ORCID_FINANCE, "finance@orcid.example")
    d = f"draft-{draft.pk}"
    assert _visible_numbers(cast["member_contact_a"]) == {a.number}  # own organisation, issued only
    assert _visible_numbers(cast["lead_admin_a"]) == {a.number, a2.number, d}
    assert _visible_numbers(lead_finance_a) == {a.number, a2.number, d, orcid_a.number}
    assert _visible_numbers(cast["lead_admin_b"]) == {b.number}
    assert _visible_numbers(cast["lead_support_a"]) == set()
    assert _visible_numbers(cast["engagement_lead"]) == set()
    assert _visible_numbers(orcid_finance) == {a.number, a2.number, b.number, orcid_a.number}
    assert _visible_numbers(cast["orcid_admin"]) == {a.number, a2.number, b.number, orcid_a.number, d}


def test_orcids_invoice_to_the_lead_is_hidden_from_members_lead_support_and_lead_admins(cast, client_for):
    orcid_a = make_invoice(cast, issuer=Issuer.ORCID)
    lead_finance_a = add_user(Role.LEAD_FINANCE, "finance@lead-a.example", consortium=cast.consortium_a)
    for who in ("member_contact_a", "lead_support_a", "lead_admin_a", "lead_admin_b"):
        for name in ("billing:invoice_detail", "billing:invoice_pdf"):
            response = client_for(cast[who]).get(reverse(name, args=[orcid_a.pk]))
            assert response.status_code == 404, (who, name)
    assert client_for(lead_finance_a).get(reverse("billing:invoice_detail", args=[orcid_a.pk])).status_code == 200
    assert client_for(lead_finance_a).get(reverse("billing:payment_create", args=[orcid_a.pk])).status_code == 403


def test_a_member_sees_its_invoices_list_but_not_the_other_members(cast, client_for):
    a = make_invoice(cast)
    a2 = make_invoice(cast, organisation=cast.org_a2)
    response = client_for(cast["member_contact_a"]).get(reverse("billing:invoice_list"))
    assert response.status_code == 200
    assert a.number.encode() in response.content and b"Alpha Institute" not in response.content
    assert client_for(cast["member_contact_a"]).get(reverse("billing:invoice_detail", args=[a2.pk])).status_code == 404
    response = client_for(cast["lead_admin_b"]).get(reverse("billing:invoice_list"))
    assert a.number.encode() not in response.content and b"Alpha" not in response.content


# --- Pages ------------------------------------------------------------------------------------------

def test_invoice_list_filters_and_totals_per_currency(cast, client_for):
    make_invoice(cast)
    make_invoice(cast, organisation=cast.org_a2, lines=(("Fee", "1", "500.00"),))
    make_invoice(cast, organisation=cast.org_a2, currency="EUR", lines=(("Fee", "1", "70.00"),))
    client = client_for(cast["orcid_admin"])
    response = client.get(reverse("billing:invoice_list"))
    assert response.status_code == 200
    totals = {t["currency"]: t for t in response.context["currency_totals"]}
    assert totals["GBP"]["total"] == Decimal("1500.00") and totals["GBP"]["count"] == 2
    assert totals["EUR"]["balance_due"] == Decimal("70.00")
    assert "£1,500.00" in response.content.decode()
    response = client.get(reverse("billing:invoice_list"), {"currency": "eur"})
    assert [t["currency"] for t in response.context["currency_totals"]] == ["EUR"]
    response = client.get(reverse("billing:invoice_list"), {"status": "draft"})
    assert response.context["currency_totals"] == []


def test_create_issue_and_void_from_the_pages(cast, client_for, django_capture_on_commit_callbacks):
    invoice_contact(cast.org_a)
    client = client_for(cast["lead_admin_a"])
    assert client.get(reverse("billing:invoice_create")).status_code == 200
    data = {"issuer": "lead", "recipient_organisation": cast.org_a.pk, "year": 2026, "currency": "",
            "lines-TOTAL_FORMS": 2, "lines-INITIAL_FORMS": 0, "lines-MIN_NUM_FORMS": 1, "lines-MAX_NUM_FORMS": 50,
            "lines-0-description": "Premium membership", "lines-0-quantity": "1", "lines-0-unit_price": "1200.00",
            "lines-1-description": "", "lines-1-quantity": "1", "lines-1-unit_price": ""}
    response = client.post(reverse("billing:invoice_create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    draft = Invoice.objects.get(total=Decimal("1200.00"))
    assert draft.status == "draft"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing:invoice_issue", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.number.startswith("INV-") and draft.status == "issued"
    assert [m.to for m in mail.outbox] == [["billing@alpha.example"]]
    other = make_invoice(cast, issue=False)
    assert client.get(reverse("billing:invoice_void", args=[other.pk])).status_code == 200
    assert client.post(reverse("billing:invoice_void", args=[other.pk])).status_code == 302
    other.refresh_from_db()
    assert other.status == "void"
    response = client.get(reverse("billing:invoice_detail", args=[draft.pk]))
    assert response.status_code == 200 and b"Premium membership" in response.content
    response = client.get(reverse("billing:invoice_history", args=[draft.pk]))
    assert response.status_code == 200 and b"Premium membership" in response.content  # the line's creation


def test_credit_note_page(cast, client_for, django_capture_on_commit_callbacks):
    invoice = make_invoice(cast)
    client = client_for(cast["lead_admin_a"])
    assert client.get(reverse("billing:credit_note_create", args=[invoice.pk])).status_code == 200
    response = client.post(reverse("billing:credit_note_create", args=[invoice.pk]),
                           {"amount": "100.00", "description": "Late start", "reason": "Joined in February"})
    assert response.status_code == 302
    note = Invoice.objects.get(kind="credit_note")
    assert response["Location"] == reverse("billing:invoice_detail", args=[note.pk])
    response = client.post(reverse("billing:credit_note_create", args=[invoice.pk]),
                           {"full": "on", "reason": "Cancel"})
    assert response.status_code == 200 and "more than the £900.00 still open" in response.content.decode()
    page = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert note.number in page and "£900.00" in page


# --- API --------------------------------------------------------------------------------------------

def test_api_issue_credit_and_pay(cast, api_for, django_capture_on_commit_callbacks):
    api = api_for(cast["lead_admin_a"])
    response = api.post(reverse("api:invoice-list"), {
        "issuer": "lead", "consortium": cast.consortium_a.pk, "recipient_organisation": cast.org_a.pk, "year": 2026,
        "lines": [{"description": "Licence", "quantity": "1", "unit_price": "1000.00"}]}, format="json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["status"] == "draft" and response.json()["number"] == ""
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(reverse("api:invoice-issue", args=[pk]), {}, format="json")
    assert response.status_code == 200 and response.json()["number"] == "INV-2026-00001"
    assert response.json()["due_date"] == (ISSUED_ON + dt.timedelta(days=30)).isoformat()
    response = api.post(reverse("api:invoice-pay", args=[pk]),
                        {"amount": "250.00", "received_on": ISSUED_ON.isoformat(), "reference": "BACS 1"}, format="json")
    assert response.status_code == 201 and response.json()["amount"] == "250.000"
    response = api.post(reverse("api:invoice-pay", args=[pk]), {"amount": "900", "received_on": ISSUED_ON.isoformat()},
                        format="json")
    assert response.status_code == 400 and "more than the £750.00 still due" in str(response.json())
    response = api.post(reverse("api:invoice-credit", args=[pk]),
                        {"reason": "Discount", "lines": [{"description": "Early bird", "amount": "50"}]}, format="json")
    assert response.status_code == 201 and response.json()["total"] == "-50.000"
    detail = api.get(reverse("api:invoice-detail", args=[pk])).json()
    assert (detail["status"], detail["balance_due"], detail["credited"]) == ("partially_paid", "700.000", "-50.000")
    assert api_for(cast["member_contact_a"]).get(reverse("api:invoice-detail", args=[pk])).status_code == 200
    assert api_for(cast["member_contact_a"]).post(reverse("api:invoice-pay", args=[pk]), {}).status_code == 403
    assert api_for(cast["lead_admin_b"]).get(reverse("api:invoice-detail", args=[pk])).status_code == 404
    payments = api_for(cast["member_contact_a"]).get(reverse("api:payment-list")).json()
    assert [p["reference"] for p in payments["results"]] == ["BACS 1"]
    assert api_for(cast["lead_admin_b"]).get(reverse("api:payment-list")).json()["results"] == []


# --- Query counts -----------------------------------------------------------------------------------

def _add_invoices(cast: Any, n: int) -> None:
    from consortium_hub.billing.models import Payment

    for i in range(n):
        invoice = make_invoice(cast, organisation=cast.org_a if i % 2 else cast.org_a2,
                               issue_date=dt.date(2026, 1, 5))
        Payment.objects.create(invoice=invoice, amount=Decimal("1.00"), received_on=dt.date(2026, 1, 6))
        if i % 5 == 0:
            services.credit_note_create(user=None, invoice=invoice, reason="Fix",
                                        lines=[{"description": "", "amount": "10.00"}])


@pytest.mark.parametrize("who", ["orcid_admin", "lead_admin_a"])
def test_invoice_list_queries_do_not_grow_with_rows(cast, client_for, who):
    client = client_for(cast[who])
    assert_constant_queries(lambda n: _add_invoices(cast, n), lambda: client.get(reverse("billing:invoice_list")),
                            shown=html_rows, few=5, many=50)


def test_overdue_list_queries_do_not_grow_with_rows(cast, client_for):
    client = client_for(cast["lead_admin_a"])
    assert_constant_queries(lambda n: _add_invoices(cast, n), lambda: client.get(reverse("billing:overdue_list")),
                            shown=html_rows, few=5, many=50)


@pytest.mark.parametrize("route", ["api:invoice-list", "api:payment-list"])
def test_api_list_queries_do_not_grow_with_rows(cast, api_for, route):
    api = api_for(cast["lead_admin_a"])
    assert_constant_queries(lambda n: _add_invoices(cast, n), lambda: api.get(reverse(route)),
                            shown=api_rows, few=5, many=50)
