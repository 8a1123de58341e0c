"""Reads of the agreements area. Every selector starts from `visible_to(user)`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from consortium_hub.agreements.models import Agreement, RenewalDecision

# The renewal pipeline's windows: agreements ending in the next 30, 60 or 90 days (each includes the
# shorter ones), and agreements that ended without a decision and are still active.
WINDOWS = (30, 60, 90)
OVERDUE = "overdue"
DEFAULT_WINDOW = 30


def _decisions() -> Prefetch:
    return Prefetch("decisions", queryset=RenewalDecision.objects.select_related("decided_by", "next_agreement"))


def agreement_list(*, user: Any) -> QuerySet[Agreement]:
    return (Agreement.objects.visible_to(user)
            .select_related("consortium", "organisation", "membership")
            .prefetch_related(_decisions()))


def agreement_detail(*, user: Any) -> QuerySet[Agreement]:
    """The list's rows, plus the agreement a renewal continued (for the detail page and the API)."""
    return agreement_list(user=user).prefetch_related(
        Prefetch("renewed_from", queryset=RenewalDecision.objects.select_related("agreement")))


def decision_list(*, user: Any) -> QuerySet[RenewalDecision]:
    return (RenewalDecision.objects.visible_to(user)
            .select_related("agreement", "agreement__organisation", "agreement__consortium", "decided_by",
                            "next_agreement"))


def window_bounds(window: Any, today: dt.date) -> Q:
    """The pipeline filter for a window: a number of days, or "overdue"."""
    if window == OVERDUE:
        return Q(end_date__lt=today)
    days = int(window) if str(window).isdigit() and int(window) in WINDOWS else DEFAULT_WINDOW
    return Q(end_date__gte=today, end_date__lte=today + dt.timedelta(days=days))


def renewal_pipeline(*, user: Any, window: Any = DEFAULT_WINDOW, today: dt.date | None = None
                     ) -> QuerySet[Agreement]:
    """Active agreements ending within the window, soonest first, with any decision already recorded.

    "overdue": active agreements whose end has passed (only undecided ones stay active after it).
    """
    today = today or timezone.localdate()
    return (agreement_list(user=user).filter(window_bounds(window, today), status=Agreement.Status.ACTIVE)
            .order_by("end_date", "pk"))


@dataclass(frozen=True)
class WindowCount:
    window: str
    total: int
    undecided: int


def pipeline_counts(*, user: Any, today: dt.date | None = None) -> dict[str, WindowCount]:
    """How many agreements each pipeline tab holds, and how many of them have no decision (one query)."""
    today = today or timezone.localdate()
    undecided = Q(decisions__isnull=True)
    aggregates = {}
    for window in (*[str(w) for w in WINDOWS], OVERDUE):
        bounds = window_bounds(window, today)
        aggregates[f"t{window}"] = Count("pk", filter=bounds, distinct=True)
        aggregates[f"u{window}"] = Count("pk", filter=bounds & undecided, distinct=True)
    row = Agreement.objects.visible_to(user).filter(status=Agreement.Status.ACTIVE).aggregate(**aggregates)
    return {w: WindowCount(w, row[f"t{w}"], row[f"u{w}"]) for w in (*[str(x) for x in WINDOWS], OVERDUE)}
