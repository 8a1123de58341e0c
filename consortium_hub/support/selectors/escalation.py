"""Reads for escalated tickets: ORCID's queue and ticket page, and the escalation panel of the lead's page.

ORCID's views start from `visible_to(user, area="orcid_support")` restricted to Tier 2/3 tickets, and
show messages from `TicketMessage.objects.visible_to(user)` without internal notes: ORCID sees what was
escalated (the summary, public replies, notes shared with ORCID, ORCID ↔ lead messages), never the
lead's internal notes (an ORCID admin's grants would otherwise include them).
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Prefetch, QuerySet

from consortium_hub.core.access import access_scope
from consortium_hub.support.models import Ticket, TicketMessage
from consortium_hub.support.services.escalation import ACTIVE_AT_ORCID, can_escalate, can_work_at_orcid


def escalated_tickets(*, user: Any) -> QuerySet[Ticket]:
    """Every Tier 2/3 ticket the user may see as ORCID support (any consortium)."""
    return Ticket.objects.visible_to(user, area="orcid_support").filter(tier__gt=Ticket.Tier.TIER_1)


def orcid_queue(*, user: Any, active_only: bool = False) -> QuerySet[Ticket]:
    """ORCID's queue, soonest ORCID resolution deadline first (tickets without one last)."""
    queryset = escalated_tickets(user=user)
    if active_only:
        queryset = queryset.filter(orcid_status__in=ACTIVE_AT_ORCID)
    return (queryset.select_related("consortium", "organisation", "orcid_assignee", "escalated_by")
            .order_by(F("orcid_resolution_due").asc(nulls_last=True), "escalated_at", "pk"))


def orcid_messages(*, user: Any) -> QuerySet[TicketMessage]:
    """Messages ORCID may read on escalated tickets: never internal notes."""
    return (TicketMessage.objects.visible_to(user).exclude(visibility=TicketMessage.Visibility.INTERNAL)
            .select_related("author_user"))


def orcid_ticket(*, user: Any) -> QuerySet[Ticket]:
    """For ORCID's ticket page (look the ticket up in it with get_for_user_or_404, area "orcid_support")."""
    return (escalated_tickets(user=user)
            .select_related("consortium", "organisation", "orcid_assignee", "escalated_by", "assignee")
            .prefetch_related(Prefetch("messages", queryset=orcid_messages(user=user), to_attr="orcid_visible")))


def escalation_for_ticket(user: Any, ticket: Ticket) -> dict[str, Any]:
    """What the lead's ticket page shows about escalation (for `support/orcid_escalation_panel.html`):
    the state at ORCID, the ORCID ↔ lead messages, and what the user may do."""
    messages = []
    if ticket.escalated_at:
        messages = list(TicketMessage.objects.visible_to(user)
                        .filter(ticket=ticket, visibility=TicketMessage.Visibility.ORCID)
                        .select_related("author_user"))
    lead = can_escalate(user, ticket)
    orcid = can_work_at_orcid(user, ticket)
    active = ticket.tier > Ticket.Tier.TIER_1 and ticket.orcid_status in ACTIVE_AT_ORCID
    return {
        "ticket": ticket,
        "orcid_messages": messages,
        "active_at_orcid": active,
        "can_escalate": lead and not active and ticket.status not in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED),
        "can_reply_to_orcid": lead and active,
        "can_work_at_orcid": orcid,
        # Members see only the ticket's status (with ORCID); the panel is for lead staff and ORCID.
        "show": lead or orcid or access_scope(user).is_orcid_staff(),
    }
