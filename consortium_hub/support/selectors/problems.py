"""Reads of problems. `Problem.consortium_path` runs through the M2M `tickets__consortium`, so a lead's
`visible_to` joins the tickets and can repeat a problem once per linked ticket: every selector here
applies `.distinct()`. Linked tickets are always filtered by the ticket's own `visible_to`, so lead A
sees a problem that also links consortium B's tickets without seeing B's tickets (nor their count)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from consortium_hub.support.models import Problem, SavedAnswer, Ticket


def visible_tickets(*, user: Any) -> QuerySet[Ticket]:
    return Ticket.objects.visible_to(user).select_related("consortium", "organisation", "assignee")


def _visible_ticket_count(user: Any) -> Coalesce:
    counted = (Ticket.objects.visible_to(user).filter(problems=OuterRef("pk")).order_by()
               .values("problems").annotate(n=Count("pk", distinct=True)).values("n"))
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def problem_list(*, user: Any) -> QuerySet[Problem]:
    """Problems the user may see, each with the number of its incidents the user may see."""
    return (Problem.objects.visible_to(user).distinct().select_related("owner")
            .annotate(ticket_count=_visible_ticket_count(user)).order_by("-created_at", "-pk"))


def problem_detail(*, user: Any) -> QuerySet[Problem]:
    """For one problem's page: its visible incidents and its known-error articles."""
    return (Problem.objects.visible_to(user).distinct().select_related("owner")
            .prefetch_related(Prefetch("tickets", queryset=visible_tickets(user=user).order_by("reference"),
                                       to_attr="visible_tickets"),
                              Prefetch("articles", queryset=SavedAnswer.objects.filter(consortium__isnull=True),
                                       to_attr="known_error_articles")))


def problems_for_ticket(user: Any, ticket: Ticket) -> list[Problem]:
    """The problems a ticket is linked to, as the user may see them (for `support/_ticket_problems.html`:
    pass the result as `ticket_problems`). Members see none (they have no `problems` grant)."""
    return list(Problem.objects.visible_to(user).filter(tickets=ticket).distinct().select_related("owner")
                .prefetch_related(Prefetch("articles", queryset=SavedAnswer.objects.filter(consortium__isnull=True),
                                           to_attr="known_error_articles"))
                .order_by("-created_at", "-pk"))
