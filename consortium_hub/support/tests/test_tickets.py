"""Tickets: raising them (page, API), replies and notes, status and reopening, assignment, merging,
who sees what, attachments, outbound mail and the list's query counts."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from consortium_hub.core.testing.queries import api_rows, assert_constant_queries, html_rows
from consortium_hub.support.models import Ticket, TicketCC, TicketStatusChange
from consortium_hub.support.services import tickets as services

pytestmark = pytest.mark.django_db

Status = Ticket.Status
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run `fn(**kwargs)` as a request would (on-commit work runs); return its result and the mail sent."""

    def run(fn, **kwargs):
        before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            result = fn(**kwargs)
        return result, mail.outbox[before:]

    return run


def raise_ticket(cast, **kwargs) -> Ticket:
    data = {"user": cast["member_contact_a"], "organisation": cast.org_a, "subject": "ORCID sign-in fails",
            "body": "Our researchers cannot sign in.", **kwargs}
    return services.ticket_create(**data)


# --- Raising ---------------------------------------------------------------------------------------------

def test_member_raises_a_ticket_from_the_page(cast, client_for, django_capture_on_commit_callbacks):
    client = client_for(cast["member_contact_a"])
    page = client.get(reverse("support:ticket_create"))
    assert page.status_code == 200
    # Only their own organisation is offered.
    assert b"Alpha University" in page.content and b"Alpha Institute" not in page.content
    assert page.context["form"].initial["organisation"] == cast.org_a.pk  # their only organisation
    assert b"desk-hours" in page.content  # when the consortium's desk is open (the SLA part's panel)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("support:ticket_create"), {
            "organisation": cast.org_a.pk, "subject": "API credentials", "category": "technical", "priority": "high",
            "body": "Our client secret stopped working.", "cc": "Boss@Alpha.example, it@alpha.example",
            "attachments": [SimpleUploadedFile("error.png", PNG, "image/png")]})
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("support:ticket_detail", args=[ticket.pk])
    assert re.fullmatch(rf"CH-{cast.consortium_a.pk}-\d{{4}}-0001", ticket.reference)
    assert (ticket.organisation, ticket.consortium, ticket.status, ticket.priority) == (
        cast.org_a, cast.consortium_a, Status.NEW, "high")
    assert ticket.requester_email == "member_contact_a@cast.example"
    assert ticket.requester_user == cast["member_contact_a"]
    assert sorted(TicketCC.objects.values_list("email", flat=True)) == ["boss@alpha.example", "it@alpha.example"]
    first = ticket.messages.get()
    assert (first.visibility, first.body) == ("public", "Our client secret stopped working.")
    assert first.attachments.get().content_type == "image/png"
    change = TicketStatusChange.objects.get(ticket=ticket)
    assert (change.from_status, change.to_status, change.by) == ("", Status.NEW, cast["member_contact_a"])
    # The acknowledgement goes to the requester and the CCs, with the reference in the subject.
    [ack] = mail.outbox
    assert sorted(ack.to) == ["boss@alpha.example", "it@alpha.example", "member_contact_a@cast.example"]
    assert f"[{ticket.reference}]" in ack.subject


def test_member_cannot_raise_a_ticket_for_another_organisation(cast, client_for):
    response = client_for(cast["member_contact_a"]).post(reverse("support:ticket_create"), {
        "organisation": cast.org_a2.pk, "subject": "x", "category": "technical", "priority": "normal", "body": "y"})
    assert response.status_code == 200 and "organisation" in response.context["form"].errors
    with pytest.raises(PermissionDenied):
        raise_ticket(cast, organisation=cast.org_a2)
    assert not Ticket.objects.exists()


def test_references_are_numbered_per_consortium(cast):
    a1, a2 = raise_ticket(cast), raise_ticket(cast)
    b1 = services.ticket_create(user=cast["lead_admin_b"], organisation=cast.org_b, subject="s", body="b")
    assert a1.reference.endswith("-0001") and a2.reference.endswith("-0002")
    assert b1.reference.startswith(f"CH-{cast.consortium_b.pk}-") and b1.reference.endswith("-0001")


def test_lead_staff_raise_a_ticket_on_behalf_of_a_member(cast):
    ticket = services.ticket_create(user=cast["lead_support_a"], organisation=cast.org_a2, subject="Phone call",
                                    body="Ian called about invoices.", category="billing",
                                    requester_email="Ian@Inst.example")
    assert ticket.requester_email == "ian@inst.example"
    # A member cannot raise one in someone else's name.
    other = raise_ticket(cast, requester_email="someone@else.example")
    assert other.requester_email == "member_contact_a@cast.example"


def test_member_raises_a_ticket_through_the_api(cast, api_for, django_capture_on_commit_callbacks):
    api = api_for(cast["member_contact_a"])
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(reverse("api:ticket-list"), {
            "organisation": cast.org_a.pk, "subject": "Member API sandbox", "body": "Need sandbox access",
            "category": "technical", "priority": "normal", "cc": ["it@alpha.example"],
            "attachments": [SimpleUploadedFile("trace.log", b"2026-01-01 ERROR token expired\n")]},
            format="multipart")
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.data["id"])
    assert response.data["reference"] == ticket.reference and ticket.status == Status.NEW
    assert ticket.messages.get().via == "api"
    assert ticket.messages.get().attachments.get().filename == "trace.log"
    assert len(mail.outbox) == 1
    # Another organisation's id is not a choice.
    refused = api.post(reverse("api:ticket-list"), {"organisation": cast.org_a2.pk, "subject": "s", "body": "b"},
                       format="json")
    assert refused.status_code == 400 and "organisation" in refused.data


# --- Replies, notes, reopening ----------------------------------------------------------------------------

def test_lead_staff_reply_is_the_first_response_and_is_mailed_to_requester_and_ccs(cast, client_for, sent):
    ticket = raise_ticket(cast, cc=["boss@alpha.example"])
    client = client_for(cast["lead_support_a"])
    response, mails = sent(lambda: client.post(reverse("support:ticket_reply", args=[ticket.pk]),
                                               {"body": "Please send us a screenshot.",
                                                "status": Status.WAITING_ON_MEMBER}))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert ticket.status == Status.WAITING_ON_MEMBER
    assert list(ticket.status_changes.values_list("from_status", "to_status", "by")) == [
        ("", Status.NEW, cast["member_contact_a"].pk),
        (Status.NEW, Status.WAITING_ON_MEMBER, cast["lead_support_a"].pk)]
    [reply] = mails
    assert sorted(reply.to) == ["boss@alpha.example", "member_contact_a@cast.example"]
    assert f"[{ticket.reference}]" in reply.subject
    assert "Please send us a screenshot." in reply.body and "Waiting on member" in reply.body


def test_a_plain_staff_reply_opens_a_new_ticket(cast):
    ticket = raise_ticket(cast)
    services.ticket_reply(user=cast["lead_admin_a"], ticket=ticket, body="Looking into it")
    assert ticket.status == Status.OPEN


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.WAITING_ON_MEMBER])
def test_a_member_reply_reopens_the_ticket(cast, status, sent):
    ticket = raise_ticket(cast, cc=["boss@alpha.example"])
    services.ticket_set_status(user=cast["lead_support_a"], ticket=ticket, status=status)
    if status == Status.RESOLVED:
        assert ticket.resolved_at is not None
    message, mails = sent(services.ticket_reply, user=cast["member_contact_a"], ticket=ticket,
                          body="It happens again.")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.resolved_at is None
    last = ticket.status_changes.last()
    assert (last.from_status, last.to_status, last.by) == (status, Status.OPEN, cast["member_contact_a"])
    # The member's own reply is not mailed back to them; the CC hears of it.
    [copy] = mails
    assert copy.to == ["boss@alpha.example"]


def test_a_member_reply_leaves_an_open_ticket_open_and_cannot_set_the_status(cast):
    ticket = raise_ticket(cast)
    services.ticket_reply(user=cast["lead_support_a"], ticket=ticket, body="On it")
    services.ticket_reply(user=cast["member_contact_a"], ticket=ticket, body="Thanks")
    assert ticket.status == Status.OPEN
    with pytest.raises(PermissionDenied):
        services.ticket_reply(user=cast["member_contact_a"], ticket=ticket, body="Done", status=Status.RESOLVED)
    with pytest.raises(PermissionDenied):
        services.ticket_set_status(user=cast["member_contact_a"], ticket=ticket, status=Status.CLOSED)


def test_internal_notes_are_never_mailed_and_members_never_see_them(cast, client_for, api_for, sent):
    ticket = raise_ticket(cast)
    services.ticket_reply(user=cast["lead_support_a"], ticket=ticket, body="PUBLIC-ANSWER")
    note, mails = sent(services.ticket_note, user=cast["lead_support_a"], ticket=ticket, body="INTERNAL-NOTE")
    shared, more = sent(services.ticket_note, user=cast["lead_admin_a"], ticket=ticket, body="SHARED-NOTE",
                        share_with_orcid=True)
    assert mails == [] and more == []
    assert (note.visibility, shared.visibility) == ("internal", "shared")

    member_page = client_for(cast["member_contact_a"]).get(reverse("support:ticket_detail", args=[ticket.pk]))
    assert b"PUBLIC-ANSWER" in member_page.content
    assert b"INTERNAL-NOTE" not in member_page.content and b"SHARED-NOTE" not in member_page.content
    assert member_page.context["note_form"] is None and member_page.context["manage_form"] is None
    member_api = api_for(cast["member_contact_a"]).get(reverse("api:ticket-messages", args=[ticket.pk]))
    assert [m["visibility"] for m in member_api.data["results"]] == ["public", "public"]

    lead_page = client_for(cast["lead_support_a"]).get(reverse("support:ticket_detail", args=[ticket.pk]))
    assert b"INTERNAL-NOTE" in lead_page.content and b"SHARED-NOTE" in lead_page.content
    # The engagement lead (read-only oversight) sees public replies, not the lead's notes.
    engagement = api_for(cast["engagement_lead"]).get(reverse("api:ticket-messages", args=[ticket.pk]))
    assert {m["visibility"] for m in engagement.data["results"]} == {"public"}
    with pytest.raises(PermissionDenied):
        services.ticket_note(user=cast["member_contact_a"], ticket=ticket, body="sneaky")


def test_status_changes_are_recorded_and_mailed_when_they_matter_to_the_member(cast, sent):
    ticket = raise_ticket(cast, cc=["boss@alpha.example"])
    _, quiet = sent(services.ticket_set_status, user=cast["lead_support_a"], ticket=ticket, status=Status.OPEN)
    assert quiet == []
    _, mails = sent(services.ticket_set_status, user=cast["lead_support_a"], ticket=ticket, status=Status.RESOLVED)
    [resolved] = mails
    assert sorted(resolved.to) == ["boss@alpha.example", "member_contact_a@cast.example"]
    assert f"[{ticket.reference}]" in resolved.subject and "Resolved" in resolved.subject
    ticket.refresh_from_db()
    assert ticket.resolved_at is not None
    changes = list(ticket.status_changes.values_list("to_status", flat=True))
    assert changes == [Status.NEW, Status.OPEN, Status.RESOLVED]
    assert all(c.at and c.by == cast["lead_support_a"] for c in ticket.status_changes.all()[1:])


def test_with_orcid_is_only_for_escalated_tickets(cast):
    ticket = raise_ticket(cast)
    with pytest.raises(ValidationError):
        services.ticket_set_status(user=cast["lead_admin_a"], ticket=ticket, status=Status.WITH_ORCID)


def test_a_closed_ticket_takes_no_more_replies(cast):
    ticket = raise_ticket(cast)
    services.ticket_set_status(user=cast["lead_admin_a"], ticket=ticket, status=Status.CLOSED)
    with pytest.raises(ValidationError):
        services.ticket_reply(user=cast["member_contact_a"], ticket=ticket, body="One more thing")


# --- Assignment, triage, CCs ----------------------------------------------------------------------------

def test_assignment_is_limited_to_the_consortiums_support_staff(cast, api_for):
    ticket = raise_ticket(cast)
    services.ticket_assign(user=cast["lead_admin_a"], ticket=ticket, assignee=cast["lead_support_a"])
    assert ticket.assignee == cast["lead_support_a"]
    for outsider in ("lead_admin_b", "member_contact_a", "orcid_support"):
        with pytest.raises(ValidationError):
            services.ticket_assign(user=cast["lead_admin_a"], ticket=ticket, assignee=cast[outsider])
    with pytest.raises(PermissionDenied):
        services.ticket_assign(user=cast["member_contact_a"], ticket=ticket, assignee=cast["lead_support_a"])
    response = api_for(cast["lead_support_a"]).post(reverse("api:ticket-assign", args=[ticket.pk]),
                                                    {"assignee": cast["lead_admin_b"].pk}, format="json")
    assert response.status_code == 400 and "assignee" in response.data
    response = api_for(cast["lead_support_a"]).post(reverse("api:ticket-assign", args=[ticket.pk]),
                                                    {"assignee": None}, format="json")
    assert response.status_code == 200 and response.data["assignee"] is None


def test_the_desk_controls_change_status_assignee_priority_and_ccs(cast, client_for):
    ticket = raise_ticket(cast)
    response = client_for(cast["lead_support_a"]).post(reverse("support:ticket_update", args=[ticket.pk]), {
        "status": Status.OPEN, "assignee": cast["lead_support_a"].pk, "priority": "urgent",
        "category": "billing", "organisation": cast.org_a.pk, "cc": "boss@alpha.example"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee, ticket.priority, ticket.category) == (
        Status.OPEN, cast["lead_support_a"], "urgent", "billing")
    assert list(ticket.ccs.values_list("email", flat=True)) == ["boss@alpha.example"]
    bad = client_for(cast["lead_support_a"]).post(reverse("support:ticket_update", args=[ticket.pk]), {
        "status": Status.OPEN, "priority": "urgent", "category": "billing", "organisation": cast.org_a.pk,
        "cc": "not-an-address"})
    assert bad.status_code == 200 and "cc" in bad.context["manage_form"].errors
    assert client_for(cast["member_contact_a"]).post(reverse("support:ticket_update", args=[ticket.pk]),
                                                     {"status": "closed"}).status_code == 403


def test_triage_gives_an_unmatched_ticket_its_organisation(cast, api_for, client_for):
    ticket = services.ticket_create(user=None, consortium=cast.consortium_a, subject="Hello", body="From a stranger",
                                    requester_email="stranger@nowhere.example", via="email")
    raise_ticket(cast)
    assert ticket.organisation is None
    to_triage = api_for(cast["lead_support_a"]).get(reverse("api:ticket-list"), {"organisation": "null"})
    assert [t["id"] for t in to_triage.data["results"]] == [ticket.pk]
    page = client_for(cast["lead_support_a"]).get(reverse("support:ticket_list"), {"organisation": "null"},
                                                  HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and b"To triage" in page.content and b"<h1>" not in page.content
    with pytest.raises(ValidationError):
        services.ticket_update(user=cast["lead_admin_a"], ticket=ticket, organisation=cast.org_b)
    services.ticket_update(user=cast["lead_admin_a"], ticket=ticket, organisation=cast.org_a2)
    assert ticket.organisation == cast.org_a2


# --- Merging --------------------------------------------------------------------------------------------

def test_merging_moves_the_messages_and_closes_the_duplicate(cast, client_for, sent):
    target = raise_ticket(cast, subject="Sign-in fails")
    source = services.ticket_create(user=cast["lead_support_a"], organisation=cast.org_a, subject="Login broken",
                                    body="Same problem, from a colleague", requester_email="colleague@alpha.example",
                                    cc=["cc@alpha.example"])
    source_messages = list(source.messages.values_list("pk", flat=True))
    page = client_for(cast["lead_support_a"]).get(reverse("support:ticket_merge", args=[source.pk]))
    assert page.status_code == 200 and target.reference.encode() in page.content
    response, mails = sent(lambda: client_for(cast["lead_support_a"]).post(
        reverse("support:ticket_merge", args=[source.pk]), {"target": target.pk}))
    assert response.status_code == 302 and response["Location"] == reverse("support:ticket_detail", args=[target.pk])
    source.refresh_from_db()
    assert source.merged_into == target and source.status == Status.CLOSED and source.resolved_at is not None
    assert set(source_messages) <= set(target.messages.values_list("pk", flat=True))
    assert not source.messages.exists()
    assert sorted(target.ccs.values_list("email", flat=True)) == ["cc@alpha.example", "colleague@alpha.example"]
    assert target.messages.filter(visibility="internal", body__contains=source.reference).exists()
    [told] = mails
    assert sorted(told.to) == ["cc@alpha.example", "colleague@alpha.example"]
    assert target.reference in told.subject
    # Merged tickets stay closed, and cannot be merged again.
    with pytest.raises(ValidationError):
        services.ticket_set_status(user=cast["lead_admin_a"], ticket=source, status=Status.OPEN)
    with pytest.raises(ValidationError):
        services.ticket_merge(user=cast["lead_admin_a"], source=source, target=target)


def test_merging_refuses_other_consortia_and_non_staff(cast, api_for):
    a = raise_ticket(cast)
    b = services.ticket_create(user=cast["lead_admin_b"], organisation=cast.org_b, subject="s", body="b")
    with pytest.raises(PermissionDenied):
        services.ticket_merge(user=cast["lead_admin_a"], source=a, target=b)
    with pytest.raises(ValidationError):
        services.ticket_merge(user=cast["orcid_admin"], source=a, target=b)
    with pytest.raises(PermissionDenied):
        services.ticket_merge(user=cast["member_contact_a"], source=a, target=raise_ticket(cast))
    # Through the API, another consortium's ticket is not found at all.
    response = api_for(cast["lead_admin_a"]).post(reverse("api:ticket-merge", args=[a.pk]), {"target": b.pk},
                                                  format="json")
    assert response.status_code == 404


# --- Visibility -----------------------------------------------------------------------------------------

def test_another_consortiums_lead_gets_404_on_every_ticket_route(cast, client_for, api_for):
    ticket = raise_ticket(cast)
    services.ticket_reply(user=cast["member_contact_a"], ticket=ticket, body="x",
                          attachments=[SimpleUploadedFile("a.pdf", PDF)])
    attachment = ticket.messages.last().attachments.get()
    client = client_for(cast["lead_admin_b"])
    for name in ("ticket_detail", "ticket_history", "ticket_merge"):
        assert client.get(reverse(f"support:{name}", args=[ticket.pk])).status_code == 404, name
    for name in ("ticket_reply", "ticket_note", "ticket_update"):
        assert client.post(reverse(f"support:{name}", args=[ticket.pk]), {"body": "x"}).status_code == 404, name
    assert client.get(reverse("support:ticket_attachment", args=[attachment.pk])).status_code == 404
    api = api_for(cast["lead_admin_b"])
    assert api.get(reverse("api:ticket-detail", args=[ticket.pk])).status_code == 404
    assert api.get(reverse("api:ticket-messages", args=[ticket.pk])).status_code == 404
    assert api.post(reverse("api:ticket-reply", args=[ticket.pk]), {"body": "x"}, format="json").status_code == 404
    assert api.get(reverse("api:ticket-list")).data["count"] == 0
    assert ticket.reference.encode() not in client.get(reverse("support:ticket_list")).content


def test_members_see_their_organisations_tickets_only(cast, client_for):
    mine = raise_ticket(cast)
    other = services.ticket_create(user=cast["lead_admin_a"], organisation=cast.org_a2, subject="Other org",
                                   body="b")
    client = client_for(cast["member_contact_a"])
    listing = client.get(reverse("support:ticket_list"))
    assert mine.reference.encode() in listing.content and other.reference.encode() not in listing.content
    assert client.get(reverse("support:ticket_detail", args=[other.pk])).status_code == 404
    # History is the desk's: the member gets no tab.
    assert client.get(reverse("support:ticket_history", args=[mine.pk])).status_code == 403


def test_the_history_tab_hides_internal_notes_from_those_who_may_not_read_them(cast, client_for):
    ticket = raise_ticket(cast)
    services.ticket_note(user=cast["lead_support_a"], ticket=ticket, body="note")
    lead = client_for(cast["lead_support_a"]).get(reverse("support:ticket_history", args=[ticket.pk]))
    engagement = client_for(cast["engagement_lead"]).get(reverse("support:ticket_history", args=[ticket.pk]))
    assert lead.status_code == engagement.status_code == 200
    lead_records = {(r.content_type.model, r.object_id) for r in lead.context["objects"]}
    engagement_records = {(r.content_type.model, r.object_id) for r in engagement.context["objects"]}
    note = ticket.messages.get(visibility="internal")
    assert ("ticketmessage", str(note.pk)) in lead_records
    assert ("ticketmessage", str(note.pk)) not in engagement_records
    assert ("ticket", str(ticket.pk)) in engagement_records


# --- Attachments ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,content", [
    ("report.pdf", PDF), ("screen.png", PNG), ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
    ("rows.csv", b"orcid,name\n0000-0002-1825-0097,Josiah\n"), ("data.json", b'{"ok": true}'),
    ("record.xml", b"<?xml version='1.0'?><record/>"), ("letter.docx", docx()), ("notes.txt", b"plain text"),
])
def test_accepted_attachments(name, content):
    assert services.attachment_problem(SimpleUploadedFile(name, content)) is None


@pytest.mark.parametrize("name,content,says", [
    ("invoice.pdf", EXE, "not really a PDF"),
    ("program.exe", EXE, "not a type of file"),
    ("sheet.xlsx", docx(), "not really a XLSX"),
    ("broken.json", b"{not json", "not really a JSON"),
    ("utf16.txt", "hello".encode("utf-16"), "not really a TXT"),
    ("empty.pdf", b"", "is empty"),
])
def test_refused_attachments_say_why(name, content, says):
    problem = services.attachment_problem(SimpleUploadedFile(name, content))
    assert problem and says in problem and name in problem


def test_attachments_over_10_mb_are_refused(cast, client_for):
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024))
    assert "at most 10" in services.attachment_problem(big)
    ticket = raise_ticket(cast)
    big.seek(0)
    response = client_for(cast["member_contact_a"]).post(reverse("support:ticket_reply", args=[ticket.pk]),
                                                         {"body": "the log", "attachments": [big]})
    assert response.status_code == 200
    assert "at most 10" in str(response.context["reply_form"].errors["attachments"])
    assert ticket.messages.count() == 1
    with pytest.raises(ValidationError):
        services.ticket_reply(user=cast["member_contact_a"], ticket=ticket, body="x",
                              attachments=[SimpleUploadedFile("x.pdf", EXE)])


def test_attachments_of_internal_notes_are_not_downloadable_by_members(cast, client_for):
    ticket = raise_ticket(cast, attachments=[SimpleUploadedFile("public.pdf", PDF)])
    note = services.ticket_note(user=cast["lead_support_a"], ticket=ticket, body="internal file",
                                attachments=[SimpleUploadedFile("internal.pdf", PDF)])
    public = ticket.messages.get(visibility="public").attachments.get()
    internal = note.attachments.get()
    member = client_for(cast["member_contact_a"])
    download = member.get(reverse("support:ticket_attachment", args=[public.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]
    assert member.get(reverse("support:ticket_attachment", args=[internal.pk])).status_code == 404
    assert client_for(cast["lead_support_a"]).get(
        reverse("support:ticket_attachment", args=[internal.pk])).status_code == 200


# --- API actions -----------------------------------------------------------------------------------------

def test_api_actions(cast, api_for, sent):
    ticket = raise_ticket(cast)
    lead = api_for(cast["lead_support_a"])
    reply, mails = sent(lambda: lead.post(reverse("api:ticket-reply", args=[ticket.pk]),
                                          {"body": "Fixed on our side", "status": "resolved"}, format="json"))
    assert reply.status_code == 201 and reply.data["visibility"] == "public" and reply.data["via"] == "api"
    assert len(mails) == 1
    note, mails = sent(lambda: lead.post(reverse("api:ticket-note", args=[ticket.pk]), {"body": "n"}, format="json"))
    assert note.status_code == 201 and note.data["visibility"] == "internal" and mails == []
    status = lead.post(reverse("api:ticket-status", args=[ticket.pk]), {"status": "closed"}, format="json")
    assert status.status_code == 200 and status.data["status"] == "closed"
    member = api_for(cast["member_contact_a"])
    assert member.post(reverse("api:ticket-status", args=[ticket.pk]), {"status": "open"},
                       format="json").status_code == 403
    assert member.post(reverse("api:ticket-note", args=[ticket.pk]), {"body": "n"}, format="json").status_code == 403
    assert api_for(cast["engagement_lead"]).post(reverse("api:ticket-reply", args=[ticket.pk]), {"body": "x"},
                                                 format="json").status_code == 403
    # A closed ticket takes no more replies: a clear 400.
    closed = member.post(reverse("api:ticket-reply", args=[ticket.pk]), {"body": "again"}, format="json")
    assert closed.status_code == 400 and "closed" in str(closed.data)


def test_api_filters_and_sorts(cast, api_for):
    low = raise_ticket(cast, priority="low")
    urgent = raise_ticket(cast, priority="urgent")
    services.ticket_set_status(user=cast["lead_admin_a"], ticket=low, status=Status.OPEN)
    api = api_for(cast["lead_admin_a"])
    by_priority = api.get(reverse("api:ticket-list"), {"ordering": "priority"})
    assert [t["id"] for t in by_priority.data["results"]] == [urgent.pk, low.pk]
    only_open = api.get(reverse("api:ticket-list"), {"status": "open"})
    assert [t["id"] for t in only_open.data["results"]] == [low.pk]
    by_due = api.get(reverse("api:ticket-list"), {"ordering": "resolution_due"})
    assert by_due.status_code == 200 and len(by_due.data["results"]) == 2


# --- Query counts ----------------------------------------------------------------------------------------

def _make_tickets(cast, n: int) -> None:
    for i in range(n):
        org = cast.org_a if i % 2 else cast.org_a2
        ticket = services.ticket_create(user=cast["lead_admin_a"], organisation=org, subject=f"Ticket {i}", body="b")
        services.ticket_assign(user=cast["lead_admin_a"], ticket=ticket,
                               assignee=cast["lead_support_a"] if i % 3 else cast["lead_admin_a"])


def test_ticket_list_page_queries_do_not_grow_with_tickets(cast, client_for):
    client = client_for(cast["lead_admin_a"])
    assert_constant_queries(make_rows=lambda n: _make_tickets(cast, n),
                            fetch=lambda: client.get(reverse("support:ticket_list"), {"ordering": "resolution_due"}),
                            shown=html_rows, few=5, many=50)


def test_ticket_list_api_queries_do_not_grow_with_tickets(cast, api_for):
    api = api_for(cast["lead_admin_a"])
    assert_constant_queries(make_rows=lambda n: _make_tickets(cast, n),
                            fetch=lambda: api.get(reverse("api:ticket-list")), shown=api_rows, few=5, many=50)
