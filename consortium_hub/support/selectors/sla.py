"""Reads of support SLAs: policies a user may see, the monthly SLA report, and the desk's opening status.

Who sees SLA policies: a consortium's policies go with the `support` grant in that consortium;
ORCID's (consortium None) with the `support` grant anywhere (they are shared, like other ORCID rows)
or the `orcid_support` grant. `policy_q` combines the two (SLAPolicy rows fall under two areas).
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from consortium_hub.calendars import business_time
from consortium_hub.calendars.selectors import calendar_for_consortium
from consortium_hub.core.access import access_scope, any_of
from consortium_hub.core.roles import VIEW
from consortium_hub.directory.models import Consortium
from consortium_hub.support.models import SLAPolicy, Ticket
from consortium_hub.support.services.sla import PRIORITIES, default_targets

REPORT_MONTHS = 12


# --- Policies -------------------------------------------------------------------------------------

def policy_q(user: Any, action: str = VIEW) -> Q:
    scope = access_scope(user)
    # "Every row" is spelt Q(pk__isnull=False): any_of drops an empty Q() when OR-ing (Django ignores empty Qs).
    return any_of((Q(pk__isnull=False), scope.q_for_area(SLAPolicy, action, "support")),
                  (Q(consortium__isnull=True), scope.q_for_area(SLAPolicy, action, "orcid_support")))


def policy_list(*, user: Any) -> QuerySet[SLAPolicy]:
    """Policies the user may see, ORCID's first, then by consortium name and priority."""
    return (SLAPolicy.objects.filter(policy_q(user)).select_related("consortium")
            .order_by("consortium__name", "priority", "pk"))


def policy_for_user_or_404(user: Any, action: str = VIEW, **lookup: Any) -> SLAPolicy:
    """Like core.access.get_for_user_or_404, with the two areas of SLA policies: invisible → 404,
    visible but not allowed → 403."""
    try:
        policy = policy_list(user=user).get(**lookup)
    except (SLAPolicy.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if action != VIEW and not SLAPolicy.objects.filter(policy_q(user, action), pk=policy.pk).exists():
        raise PermissionDenied
    return policy


def can_view_orcid_policies(user: Any) -> bool:
    scope = access_scope(user)
    return scope.allows_anything("support", VIEW) or scope.allows_anything("orcid_support", VIEW)


def can_change_policies(user: Any, consortium: Consortium | None) -> bool:
    scope = access_scope(user)
    if consortium is None:
        return scope.can_in("change", "orcid_support")
    return scope.can_in("change", "support", consortium_id=consortium.pk)


def can_view_consortium_sla(user: Any, consortium: Consortium) -> bool:
    return access_scope(user).can_in(VIEW, "support", consortium_id=consortium.pk)


@dataclass(frozen=True)
class TargetRow:
    priority: str
    label: str
    first_response_hours: Any
    resolution_hours: Any
    is_default: bool  # no policy row yet: the defaults apply


def targets_table(*, consortium: Consortium | None) -> list[TargetRow]:
    """The four priorities' targets of a consortium (None: ORCID's), with the defaults where no
    policy exists yet (one query)."""
    rows = {p.priority: p for p in SLAPolicy.objects.filter(consortium=consortium)}
    defaults = default_targets(consortium)
    labels = dict(Ticket.Priority.choices)
    table = []
    for priority in reversed(PRIORITIES):  # urgent first
        policy = rows.get(priority)
        first, resolution = ((policy.first_response_hours, policy.resolution_hours) if policy
                             else defaults[priority])
        table.append(TargetRow(priority, labels[priority], first, resolution, policy is None))
    return table


def sla_consortia(*, user: Any) -> QuerySet[Consortium]:
    """Consortia whose SLA policies and report the user may see."""
    ids = access_scope(user).consortium_ids("support", VIEW)
    consortia = Consortium.objects.visible_to(user).order_by("name")
    return consortia if ids is None else consortia.filter(pk__in=ids)


# --- The desk's hours --------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeskStatus:
    calendar_name: str
    timezone: str
    is_open: bool
    closes_at: dt.datetime | None
    next_opening: dt.datetime | None


def desk_status(consortium: Consortium, *, now: dt.datetime | None = None) -> DeskStatus:
    """Is the consortium's support desk open now (until when), or when does it next open?
    For `support/_desk_hours.html` (context name `desk`). Three queries."""
    calendar = calendar_for_consortium(consortium)
    spec = business_time.spec_for(calendar)
    status = business_time.opening_status(spec, now or timezone.now())
    return DeskStatus(calendar_name=calendar.name, timezone=calendar.timezone, is_open=status.is_open,
                      closes_at=status.closes_at, next_opening=status.next_opening)


# --- The monthly report -------------------------------------------------------------------------------

@dataclass
class MonthFigures:
    """One month's tickets (created in that month, in the desk's timezone; merged duplicates left out).

    Measured: the outcome is known — answered/resolved, or still not after the deadline passed (missed).
    Met: answered/resolved at or before the deadline."""

    month: dt.date
    tickets: int = 0
    first_response_measured: int = 0
    first_response_met: int = 0
    resolution_measured: int = 0
    resolution_met: int = 0
    first_response_hours: list[float] = field(default_factory=list, repr=False)
    resolution_hours: list[float] = field(default_factory=list, repr=False)

    @staticmethod
    def _share(met: int, measured: int) -> float | None:
        return round(100 * met / measured, 1) if measured else None

    @property
    def first_response_share(self) -> float | None:
        return self._share(self.first_response_met, self.first_response_measured)

    @property
    def resolution_share(self) -> float | None:
        return self._share(self.resolution_met, self.resolution_measured)

    @property
    def first_response_median(self) -> float | None:
        return round(statistics.median(self.first_response_hours), 2) if self.first_response_hours else None

    @property
    def resolution_median(self) -> float | None:
        return round(statistics.median(self.resolution_hours), 2) if self.resolution_hours else None

    def as_dict(self) -> dict[str, Any]:
        return {"month": self.month.strftime("%Y-%m"), "tickets": self.tickets,
                "first_response": {"measured": self.first_response_measured, "met": self.first_response_met,
                                   "met_percent": self.first_response_share,
                                   "median_business_hours": self.first_response_median},
                "resolution": {"measured": self.resolution_measured, "met": self.resolution_met,
                               "met_percent": self.resolution_share,
                               "median_business_hours": self.resolution_median}}


@dataclass
class SLAReport:
    consortium: Consortium
    timezone: str
    month: MonthFigures
    months: list[MonthFigures]  # the last REPORT_MONTHS months ending with `month`, oldest first


def parse_month(value: str | None, *, today: dt.date | None = None) -> dt.date:
    """`YYYY-MM` as the first day of that month; the current month when empty or unreadable."""
    today = today or timezone.localdate()
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def sla_report(*, user: Any, consortium: Consortium, month: dt.date, now: dt.datetime | None = None) -> SLAReport:
    """The consortium's SLA figures for `month` and the REPORT_MONTHS months ending with it.

    Two queries whatever the number of tickets (the desk's calendar, then the tickets' SLA columns);
    medians are taken in Python because SQL has no portable median."""
    now = now or timezone.now()
    tz_name = calendar_for_consortium(consortium).timezone
    tz = ZoneInfo(tz_name)
    first_month = _add_months(month, -(REPORT_MONTHS - 1))
    start = dt.datetime.combine(first_month, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(_add_months(month, 1), dt.time(0), tzinfo=tz)
    figures = {_add_months(first_month, i): MonthFigures(_add_months(first_month, i)) for i in range(REPORT_MONTHS)}
    rows = (Ticket.objects.visible_to(user)
            .filter(consortium=consortium, merged_into__isnull=True, created_at__gte=start, created_at__lt=end)
            .order_by().values_list("created_at", "status", "first_response_due", "first_responded_at",
                                    "first_response_business_seconds", "resolution_due", "resolved_at",
                                    "resolution_business_seconds"))
    for created, status, fr_due, responded, fr_seconds, res_due, resolved, res_seconds in rows:
        local = created.astimezone(tz)
        m = figures[dt.date(local.year, local.month, 1)]
        m.tickets += 1
        closed_unresolved = status == Ticket.Status.CLOSED and resolved is None
        _measure(m, "first_response", fr_due, responded, fr_seconds, now, closed_unresolved)
        _measure(m, "resolution", res_due, resolved, res_seconds, now, closed_unresolved)
    months = list(figures.values())
    return SLAReport(consortium=consortium, timezone=tz_name, month=months[-1], months=months)


def _measure(m: MonthFigures, which: str, due: dt.datetime | None, achieved: dt.datetime | None,
             seconds: int | None, now: dt.datetime, closed_unresolved: bool) -> None:
    if achieved is not None and seconds is not None:
        getattr(m, f"{which}_hours").append(seconds / 3600)
    if due is None:
        return
    if achieved is not None:
        setattr(m, f"{which}_measured", getattr(m, f"{which}_measured") + 1)
        if achieved <= due:
            setattr(m, f"{which}_met", getattr(m, f"{which}_met") + 1)
    elif now > due and not closed_unresolved:
        setattr(m, f"{which}_measured", getattr(m, f"{which}_measured") + 1)
