"""Ticket pages: the list, raising a ticket, the ticket with its messages and the desk's controls,
merging duplicates, attachments and the History tab.

Members see their organisation's tickets and public replies only; lead staff see internal notes and
get the controls. Objects come from `get_for_user_or_404`; every write is a service call.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consortium_hub.core.access import access_scope, get_for_user_or_404, require_area
from consortium_hub.core.roles import ADD, CHANGE
from consortium_hub.core.viewkit import HistoryPage, ListPage, form_page, paginate
from consortium_hub.directory.models import Consortium
from consortium_hub.support.forms_tickets import ManageForm, MergeForm, NoteForm, ReplyForm, TicketForm
from consortium_hub.support.models import Ticket, TicketMessage
from consortium_hub.support.selectors import answers as answer_selectors
from consortium_hub.support.selectors import escalation as escalation_selectors
from consortium_hub.support.selectors import problems as problem_selectors
from consortium_hub.support.selectors import sla as sla_selectors
from consortium_hub.support.selectors import tickets as selectors
from consortium_hub.support.services import tickets as services


class TicketList(ListPage):
    area = "support"
    selector = staticmethod(selectors.ticket_list)
    filterset_class = selectors.TicketFilter
    template_name = "support/ticket_list.html"
    partial_template_name = "support/ticket_list_table.html"

    def extra_context(self) -> dict[str, Any]:
        scope = access_scope(self.request.user)
        return {"title": _("Support tickets"), "can_add": scope.allows_anything("support", ADD),
                "desk": scope.allows_anything("support", CHANGE)}


def _desk_status(consortia: list[Consortium]) -> Any:
    """The desk's status (open now? next opening), when the member's consortium is clear."""
    return sla_selectors.desk_status(consortia[0]) if len(consortia) == 1 else None


@login_required
def ticket_create(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "support", ADD)
    form = TicketForm(request.POST or None, request.FILES or None, user=request.user,
                      initial={"organisation": request.GET.get("organisation")})
    organisations = form.fields["organisation"].queryset
    consortia = list(Consortium.objects.filter(pk__in=organisations.values("consortium_id"))[:2])

    def save(data: dict[str, Any]) -> Ticket:
        return services.ticket_create(
            user=request.user, organisation=data["organisation"], subject=data["subject"], body=data["body"],
            category=data["category"], priority=data["priority"], requester_email=data.get("requester_email") or "",
            cc=data["cc"], attachments=data["attachments"])

    return form_page(
        request, form=form, template="support/ticket_form.html", save=save,
        success_url=lambda ticket: reverse("support:ticket_detail", args=[ticket.pk]),
        success_message=_("Ticket raised. We have emailed a confirmation with its reference."),
        context={"title": _("Raise a support ticket"), "desk_status": _desk_status(consortia),
                 "cancel_url": reverse("support:ticket_list")})


def _errors_to_form(form: Any, exc: ValidationError) -> None:
    """A service's ValidationError on the form, field by field when it names the form's fields."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _ticket(request: HttpRequest, pk: int) -> Ticket:
    return get_for_user_or_404(request.user, selectors.ticket_list(user=request.user), pk=pk)


def _render_detail(request: HttpRequest, ticket: Ticket, *, reply_form: Any = None, note_form: Any = None,
                   manage_form: Any = None) -> HttpResponse:
    user = request.user
    staff = services.is_lead_staff(user, ticket)
    can_reply = services.can_reply(user, ticket) and ticket.status != Ticket.Status.CLOSED
    can_note = services.can_write_notes(user, ticket)
    escalation = escalation_selectors.escalation_for_ticket(user, ticket)
    thread = selectors.ticket_messages(user=user, ticket=ticket)
    if escalation["show"]:  # ORCID <-> lead messages are in the escalation panel
        thread = thread.exclude(visibility=TicketMessage.Visibility.ORCID)
    return render(request, "support/ticket_detail.html", {
        "ticket": ticket, "thread": thread, "staff": staff, "escalation": escalation,
        "ticket_problems": problem_selectors.problems_for_ticket(user, ticket) if staff else None,
        "ccs": [cc.email for cc in ticket.ccs.all()],
        "reply_form": (reply_form or ReplyForm(staff=staff)) if can_reply else None,
        "note_form": (note_form or NoteForm()) if can_note else None,
        "manage_form": (manage_form or ManageForm(ticket=ticket)) if staff else None,
        "answers": answer_selectors.answers_for_ticket(user=user, ticket=ticket) if staff else None,
        "status_changes": ticket.status_changes.select_related("by") if staff else None,
        "merged": ticket.merged.all() if staff else None,
        "can_history": selectors.can_see_history(user, ticket),
        "can_merge": staff and not ticket.merged_into_id and ticket.status != Ticket.Status.CLOSED,
    })


@login_required
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _ticket(request, pk))


def _done(request: HttpRequest, ticket: Ticket, message: str, anchor: str = "") -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("support:ticket_detail", args=[ticket.pk]) + anchor)


@login_required
@require_POST
def ticket_reply(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    if not services.can_reply(request.user, ticket):
        raise PermissionDenied
    staff = services.is_lead_staff(request.user, ticket)
    form = ReplyForm(request.POST, request.FILES, staff=staff)
    if form.is_valid():
        try:
            message = services.ticket_reply(user=request.user, ticket=ticket, body=form.cleaned_data["body"],
                                            status=form.cleaned_data.get("status") or None,
                                            attachments=form.cleaned_data["attachments"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            return _done(request, ticket, _("Reply sent."), f"#message-{message.pk}")
    return _render_detail(request, ticket, reply_form=form)


@login_required
@require_POST
def ticket_note(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    if not services.can_write_notes(request.user, ticket):
        raise PermissionDenied
    form = NoteForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            message = services.ticket_note(user=request.user, ticket=ticket, body=form.cleaned_data["body"],
                                           share_with_orcid=form.cleaned_data["share_with_orcid"],
                                           attachments=form.cleaned_data["attachments"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            return _done(request, ticket, _("Note added."), f"#message-{message.pk}")
    return _render_detail(request, ticket, note_form=form)


@login_required
@require_POST
def ticket_update(request: HttpRequest, pk: int) -> HttpResponse:
    """The desk's controls in one form; each changed field goes through its own service."""
    ticket = _ticket(request, pk)
    if not services.is_lead_staff(request.user, ticket):
        raise PermissionDenied
    form = ManageForm(request.POST, ticket=ticket)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.ticket_update(user=request.user, ticket=ticket, priority=data["priority"],
                                   category=data["category"], organisation=data.get("organisation"))
            if (data["assignee"].pk if data["assignee"] else None) != ticket.assignee_id:
                services.ticket_assign(user=request.user, ticket=ticket, assignee=data["assignee"])
            services.ticket_set_ccs(user=request.user, ticket=ticket, emails=data["cc"])
            if data["status"] != ticket.status:
                services.ticket_set_status(user=request.user, ticket=ticket, status=data["status"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            return _done(request, ticket, _("Ticket updated."))
    return _render_detail(request, ticket, manage_form=form)


@login_required
def ticket_merge(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    if not services.is_lead_staff(request.user, ticket):
        raise PermissionDenied
    form = MergeForm(request.POST or None, targets=selectors.merge_targets(user=request.user, ticket=ticket))
    return form_page(
        request, form=form, template="support/ticket_merge.html",
        save=lambda data: services.ticket_merge(user=request.user, source=ticket, target=data["target"]),
        success_url=lambda target: reverse("support:ticket_detail", args=[target.pk]),
        success_message=_("Merged: %(reference)s is closed and its messages are on this ticket.")
        % {"reference": ticket.reference},
        context={"ticket": ticket, "title": _("Merge %(reference)s into another ticket") % {
            "reference": ticket.reference}})


@login_required
def ticket_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = selectors.ticket_attachment(user=request.user, pk=pk)
    # Sent as a download: uploaded content is never rendered inside the hub's origin.
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename,
                        content_type=attachment.content_type)


class TicketHistory(HistoryPage):
    model = Ticket
    template_name = "support/ticket_history.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        ticket = _ticket(request, pk)
        page = paginate(request, selectors.ticket_history(user=request.user, ticket=ticket))
        params = request.GET.copy()
        params.pop("page", None)
        return render(request, self.template_name, {"object": ticket, "ticket": ticket, "page": page,
                                                    "objects": page.object_list, "querystring": params.urlencode()})


urlpatterns = [
    path("tickets/", TicketList.as_view(), name="ticket_list"),
    path("tickets/new/", ticket_create, name="ticket_create"),
    path("tickets/<int:pk>/", ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/reply/", ticket_reply, name="ticket_reply"),
    path("tickets/<int:pk>/note/", ticket_note, name="ticket_note"),
    path("tickets/<int:pk>/update/", ticket_update, name="ticket_update"),
    path("tickets/<int:pk>/merge/", ticket_merge, name="ticket_merge"),
    path("tickets/<int:pk>/history/", TicketHistory.as_view(), name="ticket_history"),
    path("tickets/attachments/<int:pk>/", ticket_attachment, name="ticket_attachment"),
]
