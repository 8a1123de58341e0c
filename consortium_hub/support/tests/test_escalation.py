"""Escalation to ORCID (Tier 2/3): the lead escalates, ORCID support works its queue across consortia,
never reads the lead's internal notes, and hands the ticket back."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from consortium_hub.core.testing.queries import api_rows, assert_constant_queries, html_rows
from consortium_hub.support.models import Ticket, TicketMessage, TicketStatusChange
from consortium_hub.support.selectors import escalation as selectors
from consortium_hub.support.services import escalation as services

pytestmark = pytest.mark.django_db

ANON, ADMIN, ENG, SUP = "anonymous", "orcid_admin", "engagement_lead", "orcid_support"
LA, LS, MC, LB = "lead_admin_a", "lead_support_a", "member_contact_a", "lead_admin_b"
UTC = dt.timezone.utc
_serial = itertools.count(1)


def make_ticket(consortium: Any, organisation: Any = None, **fields: Any) -> Ticket:
    n = next(_serial)
    fields.setdefault("subject", f"ORCID iDs not syncing {n}")
    fields.setdefault("requester_email", "ann@alpha.example")
    return Ticket.objects.create(consortium=consortium, organisation=organisation, reference=f"T-{n:05d}", **fields)


def escalated_ticket(cast: Any, consortium: Any = None, organisation: Any = None, *, tier: int = 2,
                     **fields: Any) -> Ticket:
    """An escalated ticket made directly (for queue and access tests that do not exercise the service)."""
    consortium = consortium or cast.consortium_a
    if organisation is None and consortium == cast.consortium_a:
        organisation = cast.org_a
    fields.setdefault("escalated_at", dt.datetime(2026, 3, 2, 10, tzinfo=UTC))
    fields.setdefault("escalation_summary", "Webhook fails for every member since Monday.")
    fields.setdefault("orcid_status", Ticket.OrcidStatus.NEW)
    fields.setdefault("status", Ticket.Status.WITH_ORCID)
    return make_ticket(consortium, organisation, tier=tier, **fields)


def add_messages(ticket: Ticket, cast: Any) -> dict[str, TicketMessage]:
    def post(visibility: str, body: str, author: Any) -> TicketMessage:
        return TicketMessage.objects.create(ticket=ticket, visibility=visibility, body=body, author_user=author,
                                            author_email=author.email if author else "ann@alpha.example")

    return {
        "public": post(TicketMessage.Visibility.PUBLIC, "Public: our ORCID sync stopped.", None),
        "internal": post(TicketMessage.Visibility.INTERNAL, "Internal: this member never pays on time.",
                         cast[LS]),
        "shared": post(TicketMessage.Visibility.SHARED_WITH_ORCID, "Shared: API logs show 401s since 2 March.",
                       cast[LS]),
    }


# --- Escalating ------------------------------------------------------------------------------------

def test_lead_support_escalates_a_ticket_and_orcid_support_hears_of_it(cast, django_capture_on_commit_callbacks):
    ticket = make_ticket(cast.consortium_a, cast.org_a, status=Ticket.Status.OPEN)
    at = dt.datetime(2026, 3, 6, 15, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_escalate(user=cast[LS], ticket=ticket, tier=3, summary="  Webhook 401s since 2 March.  ",
                                 now=at)
    ticket.refresh_from_db()
    assert (ticket.tier, ticket.status, ticket.orcid_status) == (3, Ticket.Status.WITH_ORCID, Ticket.OrcidStatus.NEW)
    assert (ticket.escalated_at, ticket.escalated_by, ticket.escalation_summary) == (
        at, cast[LS], "Webhook 401s since 2 March.")
    change = TicketStatusChange.objects.get(ticket=ticket, to_status=Ticket.Status.WITH_ORCID)
    assert (change.from_status, change.by) == (Ticket.Status.OPEN, cast[LS])
    # ORCID's own SLA runs from the escalation on ORCID's calendar (UTC, Mon-Fri 09:00-17:00): escalated
    # at Friday 15:00, its deadlines fall on a later business day.
    assert ticket.orcid_first_response_due is not None and ticket.orcid_first_response_due > at
    orcid_mail = [m for m in mail.outbox if m.to == ["orcid_support@cast.example"]]
    assert len(orcid_mail) == 1
    assert ticket.reference in orcid_mail[0].subject and "Consortium A" in orcid_mail[0].subject
    assert "Webhook 401s since 2 March." in orcid_mail[0].body
    assert reverse("support:orcid_ticket", args=[ticket.pk]) in orcid_mail[0].body


def test_escalation_is_for_lead_staff_with_a_tier_and_a_summary(cast):
    ticket = make_ticket(cast.consortium_a, cast.org_a, status=Ticket.Status.OPEN)
    for who in (MC, ENG, SUP, LB):
        with pytest.raises(PermissionDenied):
            services.ticket_escalate(user=cast[who], ticket=ticket, tier=2, summary="Help")
    with pytest.raises(ValidationError) as error:
        services.ticket_escalate(user=cast[LA], ticket=ticket, tier=1, summary="Help")
    assert "tier" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.ticket_escalate(user=cast[LA], ticket=ticket, tier=2, summary="   ")
    assert "summary" in error.value.message_dict
    services.ticket_escalate(user=cast[LA], ticket=ticket, tier=2, summary="Help")
    with pytest.raises(ValidationError, match="already with ORCID"):
        services.ticket_escalate(user=cast[LA], ticket=ticket, tier=3, summary="Again")
    closed = make_ticket(cast.consortium_a, cast.org_a, status=Ticket.Status.CLOSED)
    with pytest.raises(ValidationError, match="Reopen"):
        services.ticket_escalate(user=cast[LA], ticket=closed, tier=2, summary="Help")


def test_escalate_page_escalates_and_returns_to_the_ticket(cast, client_for):
    ticket = make_ticket(cast.consortium_a, cast.org_a, status=Ticket.Status.OPEN)
    url = reverse("support:ticket_escalate", args=[ticket.pk])
    client = client_for(cast[LS])
    assert client.get(url).status_code == 200
    response = client.post(url, {"tier": "2", "summary": ""})
    assert response.status_code == 200 and "summary" in response.context["form"].errors
    response = client.post(url, {"tier": "2", "summary": "Needs ORCID's API team."})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.tier, ticket.status) == (2, Ticket.Status.WITH_ORCID)


# --- What ORCID sees -------------------------------------------------------------------------------

def test_orcid_support_never_reads_the_leads_internal_notes(cast, client_for):
    ticket = make_ticket(cast.consortium_a, cast.org_a, status=Ticket.Status.OPEN)
    messages = add_messages(ticket, cast)
    visible = TicketMessage.objects.visible_to(cast[SUP]).filter(ticket=ticket)
    assert list(visible) == []  # nothing before escalation
    services.ticket_escalate(user=cast[LS], ticket=ticket, tier=2, summary="Summary for ORCID: 401s.")
    visible = set(TicketMessage.objects.visible_to(cast[SUP]).filter(ticket=ticket))
    assert visible == {messages["public"], messages["shared"]}
    # The lead still sees everything; the member only the public reply.
    assert set(TicketMessage.objects.visible_to(cast[LS]).filter(ticket=ticket)) == set(messages.values())
    assert set(TicketMessage.objects.visible_to(cast[MC]).filter(ticket=ticket)) == {messages["public"]}

    for who in (SUP, ADMIN):  # an ORCID admin's grants include notes; ORCID's page still leaves them out
        page = client_for(cast[who]).get(reverse("support:orcid_ticket", args=[ticket.pk]))
        assert page.status_code == 200
        html = page.content.decode()
        assert "Summary for ORCID: 401s." in html
        assert messages["public"].body in html and messages["shared"].body in html
        assert messages["internal"].body not in html, who


def test_orcid_api_detail_leaves_out_internal_notes(cast, api_for):
    ticket = escalated_ticket(cast)
    messages = add_messages(ticket, cast)
    for who in (SUP, ADMIN):
        data = api_for(cast[who]).get(f"/api/v1/support/orcid-tickets/{ticket.pk}/").json()
        assert sorted(m["id"] for m in data["messages"]) == sorted([messages["public"].pk, messages["shared"].pk])


# --- ORCID works the ticket ------------------------------------------------------------------------

def test_orcid_takes_asks_resolves_and_the_ticket_returns_to_the_lead(cast, django_capture_on_commit_callbacks):
    ticket = make_ticket(cast.consortium_a, cast.org_a, status=Ticket.Status.OPEN)
    services.ticket_escalate(user=cast[LS], ticket=ticket, tier=2, summary="401s")
    mail.outbox.clear()

    services.orcid_ticket_take(user=cast[SUP], ticket=ticket)
    ticket.refresh_from_db()
    assert (ticket.orcid_assignee, ticket.orcid_status) == (cast[SUP], Ticket.OrcidStatus.INVESTIGATING)

    with django_capture_on_commit_callbacks(execute=True):
        question = services.orcid_ticket_reply(user=cast[SUP], ticket=ticket, body="Which client id?",
                                               ask_for_information=True)
    ticket.refresh_from_db()
    assert question.visibility == TicketMessage.Visibility.ORCID
    assert ticket.orcid_status == Ticket.OrcidStatus.WAITING_ON_LEAD
    assert ticket.orcid_first_responded_at is not None
    # Unassigned ticket: the consortium's lead support staff hear of it.
    assert [m.to for m in mail.outbox] == [["lead_support_a@cast.example"]]
    assert "Which client id?" in mail.outbox[0].body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.escalation_lead_reply(user=cast[LS], ticket=ticket, body="APP-123")
    ticket.refresh_from_db()
    assert ticket.orcid_status == Ticket.OrcidStatus.INVESTIGATING
    assert [m.to for m in mail.outbox] == [["orcid_support@cast.example"]]

    ticket.assignee = cast[LA]
    ticket.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.orcid_ticket_resolve(user=cast[SUP], ticket=ticket, body="Token rotated; fixed.")
    ticket.refresh_from_db()
    assert (ticket.orcid_status, ticket.status, ticket.tier) == (Ticket.OrcidStatus.RESOLVED, Ticket.Status.OPEN, 2)
    assert ticket.orcid_resolved_at is not None
    assert TicketStatusChange.objects.filter(ticket=ticket, from_status=Ticket.Status.WITH_ORCID,
                                             to_status=Ticket.Status.OPEN).exists()
    assert [m.to for m in mail.outbox] == [["lead_admin_a@cast.example"]]  # the assignee
    assert "Token rotated; fixed." in mail.outbox[0].body

    # The member saw only that the ticket was with ORCID: no ORCID message reaches them.
    member_sees = TicketMessage.objects.visible_to(cast[MC]).filter(ticket=ticket)
    assert not member_sees.filter(visibility=TicketMessage.Visibility.ORCID).exists()
    with pytest.raises(ValidationError, match="no longer working"):
        services.orcid_ticket_reply(user=cast[SUP], ticket=ticket, body="More")


def test_orcid_hands_a_ticket_back_as_tier_1_and_loses_sight_of_it(cast, client_for):
    ticket = make_ticket(cast.consortium_a, cast.org_a, status=Ticket.Status.OPEN)
    services.ticket_escalate(user=cast[LS], ticket=ticket, tier=2, summary="401s")
    client = client_for(cast[SUP])
    response = client.post(reverse("support:orcid_ticket_hand_back", args=[ticket.pk]), {"reason": ""})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.orcid_status == Ticket.OrcidStatus.NEW  # a hand-back needs a reason
    response = client.post(reverse("support:orcid_ticket_hand_back", args=[ticket.pk]),
                           {"reason": "This is a membership question for the lead."})
    assert response.status_code == 302 and response["Location"] == reverse("support:orcid_queue")
    ticket.refresh_from_db()
    assert (ticket.tier, ticket.orcid_status, ticket.status) == (1, Ticket.OrcidStatus.HANDED_BACK,
                                                                 Ticket.Status.OPEN)
    assert client.get(reverse("support:orcid_ticket", args=[ticket.pk])).status_code == 404
    # The lead can escalate it again later.
    services.ticket_escalate(user=cast[LA], ticket=ticket, tier=3, summary="It is technical after all.")
    ticket.refresh_from_db()
    assert (ticket.tier, ticket.orcid_status) == (3, Ticket.OrcidStatus.NEW)


def test_only_orcid_support_works_escalated_tickets(cast):
    ticket = escalated_ticket(cast)
    tier_1 = make_ticket(cast.consortium_a, cast.org_a)
    for who in (LA, LS, ENG, MC, LB):
        with pytest.raises(PermissionDenied):
            services.orcid_ticket_take(user=cast[who], ticket=ticket)
    with pytest.raises(PermissionDenied):
        services.orcid_ticket_take(user=cast[SUP], ticket=tier_1)
    with pytest.raises(PermissionDenied):
        services.escalation_lead_reply(user=cast[MC], ticket=ticket, body="Me too")


def test_orcid_pages_act_through_the_services(cast, client_for):
    ticket = escalated_ticket(cast)
    client = client_for(cast[SUP])
    client.post(reverse("support:orcid_ticket_take", args=[ticket.pk]))
    client.post(reverse("support:orcid_ticket_reply", args=[ticket.pk]), {"body": "Which app?", "ask": "1"})
    ticket.refresh_from_db()
    assert (ticket.orcid_assignee, ticket.orcid_status) == (cast[SUP], Ticket.OrcidStatus.WAITING_ON_LEAD)
    client_for(cast[LS]).post(reverse("support:ticket_orcid_reply", args=[ticket.pk]), {"body": "APP-1"})
    ticket.refresh_from_db()
    assert ticket.orcid_status == Ticket.OrcidStatus.INVESTIGATING
    client = client_for(cast[SUP])
    client.post(reverse("support:orcid_ticket_resolve", args=[ticket.pk]), {"body": "Done"})
    ticket.refresh_from_db()
    assert (ticket.orcid_status, ticket.status) == (Ticket.OrcidStatus.RESOLVED, Ticket.Status.OPEN)
    assert list(TicketMessage.objects.filter(ticket=ticket).values_list("visibility", "body")) == [
        ("orcid", "Which app?"), ("orcid", "APP-1"), ("orcid", "Done")]


def test_the_leads_escalation_panel(cast):
    from django.template.loader import render_to_string

    ticket = escalated_ticket(cast)
    services.orcid_ticket_reply(user=cast[SUP], ticket=ticket, body="Which app?", ask_for_information=True)
    ticket.refresh_from_db()
    lead = selectors.escalation_for_ticket(cast[LS], ticket)
    assert lead["show"] and lead["can_reply_to_orcid"] and not lead["can_escalate"]
    assert [m.body for m in lead["orcid_messages"]] == ["Which app?"]
    html = render_to_string("support/orcid_escalation_panel.html", {"escalation": lead})
    assert "Which app?" in html and reverse("support:ticket_orcid_reply", args=[ticket.pk]) in html
    member = selectors.escalation_for_ticket(cast[MC], ticket)
    assert not member["show"] and member["orcid_messages"] == []
    assert render_to_string("support/orcid_escalation_panel.html", {"escalation": member}).strip() == ""


# --- ORCID's queue ---------------------------------------------------------------------------------

def test_queue_holds_escalated_tickets_of_every_consortium_by_orcid_due_date(cast, client_for):
    late = escalated_ticket(cast, orcid_resolution_due=dt.datetime(2026, 3, 20, 12, tzinfo=UTC))
    soon = escalated_ticket(cast, cast.consortium_b, cast.org_b, tier=3,
                            orcid_resolution_due=dt.datetime(2026, 3, 10, 12, tzinfo=UTC))
    undated = escalated_ticket(cast, cast.consortium_b, cast.org_b)
    taken = escalated_ticket(cast, orcid_assignee=cast[SUP], orcid_status=Ticket.OrcidStatus.INVESTIGATING,
                             orcid_resolution_due=dt.datetime(2026, 3, 15, 12, tzinfo=UTC))
    done = escalated_ticket(cast, orcid_status=Ticket.OrcidStatus.RESOLVED, status=Ticket.Status.OPEN)
    make_ticket(cast.consortium_a, cast.org_a)  # Tier 1: the lead's own

    def refs(query: str = "") -> list[str]:
        response = client_for(cast[SUP]).get(reverse("support:orcid_queue") + query)
        assert response.status_code == 200
        return [t.reference for t in response.context["objects"]]

    assert refs() == [soon.reference, taken.reference, late.reference, undated.reference]
    assert refs(f"?consortium={cast.consortium_b.pk}") == [soon.reference, undated.reference]
    assert refs("?tier=3") == [soon.reference]
    assert refs(f"?assignee={cast[SUP].pk}") == [taken.reference]
    assert refs("?unassigned=true") == [soon.reference, late.reference, undated.reference]
    assert refs("?orcid_status=resolved") == [done.reference]
    htmx = client_for(cast[SUP]).get(reverse("support:orcid_queue"), headers={"HX-Request": "true"})
    assert b"<html" not in htmx.content and soon.reference.encode() in htmx.content


def test_orcid_api_queue_and_actions(cast, api_for):
    ticket = escalated_ticket(cast, cast.consortium_b, cast.org_b)
    api = api_for(cast[SUP])
    listed = api.get("/api/v1/support/orcid-tickets/").json()
    assert [t["reference"] for t in listed["results"]] == [ticket.reference]
    base = f"/api/v1/support/orcid-tickets/{ticket.pk}/"
    assert api.post(base + "take/").json()["orcid_status"] == "investigating"
    assert api.post(base + "reply/", {"body": "Logs?", "ask_for_information": True},
                    format="json").json()["orcid_status"] == "waiting_on_lead"
    assert api.post(base + "hand-back/", {}, format="json").status_code == 400
    data = api.post(base + "hand-back/", {"reason": "Lead's to answer"}, format="json").json()
    assert (data["tier"], data["orcid_status"]) == (1, "handed_back")
    assert api.get(base).status_code == 404


def test_leads_escalate_through_the_api(cast, api_for):
    ticket = make_ticket(cast.consortium_a, cast.org_a, status=Ticket.Status.OPEN)
    payload = {"ticket": ticket.pk, "tier": 2, "summary": "ORCID please"}
    assert api_for(cast[LB]).post("/api/v1/support/escalations/", payload, format="json").status_code == 400
    assert api_for(cast[MC]).post("/api/v1/support/escalations/", payload, format="json").status_code == 403
    response = api_for(cast[LA]).post("/api/v1/support/escalations/", payload, format="json")
    assert response.status_code == 201 and response.json()["orcid_status"] == "new"


def _add_escalated(cast: Any, n: int) -> None:
    for i in range(n):
        consortium, org = ((cast.consortium_a, cast.org_a) if i % 2 else (cast.consortium_b, cast.org_b))
        ticket = escalated_ticket(cast, consortium, org, orcid_assignee=cast[SUP] if i % 3 else None,
                                  escalated_by=cast[LS], tier=2 + i % 2,
                                  orcid_resolution_due=dt.datetime(2026, 3, 1, tzinfo=UTC) + dt.timedelta(hours=i))
        add_messages(ticket, cast)


@pytest.mark.parametrize("who", [SUP, ADMIN])
def test_orcid_queue_query_count_is_constant(cast, client_for, who):
    client = client_for(cast[who])
    url = reverse("support:orcid_queue") + "?per_page=100"
    assert_constant_queries(lambda n: _add_escalated(cast, n), lambda: client.get(url), shown=html_rows,
                            few=5, many=50)


def test_orcid_queue_api_query_count_is_constant(cast, api_for):
    api = api_for(cast[SUP])
    assert_constant_queries(lambda n: _add_escalated(cast, n), lambda: api.get("/api/v1/support/orcid-tickets/"),
                            shown=api_rows, few=5, many=50)
