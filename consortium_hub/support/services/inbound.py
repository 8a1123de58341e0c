"""Inbound support email: one message at a time (`ingest_message`), or a whole Maildir (`fetch_maildir`,
which the `fetch_support_mail` command runs).

What happens to a message (`Outcome`):
- threaded:  a reply to a ticket of the mailbox's consortium, found by the `[CH-…]` reference in the
             subject or by `In-Reply-To`/`References` naming a stored `email_message_id`; from the
             requester, a CC, a contact of the ticket's organisation or the consortium's staff. It becomes a
             public reply (a member's reply reopens a resolved ticket or one waiting on them). A reply to a
             merged ticket goes to the ticket it was merged into; one to a closed ticket starts a new ticket.
- created:   new mail from a known contact (the sender is a contact of exactly one organisation of the
             consortium) becomes a ticket of that organisation; the sender is sent the acknowledgement.
- unmatched: mail from anyone else (or a contact of several organisations) becomes a ticket without
             organisation, listed as "to triage" for lead staff. No automatic reply (no backscatter to spam).
- oversize:  more than 15 MB: not stored; the sender is told why and how to send it (unless the mail is
             automatic), and a ticket it refers to gets an internal note.
- duplicate: its Message-ID was already ingested (a re-run after a crash): nothing changes.
- ignored:   automatic mail (auto-replies, bulk, our own): stored nowhere, answered never.

Nothing is ever deleted: `fetch_maildir` moves each processed message from `new/` to `cur/` with the
Maildir flag S (seen) — and F (flagged, for a person to look at) when oversize or ignored — and a message
that could not be processed (malformed, or an error) to the Maildir's `errors` folder (`.errors/new/`).
To retry one, move it back to `new/`.

Ingestion of one mailbox's messages is serialised by locking the consortium row, so two fetchers
cannot ingest the same message twice.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import mailbox
import os
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parseaddr
from html import unescape
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from consortium_hub.core.email import send_templated_email
from consortium_hub.directory.models import Consortium, Organisation
from consortium_hub.jobs.queue import once
from consortium_hub.support.models import Ticket, TicketMessage
from consortium_hub.support.services import tickets as services

MAX_INBOUND_BYTES = 15 * 1024 * 1024
ERRORS_FOLDER = "errors"
_MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")
_AUTOMATIC_PRECEDENCE = {"bulk", "junk", "auto_reply"}

log = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    THREADED = "threaded"
    CREATED = "created"
    UNMATCHED = "unmatched"
    OVERSIZE = "oversize"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


# Outcomes a person should look at in the mailbox (Maildir flag F).
FLAGGED_OUTCOMES = (Outcome.OVERSIZE, Outcome.IGNORED)


class InboundError(Exception):
    """The message cannot be processed (it is kept in the errors folder)."""


@dataclass(frozen=True)
class InboundResult:
    outcome: Outcome
    ticket: Ticket | None = None
    message: TicketMessage | None = None
    detail: str = ""


# --- One message -----------------------------------------------------------------------------------------

@transaction.atomic
def ingest_message(raw: bytes, *, mailbox_consortium: Consortium) -> InboundResult:
    """Turn one raw email sent to `mailbox_consortium`'s support address into a reply or a ticket."""
    # Serialise ingestion per consortium (the duplicate check below must see a twin's commit).
    Consortium.objects.select_for_update().filter(pk=mailbox_consortium.pk).exists()
    if len(raw) > MAX_INBOUND_BYTES:
        return _refuse_oversize(raw, mailbox_consortium)
    try:
        mail = BytesParser(policy=policy.default).parsebytes(raw)
        sender = _sender(mail)
        subject = _header(mail, "Subject")
    except (TypeError, ValueError, LookupError, IndexError) as exc:
        raise InboundError(f"unreadable headers: {exc}") from exc
    if not sender:
        raise InboundError("no usable From address")
    message_id = _message_id(mail, raw)
    if TicketMessage.objects.filter(ticket__consortium=mailbox_consortium, email_message_id=message_id).exists():
        return InboundResult(Outcome.DUPLICATE, detail=message_id)
    if _is_automatic(mail, sender):
        return InboundResult(Outcome.IGNORED, detail=_("automatic mail from %(sender)s") % {"sender": sender})

    body, files, refused = _content(mail)
    if refused:
        body += "\n\n" + _("Attachments not kept:") + "".join(f"\n- {problem}" for problem in refused)
    ticket = _ticket_referred_to(mail, subject, mailbox_consortium)
    author = services.user_with_email(sender)
    if ticket is not None and ticket.status != Ticket.Status.CLOSED and _may_post(ticket, sender, author):
        message = services.ticket_reply(user=None, ticket=ticket, body=body or _("(no text)"), attachments=files,
                                        via="email", author=author, author_email=sender,
                                        email_message_id=message_id)
        return InboundResult(Outcome.THREADED, ticket=ticket, message=message)
    if ticket is not None and ticket.status == Ticket.Status.CLOSED:
        body = _("Follow-up to the closed ticket %(reference)s.") % {"reference": ticket.reference} + "\n\n" + body

    organisations = list(Organisation.objects.filter(consortium=mailbox_consortium, contacts__email=sender)
                         .distinct()[:2])
    organisation = organisations[0] if len(organisations) == 1 else None
    new = services.ticket_create(user=None, organisation=organisation, consortium=mailbox_consortium,
                                 subject=subject or _("(no subject)"), body=body or _("(no text)"),
                                 requester_email=sender, attachments=files, via="email",
                                 email_message_id=message_id)
    if organisation is None:
        why = (_("%(sender)s is a contact of several organisations.") if organisations
               else _("%(sender)s is not a contact of any member organisation.")) % {"sender": sender}
        services.ticket_note(user=None, ticket=new, body=_("Received by email; to triage: %(why)s Choose the "
                                                           "organisation, or merge it into an existing ticket.")
                             % {"why": why})
        return InboundResult(Outcome.UNMATCHED, ticket=new, detail=why)
    return InboundResult(Outcome.CREATED, ticket=new)


def _refuse_oversize(raw: bytes, consortium: Consortium) -> InboundResult:
    """Read only the headers; tell the sender; note it on the ticket it refers to."""
    try:
        mail = BytesHeaderParser(policy=policy.default).parsebytes(raw)
        sender, subject = _sender(mail), _header(mail, "Subject")
    except (TypeError, ValueError, LookupError, IndexError) as exc:
        raise InboundError(f"oversize mail with unreadable headers: {exc}") from exc
    message_id = _message_id(mail, raw)
    if not once(f"support:oversize:{consortium.pk}:{message_id}"):
        return InboundResult(Outcome.DUPLICATE, detail=message_id)
    ticket = _ticket_referred_to(mail, subject, consortium)
    detail = _("%(size)d bytes from %(sender)s") % {"size": len(raw), "sender": sender or "?"}
    if sender and not _is_automatic(mail, sender):
        send_templated_email(to=[sender], template="support/email/ticket_mail_refused", context={
            "consortium": consortium, "subject": subject, "size": len(raw), "limit": MAX_INBOUND_BYTES,
            "reference": ticket.reference if ticket is not None else ""})
    if ticket is not None:
        services.ticket_note(user=None, ticket=ticket, body=_(
            "An email from %(sender)s (“%(subject)s”, %(size)d MB) was refused: the support desk takes emails of "
            "at most 15 MB. The sender was told; the email is kept in the support mailbox.")
            % {"sender": sender or "?", "subject": subject, "size": round(len(raw) / 1024 / 1024)})
    return InboundResult(Outcome.OVERSIZE, ticket=ticket, detail=detail)


def _header(mail: Any, name: str) -> str:
    value = mail.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _sender(mail: Any) -> str:
    """The From address (who the sender is: matched against contacts), or "" when there is none usable."""
    addresses = getaddresses([_header(mail, "From")])
    email = (addresses[0][1] if addresses else "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        return ""
    return email


def _message_id(mail: Any, raw: bytes) -> str:
    found = _MESSAGE_ID_RE.findall(_header(mail, "Message-ID"))
    # Without a Message-ID, the content's hash still recognises the same message ingested twice.
    return found[0][:255] if found else f"<sha256-{hashlib.sha256(raw).hexdigest()}@inbound.invalid>"


def _is_automatic(mail: Any, sender: str) -> bool:
    auto_submitted = _header(mail, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if _header(mail, "Precedence").lower() in _AUTOMATIC_PRECEDENCE:
        return True
    if mail.get("X-Autoreply") or mail.get("X-Autorespond"):
        return True
    own = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()
    return (bool(own) and sender == own) or sender.startswith(("mailer-daemon@", "postmaster@"))


def _ticket_referred_to(mail: Any, subject: str, consortium: Consortium) -> Ticket | None:
    """By the reference in the subject, else by a Message-ID this mail answers; merges followed."""
    ticket = None
    for reference in services.REFERENCE_RE.findall(subject):
        ticket = Ticket.objects.filter(consortium=consortium, reference__iexact=reference).first()
        if ticket is not None:
            break
    if ticket is None:
        ids = _MESSAGE_ID_RE.findall(f"{_header(mail, 'In-Reply-To')} {_header(mail, 'References')}")
        if ids:
            message = (TicketMessage.objects.filter(ticket__consortium=consortium, email_message_id__in=ids)
                       .select_related("ticket").order_by("-pk").first())
            ticket = message.ticket if message is not None else None
    seen: set[int] = set()
    while ticket is not None and ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = ticket.merged_into
    return ticket


def _may_post(ticket: Ticket, sender: str, author: Any) -> bool:
    """Only people on the ticket, its organisation's contacts and the desk's staff add to a ticket by
    email (a reference alone is not a key: anyone else's mail becomes a ticket to triage)."""
    if sender == ticket.requester_email.lower() or ticket.ccs.filter(email__iexact=sender).exists():
        return True
    if ticket.organisation_id and ticket.organisation.contacts.filter(email=sender).exists():
        return True
    return author is not None and services.is_lead_staff(author, ticket)


def _content(mail: EmailMessage) -> tuple[str, list[ContentFile], list[str]]:
    """The text (plain preferred, else HTML as text), the attachments kept and why others were not."""
    body = ""
    part = mail.get_body(preferencelist=("plain", "html"))
    if part is not None:
        try:
            text = part.get_content()
        except (LookupError, ValueError):  # unknown charset and the like
            text = (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")
        if part.get_content_type() == "text/html":
            text = unescape(strip_tags(re.sub(r"(?i)<br\s*/?>|</p>", "\n", text)))
        body = text.strip()
    files: list[ContentFile] = []
    refused: list[str] = []
    for attachment in mail.walk():
        if attachment.is_multipart() or attachment is part:
            continue
        filename = attachment.get_filename()
        if not filename:
            continue
        filename = os.path.basename(filename.replace("\\", "/")).strip() or "attachment"
        payload = attachment.get_payload(decode=True) or b""
        file = ContentFile(payload, name=filename)
        problem = services.attachment_problem(file)
        if problem:
            refused.append(problem)
        elif len(files) >= services.MAX_ATTACHMENTS:
            refused.append(_("“%(name)s”: too many attachments.") % {"name": filename})
        else:
            files.append(file)
    return body, files, refused


# --- A Maildir --------------------------------------------------------------------------------------------

@dataclass
class FetchReport:
    results: list[tuple[str, InboundResult]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _key, result in self.results:
            counts[result.outcome.value] = counts.get(result.outcome.value, 0) + 1
        if self.errors:
            counts["error"] = len(self.errors)
        return counts


def fetch_maildir(*, maildir_path: str | os.PathLike[str], consortium: Consortium) -> FetchReport:
    """Ingest every message in the Maildir's `new/`; move each to `cur/` (flagged) or `.errors/new/`."""
    root = Path(maildir_path)
    if not (root / "new").is_dir() or not (root / "cur").is_dir():
        raise FileNotFoundError(f"{root} is not a Maildir (it needs new/ and cur/ folders)")
    maildir = mailbox.Maildir(str(root), factory=None, create=False)
    report = FetchReport()
    for name in sorted(os.listdir(root / "new")):
        if name.startswith("."):
            continue
        key = name.split(maildir.colon, 1)[0]
        try:
            raw = maildir.get_bytes(key)
        except KeyError:  # taken by a twin fetcher meanwhile
            continue
        try:
            result = ingest_message(raw, mailbox_consortium=consortium)
        except Exception as exc:  # noqa: BLE001 - any failure keeps the message for a person to look at
            log.exception("Support mail %s could not be ingested", name)
            _move(root / "new" / name, _errors_folder(maildir, root) / "new" / name)
            report.errors.append((key, f"{type(exc).__name__}: {exc}"))
            continue
        flags = "FS" if result.outcome in FLAGGED_OUTCOMES else "S"
        _move(root / "new" / name, root / "cur" / f"{key}{maildir.colon}2,{flags}")
        report.results.append((key, result))
    return report


def _errors_folder(maildir: Any, root: Path) -> Path:
    if ERRORS_FOLDER not in maildir.list_folders():
        maildir.add_folder(ERRORS_FOLDER)
    return root / f".{ERRORS_FOLDER}"


def _move(source: Path, target: Path) -> None:
    """A rename within the Maildir (atomic; the bytes are never rewritten)."""
    try:
        os.rename(source, target)
    except FileNotFoundError:
        log.warning("Support mail %s was moved away by someone else", source.name)
