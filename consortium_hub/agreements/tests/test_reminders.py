"""Renewal reminders: each offset once, whatever the scheduler does, to the main and invoice contacts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core import mail
from django.utils import timezone

from consortium_hub.agreements.models import Agreement
from consortium_hub.agreements.services.reminders import (
    catch_up_renewal_reminders,
    plan_reminders,
    send_renewal_reminders,
)
from consortium_hub.agreements.services.renewals import renewal_decide
from consortium_hub.agreements.tests.conftest import lead_agreement, member_agreement, new_member
from consortium_hub.billing.issuers import settings_for
from consortium_hub.core.testing import factories as f
from consortium_hub.directory.models import ContactRole

pytestmark = pytest.mark.django_db

# The agreement runs through 2026; default offsets 60 and 30 days before the end, 7 days after.
DAY_60, DAY_30, DAY_AFTER = dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2027, 1, 7)


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def _recorded_on(agreement: Agreement, day: dt.date) -> Agreement:
    """Pretend the agreement was recorded on `day` (created_at is set by the database)."""
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(9)))
    Agreement.objects.filter(pk=agreement.pk).update(created_at=at)
    agreement.refresh_from_db()
    return agreement


@pytest.fixture
def agreement(cast) -> Agreement:
    """Alpha University's agreement for 2026, recorded in 2025; Alpha has a main (Ann, also voting), an
    invoice and a technical contact."""
    invoice = f.ContactFactory(organisation=cast.org_a, name="Ivy Invoice", email="ivy@alpha.example")
    f.ContactRoleFactory(contact=invoice, role=ContactRole.Kind.INVOICE)
    tech = f.ContactFactory(organisation=cast.org_a, name="Tom Tech", email="tom@alpha.example")
    f.ContactRoleFactory(contact=tech, role=ContactRole.Kind.TECHNICAL)
    return _recorded_on(member_agreement(cast), dt.date(2025, 12, 1))


def _run(django_capture_on_commit_callbacks, fn, **kwargs) -> list:
    before = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        fn(**kwargs)
    return mail.outbox[before:]


def test_each_offset_goes_once_on_its_day_even_when_the_scheduler_runs_twice(cast, agreement,
                                                                             django_capture_on_commit_callbacks):
    sent: list[tuple[dt.date, str]] = []
    for day in _days(dt.date(2026, 10, 20), dt.date(2027, 1, 20)):
        for _run_twice in range(2):
            for message in _run(django_capture_on_commit_callbacks, catch_up_renewal_reminders, today=day):
                sent.append((day, message.subject))
        # A second scheduler that ignores the catch-up marker and calls the service directly.
        for message in _run(django_capture_on_commit_callbacks, send_renewal_reminders, today=day):
            sent.append((day, message.subject))
    assert [day for day, _ in sent] == [DAY_60, DAY_30, DAY_AFTER]
    assert "ends in 60 days (Alpha University)" in sent[0][1]
    assert "ends in 30 days" in sent[1][1]
    assert "has ended" in sent[2][1]


def test_a_scheduler_that_missed_three_days_sends_the_missed_reminder_once(cast, agreement,
                                                                           django_capture_on_commit_callbacks):
    assert _run(django_capture_on_commit_callbacks, catch_up_renewal_reminders, today=dt.date(2026, 10, 31)) == []
    # Down on 1, 2 and 3 November (the 60-day reminder's day is the 1st); back on the 4th.
    late = _run(django_capture_on_commit_callbacks, catch_up_renewal_reminders, today=dt.date(2026, 11, 4))
    assert len(late) == 1 and "60 days" in late[0].subject
    for day in _days(dt.date(2026, 11, 4), dt.date(2026, 11, 30)):
        assert _run(django_capture_on_commit_callbacks, catch_up_renewal_reminders, today=day) == []
        assert _run(django_capture_on_commit_callbacks, send_renewal_reminders, today=day) == []
    assert len(_run(django_capture_on_commit_callbacks, catch_up_renewal_reminders, today=DAY_30)) == 1


def test_recipients_are_the_main_and_invoice_contacts(cast, agreement, django_capture_on_commit_callbacks):
    [message] = _run(django_capture_on_commit_callbacks, send_renewal_reminders, today=DAY_60)
    assert sorted(message.to) == ["ann@alpha.example", "ivy@alpha.example"]  # not the technical contact
    assert "Alpha University and Consortium A runs from 2026-01-01 to 2026-12-31" in message.body
    assert "Notice of a change or termination is due by 2026-10-02" in message.body  # 90 days' notice
    assert f"/agreements/{agreement.pk}/" in message.body


def test_when_several_were_missed_only_the_latest_goes(cast, agreement, django_capture_on_commit_callbacks):
    """Switched on (or back) after both the 60- and 30-day days: one reminder, the 30-day one, never the 60."""
    first = _run(django_capture_on_commit_callbacks, send_renewal_reminders, today=dt.date(2026, 12, 5))
    assert len(first) == 1 and "30 days" in first[0].subject
    later = []
    for day in _days(dt.date(2026, 12, 5), dt.date(2027, 1, 31)):
        later += _run(django_capture_on_commit_callbacks, send_renewal_reminders, today=day)
    assert len(later) == 1 and "has ended" in later[0].subject


def test_no_reminder_for_a_day_before_the_agreement_was_recorded(cast, django_capture_on_commit_callbacks):
    agreement = _recorded_on(member_agreement(cast), dt.date(2026, 11, 15))  # after the 60-day day
    sent = []
    for day in _days(dt.date(2026, 11, 15), dt.date(2027, 1, 10)):
        sent += [(day, m.subject) for m in _run(django_capture_on_commit_callbacks, send_renewal_reminders, today=day)]
    assert [day for day, _ in sent] == [DAY_30, DAY_AFTER]
    assert agreement.pk


def test_decided_inactive_and_lead_agreements_get_none(cast, django_capture_on_commit_callbacks):
    decided = _recorded_on(member_agreement(cast), dt.date(2025, 1, 1))
    renewal_decide(user=cast["lead_admin_a"], agreement=decided, decision="renew")
    other = new_member(cast.consortium_a, "Gamma College")
    f.ContactRoleFactory(contact=f.ContactFactory(organisation=other.organisation), role=ContactRole.Kind.MAIN)
    _recorded_on(member_agreement(cast, other, status=Agreement.Status.DRAFT), dt.date(2025, 1, 1))
    _recorded_on(lead_agreement(cast, start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31)), dt.date(2025, 1, 1))
    for day in (DAY_60, DAY_30, DAY_AFTER):
        assert _run(django_capture_on_commit_callbacks, send_renewal_reminders, today=day) == []


def test_offsets_come_from_the_leads_billing_settings(cast, agreement, django_capture_on_commit_callbacks):
    lead_settings = settings_for(issuer="lead", consortium=cast.consortium_a)
    lead_settings.renewal_reminder_days = [45, "not a number"]
    lead_settings.save()
    sent = []
    for day in _days(dt.date(2026, 10, 1), dt.date(2027, 1, 31)):
        sent += [day for _ in _run(django_capture_on_commit_callbacks, send_renewal_reminders, today=day)]
    assert sent == [dt.date(2026, 11, 16)]


def test_a_member_without_main_or_invoice_contact_is_reminded_once_someone_can_receive_it(
        cast, django_capture_on_commit_callbacks):
    other = new_member(cast.consortium_a, "Gamma College")
    _recorded_on(member_agreement(cast, other), dt.date(2025, 12, 1))
    assert _run(django_capture_on_commit_callbacks, send_renewal_reminders, today=DAY_60) == []
    contact = f.ContactFactory(organisation=other.organisation, email="gina@gamma.example")
    f.ContactRoleFactory(contact=contact, role=ContactRole.Kind.INVOICE)
    [message] = _run(django_capture_on_commit_callbacks, send_renewal_reminders, today=DAY_60 + dt.timedelta(days=1))
    assert message.to == ["gina@gamma.example"] and "60 days" in message.subject


@pytest.mark.parametrize(("today", "claimed", "expected"), [
    (dt.date(2026, 10, 31), [], (None, [])),
    (DAY_60, [], (60, [])),
    (dt.date(2026, 12, 2), [], (30, [60])),
    (dt.date(2026, 12, 2), [60], (30, [])),
    (dt.date(2026, 12, 2), [30], (None, [60])),  # a stale earlier offset never goes after a later one
    (DAY_AFTER, [60, 30, -7], (None, [])),
])
def test_plan_reminders(today, claimed, expected):
    assert plan_reminders(end_date=dt.date(2026, 12, 31), created_on=dt.date(2025, 12, 1), offsets=[60, 30, -7],
                          today=today, claimed=claimed) == expected


def test_the_hourly_job_is_thin_and_runs(cast, agreement):
    from consortium_hub.agreements.tasks import send_renewal_reminders as task

    task.call_local()
