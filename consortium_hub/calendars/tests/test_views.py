"""Calendar pages and API: who reaches what, what the pages show, writes through the services."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from consortium_hub.calendars import selectors, services
from consortium_hub.calendars.models import BusinessCalendar, ClosureDay, WorkingPeriod
from consortium_hub.core.testing.cast import CAST_NAMES
from consortium_hub.core.testing.queries import api_rows, assert_constant_queries, html_rows

pytestmark = pytest.mark.django_db

ANON, ADMIN, ENG, SUP = "anonymous", "orcid_admin", "engagement_lead", "orcid_support"
LA, LS, MC, LB = "lead_admin_a", "lead_support_a", "member_contact_a", "lead_admin_b"
SIGNED_IN = [n for n in CAST_NAMES if n != ANON]


def e(default: int, anonymous: int = 302, **overrides: int) -> dict[str, int]:
    return {**{n: default for n in SIGNED_IN}, ANON: anonymous, **overrides}


def only(allowed: int, who: list[str], others: int = 403, anonymous: int = 302, **overrides: int) -> dict[str, int]:
    return {**{n: (allowed if n in who else others) for n in SIGNED_IN}, ANON: anonymous, **overrides}


def api(default: int, **overrides: int) -> dict[str, int]:
    return e(default, anonymous=401, **overrides)


SEES_A = [ADMIN, ENG, SUP, LA, LS, MC]
VIEW_A = only(200, SEES_A, others=404)
EDIT_A = only(200, [ADMIN, LA], others=403, **{LB: 404})


def calendar_a(c: Any) -> dict[str, int]:
    return {"pk": selectors.calendar_for_consortium(c.consortium_a).pk}


def closure_a(c: Any) -> dict[str, int]:
    calendar = selectors.calendar_for_consortium(c.consortium_a)
    return {"pk": services.closure_add(user=None, calendar=calendar, date=dt.date(2026, 12, 24),
                                       reason="Christmas closure").pk}


# --- Pages ---------------------------------------------------------------------------------------

FRIDAY_EVENING = dt.datetime(2026, 3, 6, 18, 30, tzinfo=dt.timezone.utc)


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: FRIDAY_EVENING)
    return FRIDAY_EVENING


def test_detail_shows_hours_holidays_closures_and_next_opening(cast, client_for, frozen_now, monkeypatch):
    calendar = selectors.calendar_for_consortium(cast.consortium_a)
    services.closure_add(user=None, calendar=calendar, date=dt.date(2026, 12, 24), end_date=dt.date(2027, 1, 1),
                         reason="Christmas closure")
    response = client_for(cast["member_contact_a"]).get(calendar.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert "Next opens Mon 9 Mar 2026, 09:00 (Europe/London)" in body
    assert "Christmas closure" in body and "Good Friday" in body
    assert [len(day["periods"]) for day in response.context["week"]] == [1, 1, 1, 1, 1, 0, 0]
    assert not response.context["can_change"]
    assert reverse("calendars:calendar_edit", args=[calendar.pk]) not in body
    # During working hours it says until when it is open.
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 3, 6, 10, tzinfo=dt.timezone.utc))
    body = client_for(cast["lead_admin_a"]).get(calendar.get_absolute_url()).content.decode()
    assert "Open now" in body and "until Fri 6 Mar, 17:00 (Europe/London)" in body


def test_lead_admin_edits_weekly_hours_as_text(cast, client_for):
    calendar = selectors.calendar_for_consortium(cast.consortium_a)
    client = client_for(cast["lead_admin_a"])
    url = reverse("calendars:calendar_edit", args=[calendar.pk])
    assert "Mon-Fri 09:00-17:00" in client.get(url).content.decode()
    response = client.post(url, {"name": "Alpha desk", "timezone": "Europe/London", "holiday_country": "GB",
                                 "holiday_subdivision": "eng",
                                 "weekly_hours": "Mon-Fri 09:00-12:30, 13:30-17:00"})
    assert response.status_code == 302
    calendar.refresh_from_db()
    assert (calendar.name, calendar.holiday_subdivision) == ("Alpha desk", "ENG")
    assert WorkingPeriod.objects.filter(calendar=calendar).count() == 10


def test_edit_form_explains_bad_hours_and_regions(cast, client_for):
    calendar = selectors.calendar_for_consortium(cast.consortium_a)
    response = client_for(cast["lead_admin_a"]).post(
        reverse("calendars:calendar_edit", args=[calendar.pk]),
        {"name": "Alpha", "timezone": "Europe/London", "holiday_country": "GB", "holiday_subdivision": "QLD",
         "weekly_hours": "Mon 09:00-13:00, 12:00-17:00"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "ENG, NIR, SCT, WLS" in str(errors["holiday_subdivision"])
    assert "overlap" in str(errors["weekly_hours"])
    assert 'aria-describedby="id_weekly_hours_helptext"' in response.content.decode()


def test_lead_admin_b_cannot_reach_consortium_a_calendar(cast, client_for):
    calendar = selectors.calendar_for_consortium(cast.consortium_a)
    client = client_for(cast["lead_admin_b"])
    response = client.post(reverse("calendars:calendar_edit", args=[calendar.pk]),
                           {"name": "Taken", "timezone": "UTC", "weekly_hours": "Mon 09:00-10:00"})
    assert response.status_code == 404
    calendar.refresh_from_db()
    assert calendar.name != "Taken"


def test_closures_are_added_and_removed_on_pages(cast, client_for):
    calendar = selectors.calendar_for_consortium(cast.consortium_a)
    client = client_for(cast["lead_admin_a"])
    response = client.post(reverse("calendars:closure_add", args=[calendar.pk]),
                           {"date": "2026-12-24", "end_date": "2026-12-23", "reason": "Backwards"})
    assert response.status_code == 200 and "end_date" in response.context["form"].errors
    response = client.post(reverse("calendars:closure_add", args=[calendar.pk]),
                           {"date": "2026-12-24", "end_date": "2027-01-01", "reason": "Christmas closure"})
    assert response.status_code == 302
    closure = ClosureDay.objects.get(calendar=calendar)
    assert (closure.date, closure.end_date) == (dt.date(2026, 12, 24), dt.date(2027, 1, 1))
    response = client.post(reverse("calendars:closure_remove", args=[closure.pk]))
    assert response.status_code == 302 and not ClosureDay.objects.exists()
    history = client.get(reverse("calendars:calendar_history", args=[calendar.pk])).content.decode()
    assert "Christmas closure" in history


def test_consortium_link_creates_and_redirects_to_its_calendar(cast, client_for):
    response = client_for(cast["member_contact_a"]).get(
        reverse("calendars:consortium_calendar", args=[cast.consortium_a.pk]))
    calendar = BusinessCalendar.objects.get(consortium=cast.consortium_a)
    assert response.status_code == 302 and response.url == calendar.get_absolute_url()


def test_list_is_scoped_and_htmx_gets_the_table(cast, client_for):
    services.ensure_default_calendars()
    client = client_for(cast["lead_admin_a"])
    response = client.get(reverse("calendars:calendar_list"))
    assert [c.consortium for c in response.context["objects"]] == [cast.consortium_a]
    response = client_for(cast["orcid_admin"]).get(reverse("calendars:calendar_list"), {"orcid": "true"},
                                                  HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "ORCID business hours" in body and "<html" not in body and "Consortium A" not in body


# --- API -----------------------------------------------------------------------------------------

def test_api_detail_has_periods_closures_and_status(cast, api_for):
    calendar = selectors.calendar_for_consortium(cast.consortium_a)
    services.closure_add(user=None, calendar=calendar, date=dt.date(2026, 12, 24), reason="Christmas Eve")
    data = api_for(cast["member_contact_a"]).get(reverse("api:calendar-detail", args=[calendar.pk])).json()
    assert data["periods"][0] == {"weekday": 0, "start": "09:00", "end": "17:00"}
    assert data["closures"][0]["reason"] == "Christmas Eve"
    assert data["timezone"] == "Europe/London" and isinstance(data["is_open_now"], bool)
    assert (data["open_until"] is None) != (data["next_opening"] is None)


def test_api_writes_go_through_the_services(cast, api_for):
    calendar = selectors.calendar_for_consortium(cast.consortium_a)
    lead = api_for(cast["lead_admin_a"])
    response = lead.patch(reverse("api:calendar-detail", args=[calendar.pk]), {
        "periods": [{"weekday": 0, "start": "09:00", "end": "12:30"}, {"weekday": 0, "start": "13:30", "end": "17:00"}],
        "holiday_subdivision": "ENG"}, format="json")
    assert response.status_code == 200, response.content
    assert [(p["start"], p["end"]) for p in response.json()["periods"]] == [("09:00", "12:30"), ("13:30", "17:00")]
    response = lead.patch(reverse("api:calendar-detail", args=[calendar.pk]),
                          {"periods": [{"weekday": 1, "start": "09:00", "end": "12:00"},
                                       {"weekday": 1, "start": "11:00", "end": "17:00"}]}, format="json")
    assert response.status_code == 400 and "overlap" in str(response.json()["periods"])
    # A second calendar for the same consortium, or one for another consortium, is refused.
    response = lead.post(reverse("api:calendar-list"), {"name": "Again", "timezone": "UTC",
                                                        "consortium": cast.consortium_a.pk}, format="json")
    assert response.status_code == 400 and "already has" in str(response.json())
    response = lead.post(reverse("api:calendar-list"), {"name": "B", "timezone": "UTC",
                                                        "consortium": cast.consortium_b.pk}, format="json")
    assert response.status_code == 400
    response = lead.post(reverse("api:calendar-closure-list"), {"calendar": calendar.pk, "date": "2026-12-24",
                                                                "end_date": "2026-12-31", "reason": "Winter"},
                         format="json")
    assert response.status_code == 201, response.content
    admin = api_for(cast["orcid_admin"])
    response = admin.post(reverse("api:calendar-list"), {
        "name": "ORCID Asia-Pacific", "timezone": "Asia/Singapore", "holiday_country": "SG",
        "periods": [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["consortium"] is None and len(response.json()["periods"]) == 5


# --- Query counts --------------------------------------------------------------------------------

_serial = itertools.count(1)


def add_orcid_calendars(n: int) -> None:
    calendars = BusinessCalendar.objects.bulk_create([
        BusinessCalendar(name=f"ORCID calendar {next(_serial)}", timezone="Europe/London", holiday_country="GB")
        for _ in range(n)])
    WorkingPeriod.objects.bulk_create([WorkingPeriod(calendar=c, weekday=d, start=dt.time(9), end=dt.time(17))
                                       for c in calendars for d in range(5)])
    ClosureDay.objects.bulk_create([ClosureDay(calendar=c, date=dt.date(2026, 12, 24), reason="Closed")
                                    for c in calendars])


@pytest.mark.parametrize("url_name, shown", [("calendars:calendar_list", html_rows), ("api:calendar-list", api_rows)])
def test_lists_run_a_constant_number_of_queries(cast, client_for, url_name, shown):
    client = client_for(cast["orcid_admin"])
    url = reverse(url_name) + "?per_page=100"
    assert_constant_queries(add_orcid_calendars, lambda: client.get(url), shown=shown, few=3, many=60)
