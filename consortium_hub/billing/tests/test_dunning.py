"""Overdue follow-up: status → overdue, each reminder level exactly once (scheduler ran twice, missed days)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from consortium_hub.billing.issuers import settings_for
from consortium_hub.billing.models import Invoice, Issuer
from consortium_hub.billing.services import dunning
from consortium_hub.billing.services.payments import payment_record
from consortium_hub.billing.tests.test_invoices import add_user, invoice_contact, make_invoice
from consortium_hub.core.roles import Role

pytestmark = pytest.mark.django_db

ISSUED = dt.date(2026, 1, 1)
DUE = ISSUED + dt.timedelta(days=30)  # the lead's default due days


def day(n: int) -> dt.date:
    return DUE + dt.timedelta(days=n)


@pytest.fixture
def overdue(cast):
    invoice_contact(cast.org_a)
    return make_invoice(cast, issue_date=ISSUED)


def _run(capture, today: dt.date) -> list[tuple[int, int]]:
    with capture(execute=True):
        return dunning.catch_up_dunning(today=today)


def _reminders() -> list[str]:
    return [m.subject for m in mail.outbox]


def test_each_level_is_sent_exactly_once_even_when_the_scheduler_runs_twice(
        cast, overdue, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    assert _run(capture, day(0)) == []  # due today: not yet overdue
    assert Invoice.objects.get(pk=overdue.pk).status == "issued"
    assert _run(capture, day(1)) == []
    assert Invoice.objects.get(pk=overdue.pk).status == "overdue"
    assert _run(capture, day(7)) == [(overdue.pk, 1)]
    assert _run(capture, day(7)) == []  # the scheduler ran twice on the same day
    with capture(execute=True):
        assert dunning.run_day(day=day(7)) == []  # even a second worker doing the same day claims nothing
    assert _run(capture, day(30)) == [(overdue.pk, 2)]
    assert _run(capture, day(60)) == [(overdue.pk, 3)]
    assert _run(capture, day(200)) == []
    assert len(_reminders()) == 3
    assert _reminders()[0] == "Reminder: invoice INV-2026-00001 from Consortium A is overdue"
    assert _reminders()[2].startswith("Final reminder")
    first = mail.outbox[0]
    assert first.to == ["billing@alpha.example"]
    assert "7 days overdue" in first.body and "Reminder 1 of 3" in first.body and "£1,000.00" in first.body
    assert first.attachments[0][0] == "INV-2026-00001.pdf" and first.attachments[0][2] == "application/pdf"


def test_missed_days_are_caught_up_and_the_level_is_sent_once(cast, overdue, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    assert _run(capture, day(5)) == []
    # The scheduler did not run on days 6, 7 and 8; on day 9 it works through them.
    assert _run(capture, day(9)) == [(overdue.pk, 1)]
    assert _run(capture, day(9)) == []
    assert _run(capture, day(10)) == []
    assert len(mail.outbox) == 1
    assert "7 days overdue" in mail.outbox[0].body  # sent for the day it was due, on the catch-up run


def test_the_first_run_over_old_invoices_sends_only_the_highest_level_reached(
        cast, overdue, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    assert _run(capture, day(45)) == [(overdue.pk, 2)]  # levels 1 and 2 claimed, only 2 sent
    assert _run(capture, day(61)) == [(overdue.pk, 3)]
    assert [m.body.count("Reminder 2 of 3") for m in mail.outbox] == [1, 0]


def test_paid_and_credited_invoices_get_no_reminders(cast, overdue, django_capture_on_commit_callbacks):
    from consortium_hub.billing.services.invoices import credit_note_create

    capture = django_capture_on_commit_callbacks
    payment_record(user=None, invoice=overdue, amount="1000", received_on=ISSUED)
    credited = make_invoice(cast, organisation=cast.org_a2, issue_date=ISSUED)
    credit_note_create(user=None, invoice=credited, reason="Cancelled")
    partly = make_invoice(cast, issue_date=ISSUED)
    payment_record(user=None, invoice=partly, amount="400", received_on=ISSUED)
    assert _run(capture, day(7)) == [(partly.pk, 1)]
    assert Invoice.objects.get(pk=overdue.pk).status == "paid"
    assert Invoice.objects.get(pk=credited.pk).status == "void"
    assert Invoice.objects.get(pk=partly.pk).status == "overdue"
    assert "Still to pay: £600.00" in mail.outbox[0].body


def test_a_reminder_claimed_but_paid_before_it_was_sent_is_skipped(cast, overdue):
    assert dunning.run_day(day=day(8)) == [(overdue.pk, 1)]  # claimed; the job has not run (no commit)
    payment_record(user=None, invoice=overdue, amount="1000", received_on=ISSUED)
    assert dunning.send_reminder(invoice_id=overdue.pk, level=1, day=day(8)) == 0


def test_levels_follow_the_issuers_settings_and_orcid_reminds_the_leads_finance_staff(
        cast, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    orcid = settings_for(issuer=Issuer.ORCID, consortium=None)
    orcid.dunning_days = [3]
    orcid.save()
    add_user(Role.LEAD_FINANCE, "finance@lead-a.example", consortium=cast.consortium_a)
    invoice = make_invoice(cast, issuer=Issuer.ORCID, issue_date=ISSUED)  # due after 60 days
    orcid_due = ISSUED + dt.timedelta(days=60)
    assert _run(capture, orcid_due + dt.timedelta(days=2)) == []
    assert _run(capture, orcid_due + dt.timedelta(days=3)) == [(invoice.pk, 1)]
    assert _run(capture, orcid_due + dt.timedelta(days=90)) == []
    assert [m.to for m in mail.outbox] == [["finance@lead-a.example"]]
    assert mail.outbox[0].subject.startswith("Final reminder")  # the only level is the last


def test_the_overdue_list_shows_what_is_past_due_and_unpaid(cast, overdue, client_for):
    fresh = make_invoice(cast, organisation=cast.org_a2)
    b = make_invoice(cast, organisation=cast.org_b, issue_date=ISSUED)
    response = client_for(cast["lead_admin_a"]).get(reverse("billing:overdue_list"))
    assert response.status_code == 200
    numbers = [i.number for i in response.context["objects"]]
    assert numbers == [overdue.number] and fresh.number not in numbers and b.pk not in [i.pk for i in
                                                                                        response.context["objects"]]
    assert "£1,000.00" in response.content.decode()
    member = client_for(cast["member_contact_a"]).get(reverse("billing:overdue_list"))
    assert [i.pk for i in member.context["objects"]] == [overdue.pk]


def test_dunning_days_are_validated_on_the_settings_service(cast):
    from django.core.exceptions import ValidationError

    from consortium_hub.billing.services.billing_settings import billing_settings_update

    row = settings_for(issuer=Issuer.LEAD, consortium=cast.consortium_a)
    common = {"user": cast["lead_admin_a"], "billing_settings": row, "issuer_name": "Alpha", "invoice_prefix": "INV",
              "due_days": 30, "tax_rate_percent": 0}
    for days in ([30, 7], [7, 7], [0], [1, 2, 3, 4, 5, 6, 7]):
        with pytest.raises(ValidationError):
            billing_settings_update(dunning_days=days, **common)
    assert billing_settings_update(dunning_days=[14, 45], **common).dunning_days == [14, 45]
    assert dunning.levels_of(["7", 30, "x", -1, 7]) == [7, 30]
