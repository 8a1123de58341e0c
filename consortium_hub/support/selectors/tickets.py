"""Reads of tickets, their messages and attachments. Every selector starts from `visible_to(user)`.

Messages are filtered by `TicketMessage.objects.visible_to(user)`: members see public replies only,
lead staff see internal notes too, ORCID support sees what was escalated to it.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from consortium_hub.audit.models import ChangeRecord
from consortium_hub.core.access import access_scope, get_for_user_or_404
from consortium_hub.core.roles import CHANGE, VIEW
from consortium_hub.core.viewkit import history_for
from consortium_hub.directory.models import Consortium, Organisation
from consortium_hub.support.models import Ticket, TicketAttachment, TicketMessage
from consortium_hub.support.services.tickets import LEAD_STAFF_ROLES

PRIORITY_RANK = Case(*(When(priority=p, then=Value(i)) for i, p in enumerate(
    (Ticket.Priority.URGENT, Ticket.Priority.HIGH, Ticket.Priority.NORMAL, Ticket.Priority.LOW))),
    default=Value(9), output_field=IntegerField())


def ticket_list(*, user: Any) -> QuerySet[Ticket]:
    return (Ticket.objects.visible_to(user).select_related("consortium", "organisation", "assignee")
            .annotate(priority_rank=PRIORITY_RANK))


def ticket_messages(*, user: Any, ticket: Ticket) -> QuerySet[TicketMessage]:
    return (TicketMessage.objects.visible_to(user).filter(ticket=ticket)
            .select_related("author_user").prefetch_related("attachments").order_by("created_at", "pk"))


def ticket_attachment(*, user: Any, pk: int) -> TicketAttachment:
    """An attachment of a message the user may see (404 otherwise: an internal note's file stays hidden)."""
    visible = TicketAttachment.objects.filter(message__in=TicketMessage.objects.visible_to(user).values("pk"))
    return get_for_user_or_404(user, visible, pk=pk)


def merge_targets(*, user: Any, ticket: Ticket) -> QuerySet[Ticket]:
    """Open tickets of the same consortium a duplicate can be merged into."""
    return (ticket_list(user=user).filter(consortium_id=ticket.consortium_id, merged_into__isnull=True)
            .exclude(pk=ticket.pk).exclude(status=Ticket.Status.CLOSED).order_by("-created_at"))


def can_see_history(user: Any, ticket: Ticket) -> bool:
    """Lead staff and ORCID staff who oversee the consortium; not members (the history holds
    snapshots of fields that are the desk's business)."""
    scope = access_scope(user)
    return (scope.can_in(VIEW, "support_notes", consortium_id=ticket.consortium_id)
            or (scope.is_orcid_staff() and scope.can(VIEW, ticket, area="support")))


def ticket_history(*, user: Any, ticket: Ticket) -> QuerySet[ChangeRecord]:
    """The ticket's change log without the records of messages the user may not see (internal notes)."""
    if not can_see_history(user, ticket):
        raise PermissionDenied
    message_type = ContentType.objects.get_for_model(TicketMessage)
    visible = [str(pk) for pk in TicketMessage.objects.visible_to(user).filter(ticket=ticket)
               .values_list("pk", flat=True)]
    return history_for(ticket).exclude(Q(content_type=message_type) & ~Q(object_id__in=visible))


def assignable_staff(*, ticket: Ticket) -> QuerySet:
    from consortium_hub.support.services.tickets import lead_staff

    return lead_staff(ticket.consortium_id)


# --- Filters shared by the list page and the API ------------------------------------------------------

def _visible_consortia(request: Any) -> QuerySet:
    if request is None:
        return Consortium.objects.none()
    return Consortium.objects.visible_to(request.user, area="support")


def _visible_organisations(request: Any) -> QuerySet:
    if request is None:
        return Organisation.objects.none()
    return Organisation.objects.visible_to(request.user, area="support").order_by("legal_name")


def _assignees(request: Any) -> QuerySet:
    """Lead staff of the consortia where the user runs the desk (none for members)."""
    from consortium_hub.accounts.models import User

    if request is None:
        return User.objects.none()
    consortia = access_scope(request.user).consortium_ids("support", CHANGE)
    staff = User.objects.filter(role_assignments__role__in=LEAD_STAFF_ROLES)
    if consortia is not None:
        staff = staff.filter(role_assignments__consortium_id__in=consortia)
    return staff.distinct().order_by("name", "email")


class TicketFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    # distinct=False: a status is a column of the ticket itself, so no join can repeat rows, and
    # DISTINCT would make PostgreSQL sort the whole filtered set before taking one page.
    status = django_filters.MultipleChoiceFilter(choices=Ticket.Status.choices, label=_("Status"), distinct=False)
    priority = django_filters.ChoiceFilter(choices=Ticket.Priority.choices, label=_("Priority"))
    category = django_filters.ChoiceFilter(choices=Ticket.Category.choices, label=_("Category"))
    assignee = django_filters.ModelChoiceFilter(queryset=_assignees, label=_("Assigned to"),
                                                null_label=_("Unassigned"))
    organisation = django_filters.ModelChoiceFilter(queryset=_visible_organisations, label=_("Organisation"),
                                                    null_label=_("None (to triage)"))
    consortium = django_filters.ModelChoiceFilter(queryset=_visible_consortia, label=_("Consortium"))
    ordering = django_filters.OrderingFilter(
        fields=(("created_at", "created"), ("updated_at", "updated"), ("resolution_due", "resolution_due"),
                ("first_response_due", "first_response_due"), ("priority_rank", "priority"),
                ("status", "status"), ("reference", "reference")),
        field_labels={"resolution_due": _("Resolution due"), "first_response_due": _("First response due"),
                      "priority_rank": _("Priority (most urgent first)")},
        label=_("Sort by"),
    )

    class Meta:
        model = Ticket
        fields = ["q", "status", "priority", "category", "assignee", "organisation", "consortium"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(reference__icontains=value) | Q(subject__icontains=value)
                               | Q(requester_email__icontains=value))
