"""Reads of communiqués. `Communique.consortium_path` runs through its recipients, so `visible_to`
can repeat a communiqué once per visible copy: selectors apply `.distinct()`. Copies are always
filtered by their own `visible_to`, so an engagement lead or a lead sees only its consortia's copies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, Case, Count, ExpressionWrapper, F, IntegerField, Prefetch, Q, QuerySet, \
    Value, When
from django.utils import timezone

from consortium_hub.communiques.models import Communique, CommuniqueRecipient

OVERDUE, OPEN, ANSWERED = 0, 1, 2


def _with_flags(queryset: QuerySet[CommuniqueRecipient], now: dt.datetime) -> QuerySet[CommuniqueRecipient]:
    """Adds `is_overdue`, `is_on_time` and `bucket` (overdue, open, answered) to each copy."""
    overdue = Q(responded_at__isnull=True, respond_by__lt=now)
    return queryset.annotate(
        is_overdue=ExpressionWrapper(overdue, output_field=BooleanField()),
        is_on_time=ExpressionWrapper(Q(responded_at__isnull=False, responded_at__lte=F("respond_by")),
                                     output_field=BooleanField()),
        bucket=Case(When(overdue, then=Value(OVERDUE)), When(responded_at__isnull=True, then=Value(OPEN)),
                    default=Value(ANSWERED), output_field=IntegerField()),
    )


def copy_list(*, user: Any, now: dt.datetime | None = None) -> QuerySet[CommuniqueRecipient]:
    """The copies the user may see (a lead: its own), overdue first, then by due time."""
    now = now or timezone.now()
    return (_with_flags(CommuniqueRecipient.objects.visible_to(user), now)
            .select_related("communique", "communique__sent_by", "consortium", "responded_by")
            .order_by("bucket", "respond_by", "pk"))


def communique_list(*, user: Any, now: dt.datetime | None = None) -> QuerySet[Communique]:
    """Communiqués the user may see, newest first, each with `copies`: the visible copies with their
    flags, by consortium name."""
    now = now or timezone.now()
    copies = (_with_flags(CommuniqueRecipient.objects.visible_to(user), now)
              .select_related("consortium", "responded_by").order_by("consortium__name", "pk"))
    return (Communique.objects.visible_to(user).distinct().select_related("sent_by")
            .prefetch_related(Prefetch("recipients", queryset=copies, to_attr="copies"))
            .order_by("-sent_at", "-pk"))


@dataclass(frozen=True)
class ResponseStats:
    consortium_id: int
    consortium_name: str
    sent: int
    responded: int
    on_time: int
    overdue: int

    @property
    def late(self) -> int:
        return self.responded - self.on_time

    @property
    def waiting(self) -> int:
        return self.sent - self.responded

    @property
    def on_time_share(self) -> float | None:
        """Responses on or before respond_by, out of responses; None before the first response."""
        return self.on_time / self.responded if self.responded else None

    @property
    def on_time_percent(self) -> int | None:
        share = self.on_time_share
        return None if share is None else round(share * 100)


def response_stats(*, user: Any, now: dt.datetime | None = None) -> list[ResponseStats]:
    """Per consortium the user may see (ORCID: all; a lead: its own): copies sent, responded, on time,
    overdue now, and the on-time share."""
    now = now or timezone.now()
    rows = (CommuniqueRecipient.objects.visible_to(user).order_by()
            .values("consortium_id", "consortium__name")
            .annotate(sent=Count("pk"),
                      responded=Count("pk", filter=Q(responded_at__isnull=False)),
                      on_time=Count("pk", filter=Q(responded_at__isnull=False, responded_at__lte=F("respond_by"))),
                      overdue=Count("pk", filter=Q(responded_at__isnull=True, respond_by__lt=now)))
            .order_by("consortium__name"))
    return [ResponseStats(r["consortium_id"], r["consortium__name"], r["sent"], r["responded"], r["on_time"],
                          r["overdue"]) for r in rows]
