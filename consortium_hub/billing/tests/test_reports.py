"""Receivables by age (page, chart, CSV, API) and member statements (page, CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from consortium_hub.billing.models import Issuer
from consortium_hub.billing.selectors.reports import bucket_for, receivables
from consortium_hub.billing.services.invoices import credit_note_create
from consortium_hub.billing.services.payments import payment_record
from consortium_hub.billing.tests.test_invoices import _add_invoices, make_invoice
from consortium_hub.core.testing.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def due_days_ago(cast, days: int, amount: str, **kwargs):
    """A lead invoice (due 30 days after issue) whose due date was `days` ago (negative: still to come)."""
    return make_invoice(cast, issue_date=TODAY - dt.timedelta(days=30 + days), lines=(("Fee", "1", amount),),
                        **kwargs)


@pytest.fixture
def ageing(cast):
    due_days_ago(cast, -30, "100.00")  # issued today: not yet due
    due_days_ago(cast, 0, "200.00")  # due today: 0 days past due
    due_days_ago(cast, 30, "300.00", organisation=cast.org_a2)
    partly = due_days_ago(cast, 31, "1000.00")
    payment_record(user=None, invoice=partly, amount="250.00", received_on=TODAY)
    credited = due_days_ago(cast, 61, "400.00", organisation=cast.org_a2)
    credit_note_create(user=None, invoice=credited, reason="Discount", lines=[{"description": "", "amount": "40"}])
    due_days_ago(cast, 90, "500.00")
    due_days_ago(cast, 91, "600.00")
    paid = due_days_ago(cast, 100, "700.00")
    payment_record(user=None, invoice=paid, amount="700.00", received_on=TODAY)
    make_invoice(cast, issue=False)  # drafts are not receivables
    make_invoice(cast, issuer=Issuer.ORCID, issue_date=TODAY - dt.timedelta(days=100))  # USD, due 40 days ago
    make_invoice(cast, organisation=cast.org_b, issue_date=TODAY, lines=(("Fee", "1", "80.00"),))  # AUD


def test_buckets_by_days_past_due():
    assert [bucket_for(d) for d in (-1, 0, 30, 31, 60, 61, 90, 91)] == [
        "not_due", "days_0_30", "days_0_30", "days_31_60", "days_31_60", "days_61_90", "days_61_90", "days_over_90"]


def test_receivables_per_issuer_consortium_and_currency_by_age(cast, ageing):
    report = receivables(user=cast["orcid_admin"], today=TODAY)
    rows = {(r.issuer, r.consortium, r.currency): r for r in report.rows}
    assert list(rows) == [("orcid", "Consortium A", "USD"), ("lead", "Consortium A", "GBP"),
                          ("lead", "Consortium B", "AUD")]
    gbp = rows[("lead", "Consortium A", "GBP")]
    assert gbp.amounts == {"not_due": Decimal("100.00"), "days_0_30": Decimal("500.00"),
                           "days_31_60": Decimal("750.00"), "days_61_90": Decimal("860.00"),
                           "days_over_90": Decimal("600.00")}
    assert gbp.total == Decimal("2810.00") and gbp.invoices == 7 and gbp.past_due == Decimal("2710.00")
    assert rows[("orcid", "Consortium A", "USD")].amounts["days_31_60"] == Decimal("1000.00")
    assert [t.currency for t in report.totals] == ["AUD", "GBP", "USD"]


def test_a_lead_sees_only_its_consortium_and_a_member_only_its_own(cast, ageing):
    lead_a = receivables(user=cast["lead_admin_a"], today=TODAY)
    assert [(r.issuer, r.consortium) for r in lead_a.rows] == [("lead", "Consortium A")]  # not ORCID's to it
    lead_b = receivables(user=cast["lead_admin_b"], today=TODAY)
    assert [(r.consortium, r.total) for r in lead_b.rows] == [("Consortium B", Decimal("80.00"))]
    member = receivables(user=cast["member_contact_a"], today=TODAY)
    assert member.rows[0].total == Decimal("100.00") + 200 + 750 + 500 + 600  # Alpha University's own
    assert receivables(user=cast["lead_support_a"], today=TODAY).rows == []


def test_receivables_page_has_a_chart_and_a_table_with_the_same_numbers(cast, ageing, client_for):
    response = client_for(cast["lead_admin_a"]).get(reverse("billing:receivables"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<svg") == 1 and 'role="img"' in page and "<script" not in page.split("<main", 1)[1]
    assert "Receivables in GBP by age" in page
    svg = page[page.index("<svg"):page.index("</svg>")]
    table = page[page.index("</svg>"):]
    for shown in ("£100.00", "£500.00", "£750.00", "£860.00", "£600.00"):
        assert shown in svg and shown in table
    assert "Consortium B" not in page and "US$" not in page
    filtered = client_for(cast["orcid_admin"]).get(reverse("billing:receivables"), {"currency": "usd"})
    assert [r.currency for r in filtered.context["report"].rows] == ["USD"]


def test_receivables_csv(cast, ageing, client_for):
    response = client_for(cast["orcid_admin"]).get(reverse("billing:receivables_csv"), {"issuer": "lead"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["issuer", "consortium", "currency", "invoices", "not_due", "days_0_30", "days_31_60",
                       "days_61_90", "days_over_90", "total"]
    assert rows[1] == ["lead", "Consortium A", "GBP", "7", "100.00", "500.00", "750.00", "860.00", "600.00",
                       "2810.00"]
    assert rows[2] == ["lead", "Consortium B", "AUD", "1", "80.00", "0.00", "0.00", "0.00", "0.00", "80.00"]
    assert len(rows) == 3


def test_receivables_api(cast, ageing, api_for):
    data = api_for(cast["lead_admin_a"]).get(reverse("api:receivables-list")).json()
    assert data["buckets"] == ["not_due", "days_0_30", "days_31_60", "days_61_90", "days_over_90"]
    assert [(r["consortium_name"], r["currency"], r["days_61_90"]) for r in data["rows"]] == [
        ("Consortium A", "GBP", "860.00")]
    assert api_for(cast["lead_support_a"]).get(reverse("api:receivables-list")).status_code == 403
    assert api_for(cast["lead_admin_b"]).get(reverse("api:receivables-list")).json()["rows"][0]["currency"] == "AUD"


def test_receivables_queries_do_not_grow_with_rows(cast, client_for, api_for):
    client, api = client_for(cast["orcid_admin"]), api_for(cast["orcid_admin"])

    def shown(response):  # each invoice adds to the counts in the table
        return int(response.context["report"].rows[0].invoices)

    assert_constant_queries(lambda n: _add_invoices(cast, n), lambda: client.get(reverse("billing:receivables")),
                            shown=shown, few=5, many=50)
    assert_constant_queries(lambda n: _add_invoices(cast, n), lambda: api.get(reverse("api:receivables-list")),
                            shown=lambda r: r.json()["rows"][0]["invoices"], few=5, many=50)


# --- Statements -------------------------------------------------------------------------------------

@pytest.fixture
def history(cast):
    invoice = make_invoice(cast, issue_date=TODAY - dt.timedelta(days=20))
    payment_record(user=None, invoice=invoice, amount="400.00", received_on=TODAY - dt.timedelta(days=10),
                   reference="BACS 77")
    credit_note_create(user=None, invoice=invoice, reason="Late start", lines=[{"description": "", "amount": "100"}],
                       issue_date=TODAY)
    make_invoice(cast, currency="EUR", lines=(("Workshop", "1", "50.00"),))
    make_invoice(cast, organisation=cast.org_a2)  # another member's
    make_invoice(cast, issue=False)  # a draft
    return invoice


def test_statement_lists_documents_and_payments_with_running_balances_per_currency(cast, history, client_for):
    response = client_for(cast["member_contact_a"]).get(reverse("billing:statement", args=[cast.org_a.pk]))
    assert response.status_code == 200
    statement = response.context["statement"]
    gbp = statement.entries["GBP"]
    assert [(e.kind, e.debit, e.credit, e.balance) for e in gbp] == [
        ("invoice", Decimal("1000.00"), 0, Decimal("1000.00")),
        ("payment", 0, Decimal("400.00"), Decimal("600.00")),
        ("credit_note", 0, Decimal("100.00"), Decimal("500.00"))]
    assert statement.balances == {"EUR": Decimal("50.00"), "GBP": Decimal("500.00")}
    page = response.content.decode()
    assert "BACS 77" in page and "£500.00" in page and "€50.00" in page
    assert "INV-2026-00004" not in page  # Alpha Institute's invoice


def test_statement_csv_and_access(cast, history, client_for):
    response = client_for(cast["lead_admin_a"]).get(reverse("billing:statement_csv", args=[cast.org_a.pk]),
                                                    {"currency": "GBP"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["currency", "date", "type", "document", "description", "debit", "credit", "balance"]
    assert [(r[2], r[5], r[6], r[7]) for r in rows[1:]] == [("invoice", "1000.00", "", "1000.00"),
                                                             ("payment", "", "400.00", "600.00"),
                                                             ("credit_note", "", "100.00", "500.00")]
    url = reverse("billing:statement", args=[cast.org_a.pk])
    assert client_for(cast["lead_admin_b"]).get(url).status_code == 404
    assert client_for(cast["lead_support_a"]).get(url).status_code == 403
    assert client_for(cast["member_contact_a"]).get(reverse("billing:statement", args=[cast.org_a2.pk])
                                                    ).status_code == 404
