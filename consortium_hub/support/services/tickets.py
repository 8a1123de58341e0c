"""Tickets: raising them (page, API, email), public replies and internal notes, status, assignment,
CCs, triage and merging duplicates.

Rules
-----
- Every write is atomic, keyword-only and access-checked; `user=None` is a system action (the inbound
  mail fetcher) and is not checked. The ticket row is locked (`_lock`) before it changes, and the
  caller's instance is refreshed in place, so callers keep working with the current row.
- Members raise and answer tickets of their own organisation (`support` ADD there); lead staff (and
  ORCID admins) do everything in their consortium (`support` CHANGE); internal notes need
  `support_notes` ADD. A note "shared with ORCID" has visibility `shared`.
- References are `CH-<consortium id>-<year>-<sequence>`, numbered per consortium and year with the
  consortium row locked while the number is taken, so two tickets raised at once get different numbers.
- Every status change goes through `ticket_set_status`, which records a `TicketStatusChange` (with `at`
  and `by`), keeps `resolved_at` (set on resolved/closed, cleared on reopening) and recalculates the SLA.
  A member's reply reopens a resolved ticket or one waiting on the member. Lead staff's first public reply
  sets `first_responded_at` (and moves a new ticket to open).
- Mail (`send_templated_email`, subject `[<reference>] <subject>`) goes to the requester and the CCs:
  on creation, on public replies (not to the reply's own author) and on the status changes a member
  cares about. Internal and shared notes are never mailed. A ticket without organisation (mail from an
  unknown sender, kept for triage) gets no acknowledgement.
- Attachments: PDF, PNG, JPG, TXT, CSV, LOG, JSON, XML, DOCX, XLSX, at most 10 MB each, recognised by
  their content (not only their name); stored under a random name.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Length
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium_hub.core.access import access_scope, require
from consortium_hub.core.email import send_templated_email
from consortium_hub.core.roles import ADD, CHANGE, Role
from consortium_hub.directory.models import Consortium, Organisation
from consortium_hub.support.models import Ticket, TicketAttachment, TicketCC, TicketMessage, TicketStatusChange
from consortium_hub.support.services import sla

Status = Ticket.Status
Visibility = TicketMessage.Visibility

LEAD_STAFF_ROLES = (Role.LEAD_ADMIN, Role.LEAD_SUPPORT)
DONE_STATUSES = (Status.RESOLVED, Status.CLOSED)
# A member's reply brings these back to the desk.
REOPENED_BY_MEMBER_REPLY = (Status.RESOLVED, Status.WAITING_ON_MEMBER)
# Status changes the requester and CCs are told about (others are the desk's own business).
STATUSES_MAILED = (Status.WAITING_ON_MEMBER, Status.WITH_ORCID, Status.RESOLVED, Status.CLOSED)
REFERENCE_RE = re.compile(r"\[(CH-\d+(?:-\d+)*)\]", re.IGNORECASE)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 10
_DOCX, _XLSX = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# Accepted extension -> the content type stored (the browser's claim is not trusted).
ATTACHMENT_TYPES: dict[str, str] = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "txt": "text/plain", "csv": "text/csv", "log": "text/plain", "json": "application/json",
    "xml": "application/xml", "docx": _DOCX, "xlsx": _XLSX,
}
ACCEPTED_LABEL = "PDF, PNG, JPG, TXT, CSV, LOG, JSON, XML, DOCX, XLSX"
_TEXT_KINDS = ("txt", "csv", "log", "json", "xml")
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x1f\x8b",
                 b"\x7fELF", b"MZ")
_OOXML_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}


# --- Who may -------------------------------------------------------------------------------------------

def is_lead_staff(user: Any, ticket: Ticket) -> bool:
    """Lead staff of the ticket's consortium (or an ORCID admin): they run the ticket."""
    return user is not None and access_scope(user).can_in(CHANGE, "support", consortium_id=ticket.consortium_id)


def can_reply(user: Any, ticket: Ticket) -> bool:
    return access_scope(user).can_in(ADD, "support", consortium_id=ticket.consortium_id,
                                     organisation_id=ticket.organisation_id)


def can_write_notes(user: Any, ticket: Ticket) -> bool:
    return access_scope(user).can_in(ADD, "support_notes", consortium_id=ticket.consortium_id)


def can_set_status(user: Any, ticket: Ticket) -> bool:
    """Lead staff; ORCID support too on tickets escalated to ORCID (also when handing one back)."""
    scope = access_scope(user)
    if scope.can_in(CHANGE, "support", consortium_id=ticket.consortium_id):
        return True
    return ticket.escalated_at is not None and scope.can_in(CHANGE, "orcid_support")


def lead_staff(consortium_id: int) -> Any:
    """Users who may be assigned the consortium's tickets: its lead admins and lead support staff."""
    from consortium_hub.accounts.models import User

    return (User.objects.filter(is_active=True, role_assignments__role__in=LEAD_STAFF_ROLES,
                                role_assignments__consortium_id=consortium_id).distinct().order_by("name", "email"))


# --- Checks shared by forms, the API and the services --------------------------------------------------

def attachment_problem(file: Any) -> str | None:
    """Why an attachment is refused, or None. Checks type (by name and by content) and size."""
    if file is None:
        return None
    name = os.path.basename(str(getattr(file, "name", "") or "")) or _("the file")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ATTACHMENT_TYPES:
        return _("“%(name)s” is not a type of file the support desk accepts. Accepted: %(types)s.") % {
            "name": name, "types": ACCEPTED_LABEL}
    size = _size_of(file)
    if size > MAX_ATTACHMENT_BYTES:
        return _("“%(name)s” is %(size)s; each attachment may be at most %(limit)s.") % {
            "name": name, "size": filesizeformat(size), "limit": filesizeformat(MAX_ATTACHMENT_BYTES)}
    if size == 0:
        return _("“%(name)s” is empty.") % {"name": name}
    # Most types are recognised by their first bytes; zip-based Office files and JSON need all of them.
    content = _read(file, None if extension in (*_OOXML_PART, "json") else 65536)
    if not _content_matches(extension, content):
        return _("“%(name)s” is not really a %(kind)s file (its content is of another kind, whatever its name "
                 "says). Save it as %(kind)s again, or send it in one of these types: %(types)s.") % {
            "name": name, "kind": extension.upper(), "types": ACCEPTED_LABEL}
    return None


def attachment_problems(files: Sequence[Any]) -> list[str]:
    files = [f for f in files if f is not None]
    problems = [p for p in (attachment_problem(f) for f in files) if p]
    if len(files) > MAX_ATTACHMENTS:
        problems.append(_("Attach at most %(n)d files to one message.") % {"n": MAX_ATTACHMENTS})
    return problems


def _size_of(file: Any) -> int:
    size = getattr(file, "size", None)
    if size is None:
        position = file.tell()
        file.seek(0, io.SEEK_END)
        size = file.tell()
        file.seek(position)
    return int(size)


def _read(file: Any, limit: int | None) -> bytes:
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    content = file.read() if limit is None else file.read(limit)
    file.seek(position)
    return content if isinstance(content, bytes) else content.encode()


def _content_matches(extension: str, content: bytes) -> bool:
    if extension == "pdf":
        return content.startswith(b"%PDF-")
    if extension == "png":
        return content.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in ("jpg", "jpeg"):
        return content.startswith(b"\xff\xd8\xff")
    if extension in _OOXML_PART:
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                return _OOXML_PART[extension] in archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
    # Text: no NUL bytes (that is binary, or UTF-16), not a known binary format.
    if b"\x00" in content or content.startswith(_BINARY_MAGIC):
        return False
    if extension == "json":
        try:
            json.loads(content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            return False
    if extension == "xml":
        return content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
    return True


def clean_emails(value: str | Iterable[str], *, field: str = "cc") -> list[str]:
    """Addresses from a list or a comma/semicolon/space-separated text: lower-cased, checked, each once."""
    items = re.split(r"[\s,;]+", value) if isinstance(value, str) else list(value or ())
    emails: list[str] = []
    bad: list[str] = []
    for item in items:
        email = (item or "").strip().lower()
        if not email:
            continue
        try:
            validate_email(email)
        except ValidationError:
            bad.append(item.strip())
            continue
        if email not in emails:
            emails.append(email)
    if bad:
        raise ValidationError({field: _("Not an email address: %(list)s.") % {"list": ", ".join(bad)}})
    return emails


def _required_body(body: str, message: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": message})
    return body


def _check_attachments(attachments: Sequence[Any]) -> list[Any]:
    files = [f for f in (attachments or ()) if f is not None]
    problems = attachment_problems(files)
    if problems:
        raise ValidationError({"attachments": problems})
    return files


def _lock(ticket: Ticket) -> Ticket:
    """Lock the row and read it afresh (in place, so the caller's instance stays current)."""
    Ticket.objects.select_for_update().filter(pk=ticket.pk).exists()
    ticket.refresh_from_db()
    return ticket


def _recalculate_sla(ticket: Ticket, now: dt.datetime | None = None) -> None:
    """The SLA's deadlines and achieved figures, after anything they depend on changed."""
    sla.recalculate(ticket=ticket, now=now)


# --- Creating -----------------------------------------------------------------------------------------

def _next_reference(consortium: Consortium, now: dt.datetime) -> str:
    # The consortium row is the counter's lock: tickets of one consortium are numbered one at a time.
    Consortium.objects.select_for_update().filter(pk=consortium.pk).exists()
    prefix = f"CH-{consortium.pk}-{timezone.localtime(now).year}-"
    last = (Ticket.objects.filter(reference__startswith=prefix)
            .order_by(Length("reference").desc(), "-reference").values_list("reference", flat=True).first())
    sequence = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{sequence:04d}"


@transaction.atomic
def ticket_create(*, user: Any, subject: str, body: str, organisation: Organisation | None = None,
                  consortium: Consortium | None = None, category: str = Ticket.Category.TECHNICAL,
                  priority: str = Ticket.Priority.NORMAL, requester_email: str = "",
                  cc: str | Iterable[str] = (), attachments: Sequence[Any] = (), via: str = "web",
                  email_message_id: str = "", now: dt.datetime | None = None) -> Ticket:
    """Raise a ticket for `organisation` (or, `consortium` without organisation: unmatched, for triage).

    Members raise tickets for their own organisation as themselves; lead staff may raise one on behalf
    of `requester_email`. `user=None` is the inbound mail fetcher (then `requester_email` is required).
    """
    if organisation is not None:
        if consortium is not None and consortium.pk != organisation.consortium_id:
            raise ValidationError({"organisation": _("The organisation belongs to another consortium.")})
        consortium = organisation.consortium
    if consortium is None:
        raise ValidationError({"organisation": _("Choose the organisation the ticket is about.")})
    staff = user is None or access_scope(user).can_in(CHANGE, "support", consortium_id=consortium.pk)
    if user is not None:
        require(user, ADD, "support", consortium_id=consortium.pk,
                organisation_id=organisation.pk if organisation is not None else None)
        if not staff or not (requester_email or "").strip():
            requester_email = user.email
    body = _required_body(body, _("Describe the problem or question."))
    requester_email = (requester_email or "").strip().lower()
    if not requester_email:
        raise ValidationError({"requester_email": _("Give the requester's email address.")})
    ccs = [e for e in clean_emails(cc) if e != requester_email]
    files = _check_attachments(attachments)
    now = now or timezone.now()

    ticket = Ticket(consortium=consortium, organisation=organisation, subject=(subject or "").strip()[:255],
                    category=category, priority=priority, status=Status.NEW, requester_email=requester_email,
                    requester_user=user_with_email(requester_email) if staff else user)
    ticket.reference = _next_reference(consortium, now)
    ticket.full_clean()
    ticket.save()
    TicketStatusChange.objects.create(ticket=ticket, from_status="", to_status=Status.NEW, at=now, by=user)
    _add_message(ticket, visibility=Visibility.PUBLIC, body=body, author_user=user or ticket.requester_user,
                 author_email=requester_email, via=via, email_message_id=email_message_id, attachments=files)
    for email in ccs:
        TicketCC.objects.create(ticket=ticket, email=email)
    _recalculate_sla(ticket, now)
    if organisation is not None:
        _mail(ticket, "ticket_created", {"body": body})
    return ticket


def user_with_email(email: str) -> Any:
    from consortium_hub.accounts.models import User

    return User.objects.filter(email__iexact=email, is_active=True).first() if email else None


def _add_message(ticket: Ticket, *, visibility: str, body: str, author_user: Any, author_email: str = "",
                 via: str = "web", email_message_id: str = "", attachments: Sequence[Any] = ()) -> TicketMessage:
    message = TicketMessage(ticket=ticket, visibility=visibility, body=body, author_user=author_user,
                            author_email=(author_email or getattr(author_user, "email", "") or "")[:254],
                            via=via, email_message_id=(email_message_id or "")[:255])
    message.full_clean()
    message.save()
    for file in attachments:
        _store_attachment(message, file)
    return message


def _store_attachment(message: TicketMessage, file: Any) -> TicketAttachment:
    name = os.path.basename(str(file.name))[:255]
    extension = name.rsplit(".", 1)[-1].lower()
    attachment = TicketAttachment(message=message, filename=name, content_type=ATTACHMENT_TYPES[extension],
                                  size=_size_of(file))
    file.seek(0)
    # Stored under a random name: the sender's file name is neither trusted nor guessable.
    attachment.file.save(f"{uuid.uuid4().hex}.{extension}", file, save=False)
    attachment.save()
    return attachment


# --- Replies and notes -----------------------------------------------------------------------------------

@transaction.atomic
def ticket_reply(*, user: Any, ticket: Ticket, body: str, attachments: Sequence[Any] = (),
                 status: str | None = None, via: str = "web", author: Any = None, author_email: str = "",
                 email_message_id: str = "", now: dt.datetime | None = None) -> TicketMessage:
    """A public reply (the member sees it), mailed to the requester and CCs except its author.

    Lead staff may set the ticket's `status` with the reply; their first reply is the first response.
    A member's reply reopens a resolved ticket or one waiting on them. `user=None` is the inbound mail
    fetcher writing for `author` (a user, or None) / `author_email`.
    """
    if user is not None:
        if not can_reply(user, ticket):
            raise PermissionDenied(_("You cannot reply on this ticket."))
        author = user
    body = _required_body(body, _("Write your reply."))
    files = _check_attachments(attachments)
    _lock(ticket)
    if ticket.status == Status.CLOSED:
        raise ValidationError(_("This ticket is closed. Raise a new ticket and mention %(reference)s.")
                              % {"reference": ticket.reference})
    staff = author is not None and is_lead_staff(author, ticket)
    if status and not staff:
        raise PermissionDenied(_("Only the consortium's support staff set a ticket's status."))
    now = now or timezone.now()
    message = _add_message(ticket, visibility=Visibility.PUBLIC, body=body, author_user=author,
                           author_email=author_email, via=via, email_message_id=email_message_id, attachments=files)
    if staff:
        if ticket.first_responded_at is None:
            ticket.first_responded_at = now
            ticket.save(update_fields=["first_responded_at", "updated_at"])
            _recalculate_sla(ticket, now)
        new_status = status or (Status.OPEN if ticket.status == Status.NEW else None)
        if new_status and new_status != ticket.status:
            ticket_set_status(user=None, ticket=ticket, status=new_status, by=author, notify=False, now=now)
    elif ticket.status in REOPENED_BY_MEMBER_REPLY:
        ticket_set_status(user=None, ticket=ticket, status=Status.OPEN, by=author, notify=False, now=now)
    _mail(ticket, "ticket_reply", {"message": message, "author": _author_name(message)},
          exclude=[message.author_email])
    return message


@transaction.atomic
def ticket_note(*, user: Any, ticket: Ticket, body: str, share_with_orcid: bool = False,
                attachments: Sequence[Any] = (), author: Any = None) -> TicketMessage:
    """An internal note for lead staff (`shared`: ORCID support sees it too once escalated). Never mailed.

    `user=None` is a system note (e.g. a refused email), written as `author` if given."""
    if user is not None:
        if not can_write_notes(user, ticket):
            raise PermissionDenied(_("Only the consortium's support staff write internal notes."))
        author = user
    body = _required_body(body, _("Write the note."))
    files = _check_attachments(attachments)
    _lock(ticket)
    visibility = Visibility.SHARED_WITH_ORCID if share_with_orcid else Visibility.INTERNAL
    return _add_message(ticket, visibility=visibility, body=body, author_user=author,
                        author_email=getattr(author, "email", "") or "", via="web" if author else "system",
                        attachments=files)


# --- Status, assignment, triage, CCs ----------------------------------------------------------------------

@transaction.atomic
def ticket_set_status(*, user: Any, ticket: Ticket, status: str, by: Any = None, notify: bool = True,
                      now: dt.datetime | None = None) -> Ticket:
    """The one way a ticket's status changes: records a TicketStatusChange, keeps `resolved_at`,
    recalculates the SLA and (with `notify`) tells the requester and CCs when it matters to them.

    `user=None` is a system change made for `by` (a member's reply reopening the ticket, a merge).
    `with_orcid` is for escalated tickets only (escalating sets it)."""
    if status not in Status.values:
        raise ValidationError({"status": _("Unknown status “%(status)s”.") % {"status": status}})
    _lock(ticket)
    if user is not None:
        if not can_set_status(user, ticket):
            raise PermissionDenied(_("Only the consortium's support staff change a ticket's status."))
        by = user
    if status == ticket.status:
        return ticket
    if status == Status.WITH_ORCID and ticket.tier == Ticket.Tier.TIER_1:
        raise ValidationError({"status": _("Escalate the ticket to hand it to ORCID.")})
    if ticket.merged_into_id and status != Status.CLOSED:
        raise ValidationError({"status": _("This ticket was merged into %(reference)s; it stays closed.")
                               % {"reference": ticket.merged_into.reference}})
    now = now or timezone.now()
    previous = ticket.status
    ticket.status = status
    if status in DONE_STATUSES:
        ticket.resolved_at = ticket.resolved_at or now
    else:
        ticket.resolved_at = None
    ticket.save(update_fields=["status", "resolved_at", "updated_at"])
    TicketStatusChange.objects.create(ticket=ticket, from_status=previous, to_status=status, at=now, by=by)
    _recalculate_sla(ticket, now)
    reopened = previous in DONE_STATUSES and status not in DONE_STATUSES
    if notify and ticket.organisation_id and (status in STATUSES_MAILED or reopened):
        _mail(ticket, "ticket_status", {"previous": Status(previous).label, "changed_by": by})
    return ticket


@transaction.atomic
def ticket_assign(*, user: Any, ticket: Ticket, assignee: Any) -> Ticket:
    """Assign to one of the consortium's lead admins or lead support staff (None: unassigned)."""
    if user is not None:
        require(user, CHANGE, "support", consortium_id=ticket.consortium_id)
    _lock(ticket)
    if assignee is not None and not lead_staff(ticket.consortium_id).filter(pk=assignee.pk).exists():
        raise ValidationError({"assignee": _("%(person)s is not support staff of %(consortium)s.")
                               % {"person": assignee, "consortium": ticket.consortium}})
    if ticket.assignee_id != getattr(assignee, "pk", None):
        ticket.assignee = assignee
        ticket.save(update_fields=["assignee", "updated_at"])
    return ticket


@transaction.atomic
def ticket_update(*, user: Any, ticket: Ticket, priority: str | None = None, category: str | None = None,
                  organisation: Organisation | None = None) -> Ticket:
    """Change priority or category, or (triage) say which organisation the ticket is from."""
    require(user, CHANGE, "support", consortium_id=ticket.consortium_id)
    _lock(ticket)
    changed: list[str] = []
    if priority and priority != ticket.priority:
        ticket.priority = priority
        changed.append("priority")
    if category and category != ticket.category:
        ticket.category = category
        changed.append("category")
    if organisation is not None and organisation.pk != ticket.organisation_id:
        if organisation.consortium_id != ticket.consortium_id:
            raise ValidationError({"organisation": _("The organisation belongs to another consortium.")})
        ticket.organisation = organisation
        changed.append("organisation")
    if not changed:
        return ticket
    ticket.full_clean()
    ticket.save(update_fields=[*changed, "updated_at"])
    if "priority" in changed:
        _recalculate_sla(ticket)
    return ticket


@transaction.atomic
def ticket_set_ccs(*, user: Any, ticket: Ticket, emails: str | Iterable[str]) -> list[str]:
    """Replace the ticket's CC addresses (they get the same mail as the requester)."""
    require(user, CHANGE, "support", consortium_id=ticket.consortium_id)
    wanted = [e for e in clean_emails(emails) if e != ticket.requester_email.lower()]
    _lock(ticket)
    current = {cc.email.lower(): cc for cc in ticket.ccs.all()}
    for email, cc in current.items():
        if email not in wanted:
            cc.delete()
    for email in wanted:
        if email not in current:
            TicketCC.objects.create(ticket=ticket, email=email)
    return wanted


# --- Merging ----------------------------------------------------------------------------------------------

@transaction.atomic
def ticket_merge(*, user: Any, source: Ticket, target: Ticket) -> Ticket:
    """Merge the duplicate `source` into `target`: its messages move to the target, its requester and
    CCs become CCs of the target, and it is closed with `merged_into`. Its requester is told."""
    if source.pk == target.pk:
        raise ValidationError({"target": _("A ticket cannot be merged into itself.")})
    require(user, CHANGE, "support", consortium_id=source.consortium_id)
    require(user, CHANGE, "support", consortium_id=target.consortium_id)
    for ticket in sorted((source, target), key=lambda t: t.pk):  # one lock order: no deadlock
        _lock(ticket)
    if source.consortium_id != target.consortium_id:
        raise ValidationError({"target": _("Tickets of different consortia cannot be merged.")})
    if source.merged_into_id:
        raise ValidationError({"target": _("%(source)s was already merged into %(target)s.")
                               % {"source": source.reference, "target": source.merged_into.reference}})
    if target.merged_into_id or target.status == Status.CLOSED:
        raise ValidationError({"target": _("%(target)s is closed; merge into an open ticket.")
                               % {"target": target.reference}})
    moved = list(source.messages.all())
    for message in moved:
        message.ticket = target
        message.save(update_fields=["ticket", "updated_at"])
    existing = {e.lower() for e in target.ccs.values_list("email", flat=True)} | {target.requester_email.lower()}
    for email in [source.requester_email, *source.ccs.values_list("email", flat=True)]:
        if email and email.lower() not in existing:
            TicketCC.objects.create(ticket=target, email=email.lower())
            existing.add(email.lower())
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    ticket_set_status(user=None, ticket=source, status=Status.CLOSED, by=user, notify=False)
    _add_message(target, visibility=Visibility.INTERNAL, author_user=user,
                 body=_("%(source)s (“%(subject)s”, %(n)d messages) was merged into this ticket.")
                 % {"source": source.reference, "subject": source.subject, "n": len(moved)})
    if target.organisation_id and target.organisation_id != source.organisation_id and source.organisation_id:
        _add_message(target, visibility=Visibility.INTERNAL, author_user=user,
                     body=_("Note: %(source)s was raised for another organisation.") % {"source": source.reference})
    if source.organisation_id:
        _mail(source, "ticket_merged", {"target": target})
    return target


# --- Mail -------------------------------------------------------------------------------------------------

def recipients(ticket: Ticket, *, exclude: Iterable[str] = ()) -> list[str]:
    skip = {(e or "").lower() for e in exclude}
    emails: list[str] = []
    for email in [ticket.requester_email, *ticket.ccs.values_list("email", flat=True)]:
        email = (email or "").lower()
        if email and email not in skip and email not in emails:
            emails.append(email)
    return emails


def ticket_url(ticket: Ticket) -> str:
    return settings.SITE_URL + reverse("support:ticket_detail", args=[ticket.pk])


def _author_name(message: TicketMessage) -> str:
    return str(message.author_user) if message.author_user_id else message.author_email


def _mail(ticket: Ticket, template: str, context: dict[str, Any], *, exclude: Iterable[str] = ()) -> None:
    to = recipients(ticket, exclude=exclude)
    if not to:
        return
    send_templated_email(to=to, template=f"support/email/{template}",
                         context={"ticket": ticket, "consortium": ticket.consortium, "ticket_url": ticket_url(ticket),
                                  **context})
