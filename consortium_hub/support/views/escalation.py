"""Support pages: escalation to ORCID (the lead's Escalate form and answer to ORCID; ORCID's queue and
ticket page with its actions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consortium_hub.core.access import get_for_user_or_404
from consortium_hub.core.roles import CHANGE
from consortium_hub.core.viewkit import ListPage, form_page
from consortium_hub.support import forms_escalation as f
from consortium_hub.support.models import Ticket
from consortium_hub.support.selectors import escalation as selectors
from consortium_hub.support.selectors.problems import problems_for_ticket
from consortium_hub.support.services import escalation as services

ORCID_AREA = "orcid_support"


# --- The lead's side -------------------------------------------------------------------------------

@login_required
def ticket_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_for_user_or_404(request.user, Ticket.objects.select_related("consortium"), CHANGE, area="support",
                                 pk=pk)
    form = f.EscalateForm(request.POST or None, initial={"tier": Ticket.Tier.TIER_2})
    return form_page(request, form=form, template="support/orcid_escalate.html",
                     save=lambda data: services.ticket_escalate(user=request.user, ticket=ticket, **data),
                     success_url=services.lead_ticket_path,
                     success_message=_("Escalated to ORCID. The member sees that the ticket is with ORCID."),
                     context={"ticket": ticket, "title": _("Escalate %(ref)s to ORCID") % {"ref": ticket.reference}})


@login_required
@require_POST
def ticket_orcid_reply(request: HttpRequest, pk: int) -> HttpResponse:
    """The lead answers ORCID (from the escalation panel of the ticket page)."""
    ticket = get_for_user_or_404(request.user, Ticket, CHANGE, area="support", pk=pk)
    form = f.MessageForm(request.POST)
    _act(request, form, lambda data: services.escalation_lead_reply(user=request.user, ticket=ticket, **data),
         _("Your answer went to ORCID."))
    return redirect(services.lead_ticket_path(ticket))


# --- ORCID's side ------------------------------------------------------------------------------------

class OrcidQueue(ListPage):
    area = ORCID_AREA
    filterset_class = f.OrcidQueueFilter
    template_name = "support/orcid_queue.html"
    partial_template_name = "support/orcid_queue_table.html"

    def get_queryset(self) -> Any:
        # Without a status filter the queue shows what ORCID is still working on.
        return selectors.orcid_queue(user=self.request.user, active_only=not self.request.GET.get("orcid_status"))

    def extra_context(self) -> dict[str, Any]:
        return {"title": _("ORCID support queue")}


def _orcid_ticket(request: HttpRequest, pk: int, action: str = "view") -> Ticket:
    return get_for_user_or_404(request.user, selectors.orcid_ticket(user=request.user), action, area=ORCID_AREA,
                               pk=pk)


@login_required
def orcid_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _orcid_ticket(request, pk)
    return render(request, "support/orcid_ticket.html", {
        "ticket": ticket, "thread": ticket.orcid_visible, "problems": problems_for_ticket(request.user, ticket),
        "can_act": services.can_work_at_orcid(request.user, ticket),
        "active": ticket.orcid_status in services.ACTIVE_AT_ORCID,
        "reply_form": f.MessageForm(), "resolve_form": f.ResolveForm(), "hand_back_form": f.HandBackForm(),
        "title": ticket.reference,
    })


def _act(request: HttpRequest, form: Any, save: Callable[[dict[str, Any]], Any], done: str) -> bool:
    """Run one action from a posted form (None: a plain button); problems become messages on the page
    we return to."""
    if form is not None and not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return False
    try:
        save(form.cleaned_data if form is not None else {})
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
        return False
    messages.success(request, done)
    return True


@login_required
@require_POST
def orcid_ticket_take(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _orcid_ticket(request, pk, CHANGE)
    _act(request, None, lambda data: services.orcid_ticket_take(
        user=request.user, ticket=ticket), _("The ticket is yours."))
    return redirect("support:orcid_ticket", ticket.pk)


@login_required
@require_POST
def orcid_ticket_reply(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _orcid_ticket(request, pk, CHANGE)
    ask = "ask" in request.POST
    _act(request, f.MessageForm(request.POST),
         lambda data: services.orcid_ticket_reply(user=request.user, ticket=ticket, ask_for_information=ask, **data),
         _("Sent to the lead; the ticket waits for their answer.") if ask else _("Sent to the lead."))
    return redirect("support:orcid_ticket", ticket.pk)


@login_required
@require_POST
def orcid_ticket_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _orcid_ticket(request, pk, CHANGE)
    _act(request, f.ResolveForm(request.POST),
         lambda data: services.orcid_ticket_resolve(user=request.user, ticket=ticket, **data),
         _("Resolved. The ticket is back with the lead to answer the member."))
    return redirect("support:orcid_ticket", ticket.pk)


@login_required
@require_POST
def orcid_ticket_hand_back(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _orcid_ticket(request, pk, CHANGE)
    if _act(request, f.HandBackForm(request.POST),
            lambda data: services.orcid_ticket_hand_back(user=request.user, ticket=ticket, **data),
            _("Handed back to the lead as Tier 1.")):
        return redirect("support:orcid_queue")
    return redirect("support:orcid_ticket", ticket.pk)


urlpatterns = [
    path("tickets/<int:pk>/escalate/", ticket_escalate, name="ticket_escalate"),
    path("tickets/<int:pk>/orcid-reply/", ticket_orcid_reply, name="ticket_orcid_reply"),
    path("orcid/", OrcidQueue.as_view(), name="orcid_queue"),
    path("orcid/<int:pk>/", orcid_ticket, name="orcid_ticket"),
    path("orcid/<int:pk>/take/", orcid_ticket_take, name="orcid_ticket_take"),
    path("orcid/<int:pk>/reply/", orcid_ticket_reply, name="orcid_ticket_reply"),
    path("orcid/<int:pk>/resolve/", orcid_ticket_resolve, name="orcid_ticket_resolve"),
    path("orcid/<int:pk>/hand-back/", orcid_ticket_hand_back, name="orcid_ticket_hand_back"),
]
