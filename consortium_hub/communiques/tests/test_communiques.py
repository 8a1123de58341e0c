"""Communiqués: ORCID sends, each consortium's copy runs a 3-business-day clock on that consortium's
calendar, leads respond, and both sides see overdue flags and the on-time share."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from consortium_hub.calendars import services as calendars
from consortium_hub.calendars.selectors import calendar_for_consortium
from consortium_hub.communiques.models import Communique, CommuniqueRecipient
from consortium_hub.communiques.selectors import communiques as selectors
from consortium_hub.communiques.services import reminders
from consortium_hub.communiques.services.communiques import communique_respond, communique_send, response_due
from consortium_hub.core.testing.queries import api_rows, assert_constant_queries, html_rows

pytestmark = pytest.mark.django_db

ANON, ADMIN, ENG, SUP = "anonymous", "orcid_admin", "engagement_lead", "orcid_support"
LA, LS, MC, LB = "lead_admin_a", "lead_support_a", "member_contact_a", "lead_admin_b"
LONDON, BRISBANE = ZoneInfo("Europe/London"), ZoneInfo("Australia/Brisbane")
UTC = dt.timezone.utc
_serial = itertools.count(1)


@pytest.fixture
def queensland(cast):
    """Consortium B counts on Queensland's public holidays."""
    calendars.calendar_update(user=None, calendar=calendar_for_consortium(cast.consortium_b),
                              holiday_subdivision="QLD")
    return cast


def send(cast: Any, consortia: list[Any], at: dt.datetime, who: str = ADMIN) -> Communique:
    return communique_send(user=cast[who], subject=f"Annual survey {next(_serial)}", body="Please reply.",
                           consortia=consortia, now=at)


# --- The clock -------------------------------------------------------------------------------------------

def test_the_clock_skips_the_weekend_and_a_closure_on_consortium_as_calendar(cast):
    thursday = dt.datetime(2026, 3, 5, 15, 0, tzinfo=LONDON)
    # Friday (1), Monday (2), Tuesday (3); the time of day is kept.
    assert response_due(consortium=cast.consortium_a, sent_at=thursday) == dt.datetime(2026, 3, 10, 15, 0,
                                                                                     tzinfo=LONDON)
    calendars.closure_add(user=None, calendar=calendar_for_consortium(cast.consortium_a), date=dt.date(2026, 3, 9),
                          reason="Office move")
    assert response_due(consortium=cast.consortium_a, sent_at=thursday) == dt.datetime(2026, 3, 11, 15, 0,
                                                                                     tzinfo=LONDON)
    # Sent on a Saturday: counted from that day (Monday, Tuesday, Wednesday).
    saturday = dt.datetime(2026, 3, 14, 10, 0, tzinfo=LONDON)
    assert response_due(consortium=cast.consortium_a, sent_at=saturday) == dt.datetime(2026, 3, 18, 10, 0,
                                                                                     tzinfo=LONDON)


def test_the_clock_skips_a_weekend_and_a_queensland_holiday_for_consortium_b(cast):
    thursday = dt.datetime(2026, 4, 30, 14, 30, tzinfo=BRISBANE)
    # Without Queensland's holidays: Friday 1, Monday 4, Tuesday 5 May.
    assert response_due(consortium=cast.consortium_b, sent_at=thursday) == dt.datetime(2026, 5, 5, 14, 30,
                                                                                     tzinfo=BRISBANE)
    calendars.calendar_update(user=None, calendar=calendar_for_consortium(cast.consortium_b),
                              holiday_subdivision="QLD")
    # Monday 4 May is Labour Day in Queensland: Friday 1, Tuesday 5, Wednesday 6 May.
    assert response_due(consortium=cast.consortium_b, sent_at=thursday) == dt.datetime(2026, 5, 6, 14, 30,
                                                                                     tzinfo=BRISBANE)


def test_one_communique_runs_a_clock_per_consortium(queensland, django_capture_on_commit_callbacks):
    cast = queensland
    at = dt.datetime(2026, 10, 1, 4, 30, tzinfo=UTC)  # Thursday: 05:30 in London, 14:30 in Brisbane
    with django_capture_on_commit_callbacks(execute=True):
        communique = send(cast, [cast.consortium_a, cast.consortium_b], at)
    copies = {c.consortium: c for c in communique.recipients.all()}
    # A: Friday 2, Monday 5, Tuesday 6 October. B: Monday 5 October is the King's Birthday in Queensland.
    assert copies[cast.consortium_a].respond_by == dt.datetime(2026, 10, 6, 5, 30, tzinfo=LONDON)
    assert copies[cast.consortium_b].respond_by == dt.datetime(2026, 10, 7, 14, 30, tzinfo=BRISBANE)
    assert communique.sent_at == at and communique.sent_by == cast[ADMIN]
    to = sorted(sorted(m.to) for m in mail.outbox)
    assert to == [["lead_admin_a@cast.example", "lead_support_a@cast.example"], ["lead_admin_b@cast.example"]]
    mail_b = next(m for m in mail.outbox if m.to == ["lead_admin_b@cast.example"])
    assert communique.subject in mail_b.subject and "Wednesday 7 October 2026, 14:30 AEST" in mail_b.body
    assert reverse("communiques:respond", args=[copies[cast.consortium_b].pk]) in mail_b.body


# --- Who sends, who responds ---------------------------------------------------------------------------

def test_sending_needs_the_grant_for_every_consortium(cast):
    at = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
    send(cast, [cast.consortium_a], at, who=ENG)  # the engagement lead of A
    with pytest.raises(PermissionDenied):
        send(cast, [cast.consortium_a, cast.consortium_b], at, who=ENG)
    for who in (SUP, LA, LS, MC, LB):
        with pytest.raises(PermissionDenied):
            send(cast, [cast.consortium_a], at, who=who)
    with pytest.raises(ValidationError):
        send(cast, [], at)


def test_the_send_page_can_address_every_consortium(cast, client_for):
    client = client_for(cast[ADMIN])
    response = client.post(reverse("communiques:send"), {"subject": "Fees 2027", "body": "New fees.",
                                                          "all_consortia": "on"})
    communique = Communique.objects.get()
    assert response.status_code == 302
    assert {c.consortium for c in communique.recipients.all()} == {cast.consortium_a, cast.consortium_b}
    page = client_for(cast[ENG]).get(reverse("communiques:send"))
    assert list(page.context["form"].fields["consortia"].queryset) == [cast.consortium_a]


def test_only_the_leads_respond_once_and_orcid_hears(cast, django_capture_on_commit_callbacks):
    communique = send(cast, [cast.consortium_a], dt.datetime(2026, 3, 2, 9, tzinfo=UTC))
    copy = communique.recipients.get()
    for who in (ADMIN, ENG, SUP, LB, MC):
        with pytest.raises(PermissionDenied):
            communique_respond(user=cast[who], recipient=copy, response="On behalf")
    with pytest.raises(ValidationError):
        communique_respond(user=cast[LS], recipient=copy, response="  ")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        communique_respond(user=cast[LS], recipient=copy, response="We agree.",
                           now=dt.datetime(2026, 3, 3, 9, tzinfo=UTC))
    copy.refresh_from_db()
    assert (copy.response, copy.responded_by) == ("We agree.", cast[LS])
    assert [m.to for m in mail.outbox] == [["orcid_admin@cast.example"]]
    assert "(on time)" in mail.outbox[0].body
    with pytest.raises(ValidationError, match="already answered"):
        communique_respond(user=cast[LA], recipient=copy, response="Again")


def test_respond_page(cast, client_for):
    communique = send(cast, [cast.consortium_a], dt.datetime(2026, 3, 2, 9, tzinfo=UTC))
    copy = communique.recipients.get()
    client = client_for(cast[LA])
    url = reverse("communiques:respond", args=[copy.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"response": "Noted, thanks."})
    assert response.status_code == 302 and response["Location"] == reverse("communiques:detail",
                                                                           args=[communique.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "Noted, thanks." in detail and "Answered" in detail


# --- Overdue flags and the on-time share -----------------------------------------------------------------

def test_overdue_flags_and_the_on_time_share_for_both_sides(queensland, client_for):
    cast = queensland
    monday = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
    first = send(cast, [cast.consortium_a, cast.consortium_b], monday)
    second = send(cast, [cast.consortium_a, cast.consortium_b], monday + dt.timedelta(days=7))
    third = send(cast, [cast.consortium_a], monday + dt.timedelta(days=14))
    copy = {(c.communique_id, c.consortium_id): c for c in CommuniqueRecipient.objects.all()}
    a, b = cast.consortium_a.pk, cast.consortium_b.pk
    # A answers the first on time and the second a week late; B answers the first on time.
    communique_respond(user=cast[LA], recipient=copy[first.pk, a], response="Yes",
                       now=copy[first.pk, a].respond_by)  # on the dot counts as on time
    communique_respond(user=cast[LA], recipient=copy[second.pk, a], response="Late",
                       now=copy[second.pk, a].respond_by + dt.timedelta(days=7))
    communique_respond(user=cast[LB], recipient=copy[first.pk, b], response="Yes",
                       now=copy[first.pk, b].respond_by - dt.timedelta(hours=1))

    now = dt.datetime(2026, 3, 18, 12, tzinfo=UTC)  # B's second copy is past due; A's third is not yet
    flags = {(c.communique_id, c.consortium_id): c.is_overdue for c in selectors.copy_list(user=cast[ADMIN], now=now)}
    assert flags == {(first.pk, a): False, (second.pk, a): False, (third.pk, a): False,
                     (first.pk, b): False, (second.pk, b): True}
    assert copy[third.pk, a].respond_by > now
    lead_a = list(selectors.copy_list(user=cast[LA], now=now + dt.timedelta(days=7)))
    assert [(c.communique_id, c.is_overdue) for c in lead_a] == [(third.pk, True), (first.pk, False),
                                                                 (second.pk, False)]

    orcid = {s.consortium_name: s for s in selectors.response_stats(user=cast[SUP], now=now)}
    assert (orcid["Consortium A"].sent, orcid["Consortium A"].responded, orcid["Consortium A"].on_time) == (3, 2, 1)
    assert orcid["Consortium A"].on_time_share == 0.5 and orcid["Consortium A"].late == 1
    assert (orcid["Consortium B"].on_time_share, orcid["Consortium B"].overdue) == (1.0, 1)
    assert [s.consortium_name for s in selectors.response_stats(user=cast[LA], now=now)] == ["Consortium A"]
    assert [s.consortium_name for s in selectors.response_stats(user=cast[LB], now=now)] == ["Consortium B"]
    assert [s.consortium_name for s in selectors.response_stats(user=cast[ENG], now=now)] == ["Consortium A"]

    page = client_for(cast[LB]).get(reverse("communiques:stats")).content.decode()
    assert "Consortium B" in page and "100%" in page and "Consortium A" not in page
    page = client_for(cast[SUP]).get(reverse("communiques:stats")).content.decode()
    assert "50%" in page and "100%" in page


def test_the_lead_list_shows_its_copies_overdue_first(cast, client_for):
    old = send(cast, [cast.consortium_a, cast.consortium_b], dt.datetime(2020, 3, 2, 9, tzinfo=UTC))
    new = send(cast, [cast.consortium_a], dt.datetime(2099, 3, 2, 9, tzinfo=UTC))
    response = client_for(cast[LA]).get(reverse("communiques:list"))
    assert [c.communique_id for c in response.context["objects"]] == [old.pk, new.pk]
    assert "Overdue" in response.content.decode()
    response = client_for(cast[LB]).get(reverse("communiques:list"))
    assert [c.communique_id for c in response.context["objects"]] == [old.pk]
    response = client_for(cast[LA]).get(reverse("communiques:list") + "?state=0")
    assert [c.communique_id for c in response.context["objects"]] == [old.pk]
    orcid = client_for(cast[SUP]).get(reverse("communiques:list"))
    assert [c.pk for c in orcid.context["objects"]] == [new.pk, old.pk]
    assert [c.consortium.name for c in orcid.context["objects"][1].copies] == ["Consortium A", "Consortium B"]
    # The engagement lead of A sees A's copies only, also of a communiqué sent to both.
    eng = client_for(cast[ENG]).get(reverse("communiques:list"))
    assert [c.consortium.name for c in eng.context["objects"][1].copies] == ["Consortium A"]


# --- Reminders -------------------------------------------------------------------------------------------

def test_reminders_for_due_tomorrow_and_overdue_go_once_each(cast, django_capture_on_commit_callbacks):
    communique = send(cast, [cast.consortium_a], dt.datetime(2026, 3, 2, 9, tzinfo=UTC))  # Monday
    copy = communique.recipients.get()
    assert copy.respond_by == dt.datetime(2026, 3, 5, 9, tzinfo=LONDON)  # Thursday

    def run(at: dt.datetime) -> list[str]:
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            reminders.send_response_reminders(now=at)
        return [m.subject for m in mail.outbox]

    assert run(dt.datetime(2026, 3, 3, 8, tzinfo=UTC)) == []  # Tuesday: not yet
    due = run(dt.datetime(2026, 3, 4, 8, tzinfo=UTC))  # Wednesday: due tomorrow
    assert len(due) == 1 and due[0].startswith("Due tomorrow")
    assert sorted(mail.outbox[0].to) == ["lead_admin_a@cast.example", "lead_support_a@cast.example"]
    assert run(dt.datetime(2026, 3, 4, 20, tzinfo=UTC)) == []  # the same kind goes once
    overdue = run(dt.datetime(2026, 3, 6, 8, tzinfo=UTC))
    assert len(overdue) == 1 and overdue[0].startswith("Overdue")
    assert run(dt.datetime(2026, 3, 9, 8, tzinfo=UTC)) == []
    answered = send(cast, [cast.consortium_a], dt.datetime(2026, 3, 2, 9, tzinfo=UTC)).recipients.get()
    communique_respond(user=cast[LA], recipient=answered, response="Done", now=dt.datetime(2026, 3, 3, tzinfo=UTC))
    assert run(dt.datetime(2026, 3, 10, 8, tzinfo=UTC)) == []  # answered copies are never chased


def test_the_daily_schedule_runs_each_day_once(cast):
    send(cast, [cast.consortium_a], dt.datetime(2026, 3, 2, 9, tzinfo=UTC))
    at = dt.datetime(2026, 3, 6, 8, tzinfo=UTC)
    assert reminders.catch_up_response_reminders(today=at.date(), now=at) == 1
    assert reminders.catch_up_response_reminders(today=at.date(), now=at) == 0


# --- Access ----------------------------------------------------------------------------------------------

def test_member_contacts_see_none_of_it_and_lead_b_gets_404_on_as_copies(cast, client_for, api_for):
    communique = send(cast, [cast.consortium_a], dt.datetime(2026, 3, 2, 9, tzinfo=UTC))
    copy = communique.recipients.get()
    assert list(Communique.objects.visible_to(cast[MC])) == []
    assert list(CommuniqueRecipient.objects.visible_to(cast[MC])) == []
    member = client_for(cast[MC])
    assert member.get(reverse("communiques:list")).status_code == 403
    assert member.get(reverse("communiques:detail", args=[communique.pk])).status_code == 404
    assert api_for(cast[MC]).get("/api/v1/communiques/").status_code == 403
    lead_b = client_for(cast[LB])
    assert lead_b.get(reverse("communiques:detail", args=[communique.pk])).status_code == 404
    assert lead_b.get(reverse("communiques:respond", args=[copy.pk])).status_code == 404
    assert api_for(cast[LB]).get(f"/api/v1/communiques/copies/{copy.pk}/").status_code == 404
    assert api_for(cast[LB]).get("/api/v1/communiques/").json()["results"] == []


def test_api_send_list_and_respond(cast, api_for):
    orcid = api_for(cast[ENG])
    response = orcid.post("/api/v1/communiques/", {"subject": "Hello", "body": "Reply please",
                                                   "all_consortia": True}, format="json")
    assert response.status_code == 201
    data = response.json()
    assert [c["consortium_name"] for c in data["copies"]] == ["Consortium A"]  # all *its* consortia
    assert orcid.post("/api/v1/communiques/", {"subject": "x", "body": "y", "consortia": [cast.consortium_b.pk]},
                      format="json").status_code == 400  # B is not a choice for A's engagement lead
    copy_id = data["copies"][0]["id"]
    lead = api_for(cast[LS])
    assert [c["id"] for c in lead.get("/api/v1/communiques/copies/").json()["results"]] == [copy_id]
    answered = lead.post(f"/api/v1/communiques/copies/{copy_id}/respond/", {"response": "OK"}, format="json")
    assert answered.status_code == 200 and answered.json()["on_time"] is True
    assert lead.post(f"/api/v1/communiques/copies/{copy_id}/respond/", {"response": "OK"},
                     format="json").status_code == 400
    assert orcid.get(f"/api/v1/communiques/{data['id']}/").json()["copies"][0]["response"] == "OK"


# --- Query counts ----------------------------------------------------------------------------------------

def _add_communiques(cast: Any, n: int) -> None:
    at = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
    for i in range(n):
        communique = send(cast, [cast.consortium_a, cast.consortium_b], at + dt.timedelta(hours=i))
        if i % 2:
            first = communique.recipients.order_by("pk").first()
            first.responded_at, first.responded_by, first.response = at + dt.timedelta(days=1), cast[LA], "ok"
            first.save()


@pytest.mark.parametrize("who", [ADMIN, ENG, LA])
def test_communique_list_query_count_is_constant(cast, client_for, who):
    calendar_for_consortium(cast.consortium_a), calendar_for_consortium(cast.consortium_b)
    client = client_for(cast[who])
    url = reverse("communiques:list") + "?per_page=100"
    assert_constant_queries(lambda n: _add_communiques(cast, n), lambda: client.get(url), shown=html_rows,
                            few=5, many=50)


@pytest.mark.parametrize("url", ["/api/v1/communiques/", "/api/v1/communiques/copies/"])
@pytest.mark.parametrize("who", [ADMIN, LA])
def test_communique_api_lists_query_count_is_constant(cast, api_for, who, url):
    api = api_for(cast[who])
    assert_constant_queries(lambda n: _add_communiques(cast, n), lambda: api.get(url), shown=api_rows,
                            few=5, many=50)
