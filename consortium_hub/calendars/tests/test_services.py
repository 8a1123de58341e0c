"""Calendar services and selectors: defaults, validation, access, the audit trail, query counts."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from consortium_hub.audit.models import ChangeRecord
from consortium_hub.calendars import business_time as bt
from consortium_hub.calendars import selectors, services
from consortium_hub.calendars.models import BusinessCalendar, ClosureDay, WorkingPeriod
from consortium_hub.core.access import get_for_user_or_404
from consortium_hub.core.roles import CHANGE
from consortium_hub.core.testing import factories as f
from consortium_hub.core.viewkit import history_for

pytestmark = pytest.mark.django_db


def test_ensure_default_calendars_is_idempotent(cast):
    BusinessCalendar.objects.all().delete()  # the cast's support-staff plan already made A's calendar
    created = services.ensure_default_calendars()
    assert len(created) == 3
    orcid = selectors.orcid_calendar()
    assert (orcid.timezone, orcid.holiday_country, orcid.consortium, orcid.is_orcid_default) == ("UTC", "", None, True)
    assert bt.spec_for(orcid).periods == bt.default_weekly_hours()
    a = BusinessCalendar.objects.get(consortium=cast.consortium_a)
    b = BusinessCalendar.objects.get(consortium=cast.consortium_b)
    assert (a.timezone, a.holiday_country) == ("Europe/London", "GB")
    assert (b.timezone, b.holiday_country) == ("Australia/Brisbane", "AU")
    assert services.ensure_default_calendars() == []
    assert BusinessCalendar.objects.count() == 3


def test_calendar_for_consortium_creates_once(cast, monkeypatch):
    first = selectors.calendar_for_consortium(cast.consortium_a)
    assert selectors.calendar_for_consortium(cast.consortium_a) == first
    assert BusinessCalendar.objects.filter(consortium=cast.consortium_a).count() == 1
    assert selectors.spec_for_consortium(cast.consortium_a).timezone == "Europe/London"
    # A consortium whose country the holidays package does not know still gets a calendar.
    monkeypatch.setattr(bt, "supported_holiday_regions", lambda: {"GB": ("ENG",)})
    antarctic = f.ConsortiumFactory(name="Ice", country="AQ", timezone="Antarctica/Troll")
    assert selectors.calendar_for_consortium(antarctic).holiday_country == ""


def test_lead_admin_edits_own_calendar_only(cast):
    calendar = selectors.calendar_for_consortium(cast.consortium_a)
    services.calendar_update(user=cast["lead_admin_a"], calendar=calendar, name="Alpha desk",
                             holiday_subdivision="eng", periods={0: [("09:00", "12:30"), ("13:30", "17:00")]})
    calendar.refresh_from_db()
    assert (calendar.name, calendar.holiday_subdivision) == ("Alpha desk", "ENG")
    assert [str(p) for p in calendar.periods.all()] == ["Mon 09:00-12:30", "Mon 13:30-17:00"]
    with pytest.raises(PermissionDenied):
        services.calendar_update(user=cast["lead_admin_b"], calendar=calendar, name="Taken")
    with pytest.raises(Http404):
        get_for_user_or_404(cast["lead_admin_b"], BusinessCalendar, CHANGE, pk=calendar.pk)
    with pytest.raises(PermissionDenied):  # members see it but cannot change it
        get_for_user_or_404(cast["member_contact_a"], BusinessCalendar, CHANGE, pk=calendar.pk)
    with pytest.raises(PermissionDenied):
        services.closure_add(user=cast["member_contact_a"], calendar=calendar, date=dt.date(2026, 12, 24),
                             reason="Christmas closure")


def test_visibility_follows_the_consortium(cast):
    services.ensure_default_calendars()
    names = lambda who: sorted(c.consortium.name if c.consortium else "ORCID"  # noqa: E731
                               for c in selectors.calendar_list(user=cast[who]))
    assert names("orcid_admin") == ["Consortium A", "Consortium B", "ORCID"]
    assert names("orcid_support") == ["Consortium A", "Consortium B", "ORCID"]
    assert names("engagement_lead") == ["Consortium A"]
    assert names("lead_admin_a") == names("lead_support_a") == names("member_contact_a") == ["Consortium A"]
    assert names("lead_admin_b") == ["Consortium B"]
    assert list(selectors.calendar_list(user=None)) == []


def test_only_orcid_admins_create_orcid_calendars(cast):
    with pytest.raises(PermissionDenied):
        services.calendar_create(user=cast["lead_admin_a"], consortium=None, name="Sneaky", timezone="UTC")
    with pytest.raises(PermissionDenied):
        services.calendar_create(user=cast["lead_admin_a"], consortium=cast.consortium_b, name="B", timezone="UTC")
    calendar = services.calendar_create(user=cast["orcid_admin"], consortium=None, name="ORCID Americas",
                                        timezone="America/New_York", holiday_country="US",
                                        closures=[(dt.date(2026, 12, 24), dt.date(2026, 12, 31), "Year end")])
    assert bt.spec_for(calendar).closures == frozenset(dt.date(2026, 12, d) for d in range(24, 32))


def test_invalid_input_is_refused_with_field_messages(cast):
    BusinessCalendar.objects.all().delete()  # the cast's support-staff plan already made A's calendar
    create = lambda **kw: services.calendar_create(  # noqa: E731
        user=cast["lead_admin_a"], consortium=cast.consortium_a, name="Alpha", **kw)
    with pytest.raises(ValidationError) as error:
        create(timezone="Europe/Lundon")
    assert "timezone" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        create(timezone="Europe/London", holiday_country="GB", holiday_subdivision="QLD")
    assert "ENG, NIR, SCT, WLS" in str(error.value.message_dict["holiday_subdivision"])
    with pytest.raises(ValidationError) as error:
        create(timezone="Europe/London", periods={0: [("09:00", "13:00"), ("12:00", "17:00")]})
    assert "overlap" in str(error.value.message_dict["periods"])
    with pytest.raises(ValidationError, match="at least one working period"):
        create(timezone="Europe/London", periods={5: []})
    assert not BusinessCalendar.objects.exists()  # nothing half-written
    create(timezone="Europe/London")
    with pytest.raises(ValidationError, match="already has a business calendar"):
        create(timezone="Europe/London")


def test_database_keeps_the_invariants(cast):
    services.ensure_default_calendars()
    calendar = BusinessCalendar.objects.get(consortium=cast.consortium_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessCalendar.objects.create(name="Second default", timezone="UTC", is_orcid_default=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkingPeriod.objects.create(calendar=calendar, weekday=5, start=dt.time(17), end=dt.time(9))
    with pytest.raises(IntegrityError), transaction.atomic():
        ClosureDay.objects.create(calendar=calendar, date=dt.date(2026, 5, 2), end_date=dt.date(2026, 5, 1),
                                  reason="Backwards")
    with pytest.raises(ValidationError):  # overlaps are checked by the model
        WorkingPeriod(calendar=calendar, weekday=0, start=dt.time(16), end=dt.time(18)).full_clean()


def test_moving_orcids_default_unsets_the_old_one(cast):
    old = selectors.orcid_calendar()
    new = services.calendar_create(user=cast["orcid_admin"], consortium=None, name="ORCID EU",
                                   timezone="Europe/Berlin")
    services.calendar_update(user=cast["orcid_admin"], calendar=new, is_orcid_default=True)
    old.refresh_from_db()
    assert (old.is_orcid_default, selectors.orcid_calendar()) == (False, new)
    consortium_calendar = selectors.calendar_for_consortium(cast.consortium_a)
    with pytest.raises(PermissionDenied):
        services.calendar_update(user=cast["lead_admin_a"], calendar=consortium_calendar, is_orcid_default=True)
    with pytest.raises(ValidationError):
        services.calendar_update(user=cast["lead_admin_a"], calendar=consortium_calendar,
                                 consortium=cast.consortium_b)


def test_closures_change_the_count_and_show_on_the_calendars_history(cast):
    calendar = selectors.calendar_for_consortium(cast.consortium_a)
    before = calendar.updated_at
    closure = services.closure_add(user=cast["lead_admin_a"], calendar=calendar, date=dt.date(2026, 12, 24),
                                   end_date=dt.date(2027, 1, 1), reason="Christmas closure")
    assert calendar.updated_at > before  # (pk, updated_at) keys a cached spec
    spec = bt.spec_for(calendar)
    assert bt.add_business_days(spec, dt.date(2026, 12, 23), 1) == dt.date(2027, 1, 4)
    services.closure_remove(user=cast["lead_admin_a"], closure=closure)
    assert bt.add_business_days(bt.spec_for(calendar), dt.date(2026, 12, 23), 1) == dt.date(2026, 12, 24)
    kinds = [(r.content_type.model, r.action) for r in history_for(calendar)]
    assert ("closureday", ChangeRecord.Action.CREATE) in kinds
    assert ("closureday", ChangeRecord.Action.DELETE) in kinds
    assert ("workingperiod", ChangeRecord.Action.CREATE) in kinds
    with pytest.raises(ValidationError):
        services.closure_add(user=cast["lead_admin_a"], calendar=calendar, date=dt.date(2026, 1, 1),
                             end_date=dt.date(2027, 6, 1), reason="Too long")


def test_unchanged_periods_stay_out_of_the_history(cast):
    calendar = selectors.calendar_for_consortium(cast.consortium_a)
    count = history_for(calendar).count()
    services.calendar_update(user=cast["lead_admin_a"], calendar=calendar, periods=bt.default_weekly_hours())
    assert history_for(calendar).count() == count
    services.calendar_update(user=cast["lead_admin_a"], calendar=calendar,
                             periods={**bt.default_weekly_hours(), 4: [("09:00", "15:00")]})
    assert history_for(calendar).count() == count + 2  # Friday's old period deleted, new one created


def test_spec_for_costs_two_queries_or_none_when_prefetched(cast):
    calendar = selectors.calendar_for_consortium(cast.consortium_a)
    calendar = BusinessCalendar.objects.get(pk=calendar.pk)
    with CaptureQueriesContext(connection) as queries:
        bt.spec_for(calendar)
    assert len(queries) == 2
    prefetched = selectors.calendar_list(user=cast["lead_admin_a"]).get(pk=calendar.pk)
    with CaptureQueriesContext(connection) as queries:
        bt.spec_for(prefetched)
        assert prefetched.status_now is not None
    assert len(queries) == 0
