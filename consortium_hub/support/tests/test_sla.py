"""Support SLAs: deadlines computed by hand, pauses, warnings and breaches, the report, access, query counts.

Calendars are Mon-Fri 09:00-17:00 unless a test says otherwise. Consortium A counts in Europe/London
(GMT until 29 March 2026, BST until 25 October 2026), consortium B in Australia/Brisbane (UTC+10, no DST).
Default targets (business hours): normal 8 first response / 56 resolution, urgent 2 / 16; ORCID's
normal 16 / 80 on ORCID's calendar (UTC, Mon-Fri 09:00-17:00).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.signals import post_save
from django.template.loader import render_to_string
from django.urls import reverse

from consortium_hub.calendars import services as calendar_services
from consortium_hub.calendars.selectors import calendar_for_consortium
from consortium_hub.core.testing import factories as f
from consortium_hub.core.testing.queries import assert_constant_queries
from consortium_hub.jobs.models import OnceMarker
from consortium_hub.support import sla_signals
from consortium_hub.support.models import SLAPolicy, Ticket, TicketStatusChange
from consortium_hub.support.selectors import sla as selectors
from consortium_hub.support.services import sla as services

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
LONDON = ZoneInfo("Europe/London")
BRISBANE = ZoneInfo("Australia/Brisbane")
H = 3600
_refs = itertools.count(1)


def at(tz, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


def make_ticket(consortium, created: dt.datetime, *, priority: str = "normal", **fields) -> Ticket:
    ticket = Ticket.objects.create(consortium=consortium, reference=f"SLA-{next(_refs)}", subject="Help",
                                   requester_email="member@example.org", priority=priority, **fields)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=created)  # created_at is auto_now_add
    ticket.refresh_from_db()
    return ticket


def change(ticket: Ticket, from_status: str, to_status: str, when: dt.datetime) -> None:
    TicketStatusChange.objects.create(ticket=ticket, from_status=from_status, to_status=to_status, at=when)


def set_calendar(consortium, *, periods=None, closures=(), **data) -> None:
    calendar = calendar_for_consortium(consortium)
    calendar_services.calendar_update(user=None, calendar=calendar, periods=periods, **data)
    for closure in closures:
        calendar_services.closure_add(user=None, calendar=calendar, **closure)


def recalc(ticket: Ticket, now: dt.datetime | None = None) -> Ticket:
    return services.recalculate(ticket=ticket, now=now or at(UTC, 2027, 6, 1))


NIGHT_DESK = {weekday: [("00:00", "04:00")] for weekday in range(7)}
SPLIT_SHIFT = {weekday: [("09:00", "12:30"), ("13:30", "17:00")] for weekday in range(5)}


# --- Deadlines computed by hand ------------------------------------------------------------------------

def test_weekend_is_skipped(cast):
    # Fri 6 Mar 2026 15:00 GMT. First response 8h: Fri 15-17 (2h) + Mon 9 Mar 09:00-15:00 (6h).
    # Resolution 56h: Fri 2h, Mon 9-Fri 13 40h, Mon 16 8h, Tue 17 Mar 09:00-15:00 6h.
    ticket = recalc(make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 6, 15)))
    assert ticket.first_response_due == at(LONDON, 2026, 3, 9, 15)
    assert ticket.resolution_due == at(LONDON, 2026, 3, 17, 15)
    ticket.refresh_from_db()  # stored
    assert ticket.first_response_due == at(UTC, 2026, 3, 9, 15)


def test_subdivision_holiday_only_counts_in_that_subdivision(cast):
    # Wed 12 Aug 2026 is the Royal Queensland Show: a holiday in QLD, not nationally.
    set_calendar(cast.consortium_b, holiday_country="AU", holiday_subdivision="QLD")
    ticket = make_ticket(cast.consortium_b, at(BRISBANE, 2026, 8, 11, 16))
    # Tue 11 Aug 16-17 (1h), Wed closed in QLD, Thu 13 Aug 09:00 + 7h = 16:00 AEST.
    assert recalc(ticket).first_response_due == at(BRISBANE, 2026, 8, 13, 16)
    set_calendar(cast.consortium_b, holiday_country="AU", holiday_subdivision="")
    # Nationally Wednesday is a working day: Wed 12 Aug 09:00 + 7h = 16:00.
    assert recalc(ticket).first_response_due == at(BRISBANE, 2026, 8, 12, 16)


def test_christmas_closure(cast):
    set_calendar(cast.consortium_a, closures=[{"date": dt.date(2026, 12, 24), "end_date": dt.date(2027, 1, 1),
                                                "reason": "Christmas closure"}])
    ticket = recalc(make_ticket(cast.consortium_a, at(LONDON, 2026, 12, 23, 14)))
    # Wed 23 Dec 14-17 (3h); closed 24 Dec - 1 Jan; weekend 2-3 Jan; Mon 4 Jan 09:00 + 5h = 14:00.
    assert ticket.first_response_due == at(LONDON, 2027, 1, 4, 14)
    # 3h + Mon 4-Fri 8 Jan (40h) + Mon 11 (8h) = 51h; Tue 12 Jan 09:00 + 5h = 14:00.
    assert ticket.resolution_due == at(LONDON, 2027, 1, 12, 14)


def test_split_shifts(cast):
    set_calendar(cast.consortium_a, periods=SPLIT_SHIFT)
    ticket = recalc(make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 2, 11)))
    # Mon 2 Mar 11:00-12:30 (1.5h) + 13:30-17:00 (3.5h) = 5h; Tue 3 Mar 09:00 + 3h = 12:00.
    assert ticket.first_response_due == at(LONDON, 2026, 3, 3, 12)
    # 5h + Tue-Fri 4 x 7h = 33h; Mon 9, Tue 10, Wed 11 (21h) = 54h; Thu 12 Mar 09:00 + 2h = 11:00.
    assert ticket.resolution_due == at(LONDON, 2026, 3, 12, 11)
    lunch = recalc(make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 2, 12, 45), priority="urgent"))
    # Opened at lunch: the clock starts 13:30; urgent 2h -> 15:30.
    assert lunch.first_response_due == at(LONDON, 2026, 3, 2, 15, 30)
    # Urgent 16h: Mon 3.5h, Tue 7h = 10.5h; Wed 4 Mar 09:00-12:30 (3.5h) = 14h; 13:30 + 2h = 15:30.
    assert lunch.resolution_due == at(LONDON, 2026, 3, 4, 15, 30)


def test_spring_forward_london(cast):
    # Clocks go forward at 01:00 GMT on Sun 29 Mar 2026.
    day_desk = f.ConsortiumFactory(timezone="Europe/London", country="GB")
    ticket = recalc(make_ticket(day_desk, at(LONDON, 2026, 3, 27, 15)))
    # Fri 27 Mar 15-17 GMT (2h); Mon 30 Mar 09:00 BST + 6h = 15:00 BST (14:00 UTC).
    assert ticket.first_response_due == at(LONDON, 2026, 3, 30, 15)
    assert ticket.first_response_due == at(UTC, 2026, 3, 30, 14)

    set_calendar(cast.consortium_a, periods=NIGHT_DESK, holiday_country="")
    services.sla_policies_update(user=None, consortium=cast.consortium_a, targets={"normal": (4, 10)})
    night = recalc(make_ticket(cast.consortium_a, at(UTC, 2026, 3, 29, 0)))
    # Sunday's 00:00-04:00 is 3 real hours (00:00 GMT -> 04:00 BST = 03:00 UTC); 1h left:
    # Mon 30 Mar 00:00 BST + 1h = 01:00 BST (00:00 UTC), not Sun 04:00.
    assert night.first_response_due == at(LONDON, 2026, 3, 30, 1)
    # Resolution 10h: Sun 3h + Mon 4h = 7h; Tue 31 Mar 00:00 BST + 3h = 03:00 BST.
    assert night.resolution_due == at(LONDON, 2026, 3, 31, 3)


def test_fall_back_london(cast):
    # Clocks go back at 02:00 BST on Sun 25 Oct 2026.
    day_desk = f.ConsortiumFactory(timezone="Europe/London", country="GB")
    ticket = recalc(make_ticket(day_desk, at(LONDON, 2026, 10, 23, 15)))
    # Fri 23 Oct 15-17 BST (2h); Mon 26 Oct 09:00 GMT + 6h = 15:00 GMT (15:00 UTC).
    assert ticket.first_response_due == at(UTC, 2026, 10, 26, 15)

    set_calendar(cast.consortium_a, periods=NIGHT_DESK, holiday_country="")
    services.sla_policies_update(user=None, consortium=cast.consortium_a, targets={"normal": ("4.5", 10)})
    night = recalc(make_ticket(cast.consortium_a, at(LONDON, 2026, 10, 25, 0)))
    # Sunday's 00:00-04:00 is 5 real hours (00:00 BST = 23:00 UTC Sat, 04:00 GMT = 04:00 UTC):
    # 23:00 UTC + 4.5h = 03:30 UTC = 03:30 GMT (not the naive 04:30, which is after closing).
    assert night.first_response_due == at(UTC, 2026, 10, 25, 3, 30)
    # Resolution 10h: Sun 5h, Mon 26 Oct 4h; Tue 27 Oct 00:00 GMT + 1h = 01:00.
    assert night.resolution_due == at(UTC, 2026, 10, 27, 1)


def test_opened_outside_hours_starts_at_next_opening(cast):
    ticket = make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 7, 10),  # Saturday
                         first_responded_at=at(LONDON, 2026, 3, 9, 9, 30), resolved_at=at(LONDON, 2026, 3, 10, 10))
    recalc(ticket)
    # The clock starts Mon 9 Mar 09:00: first response due 17:00.
    assert ticket.first_response_due == at(LONDON, 2026, 3, 9, 17)
    assert ticket.first_response_business_seconds == 30 * 60  # Mon 09:00-09:30
    assert ticket.resolution_business_seconds == 9 * H  # Mon 8h + Tue 09:00-10:00


# --- Pauses (waiting on the member) ------------------------------------------------------------------

def _paused_ticket(cast, *changes):
    ticket = make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 2, 9))  # Mon 2 Mar 2026 09:00 GMT
    change(ticket, "", "new", at(LONDON, 2026, 3, 2, 9))
    for from_status, to_status, when in changes:
        change(ticket, from_status, to_status, when)
    return ticket


def test_pause_of_three_business_hours_moves_deadlines_three_business_hours(cast):
    unpaused = recalc(_paused_ticket(cast))
    assert unpaused.first_response_due == at(LONDON, 2026, 3, 2, 17)
    assert unpaused.resolution_due == at(LONDON, 2026, 3, 10, 17)  # 7 working days of 8h
    ticket = _paused_ticket(cast, ("new", "waiting_on_member", at(LONDON, 2026, 3, 2, 10)),
                            ("waiting_on_member", "open", at(LONDON, 2026, 3, 2, 13)))
    ticket.first_responded_at = at(LONDON, 2026, 3, 3, 10)
    recalc(ticket)
    # Mon 17:00 + 3h -> Tue 3 Mar 12:00; Tue 10 Mar 17:00 + 3h -> Wed 11 Mar 12:00.
    assert ticket.first_response_due == at(LONDON, 2026, 3, 3, 12)
    assert ticket.resolution_due == at(LONDON, 2026, 3, 11, 12)
    # Mon 09-10 (1h) + Mon 13-17 (4h) + Tue 09-10 (1h): the paused 3h do not count.
    assert ticket.first_response_business_seconds == 6 * H


def test_open_pause_extends_deadlines_up_to_now(cast):
    ticket = _paused_ticket(cast, ("new", "waiting_on_member", at(LONDON, 2026, 3, 2, 10)))
    recalc(ticket, now=at(LONDON, 2026, 3, 3, 11))
    # 1h ran (Mon 09-10), still waiting at Tue 11:00: 7h left from then: Tue 11-17 (6h), Wed 4 Mar 09:00 + 1h.
    assert ticket.first_response_due == at(LONDON, 2026, 3, 4, 10)
    # 55h left from Tue 11:00: Tue 6h, Wed-Fri 24h, Mon 9-Wed 11 24h = 54h; Thu 12 Mar 09:00 + 1h.
    assert ticket.resolution_due == at(LONDON, 2026, 3, 12, 10)


def test_pause_after_a_deadline_does_not_move_it(cast):
    ticket = _paused_ticket(cast, ("new", "waiting_on_member", at(LONDON, 2026, 3, 3, 10)),
                            ("waiting_on_member", "open", at(LONDON, 2026, 3, 3, 15)))
    recalc(ticket)
    assert ticket.first_response_due == at(LONDON, 2026, 3, 2, 17)  # already passed when the pause began
    assert ticket.resolution_due == at(LONDON, 2026, 3, 11, 14)  # Tue 10 Mar 17:00 + 5h


def test_pause_over_a_weekend_counts_business_hours_only(cast):
    ticket = _paused_ticket(cast, ("new", "waiting_on_member", at(LONDON, 2026, 3, 6, 16)),
                            ("waiting_on_member", "open", at(LONDON, 2026, 3, 9, 10)))
    # Fri 16-17 + Mon 09-10 = 2 business hours: Tue 10 Mar 17:00 + 2h = Wed 11 Mar 11:00.
    assert recalc(ticket).resolution_due == at(LONDON, 2026, 3, 11, 11)


def test_pauses_from_changes():
    t = [at(UTC, 2026, 1, 5, h) for h in range(9, 16)]
    rows = [("", "new", t[0]), ("new", "waiting_on_member", t[1]), ("waiting_on_member", "open", t[2]),
            ("open", "waiting_on_member", t[3]), ("waiting_on_member", "waiting_on_member", t[4]),
            ("waiting_on_member", "resolved", t[5]), ("resolved", "waiting_on_member", t[6])]
    assert services.pauses_from_changes(rows) == [(t[1], t[2]), (t[3], t[5]), (t[6], None)]


def test_escalated_ticket_gets_orcids_deadlines(cast):
    ticket = make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 2, 9), tier=2,
                         escalated_at=at(UTC, 2026, 3, 4, 12))
    recalc(ticket)
    # ORCID normal: 16h from Wed 4 Mar 12:00 UTC: Wed 5h, Thu 8h, Fri 6 Mar 09:00 + 3h = 12:00.
    assert ticket.orcid_first_response_due == at(UTC, 2026, 3, 6, 12)
    # 80h: Wed 5 + Thu 8 + Fri 8 + Mon 9-Fri 13 40 + Mon 16 8 + Tue 17 8 = 77h; Wed 18 Mar 09:00 + 3h.
    assert ticket.orcid_resolution_due == at(UTC, 2026, 3, 18, 12)
    tier_one = recalc(make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 2, 9)))
    assert tier_one.orcid_first_response_due is None and tier_one.orcid_resolution_due is None


def test_recalculate_saves_only_when_something_changed(cast, django_assert_num_queries):
    assert not SLAPolicy.objects.filter(consortium=cast.consortium_a).exists()
    ticket = recalc(make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 2, 9)))
    assert SLAPolicy.objects.filter(consortium=cast.consortium_a).count() == 4  # defaults on first use
    # calendar, periods, closures, policies, status changes: and no save.
    with django_assert_num_queries(5):
        recalc(ticket)


# --- Policies --------------------------------------------------------------------------------------

def test_ensure_default_policies_is_idempotent(cast):
    created = services.ensure_default_sla_policies(cast.consortium_a)
    assert {p.priority: (p.first_response_hours, p.resolution_hours) for p in created}["normal"] == (8, 56)
    assert services.ensure_default_sla_policies(cast.consortium_a) == []
    assert len(services.ensure_default_sla_policies(None)) == 4
    assert services.ensure_default_sla_policies(None) == []
    assert SLAPolicy.objects.count() == 8


def test_policy_changes_are_checked(cast):
    with pytest.raises(PermissionDenied):
        services.sla_policies_update(user=cast["lead_admin_b"], consortium=cast.consortium_a, targets={"low": (1, 2)})
    with pytest.raises(PermissionDenied):  # ORCID's targets are ORCID's
        services.sla_policies_update(user=cast["lead_admin_a"], consortium=None, targets={"low": (1, 2)})
    with pytest.raises(ValidationError) as error:
        services.sla_policies_update(user=cast["lead_admin_a"], consortium=cast.consortium_a,
                                     targets={"low": (10, 5)})
    assert "low_resolution_hours" in error.value.message_dict
    services.sla_policies_update(user=cast["orcid_support"], consortium=None, targets={"urgent": (1, 8)})
    assert SLAPolicy.objects.get(consortium=None, priority="urgent").resolution_hours == 8
    services.sla_policies_update(user=cast["lead_admin_a"], consortium=cast.consortium_a, targets={"low": (12, 80)})
    assert SLAPolicy.objects.get(consortium=cast.consortium_a, priority="low").first_response_hours == 12


def test_recalculate_for_consortium_after_a_policy_change(cast):
    tickets = [make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 2, 9)) for _ in range(3)]
    other = recalc(make_ticket(cast.consortium_b, at(BRISBANE, 2026, 3, 2, 9)))
    assert services.recalculate_for_consortium(cast.consortium_a, now=at(UTC, 2026, 4, 1)) == 3
    assert services.recalculate_for_consortium(cast.consortium_a, now=at(UTC, 2026, 4, 1)) == 0
    services.sla_policies_update(user=None, consortium=cast.consortium_a, targets={"normal": (4, 16)})
    assert services.recalculate_all(now=at(UTC, 2026, 4, 1)) == 3
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.first_response_due == at(LONDON, 2026, 3, 2, 13)
        assert ticket.resolution_due == at(LONDON, 2026, 3, 3, 17)
    before = other.first_response_due
    other.refresh_from_db()
    assert other.first_response_due == before


@pytest.fixture
def sla_receivers():
    """The receivers as `SupportConfig.ready()` connects them (left connected if the app did)."""
    wired = any(key[0] == "support.sla.policy.save" for key, *_rest in post_save.receivers)
    sla_signals.connect()
    yield
    if not wired:
        from django.db.models.signals import post_delete

        from consortium_hub.calendars.models import BusinessCalendar, ClosureDay, WorkingPeriod

        post_save.disconnect(sender=BusinessCalendar, dispatch_uid="support.sla.calendar")
        for model in (WorkingPeriod, ClosureDay):
            post_save.disconnect(sender=model, dispatch_uid=f"support.sla.{model.__name__}.save")
            post_delete.disconnect(sender=model, dispatch_uid=f"support.sla.{model.__name__}.delete")
        post_save.disconnect(sender=SLAPolicy, dispatch_uid="support.sla.policy.save")
        post_delete.disconnect(sender=SLAPolicy, dispatch_uid="support.sla.policy.delete")


@pytest.mark.django_db(transaction=True)
def test_calendar_and_policy_changes_recalculate_once_per_consortium(cast, sla_receivers, monkeypatch):
    """Real commits (a transactional test): each service call is one transaction."""
    ticket = recalc(make_ticket(cast.consortium_a, at(LONDON, 2026, 12, 23, 14)))
    runs = []
    real = services.recalculate_for_consortium
    monkeypatch.setattr(services, "recalculate_for_consortium",
                        lambda consortium, **kw: runs.append(consortium.pk) or real(consortium, **kw))
    calendar = calendar_for_consortium(cast.consortium_a)
    # One transaction, several rows (the calendar and its periods): one job.
    calendar_services.calendar_update(user=None, calendar=calendar, periods=SPLIT_SHIFT)
    assert runs == [cast.consortium_a.pk]
    calendar_services.closure_add(user=None, calendar=calendar, date=dt.date(2026, 12, 24),
                                  end_date=dt.date(2027, 1, 1), reason="Christmas closure")
    assert runs == [cast.consortium_a.pk] * 2
    ticket.refresh_from_db()
    # Split shift (7h days): Wed 23 Dec 14:00-17:00 (3h); Mon 4 Jan 09:00-12:30 (3.5h); 13:30 + 1.5h = 15:00.
    assert ticket.first_response_due == at(LONDON, 2027, 1, 4, 15)
    services.ensure_default_sla_policies(cast.consortium_a)  # the defaults written down: nothing changes
    assert len(runs) == 2
    services.sla_policies_update(user=None, consortium=cast.consortium_a,
                                 targets={"normal": (4, 40), "low": (20, 120)})
    assert len(runs) == 3
    ticket.refresh_from_db()
    # First response 4h: Wed 23 Dec 3h; Mon 4 Jan 09:00 + 1h = 10:00.
    assert ticket.first_response_due == at(LONDON, 2027, 1, 4, 10)
    calendar_services.calendar_update(user=None, calendar=calendar_for_consortium(cast.consortium_b),
                                      holiday_subdivision="QLD", holiday_country="AU")
    assert runs[-1] == cast.consortium_b.pk


# --- Warnings and breaches ------------------------------------------------------------------------------

def _check(django_capture_on_commit_callbacks, now: dt.datetime) -> services.CheckResult:
    with django_capture_on_commit_callbacks(execute=True):
        return services.check_sla_deadlines(now=now)


def test_warnings_and_breaches_are_sent_once(cast, django_capture_on_commit_callbacks):
    ticket = make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 2, 9), assignee=cast["lead_support_a"], status="open")
    recalc(ticket)  # first response due Mon 17:00, resolution Tue 10 Mar 17:00
    assert _check(django_capture_on_commit_callbacks, at(LONDON, 2026, 3, 2, 15, 20)) == services.CheckResult()
    # 15:30: 6.5 of 8 business hours gone (81%).
    for _run in range(2):  # the scheduler ran twice
        _check(django_capture_on_commit_callbacks, at(LONDON, 2026, 3, 2, 15, 30))
    assert len(mail.outbox) == 1
    warning = mail.outbox[0]
    assert "SLA warning" in warning.subject and ticket.reference in warning.subject
    assert sorted(warning.to) == ["lead_admin_a@cast.example", "lead_support_a@cast.example"]
    assert "Mon 2 Mar 2026, 17:00 (Europe/London)" in warning.body
    ticket.refresh_from_db()
    assert ticket.sla_warning_sent and not ticket.sla_breached
    for _run in range(2):
        result = _check(django_capture_on_commit_callbacks, at(LONDON, 2026, 3, 2, 17, 1))
    assert result == services.CheckResult()  # the second run found nothing new
    assert len(mail.outbox) == 2 and "SLA breached" in mail.outbox[1].subject
    ticket.refresh_from_db()
    assert ticket.sla_breached
    assert OnceMarker.objects.filter(key__startswith=f"sla:{ticket.pk}:").count() == 2


def test_a_breach_found_late_supersedes_its_warning(cast, django_capture_on_commit_callbacks):
    ticket = recalc(make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 2, 9), status="open"))
    result = _check(django_capture_on_commit_callbacks, at(LONDON, 2026, 3, 11, 9))  # both deadlines passed
    assert result == services.CheckResult(warnings=0, breaches=2)
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["SLA breached", "SLA breached"]
    assert _check(django_capture_on_commit_callbacks, at(LONDON, 2026, 3, 12, 9)) == services.CheckResult()
    assert set(OnceMarker.objects.filter(key__startswith=f"sla:{ticket.pk}:").values_list("key", flat=True)) == {
        f"sla:{ticket.pk}:{which}:{kind}" for which in ("first_response", "resolution")
        for kind in ("warning", "breach")}


def test_no_warnings_while_waiting_answered_or_resolved(cast, django_capture_on_commit_callbacks):
    late = at(LONDON, 2026, 3, 20, 9)
    recalc(make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 2, 9), status="waiting_on_member"))
    recalc(make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 2, 9), status="resolved",
                       first_responded_at=at(LONDON, 2026, 3, 2, 10), resolved_at=at(LONDON, 2026, 3, 2, 11)))
    answered = recalc(make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 2, 9), status="open",
                                  first_responded_at=at(LONDON, 2026, 3, 2, 10)))
    result = _check(django_capture_on_commit_callbacks, late)
    assert result == services.CheckResult(breaches=1)  # only the answered ticket's resolution
    assert mail.outbox[0].subject == f"SLA breached: {answered.reference} resolution overdue"


def test_jobs_are_thin_wrappers(cast, django_capture_on_commit_callbacks, monkeypatch):
    from consortium_hub.support import tasks_sla

    ticket = make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 2, 9), status="open")
    tasks_sla.recalculate_consortium_sla(cast.consortium_a.pk)  # inline in the test settings
    ticket.refresh_from_db()
    assert ticket.first_response_due is not None
    monkeypatch.setattr(services.timezone, "now", lambda: at(LONDON, 2026, 3, 20, 9))
    with django_capture_on_commit_callbacks(execute=True):
        tasks_sla.check_sla_deadlines()
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["SLA breached", "SLA breached"]


# --- Desk hours --------------------------------------------------------------------------------------

def test_desk_status_and_snippet(cast):
    closed = selectors.desk_status(cast.consortium_a, now=at(LONDON, 2026, 3, 7, 10))
    assert not closed.is_open and closed.next_opening == at(LONDON, 2026, 3, 9, 9)
    html = render_to_string("support/_desk_hours.html", {"desk": closed})
    assert "Support desk closed" in html and "Monday 9 March, 09:00 (Europe/London)" in html
    open_now = selectors.desk_status(cast.consortium_a, now=at(LONDON, 2026, 3, 9, 10))
    assert open_now.is_open and open_now.closes_at == at(LONDON, 2026, 3, 9, 17)
    assert "until 17:00 (Europe/London)" in render_to_string("support/_desk_hours.html", {"desk": open_now})


# --- The report --------------------------------------------------------------------------------------

def _report_tickets(cast):
    """March 2026 at consortium A (GMT), seen on 1 April 2026."""
    a = cast.consortium_a

    def t(created, fr_due, responded, fr_hours, res_due, resolved, res_hours, **extra):
        ticket = make_ticket(a, created, **extra)
        Ticket.objects.filter(pk=ticket.pk).update(
            first_response_due=fr_due, first_responded_at=responded,
            first_response_business_seconds=None if fr_hours is None else int(fr_hours * H),
            resolution_due=res_due, resolved_at=resolved,
            resolution_business_seconds=None if res_hours is None else int(res_hours * H))

    d = lambda day, hour=12: at(LONDON, 2026, 3, day, hour)  # noqa: E731
    t(d(2), d(2, 17), d(2, 12), 3, d(10, 17), d(5), 20)          # both met
    t(d(3), d(3, 17), d(4, 12), 10, d(11, 17), d(20), 60)        # both missed (late)
    t(d(4), d(4, 17), None, None, d(12, 17), None, None)         # never answered, both deadlines passed: missed
    t(d(5), d(5, 17), d(5, 10), 1, d(13, 17), d(6), 8)           # both met
    t(d(31), at(LONDON, 2026, 4, 1, 17), None, None, at(LONDON, 2026, 4, 9, 17), None, None)  # not yet due
    t(d(6), d(6, 17), d(9), 99, d(16), d(20), 99, merged_into=Ticket.objects.first())  # a merged duplicate
    t(at(LONDON, 2026, 2, 27), at(LONDON, 2026, 2, 27, 17), at(LONDON, 2026, 2, 27, 13), 1,
      at(LONDON, 2026, 3, 9, 17), at(LONDON, 2026, 3, 2, 10), 9)  # February


def test_report_numbers(cast):
    _report_tickets(cast)
    report = selectors.sla_report(user=cast["lead_admin_a"], consortium=cast.consortium_a,
                                  month=dt.date(2026, 3, 1), now=at(UTC, 2026, 4, 1, 12))
    march = report.month
    assert march.tickets == 5
    # First response: measured = answered (3) + overdue unanswered (1); met 2 of 4; median of 3, 10, 1 h = 3.
    assert (march.first_response_measured, march.first_response_met, march.first_response_share) == (4, 2, 50.0)
    assert march.first_response_median == 3
    # Resolution: met 2 of 4 (20h and 8h on time, 60h late, one never resolved); median of 20, 60, 8 = 20.
    assert (march.resolution_measured, march.resolution_met, march.resolution_share) == (4, 2, 50.0)
    assert march.resolution_median == 20
    assert [m.month for m in report.months][0] == dt.date(2025, 4, 1) and len(report.months) == 12
    february = report.months[-2]
    assert (february.tickets, february.first_response_share, february.resolution_median) == (1, 100.0, 9)


# --- Pages and API ---------------------------------------------------------------------------------------

def test_lead_admin_edits_own_targets(cast, client_for):
    url = reverse("support:sla_policies", args=[cast.consortium_a.pk])
    client = client_for(cast["lead_admin_a"])
    page = client.get(url)
    assert page.status_code == 200 and b'name="normal_first_response_hours"' in page.content
    data = {f"{p}_{field}": v for p in ("low", "normal", "high", "urgent")
            for field, v in (("first_response_hours", "6"), ("resolution_hours", "40"))}
    response = client.post(url, data)
    assert response.status_code == 302
    assert SLAPolicy.objects.get(consortium=cast.consortium_a, priority="normal").first_response_hours == 6
    data["high_resolution_hours"] = "2"
    response = client.post(url, data)
    assert response.status_code == 200 and b"cannot be shorter" in response.content


def test_read_only_targets_and_cross_consortium_access(cast, client_for):
    a_targets = reverse("support:sla_policies", args=[cast.consortium_a.pk])
    engagement = client_for(cast["engagement_lead"]).get(a_targets)
    assert engagement.status_code == 200 and b"normal_first_response_hours" not in engagement.content
    assert client_for(cast["engagement_lead"]).post(a_targets, {}).status_code == 403
    assert client_for(cast["lead_admin_b"]).get(a_targets).status_code == 404
    assert client_for(cast["lead_admin_b"]).get(
        reverse("support:sla_report", args=[cast.consortium_a.pk])).status_code == 404
    assert client_for(cast["orcid_support"]).get(
        reverse("support:sla_report", args=[cast.consortium_a.pk])).status_code == 403
    assert client_for(cast["member_contact_a"]).get(a_targets).status_code == 403
    orcid = client_for(cast["orcid_support"]).get(reverse("support:sla_orcid_policies"))
    assert orcid.status_code == 200 and b'name="urgent_resolution_hours"' in orcid.content
    home = client_for(cast["lead_admin_b"]).get(reverse("support:sla_home"))
    assert cast.consortium_b.name.encode() in home.content and cast.consortium_a.name.encode() not in home.content


def test_report_page_chart_and_csv(cast, client_for):
    _report_tickets(cast)
    client = client_for(cast["lead_support_a"])
    url = reverse("support:sla_report", args=[cast.consortium_a.pk])
    page = client.get(url, {"month": "2026-03"})
    assert page.status_code == 200
    html = page.content.decode()
    assert '<svg' in html and 'role="img"' in html and "<table" in html
    assert page.context["report"].month.tickets == 5
    response = client.get(reverse("support:sla_report_csv", args=[cast.consortium_a.pk]), {"month": "2026-03"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv") and len(rows) == 12
    assert rows[-1]["month"] == "2026-03" and rows[-1]["tickets"] == "5"
    assert rows[-1]["resolution_median_business_hours"] == "20.0"


def test_report_page_queries_do_not_grow_with_tickets(cast, client_for):
    client = client_for(cast["lead_admin_a"])
    url = reverse("support:sla_report", args=[cast.consortium_a.pk])

    def make_rows(n):
        for i in range(n):
            recalc(make_ticket(cast.consortium_a, at(LONDON, 2026, 3, 2 + i % 20, 10),
                               first_responded_at=at(LONDON, 2026, 3, 2 + i % 20, 11)))

    assert_constant_queries(make_rows, lambda: client.get(url, {"month": "2026-03"}),
                            shown=lambda r: r.context["report"].month.tickets, few=5, many=50)


def test_api_policies_and_report(cast, api_for):
    services.ensure_default_sla_policies(cast.consortium_a)
    # B's and ORCID's policies are written with the defaults when first listed.
    listed = api_for(cast["lead_admin_b"]).get(reverse("api:sla-policy-list")).json()["results"]
    assert {p["consortium_name"] for p in listed} == {"ORCID", cast.consortium_b.name} and len(listed) == 8
    a_normal = SLAPolicy.objects.get(consortium=cast.consortium_a, priority="normal")
    detail = reverse("api:sla-policy-detail", args=[a_normal.pk])
    assert api_for(cast["lead_admin_b"]).patch(detail, {"first_response_hours": "1"}, format="json").status_code == 404
    assert api_for(cast["engagement_lead"]).patch(detail, {"first_response_hours": "1"},
                                                  format="json").status_code == 403
    response = api_for(cast["lead_admin_a"]).patch(detail, {"first_response_hours": "5.5"}, format="json")
    assert response.status_code == 200 and response.json()["first_response_hours"] == "5.50"
    bad = api_for(cast["lead_admin_a"]).patch(detail, {"resolution_hours": "1"}, format="json")
    assert bad.status_code == 400 and "resolution_hours" in bad.json()
    orcid_urgent = SLAPolicy.objects.get(consortium=None, priority="urgent")
    assert api_for(cast["orcid_support"]).patch(reverse("api:sla-policy-detail", args=[orcid_urgent.pk]),
                                                {"resolution_hours": "30"}, format="json").status_code == 200
    assert api_for(cast["orcid_support"]).get(reverse("api:sla-policy-list"), {"consortium": "orcid"}).json()[
        "count"] == 4

    _report_tickets(cast)
    report = api_for(cast["lead_admin_a"]).get(reverse("api:sla-report-detail", args=[cast.consortium_a.pk]),
                                               {"month": "2026-03"})
    assert report.status_code == 200
    body = report.json()
    assert body["month"]["month"] == "2026-03" and body["month"]["tickets"] == 5
    assert len(body["months"]) == 12
    assert api_for(cast["lead_admin_b"]).get(
        reverse("api:sla-report-detail", args=[cast.consortium_a.pk])).status_code == 404
    assert Decimal(SLAPolicy.objects.get(pk=a_normal.pk).first_response_hours) == Decimal("5.5")
