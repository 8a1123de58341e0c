"""Escalation of tickets to ORCID (Tier 2/3) and ORCID's work on them.

The lead's side: `ticket_escalate` (Tier 2 or 3, with a summary for ORCID) and `escalation_lead_reply`
(answering ORCID). ORCID's side: `orcid_ticket_take`, `orcid_ticket_reply` (optionally asking the
lead for information), `orcid_ticket_resolve` and `orcid_ticket_hand_back`.

Rules
-----
- Escalating needs the right to change the ticket as lead staff (area `support`); ORCID's actions
  need `orcid_support` on an escalated ticket (tier 2/3). Members never escalate.
- While ORCID has the ticket its status is `with_orcid`; that is all the member sees (ORCID's messages
  have visibility `orcid`, which members never see).
- ORCID resolving returns the ticket to the lead with status `open` (tier stays 2/3 so the record of
  ORCID's work stays visible to ORCID); handing back returns it with status `open` and tier 1.
- Status changes go through the ticket engineer's `tickets.ticket_set_status` when it exists (it
  records the TicketStatusChange), otherwise a TicketStatusChange is recorded here. SLA deadlines are
  recalculated by `sla.recalculate` when it exists (ORCID's deadlines run on ORCID's calendar).
- Mail: ORCID support users hear of new escalations and of the lead's answers (the ORCID assignee
  only, once there is one); the ticket's owners (its assignee, else its consortium's lead support
  staff, else its lead admins) hear of ORCID's replies, resolution and hand-back.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium_hub.accounts.models import RoleAssignment
from consortium_hub.core.access import access_scope
from consortium_hub.core.email import send_templated_email
from consortium_hub.core.roles import CHANGE, Role
from consortium_hub.support.models import Ticket, TicketMessage, TicketStatusChange

ESCALATION_TIERS = (Ticket.Tier.TIER_2, Ticket.Tier.TIER_3)
# ORCID statuses in which ORCID is still working the ticket.
ACTIVE_AT_ORCID = (Ticket.OrcidStatus.NEW, Ticket.OrcidStatus.INVESTIGATING, Ticket.OrcidStatus.WAITING_ON_LEAD)
EMAIL_NEW = "support/email/escalation_new"
EMAIL_UPDATE = "support/email/escalation_update"
EMAIL_LEAD_REPLY = "support/email/escalation_lead_reply"


# --- Who may, who hears ------------------------------------------------------------------------------

def can_escalate(user: Any, ticket: Ticket) -> bool:
    return access_scope(user).can(CHANGE, ticket, area="support")


def can_work_at_orcid(user: Any, ticket: Ticket) -> bool:
    return ticket.tier > Ticket.Tier.TIER_1 and access_scope(user).can(CHANGE, ticket, area="orcid_support")


def _require_lead(user: Any, ticket: Ticket) -> None:
    if not can_escalate(user, ticket):
        raise PermissionDenied(_("Only the consortium's support staff can do this."))


def _require_orcid(user: Any, ticket: Ticket) -> None:
    if not can_work_at_orcid(user, ticket):
        raise PermissionDenied(_("Only ORCID support works escalated tickets."))


def lead_staff_emails(consortium_ids: Iterable[int]) -> dict[int, list[str]]:
    """Per consortium: its lead support staff's addresses, or its lead admins' when it has no support staff."""
    ids = set(consortium_ids)
    by_role: dict[tuple[int, str], set[str]] = {}
    rows = (RoleAssignment.objects.filter(consortium_id__in=ids, role__in=[Role.LEAD_SUPPORT, Role.LEAD_ADMIN],
                                          user__is_active=True)
            .values_list("consortium_id", "role", "user__email"))
    for consortium_id, role, email in rows:
        if email:
            by_role.setdefault((consortium_id, role), set()).add(email)
    return {cid: sorted(by_role.get((cid, Role.LEAD_SUPPORT)) or by_role.get((cid, Role.LEAD_ADMIN)) or ())
            for cid in ids}


def ticket_owner_emails(tickets: Iterable[Ticket]) -> dict[int, list[str]]:
    """Per ticket: its assignee's address, or (unassigned) its consortium's lead support staff's.

    Pass tickets with `assignee` selected to avoid a query per ticket."""
    tickets = list(tickets)
    staff = lead_staff_emails({t.consortium_id for t in tickets if not _assignee_email(t)})
    return {t.pk: ([_assignee_email(t)] if _assignee_email(t) else staff.get(t.consortium_id, [])) for t in tickets}


def _assignee_email(ticket: Ticket) -> str:
    assignee = ticket.assignee if ticket.assignee_id else None
    return assignee.email if assignee is not None and assignee.is_active else ""


def orcid_support_emails() -> list[str]:
    return sorted(set(RoleAssignment.objects.filter(role=Role.ORCID_SUPPORT, user__is_active=True)
                      .values_list("user__email", flat=True)) - {""})


def lead_ticket_path(ticket: Ticket) -> str:
    """The lead's page of the ticket (the ticket engineer's detail page, when it is there)."""
    try:
        return reverse("support:ticket_detail", args=[ticket.pk])
    except NoReverseMatch:
        return reverse("support:ticket_escalate", args=[ticket.pk])


def lead_ticket_url(ticket: Ticket) -> str:
    return settings.SITE_URL + lead_ticket_path(ticket)


def orcid_ticket_url(ticket: Ticket) -> str:
    return settings.SITE_URL + reverse("support:orcid_ticket", args=[ticket.pk])


# --- Hooks into the ticket and SLA services ------------------------------------------------------------

def _optional_service(name: str) -> Any:
    """The sibling service module `name` if it exists yet (its own import errors are not hidden)."""
    module = f"consortium_hub.support.services.{name}"
    return importlib.import_module(module) if importlib.util.find_spec(module) is not None else None


def _set_status(*, user: Any, ticket: Ticket, status: str, now: dt.datetime) -> None:
    if ticket.status == status:
        return
    tickets = _optional_service("tickets")
    if tickets is not None and hasattr(tickets, "ticket_set_status"):
        tickets.ticket_set_status(user=user, ticket=ticket, status=status, now=now)
        return
    TicketStatusChange.objects.create(ticket=ticket, from_status=ticket.status, to_status=status, at=now, by=user)
    ticket.status = status
    ticket.save(update_fields=["status", "updated_at"])


def _recalculate_sla(ticket: Ticket, now: dt.datetime) -> None:
    sla = _optional_service("sla")
    if sla is not None and hasattr(sla, "recalculate"):
        sla.recalculate(ticket=ticket, now=now)


def _lock(ticket: Ticket) -> Ticket:
    """Lock the row and read it afresh, so two people acting at once cannot both win."""
    Ticket.objects.select_for_update().filter(pk=ticket.pk).exists()
    ticket.refresh_from_db()
    return ticket


def _message(*, user: Any, ticket: Ticket, body: str, via: str = "web") -> TicketMessage:
    message = TicketMessage(ticket=ticket, visibility=TicketMessage.Visibility.ORCID, author_user=user,
                            author_email=getattr(user, "email", "") or "", body=body, via=via)
    message.full_clean()
    message.save()
    return message


def _required_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _require_active_at_orcid(ticket: Ticket) -> None:
    if ticket.orcid_status not in ACTIVE_AT_ORCID:
        raise ValidationError(_("ORCID is no longer working on this ticket (%(status)s).")
                              % {"status": ticket.get_orcid_status_display() or _("not escalated")})


# --- The lead's side -------------------------------------------------------------------------------

@transaction.atomic
def ticket_escalate(*, user: Any, ticket: Ticket, tier: int, summary: str,
                    now: dt.datetime | None = None) -> Ticket:
    """Hand the ticket to ORCID as Tier 2 or Tier 3 with a summary of what ORCID needs to know."""
    _require_lead(user, ticket)
    try:
        tier = int(tier)
    except (TypeError, ValueError):
        tier = 0
    if tier not in ESCALATION_TIERS:
        raise ValidationError({"tier": _("Escalate as Tier 2 or Tier 3.")})
    summary = _required_text(summary, "summary", _("Tell ORCID what the problem is and what you have tried."))
    ticket = _lock(ticket)
    if ticket.tier > Ticket.Tier.TIER_1 and ticket.orcid_status in ACTIVE_AT_ORCID:
        raise ValidationError(_("This ticket is already with ORCID."))
    if ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED) or ticket.merged_into_id:
        raise ValidationError(_("Reopen the ticket before escalating it."))
    now = now or timezone.now()
    ticket.tier = tier
    ticket.escalated_at = now
    ticket.escalated_by = user
    ticket.escalation_summary = summary
    ticket.orcid_status = Ticket.OrcidStatus.NEW
    ticket.orcid_assignee = None
    ticket.orcid_first_response_due = ticket.orcid_resolution_due = None
    ticket.orcid_first_responded_at = ticket.orcid_resolved_at = None
    ticket.full_clean()
    ticket.save()
    _set_status(user=user, ticket=ticket, status=Ticket.Status.WITH_ORCID, now=now)
    _recalculate_sla(ticket, now)
    to = orcid_support_emails()
    if to:
        send_templated_email(to=to, template=EMAIL_NEW, context={
            "ticket": ticket, "consortium": ticket.consortium, "escalated_by": user, "url": orcid_ticket_url(ticket)})
    return ticket


@transaction.atomic
def escalation_lead_reply(*, user: Any, ticket: Ticket, body: str, via: str = "web",
                          now: dt.datetime | None = None) -> TicketMessage:
    """The lead answers ORCID (a message both sides see; never the member). A ticket waiting on the
    lead goes back to `investigating`."""
    _require_lead(user, ticket)
    body = _required_text(body, "body", _("Write your answer to ORCID."))
    ticket = _lock(ticket)
    if ticket.tier == Ticket.Tier.TIER_1:
        raise ValidationError(_("This ticket is not with ORCID."))
    _require_active_at_orcid(ticket)
    message = _message(user=user, ticket=ticket, body=body, via=via)
    if ticket.orcid_status == Ticket.OrcidStatus.WAITING_ON_LEAD:
        ticket.orcid_status = Ticket.OrcidStatus.INVESTIGATING
        ticket.save(update_fields=["orcid_status", "updated_at"])
        _recalculate_sla(ticket, now or timezone.now())
    to = ([ticket.orcid_assignee.email] if ticket.orcid_assignee_id and ticket.orcid_assignee.is_active
          else orcid_support_emails())
    if to:
        send_templated_email(to=to, template=EMAIL_LEAD_REPLY, context={
            "ticket": ticket, "consortium": ticket.consortium, "message": message, "url": orcid_ticket_url(ticket)})
    return message


# --- ORCID's side ------------------------------------------------------------------------------------

@transaction.atomic
def orcid_ticket_take(*, user: Any, ticket: Ticket) -> Ticket:
    """ORCID support takes the ticket: it becomes theirs, and ORCID is investigating."""
    _require_orcid(user, ticket)
    ticket = _lock(ticket)
    _require_active_at_orcid(ticket)
    ticket.orcid_assignee = user
    if ticket.orcid_status == Ticket.OrcidStatus.NEW:
        ticket.orcid_status = Ticket.OrcidStatus.INVESTIGATING
    ticket.save(update_fields=["orcid_assignee", "orcid_status", "updated_at"])
    return ticket


@transaction.atomic
def orcid_ticket_reply(*, user: Any, ticket: Ticket, body: str, ask_for_information: bool = False,
                       via: str = "web", now: dt.datetime | None = None) -> TicketMessage:
    """ORCID writes to the lead; asking for information puts the ticket in `waiting_on_lead`."""
    _require_orcid(user, ticket)
    body = _required_text(body, "body", _("Write your message to the lead."))
    ticket = _lock(ticket)
    _require_active_at_orcid(ticket)
    now = now or timezone.now()
    message = _message(user=user, ticket=ticket, body=body, via=via)
    ticket.orcid_status = (Ticket.OrcidStatus.WAITING_ON_LEAD if ask_for_information
                           else Ticket.OrcidStatus.INVESTIGATING)
    if ticket.orcid_first_responded_at is None:
        ticket.orcid_first_responded_at = now
    if ticket.orcid_assignee_id is None:
        ticket.orcid_assignee = user
    ticket.save(update_fields=["orcid_status", "orcid_first_responded_at", "orcid_assignee", "updated_at"])
    _recalculate_sla(ticket, now)
    _tell_owners(ticket, kind="information_requested" if ask_for_information else "reply", message=message)
    return message


@transaction.atomic
def orcid_ticket_resolve(*, user: Any, ticket: Ticket, body: str = "", via: str = "web",
                         now: dt.datetime | None = None) -> Ticket:
    """ORCID has solved it: the ticket goes back to the lead (status `open`) to answer the member."""
    _require_orcid(user, ticket)
    ticket = _lock(ticket)
    _require_active_at_orcid(ticket)
    now = now or timezone.now()
    body = (body or "").strip()
    message = _message(user=user, ticket=ticket, body=body, via=via) if body else None
    ticket.orcid_status = Ticket.OrcidStatus.RESOLVED
    ticket.orcid_resolved_at = now
    if ticket.orcid_first_responded_at is None:
        ticket.orcid_first_responded_at = now
    if ticket.orcid_assignee_id is None:
        ticket.orcid_assignee = user
    ticket.save(update_fields=["orcid_status", "orcid_resolved_at", "orcid_first_responded_at", "orcid_assignee",
                               "updated_at"])
    _set_status(user=user, ticket=ticket, status=Ticket.Status.OPEN, now=now)
    _recalculate_sla(ticket, now)
    _tell_owners(ticket, kind="resolved", message=message)
    return ticket


@transaction.atomic
def orcid_ticket_hand_back(*, user: Any, ticket: Ticket, reason: str, via: str = "web",
                           now: dt.datetime | None = None) -> Ticket:
    """Not ORCID's to solve: back to the lead as Tier 1 (status `open`), with the reason."""
    _require_orcid(user, ticket)
    reason = _required_text(reason, "reason", _("Tell the lead why the ticket comes back to them."))
    ticket = _lock(ticket)
    _require_active_at_orcid(ticket)
    now = now or timezone.now()
    message = _message(user=user, ticket=ticket, body=reason, via=via)
    ticket.orcid_status = Ticket.OrcidStatus.HANDED_BACK
    ticket.tier = Ticket.Tier.TIER_1
    ticket.save(update_fields=["orcid_status", "tier", "updated_at"])
    _set_status(user=user, ticket=ticket, status=Ticket.Status.OPEN, now=now)
    _recalculate_sla(ticket, now)
    _tell_owners(ticket, kind="handed_back", message=message)
    return ticket


def _tell_owners(ticket: Ticket, *, kind: str, message: TicketMessage | None) -> None:
    to = ticket_owner_emails([ticket])[ticket.pk]
    if to:
        send_templated_email(to=to, template=EMAIL_UPDATE, context={
            "ticket": ticket, "consortium": ticket.consortium, "kind": kind, "message": message,
            "url": lead_ticket_url(ticket)})
