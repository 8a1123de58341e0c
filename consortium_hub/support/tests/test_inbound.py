"""Inbound support mail: threading replies, new tickets from known contacts, unknown senders, oversize
mail, and the Maildir fetcher that never loses a message."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from consortium_hub.support.models import Ticket, TicketMessage
from consortium_hub.support.services import inbound
from consortium_hub.support.services import tickets as services
from consortium_hub.support.services.inbound import Outcome, ingest_message

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
_counter = iter(range(1, 10_000))


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ingest(cast, django_capture_on_commit_callbacks):
    """Ingest raw mail for consortium A as the fetcher would; returns the result and the mail sent."""

    def run(raw: bytes, consortium=None):
        before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest_message(raw, mailbox_consortium=consortium or cast.consortium_a)
        return result, mail.outbox[before:]

    return run


def email(*, sender="ann@alpha.example", subject="Help with ORCID", body="Hello support",
          message_id=None, in_reply_to=None, references=None, attachments=(), headers=None) -> bytes:
    message = EmailMessage()
    message["From"] = f"Someone <{sender}>"
    message["To"] = "support@consortium-a.example"
    message["Subject"] = subject
    message["Message-ID"] = message_id or f"<m{next(_counter)}@mail.example>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, content, maintype, subtype in attachments:
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def a_ticket(cast) -> Ticket:
    """A ticket raised by Ann Alpha (contact of organisation A) by email."""
    result = ingest_message(email(subject="Cannot connect our CRIS", message_id="<first@alpha.example>"),
                            mailbox_consortium=cast.consortium_a)
    assert result.outcome == Outcome.CREATED
    return result.ticket


# --- New mail --------------------------------------------------------------------------------------------

def test_new_mail_from_a_known_contact_creates_a_ticket_for_their_organisation(cast, ingest):
    raw = email(sender="Ann@Alpha.example", subject="Cannot connect our CRIS", body="The token is refused.",
                attachments=[("token.pdf", PDF, "application", "pdf")])
    result, mails = ingest(raw)
    assert result.outcome == Outcome.CREATED
    ticket = result.ticket
    assert (ticket.organisation, ticket.consortium, ticket.requester_email, ticket.status) == (
        cast.org_a, cast.consortium_a, "ann@alpha.example", Ticket.Status.NEW)
    assert ticket.subject == "Cannot connect our CRIS"
    message = ticket.messages.get()
    assert (message.via, message.visibility, message.body) == ("email", "public", "The token is refused.")
    assert message.email_message_id.startswith("<m") and message.attachments.get().filename == "token.pdf"
    [ack] = mails
    assert ack.to == ["ann@alpha.example"] and f"[{ticket.reference}]" in ack.subject


def test_mail_from_an_unknown_sender_becomes_a_ticket_to_triage_without_a_reply(cast, ingest):
    result, mails = ingest(email(sender="stranger@nowhere.example", subject="Partnership?"))
    assert result.outcome == Outcome.UNMATCHED
    ticket = result.ticket
    assert ticket.organisation is None and ticket.consortium == cast.consortium_a
    assert ticket.requester_email == "stranger@nowhere.example"
    assert mails == []  # no automatic reply to unknown senders
    assert ticket.messages.filter(visibility="internal", body__contains="not a contact").exists()
    # Lead staff see it (to triage); the member does not.
    assert Ticket.objects.visible_to(cast["lead_support_a"]).filter(pk=ticket.pk).exists()
    assert not Ticket.objects.visible_to(cast["member_contact_a"]).filter(pk=ticket.pk).exists()


def test_a_contact_of_another_consortium_is_unknown_to_this_mailbox(cast, ingest):
    result, _mails = ingest(email(sender="bea@beta.example"))
    assert result.outcome == Outcome.UNMATCHED and result.ticket.consortium == cast.consortium_a


# --- Replies ---------------------------------------------------------------------------------------------

def test_a_reply_threads_onto_its_ticket_by_the_reference_in_the_subject(cast, ingest):
    ticket = a_ticket(cast)
    services.ticket_reply(user=cast["lead_support_a"], ticket=ticket, body="Try again", status="resolved")
    services.ticket_set_ccs(user=cast["lead_support_a"], ticket=ticket, emails=["boss@alpha.example"])
    result, mails = ingest(email(subject=f"Re: [{ticket.reference}] Cannot connect our CRIS",
                                 body="Still broken."))
    assert result.outcome == Outcome.THREADED and result.ticket == ticket
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN  # the member's reply reopened it
    last = ticket.messages.last()
    assert (last.body, last.via, last.author_email) == ("Still broken.", "email", "ann@alpha.example")
    [copy] = mails
    assert copy.to == ["boss@alpha.example"]  # not mailed back to its author


def test_a_reply_threads_onto_its_ticket_by_in_reply_to(cast, ingest):
    ticket = a_ticket(cast)
    result, _mails = ingest(email(subject="Re: Cannot connect our CRIS", in_reply_to="<first@alpha.example>",
                                  body="Here is more detail."))
    assert result.outcome == Outcome.THREADED and result.ticket == ticket
    assert ticket.messages.count() == 2


def test_a_reply_threads_by_references_too(cast, ingest):
    ticket = a_ticket(cast)
    result, _mails = ingest(email(subject="Fwd: something", references="<other@x.example> <first@alpha.example>"))
    assert result.outcome == Outcome.THREADED and result.ticket == ticket


def test_a_reference_alone_does_not_let_a_stranger_post_on_a_ticket(cast, ingest):
    ticket = a_ticket(cast)
    result, _mails = ingest(email(sender="stranger@nowhere.example", subject=f"Re: [{ticket.reference}] hi"))
    assert result.outcome == Outcome.UNMATCHED and result.ticket != ticket
    assert ticket.messages.count() == 1


def test_a_reference_of_another_consortium_does_not_thread(cast, ingest):
    b = services.ticket_create(user=cast["lead_admin_b"], organisation=cast.org_b, subject="B's", body="b")
    result, _mails = ingest(email(subject=f"Re: [{b.reference}] B's"))
    assert result.outcome == Outcome.CREATED and result.ticket.consortium == cast.consortium_a
    assert b.messages.count() == 1


def test_a_reply_to_a_merged_ticket_goes_to_the_ticket_it_was_merged_into(cast, ingest):
    source = a_ticket(cast)
    target = services.ticket_create(user=cast["member_contact_a"], organisation=cast.org_a, subject="Same", body="b")
    services.ticket_merge(user=cast["lead_admin_a"], source=source, target=target)
    result, _mails = ingest(email(subject=f"Re: [{source.reference}] Cannot connect our CRIS"))
    assert result.outcome == Outcome.THREADED and result.ticket == target


def test_a_reply_to_a_closed_ticket_starts_a_new_one(cast, ingest):
    ticket = a_ticket(cast)
    services.ticket_set_status(user=cast["lead_admin_a"], ticket=ticket, status="closed")
    result, _mails = ingest(email(subject=f"Re: [{ticket.reference}] Cannot connect our CRIS", body="Again"))
    assert result.outcome == Outcome.CREATED and result.ticket != ticket
    assert ticket.reference in result.ticket.messages.get().body


def test_the_same_message_twice_is_ingested_once(cast, ingest):
    raw = email(message_id="<same@alpha.example>")
    assert ingest(raw)[0].outcome == Outcome.CREATED
    again, mails = ingest(raw)
    assert again.outcome == Outcome.DUPLICATE and mails == []
    assert Ticket.objects.count() == 1


def test_automatic_mail_is_ignored(cast, ingest):
    ticket = a_ticket(cast)
    result, mails = ingest(email(subject=f"Out of office: [{ticket.reference}]",
                                 headers={"Auto-Submitted": "auto-replied"}))
    assert result.outcome == Outcome.IGNORED and mails == []
    assert ticket.messages.count() == 1


def test_refused_attachments_are_named_on_the_message(cast, ingest):
    result, _mails = ingest(email(attachments=[("virus.exe", b"MZ\x90\x00", "application", "octet-stream"),
                                               ("ok.pdf", PDF, "application", "pdf")]))
    message = result.ticket.messages.get()
    assert [a.filename for a in message.attachments.all()] == ["ok.pdf"]
    assert "Attachments not kept" in message.body and "virus.exe" in message.body


def test_html_only_mail_is_read_as_text(cast, ingest):
    message = EmailMessage()
    message["From"] = "ann@alpha.example"
    message["Subject"] = "HTML"
    message["Message-ID"] = "<html@alpha.example>"
    message.set_content("<p>Hello <b>desk</b></p><p>Second</p>", subtype="html")
    result, _mails = ingest(message.as_bytes())
    assert "Hello desk" in result.ticket.messages.get().body and "<b>" not in result.ticket.messages.get().body


# --- Oversize mail ---------------------------------------------------------------------------------------

def _oversize(**kwargs) -> bytes:
    return email(attachments=[("huge.pdf", PDF + b"0" * (inbound.MAX_INBOUND_BYTES + 1), "application", "pdf")],
                 **kwargs)


def test_oversize_mail_is_refused_with_a_clear_answer_and_noted_on_its_ticket(cast, ingest):
    ticket = a_ticket(cast)
    raw = _oversize(subject=f"Re: [{ticket.reference}] logs", message_id="<big@alpha.example>")
    result, mails = ingest(raw)
    assert result.outcome == Outcome.OVERSIZE and result.ticket == ticket
    [bounce] = mails
    assert bounce.to == ["ann@alpha.example"]
    assert "at most 15.0\xa0MB" in bounce.body and "logs" in bounce.body
    assert ticket.messages.filter(visibility="internal", body__contains="refused").exists()
    assert ticket.messages.count() == 2 and Ticket.objects.count() == 1
    # The same oversize mail again (a re-run after a crash): no second answer, no second note.
    again, none = ingest(raw)
    assert again.outcome == Outcome.DUPLICATE and none == [] and ticket.messages.count() == 2


def test_oversize_automatic_mail_gets_no_answer(cast, ingest):
    result, mails = ingest(_oversize(headers={"Auto-Submitted": "auto-generated"}))
    assert result.outcome == Outcome.OVERSIZE and mails == [] and not Ticket.objects.exists()


# --- The Maildir fetcher ----------------------------------------------------------------------------------

def _maildir(path: Path, messages: list[bytes]) -> mailbox.Maildir:
    box = mailbox.Maildir(str(path), create=True)
    for raw in messages:
        box.add(raw)
    return box


def _all_files(path: Path) -> list[bytes]:
    return sorted(p.read_bytes() for p in path.rglob("*") if p.is_file() and p.parent.name in ("new", "cur"))


def test_the_fetcher_processes_a_maildir_and_never_loses_a_message(cast, tmp_path, capsys,
                                                                   django_capture_on_commit_callbacks):
    ticket = a_ticket(cast)
    messages = [
        email(subject=f"Re: [{ticket.reference}] Cannot connect our CRIS", body="threaded"),
        email(sender="ian@inst.example", subject="New question", body="created"),
        email(sender="stranger@nowhere.example", subject="Who are you", body="unmatched"),
        _oversize(subject="Huge logs"),
        b"This is not an email at all: no headers, no sender.\n",
    ]
    root = tmp_path / "support-a"
    _maildir(root, messages)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(CommandError, match="1 message"):
            call_command("fetch_support_mail", "--maildir", str(root), "--consortium", str(cast.consortium_a.pk))
    out = capsys.readouterr()
    assert "1 threaded" in out.out and "1 created" in out.out and "1 unmatched" in out.out
    assert "1 oversize" in out.out and "error" in out.err

    # Every message is still in the Maildir, byte for byte: none left in new/, one in the errors folder.
    assert _all_files(root) == sorted(messages)
    assert not list((root / "new").iterdir())
    cur = sorted(p.name for p in (root / "cur").iterdir())
    assert len(cur) == 4
    assert sum(name.endswith(":2,S") for name in cur) == 3 and sum(name.endswith(":2,FS") for name in cur) == 1
    [failed] = list((root / ".errors" / "new").iterdir())
    assert failed.read_bytes() == messages[-1]

    assert ticket.messages.filter(body="threaded").exists()
    assert Ticket.objects.get(messages__body="created").organisation == cast.org_a2
    assert Ticket.objects.get(messages__body="unmatched").organisation is None
    assert not TicketMessage.objects.filter(ticket__subject="Huge logs").exists()
    assert any(m.to == ["ann@alpha.example"] and "Not delivered" in m.subject for m in mail.outbox)

    # A second run finds nothing new and changes nothing.
    count = TicketMessage.objects.count()
    call_command("fetch_support_mail", "--maildir", str(root), "--consortium", str(cast.consortium_a.pk))
    assert TicketMessage.objects.count() == count and "no new mail" in capsys.readouterr().out


def test_the_fetcher_refuses_a_missing_maildir_or_consortium(cast, tmp_path):
    with pytest.raises(CommandError, match="--maildir"):
        call_command("fetch_support_mail", "--maildir", str(tmp_path / "nope"), "--consortium",
                     str(cast.consortium_a.pk))
    _maildir(tmp_path / "box", [])
    with pytest.raises(CommandError, match="--consortium"):
        call_command("fetch_support_mail", "--maildir", str(tmp_path / "box"), "--consortium", "999999")


def test_a_failure_inside_ingestion_keeps_the_message_and_rolls_back(cast, tmp_path, monkeypatch):
    root = tmp_path / "box"
    raw = email(sender="ian@inst.example", subject="Will fail")
    _maildir(root, [raw])

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(inbound.services, "ticket_create", boom)
    report = inbound.fetch_maildir(maildir_path=root, consortium=cast.consortium_a)
    assert report.errors and "database went away" in report.errors[0][1]
    assert [p.read_bytes() for p in (root / ".errors" / "new").iterdir()] == [raw]
    assert not Ticket.objects.exists()
