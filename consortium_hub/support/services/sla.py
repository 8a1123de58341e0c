"""Support SLAs: targets per priority, deadlines and achieved figures per ticket, warnings and breaches.

Rules
-----
- Targets are `SLAPolicy` rows per consortium and priority, in business hours of the consortium's
  support calendar (`calendars.selectors.calendar_for_consortium`). Rows with consortium None are
  ORCID's targets for escalated (Tier 2/3) tickets, on ORCID's calendar (`orcid_calendar`). A
  priority without a row uses `DEFAULT_TARGETS` / `ORCID_DEFAULT_TARGETS`;
  `ensure_default_sla_policies` writes those as rows (idempotent), which happens on first use: the
  first `recalculate` of a desk's ticket, the API's policy list, or saving the targets page.
- The SLA clock of a ticket starts at `created_at` (at the next opening when the desk is closed)
  and runs during open time, except while the ticket waits on the member: a pause runs from a
  `TicketStatusChange` *to* `waiting_on_member` until the next change *away* from it; a pause that
  has not ended runs until `now`.
- A deadline is the first instant at which the clock has run for the target: pausing for three
  business hours before it moves it three business hours later; a pause that starts after the
  deadline moves nothing (a breached ticket cannot be un-breached by putting it on hold).
- Achieved figures are the clock's reading when the ticket was first answered / resolved
  (`business_time.business_time_between_excluding` over the pauses), in whole seconds.
- Escalated tickets (tier > 1) also get ORCID's deadlines, from `escalated_at`, on ORCID's calendar
  with ORCID's targets (no pauses: waiting on the member is the lead's business).
- Met: answered/resolved at or before the deadline. Warning: an open, running clock with at most
  20% of the target's business time left before the deadline. Breach: now after the deadline. Each
  is emailed once per ticket, deadline and kind (`jobs.queue.once("sla:<ticket>:<which>:<kind>")`)
  to the assignee and the consortium's lead admins and lead support staff; a breach found before its
  warning was sent supersedes the warning (claimed without sending).

Speed: `BusinessClock` indexes a calendar's open intervals (from `business_time.open_intervals`,
which keeps every rule about hours, holidays, closures and DST) with cumulative open time, so each
ticket costs a few binary searches instead of a day-by-day walk. Its answers equal the
business_time functions it stands in for (property-tested in tests/test_sla_properties.py).
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consortium_hub.calendars import business_time
from consortium_hub.calendars.business_time import CalendarSpec, NoBusinessTime
from consortium_hub.calendars.selectors import calendar_for_consortium, orcid_calendar
from consortium_hub.core.access import require
from consortium_hub.core.email import send_templated_email
from consortium_hub.core.roles import CHANGE, Role
from consortium_hub.directory.models import Consortium
from consortium_hub.jobs.models import OnceMarker
from consortium_hub.jobs.queue import once
from consortium_hub.support.models import SLAPolicy, Ticket, TicketStatusChange

log = logging.getLogger(__name__)

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = dt.timedelta(microseconds=1)
US_PER_SECOND = 1_000_000
US_PER_HOUR = 3600 * US_PER_SECOND

PAUSED = Ticket.Status.WAITING_ON_MEMBER
DONE_STATUSES = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
PRIORITIES = tuple(Ticket.Priority.values)

# (first response, resolution) in business hours. A consortium's desk (Jisc-like: normal = one
# working day to answer, seven to resolve on a 09:00-17:00 calendar).
DEFAULT_TARGETS: dict[str, tuple[Decimal, Decimal]] = {
    Ticket.Priority.URGENT: (Decimal("2"), Decimal("16")),
    Ticket.Priority.HIGH: (Decimal("4"), Decimal("24")),
    Ticket.Priority.NORMAL: (Decimal("8"), Decimal("56")),
    Ticket.Priority.LOW: (Decimal("16"), Decimal("112")),
}
# ORCID's Tier 2/3 work on escalated tickets.
ORCID_DEFAULT_TARGETS: dict[str, tuple[Decimal, Decimal]] = {
    Ticket.Priority.URGENT: (Decimal("4"), Decimal("24")),
    Ticket.Priority.HIGH: (Decimal("8"), Decimal("40")),
    Ticket.Priority.NORMAL: (Decimal("16"), Decimal("80")),
    Ticket.Priority.LOW: (Decimal("24"), Decimal("120")),
}
WARNING_PERCENT = 80  # warn once 80% of the target's business time has gone

SLA_FIELDS = ("first_response_due", "resolution_due", "first_response_business_seconds",
              "resolution_business_seconds", "orcid_first_response_due", "orcid_resolution_due")
WRITE_BATCH = 10_000  # rows per transaction: few commits (fsyncs), short enough not to hold writers up
NOTIFY_ROLES = (Role.LEAD_ADMIN, Role.LEAD_SUPPORT)
WHICH_LABELS = {"first_response": gettext_lazy("first response"), "resolution": gettext_lazy("resolution")}

Pause = tuple[dt.datetime, dt.datetime | None]


# --- The clock ------------------------------------------------------------------------------------

def to_us(value: dt.datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact integer arithmetic)."""
    try:
        return (value - EPOCH) // ONE_US
    except TypeError:  # naive datetimes cannot be subtracted from aware ones
        raise ValueError(_("Business-time functions need timezone-aware datetimes.")) from None


class BusinessClock:
    """One calendar's open intervals with cumulative open time, for answering many questions fast.

    Equivalent to `business_time.add_business_hours`, `business_time_between` and
    `business_time_between_excluding` of the same spec. The window of days it has indexed grows
    on demand (a year at a time); instances are shared between threads, so growth is locked.
    """

    CHUNK_DAYS = 400

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.tz = spec.tz
        self._lock = threading.RLock()
        self._first_day: dt.date | None = None
        self._last_day: dt.date | None = None
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._before: list[int] = []  # open time before each interval (within the window)
        self._after: list[int] = []  # open time up to each interval's end
        self._safe_from = self._safe_until = 0

    # Window ---------------------------------------------------------------------------------------

    def _cover(self, us: int) -> None:
        """Index the local days around instant `us` (a local date is within a day of the UTC date;
        business_time starts its searches the local day before)."""
        if self._safe_from <= us < self._safe_until:
            return
        day = (EPOCH + dt.timedelta(microseconds=us)).date()
        first, last = day - dt.timedelta(days=3), day + dt.timedelta(days=3)
        if self._first_day is None:
            self._rebuild(first, max(last, first + dt.timedelta(days=self.CHUNK_DAYS)))
        elif first < self._first_day:
            self._rebuild(first - dt.timedelta(days=self.CHUNK_DAYS // 2), self._last_day)
        if last > self._last_day:
            self._extend(max(last, self._last_day + dt.timedelta(days=self.CHUNK_DAYS)))

    def _set_safe_range(self) -> None:
        """Instants whose UTC date is at least three days inside the window need no _cover work."""
        self._safe_from = to_us(dt.datetime.combine(self._first_day + dt.timedelta(days=3), dt.time(), tzinfo=UTC))
        self._safe_until = to_us(dt.datetime.combine(self._last_day - dt.timedelta(days=2), dt.time(), tzinfo=UTC))

    def _rebuild(self, first: dt.date, last: dt.date) -> None:
        self._first_day = self._last_day = None
        self._starts, self._ends, self._before, self._after = [], [], [], []
        self._first_day = first
        self._last_day = first - dt.timedelta(days=1)
        self._extend(last)

    def _extend(self, last: dt.date) -> None:
        start_day = self._last_day + dt.timedelta(days=1)
        total = self._after[-1] if self._after else 0
        for s, e in business_time.open_intervals(self.spec, start_day, last):
            s_us, e_us = to_us(s), to_us(e)
            if self._ends and s_us <= self._ends[-1]:  # meets the previous chunk's last interval
                grown = e_us - self._ends[-1]
                if grown > 0:
                    self._ends[-1] = e_us
                    total += grown
                    self._after[-1] = total
                continue
            self._starts.append(s_us)
            self._ends.append(e_us)
            self._before.append(total)
            total += e_us - s_us
            self._after.append(total)
        self._last_day = last
        self._set_safe_range()

    def _open_before(self, us: int) -> int:
        """Open time in the window before instant `us` (covered)."""
        i = bisect.bisect_right(self._starts, us) - 1
        if i < 0:
            return 0
        return self._before[i] + min(us, self._ends[i]) - self._starts[i]

    # Questions ------------------------------------------------------------------------------------

    def between_us(self, a: int, b: int) -> int:
        """Open time in [a, b) in microseconds; negative when b < a."""
        if b < a:
            return -self.between_us(b, a)
        with self._lock:
            self._cover(a)
            self._cover(b)
            return self._open_before(b) - self._open_before(a)

    def add_us(self, start: int, amount: int) -> int:
        """The instant `amount` microseconds of open time after `start` (`next_opening` for 0)."""
        if amount < 0:
            raise ValueError(_("The number of business hours cannot be negative."))
        with self._lock:
            self._cover(start)
            return self._add_from(start, self._open_before(start), amount)

    def _add_from(self, start: int, base: int, amount: int) -> int:
        """`add_us` with `start` covered and `base` = open time before it (lock held)."""
        target = base + amount
        if not self._after or self._after[-1] < target or self._ends[-1] <= start:
            if not self.spec.periods:
                raise NoBusinessTime(_("The calendar has no working hours."))
            empty_days = 0
            while not self._after or self._after[-1] < target or self._ends[-1] <= start:
                known = len(self._after)
                before = self._last_day
                self._extend(self._last_day + dt.timedelta(days=self.CHUNK_DAYS))
                empty_days = empty_days + (self._last_day - before).days if len(self._after) == known else 0
                if empty_days > business_time.MAX_SCAN_DAYS:
                    raise NoBusinessTime(_("The calendar is closed for more than ten years from here."))
        j = max(bisect.bisect_left(self._after, target), bisect.bisect_right(self._ends, start))
        return self._starts[j] + (target - self._before[j])

    def cover(self, first: int, last: int) -> None:
        """Index every day from instant `first` to `last` now (before many questions about them)."""
        with self._lock:
            self._cover(first)
            self._cover(last)

    def unpaused_us(self, start: int, first_target: int, resolution_target: int, responded: int | None,
                    resolved: int | None) -> tuple[int, int, int | None, int | None]:
        """A ticket without pauses in one go: (first response due, resolution due, open time from
        `start` to `responded`, to `resolved`), the same as `add_us` and `between_us` would give.
        The hot path of `recalculate_for_consortium`, hence written out."""
        with self._lock:
            for instant in (start, responded, resolved):
                if instant is not None and not self._safe_from <= instant < self._safe_until:
                    self._cover(instant)
            starts, ends, before = self._starts, self._ends, self._before
            i = bisect.bisect_right(starts, start) - 1
            base = 0 if i < 0 else before[i] + min(start, ends[i]) - starts[i]
            to_response = to_resolution = None
            if responded is not None:
                i = bisect.bisect_right(starts, responded) - 1
                to_response = (0 if i < 0 else before[i] + min(responded, ends[i]) - starts[i]) - base
            if resolved is not None:
                i = bisect.bisect_right(starts, resolved) - 1
                to_resolution = (0 if i < 0 else before[i] + min(resolved, ends[i]) - starts[i]) - base
            return (self._add_from(start, base, first_target), self._add_from(start, base, resolution_target),
                    to_response, to_resolution)

    def deadline_us(self, start: int, amount: int, pauses: Sequence[tuple[int, int]] = ()) -> int:
        """The first instant at which `amount` of open time outside `pauses` has passed since `start`.

        `pauses` are (start, end) instants, merged and ordered (see `merge_pauses`)."""
        if not pauses:
            return self.add_us(start, amount)
        remaining, cursor = amount, start
        for ps, pe in pauses:
            if pe <= cursor:
                continue
            if ps > cursor:
                available = self.between_us(cursor, ps)
                if available >= remaining:
                    break
                remaining -= available
            cursor = pe
        return self.add_us(cursor, remaining)

    def between_excluding_us(self, a: int, b: int, pauses: Sequence[tuple[int, int]] = ()) -> int:
        """Open time in [a, b) outside `pauses` (merged, ordered); negative when b < a."""
        if b < a:
            return -self.between_excluding_us(b, a, pauses)
        if not pauses:
            return self.between_us(a, b)
        paused = sum(self.between_us(max(ps, a), min(pe, b)) for ps, pe in pauses if min(pe, b) > max(ps, a))
        return self.between_us(a, b) - paused

    # The same with datetimes (`add` answers in the calendar's timezone, like business_time does) ---------

    @staticmethod
    def as_datetime(us: int) -> dt.datetime:
        """An instant as an aware datetime in UTC (what the database stores)."""
        return EPOCH + dt.timedelta(microseconds=us)

    def add(self, start: dt.datetime, amount: dt.timedelta | float | int) -> dt.datetime:
        delta = amount if isinstance(amount, dt.timedelta) else dt.timedelta(hours=amount)
        return self.as_datetime(self.add_us(to_us(start), delta // ONE_US)).astimezone(self.tz)

    def between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        return dt.timedelta(microseconds=self.between_us(to_us(a), to_us(b)))

    def between_excluding(self, a: dt.datetime, b: dt.datetime, pauses: Iterable[Pause]) -> dt.timedelta:
        a_us, b_us = to_us(a), to_us(b)
        return dt.timedelta(microseconds=self.between_excluding_us(a_us, b_us, merge_pauses(pauses, until=b)))


def merge_pauses(pauses: Iterable[Pause], *, until: dt.datetime) -> list[tuple[int, int]]:
    """Pauses as ordered, non-overlapping (start, end) microsecond pairs; an open pause ends at `until`."""
    end_default = to_us(until)
    spans = sorted((to_us(ps), end_default if pe is None else to_us(pe)) for ps, pe in pauses)
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


_clocks: OrderedDict[CalendarSpec, BusinessClock] = OrderedDict()
_clocks_lock = threading.Lock()
CLOCK_CACHE_SIZE = 64


def clock_for(spec: CalendarSpec) -> BusinessClock:
    """The shared clock of a spec (a spec is a value: equal specs are the same calendar)."""
    with _clocks_lock:
        clock = _clocks.get(spec)
        if clock is None:
            clock = _clocks[spec] = BusinessClock(spec)
            while len(_clocks) > CLOCK_CACHE_SIZE:
                _clocks.popitem(last=False)
        else:
            _clocks.move_to_end(spec)
        return clock


def consortium_clock(consortium: Consortium) -> BusinessClock:
    """The clock of the consortium's support calendar (the spec is read fresh: three queries)."""
    return clock_for(business_time.spec_for(calendar_for_consortium(consortium)))


def orcid_clock() -> BusinessClock:
    return clock_for(business_time.spec_for(orcid_calendar()))


# --- Policies -------------------------------------------------------------------------------------

def default_targets(consortium: Consortium | int | None) -> dict[str, tuple[Decimal, Decimal]]:
    """The default targets of a consortium's desk (a Consortium or its id), or ORCID's for None."""
    return dict(DEFAULT_TARGETS if consortium is not None else ORCID_DEFAULT_TARGETS)


@transaction.atomic
def ensure_default_sla_policies(consortium: Consortium | None) -> list[SLAPolicy]:
    """Create the default policy of every priority that has none (consortium None: ORCID's).

    A system action; idempotent and safe against a concurrent twin. Returns the rows created."""
    consortium_id = consortium.pk if consortium is not None else None
    existing = set(SLAPolicy.objects.filter(consortium_id=consortium_id).values_list("priority", flat=True))
    created = []
    for priority, (first_response, resolution) in default_targets(consortium).items():
        if priority in existing:
            continue
        policy = SLAPolicy(consortium=consortium, priority=priority, first_response_hours=first_response,
                           resolution_hours=resolution)
        try:
            with transaction.atomic():
                policy.save()
        except IntegrityError:
            continue  # a concurrent twin created it
        created.append(policy)
    return created


def _check_policy_change(user: Any, consortium_id: int | None) -> None:
    """Consortium targets: the `support` grant in that consortium; ORCID's: the `orcid_support` grant."""
    if user is None:
        return
    if consortium_id is None:
        require(user, CHANGE, "orcid_support")
    else:
        require(user, CHANGE, "support", consortium_id=consortium_id)


def _validated_targets(first_response_hours: Any, resolution_hours: Any) -> tuple[Decimal, Decimal]:
    errors = {}
    try:
        first = Decimal(str(first_response_hours))
    except (ArithmeticError, ValueError):
        errors["first_response_hours"] = _("Enter a number of business hours.")
        first = None
    try:
        resolution = Decimal(str(resolution_hours))
    except (ArithmeticError, ValueError):
        errors["resolution_hours"] = _("Enter a number of business hours.")
        resolution = None
    if first is not None and not first > 0:
        errors["first_response_hours"] = _("The first-response target must be more than 0 business hours.")
    if resolution is not None and not resolution > 0:
        errors["resolution_hours"] = _("The resolution target must be more than 0 business hours.")
    if not errors and resolution < first:
        errors["resolution_hours"] = _("The resolution target cannot be shorter than the first-response target.")
    if errors:
        raise ValidationError(errors)
    return first, resolution


@transaction.atomic
def sla_policy_update(*, user: Any, policy: SLAPolicy, first_response_hours: Any = None,
                      resolution_hours: Any = None) -> SLAPolicy:
    """Change one policy's targets (either or both). Deadlines are recalculated by the job the
    policy's save enqueues (support.sla_signals)."""
    _check_policy_change(user, policy.consortium_id)
    first, resolution = _validated_targets(
        policy.first_response_hours if first_response_hours is None else first_response_hours,
        policy.resolution_hours if resolution_hours is None else resolution_hours)
    if (first, resolution) == (policy.first_response_hours, policy.resolution_hours):
        return policy
    policy.first_response_hours, policy.resolution_hours = first, resolution
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def sla_policies_update(*, user: Any, consortium: Consortium | None,
                        targets: Mapping[str, tuple[Any, Any]]) -> list[SLAPolicy]:
    """Set the (first response, resolution) targets of the given priorities of `consortium`
    (None: ORCID's); priorities without a policy get the defaults first. Returns all four policies."""
    _check_policy_change(user, consortium.pk if consortium is not None else None)
    unknown = set(targets) - set(PRIORITIES)
    if unknown:
        raise ValidationError(_("Unknown priorities: %(p)s") % {"p": ", ".join(sorted(unknown))})
    errors: dict[str, list[str]] = {}
    for priority, (first, resolution) in targets.items():
        try:
            _validated_targets(first, resolution)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(f"{priority}_{field}", []).extend(messages)
    if errors:
        raise ValidationError(errors)
    ensure_default_sla_policies(consortium)
    policies = {p.priority: p for p in SLAPolicy.objects.select_for_update().filter(
        consortium_id=consortium.pk if consortium is not None else None).order_by("pk")}  # no join to lock
    for priority, (first, resolution) in targets.items():
        sla_policy_update(user=user, policy=policies[priority], first_response_hours=first,
                          resolution_hours=resolution)
    return [policies[p] for p in PRIORITIES]


def targets_us(consortium_id: int | None, *, consortium: Consortium | None = None,
               create_defaults: bool = False) -> dict[str, tuple[int, int]]:
    """(first response, resolution) per priority in microseconds of business time (one query).

    With `create_defaults`, a desk without its four policies gets the default rows written (like a
    calendar is created on first use); pass `consortium` then (None with consortium_id None: ORCID's)."""
    hours = default_targets(consortium_id)
    rows = list(SLAPolicy.objects.filter(consortium_id=consortium_id).values_list(
        "priority", "first_response_hours", "resolution_hours"))
    for priority, first, resolution in rows:
        hours[priority] = (first, resolution)
    if create_defaults and len(rows) < len(PRIORITIES):
        ensure_default_sla_policies(consortium)
    return {p: (_hours_to_us(f), _hours_to_us(r)) for p, (f, r) in hours.items()}


def ensure_default_sla_policies_for(*, consortia: Iterable[Consortium], orcid: bool = False) -> int:
    """`ensure_default_sla_policies` for those of `consortia` (and ORCID) missing a policy; one query
    when none is. Returns how many policies were created."""
    consortia = list(consortia)
    counts: dict[int | None, int] = {}
    for consortium_id in SLAPolicy.objects.filter(
            Q(consortium__in=consortia) | Q(consortium__isnull=True)).values_list("consortium_id", flat=True):
        counts[consortium_id] = counts.get(consortium_id, 0) + 1
    created = 0
    for consortium in [*consortia, *([None] if orcid else [])]:
        if counts.get(consortium.pk if consortium is not None else None, 0) < len(PRIORITIES):
            created += len(ensure_default_sla_policies(consortium))
    return created


def _hours_to_us(hours: Decimal) -> int:
    return int(Decimal(hours) * US_PER_HOUR)


# --- Per ticket: pure -------------------------------------------------------------------------------

class SLAFigures(NamedTuple):
    """What `recalculate` stores on a ticket, in `SLA_FIELDS` order."""

    first_response_due: dt.datetime | None
    resolution_due: dt.datetime | None
    first_response_business_seconds: int | None
    resolution_business_seconds: int | None
    orcid_first_response_due: dt.datetime | None
    orcid_resolution_due: dt.datetime | None


def pauses_from_changes(changes: Iterable[tuple[str, str, dt.datetime]]) -> list[Pause]:
    """Waiting-on-member intervals from (from_status, to_status, at) rows in time order: from a change
    to waiting_on_member until the next change away from it (None: still waiting)."""
    pauses: list[Pause] = []
    paused_at: dt.datetime | None = None
    for from_status, to_status, at in changes:
        if paused_at is None:
            if to_status == PAUSED:
                paused_at = at
        elif to_status != PAUSED:
            pauses.append((paused_at, at))
            paused_at = None
    if paused_at is not None:
        pauses.append((paused_at, None))
    return pauses


def compute_sla(*, clock: BusinessClock, targets: tuple[int, int] | None, created_at: dt.datetime,
                pauses: Iterable[Pause] = (), first_responded_at: dt.datetime | None = None,
                resolved_at: dt.datetime | None = None, now: dt.datetime,
                orcid: BusinessClock | None = None, orcid_targets: tuple[int, int] | None = None,
                escalated_at: dt.datetime | None = None) -> SLAFigures:
    """Deadlines and achieved figures of one ticket (no database). `targets`: (first response,
    resolution) in microseconds of business time; `orcid`/`orcid_targets`/`escalated_at` only for
    escalated tickets. Deadlines are returned in UTC."""
    start = to_us(created_at)
    responded = None if first_responded_at is None else to_us(first_responded_at)
    resolved = None if resolved_at is None else to_us(resolved_at)
    first_due = resolution_due = first_seconds = resolution_seconds = None
    if not pauses and targets is not None:  # the common case, in one go
        first_us, resolution_us, to_response, to_resolution = clock.unpaused_us(start, targets[0], targets[1],
                                                                                  responded, resolved)
        first_due, resolution_due = clock.as_datetime(first_us), clock.as_datetime(resolution_us)
    else:
        spans = merge_pauses(pauses, until=now) if pauses else ()
        if targets is not None:
            first_due = clock.as_datetime(clock.deadline_us(start, targets[0], spans))
            resolution_due = clock.as_datetime(clock.deadline_us(start, targets[1], spans))
        to_response = None if responded is None else clock.between_excluding_us(start, responded, spans)
        to_resolution = None if resolved is None else clock.between_excluding_us(start, resolved, spans)
    if to_response is not None:
        first_seconds = max(0, to_response // US_PER_SECOND)
    if to_resolution is not None:
        resolution_seconds = max(0, to_resolution // US_PER_SECOND)
    orcid_first = orcid_resolution = None
    if orcid is not None and orcid_targets is not None and escalated_at is not None:
        escalated = to_us(escalated_at)
        orcid_first = orcid.as_datetime(orcid.add_us(escalated, orcid_targets[0]))
        orcid_resolution = orcid.as_datetime(orcid.add_us(escalated, orcid_targets[1]))
    return SLAFigures(first_due, resolution_due, first_seconds, resolution_seconds, orcid_first, orcid_resolution)


# --- Per ticket: with the database ---------------------------------------------------------------------

def _status_change_rows(ticket: Ticket) -> list[tuple[str, str, dt.datetime]]:
    cache = getattr(ticket, "_prefetched_objects_cache", {})
    if "status_changes" in cache:
        rows = sorted(cache["status_changes"], key=lambda c: (c.at, c.pk or 0))
        return [(c.from_status, c.to_status, c.at) for c in rows]
    return list(TicketStatusChange.objects.filter(ticket_id=ticket.pk).order_by("at", "pk")
                .values_list("from_status", "to_status", "at"))


def recalculate(*, ticket: Ticket, now: dt.datetime | None = None) -> Ticket:
    """Compute the ticket's SLA deadlines and achieved figures and store those that changed.

    The ticket must have been saved (it needs `created_at`); its status changes are read from the
    database (or from a `status_changes` prefetch). Saves with `update_fields` (audited) only when a
    figure changed. A calendar without working hours leaves the deadlines empty (logged)."""
    if ticket.pk is None or ticket.created_at is None:
        raise ValueError("recalculate() needs a saved ticket")
    now = now or timezone.now()
    try:
        clock = consortium_clock(ticket.consortium)
        escalated = ticket.tier > 1 and ticket.escalated_at is not None
        orcid = orcid_clock() if escalated else None
        figures = compute_sla(
            clock=clock, targets=targets_us(ticket.consortium_id, consortium=ticket.consortium,
                                            create_defaults=True).get(ticket.priority),
            created_at=ticket.created_at, pauses=pauses_from_changes(_status_change_rows(ticket)),
            first_responded_at=ticket.first_responded_at, resolved_at=ticket.resolved_at, now=now,
            orcid=orcid,
            orcid_targets=targets_us(None, create_defaults=True).get(ticket.priority) if escalated else None,
            escalated_at=ticket.escalated_at if escalated else None)
    except NoBusinessTime:
        log.warning("Ticket %s: its calendar has no working hours; SLA deadlines left empty", ticket.pk)
        figures = SLAFigures(None, None, None, None, None, None)
    changed = [name for name, value in zip(SLA_FIELDS, figures) if getattr(ticket, name) != value]
    for name in changed:
        setattr(ticket, name, getattr(figures, name))
    if changed:
        ticket.save(update_fields=changed)
    return ticket


_TICKET_COLUMNS = ("pk", "priority", "created_at", "first_responded_at", "resolved_at", "tier", "escalated_at",
                   *SLA_FIELDS)


def recalculate_for_consortium(consortium: Consortium, *, now: dt.datetime | None = None) -> int:
    """Recalculate every ticket of the consortium (after a calendar or policy change); returns how
    many changed. Stored figures are derived data: written in batches by `write_figures` (not audited)."""
    now = now or timezone.now()
    try:
        clock = consortium_clock(consortium)
    except NoBusinessTime:
        log.warning("Consortium %s: its calendar has no working hours; SLA deadlines not recalculated",
                    consortium.pk)
        return 0
    targets = targets_us(consortium.pk)
    rows = list(Ticket.objects.filter(consortium=consortium).order_by().values_list(*_TICKET_COLUMNS))
    if not rows:
        return 0
    changes: dict[int, list[tuple[str, str, dt.datetime]]] = {}
    for ticket_id, from_status, to_status, at in (
            TicketStatusChange.objects.filter(ticket__consortium=consortium)
            .filter(Q(to_status=PAUSED) | Q(from_status=PAUSED))
            .order_by("ticket_id", "at", "pk").values_list("ticket_id", "from_status", "to_status", "at")):
        changes.setdefault(ticket_id, []).append((from_status, to_status, at))
    orcid = orcid_targets = None
    if any(row[5] > 1 and row[6] is not None for row in rows):
        orcid, orcid_targets = orcid_clock(), targets_us(None)
    updated = compute_many(rows, clock=clock, targets=targets, changes=changes, now=now, orcid=orcid,
                           orcid_targets=orcid_targets)
    write_figures(updated)
    return len(updated)


def compute_many(rows: Iterable[Sequence[Any]], *, clock: BusinessClock, targets: Mapping[str, tuple[int, int]],
                 changes: Mapping[int, list[tuple[str, str, dt.datetime]]], now: dt.datetime,
                 orcid: BusinessClock | None = None,
                 orcid_targets: Mapping[str, tuple[int, int]] | None = None) -> list[tuple[int, SLAFigures]]:
    """`compute_sla` over rows of `_TICKET_COLUMNS`; returns (ticket id, figures) of the rows whose
    stored figures differ."""
    rows = list(rows)
    if rows:  # index the calendars' days once, instead of growing the index ticket by ticket
        earliest = to_us(min(row[2] for row in rows))
        clock.cover(earliest, max(earliest, to_us(now)))
        if orcid is not None:
            orcid.cover(earliest, max(earliest, to_us(now)))
    updated = []
    for pk, priority, created_at, responded, resolved, tier, escalated_at, *stored in rows:
        escalated = tier > 1 and escalated_at is not None and orcid is not None
        ticket_changes = changes.get(pk)
        figures = compute_sla(
            clock=clock, targets=targets.get(priority), created_at=created_at,
            pauses=pauses_from_changes(ticket_changes) if ticket_changes else (),
            first_responded_at=responded, resolved_at=resolved, now=now, orcid=orcid if escalated else None,
            orcid_targets=orcid_targets.get(priority) if escalated else None,
            escalated_at=escalated_at if escalated else None)
        if figures != tuple(stored):
            updated.append((pk, figures))
    return updated


def write_figures(updated: Sequence[tuple[int, SLAFigures]]) -> None:
    """Store computed figures, WRITE_BATCH rows per transaction.

    Django's `bulk_update` builds a CASE expression per field and row: about 1 ms a row in Python,
    100 s for 100,000 tickets. Instead: on PostgreSQL one `UPDATE ... FROM unnest(<arrays>)` per batch;
    elsewhere one parameterised UPDATE per row sent with `executemany`. Derived data only: not
    audited (no signals), like `bulk_update`."""
    connection = connections[router.db_for_write(Ticket)]
    quote = connection.ops.quote_name
    table, pk = quote(Ticket._meta.db_table), Ticket._meta.pk
    fields = [Ticket._meta.get_field(name) for name in SLA_FIELDS]
    if connection.vendor == "postgresql":
        columns = ", ".join(f"c{i}" for i in range(len(fields)))
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in [pk, *fields])
        sql = (f"UPDATE {table} SET " + ", ".join(f"{quote(f.column)} = v.c{i}" for i, f in enumerate(fields))
               + f" FROM unnest({arrays}) AS v(id, {columns}) WHERE {table}.{quote(pk.column)} = v.id")
        for i in range(0, len(updated), WRITE_BATCH):
            batch = updated[i:i + WRITE_BATCH]
            params = [[row_pk for row_pk, _figures in batch],
                      *([figures[n] for _pk, figures in batch] for n in range(len(fields)))]
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(sql, params)
        return
    sql = (f"UPDATE {table} SET " + ", ".join(f"{quote(field.column)} = %s" for field in fields)
           + f" WHERE {quote(pk.column)} = %s")
    adapt_datetime = connection.ops.adapt_datetimefield_value
    is_datetime = [field.get_internal_type() == "DateTimeField" for field in fields]
    for i in range(0, len(updated), WRITE_BATCH):
        params = [[(adapt_datetime(value) if value is not None and dated else value)
                   for value, dated in zip(figures, is_datetime)] + [row_pk]
                  for row_pk, figures in updated[i:i + WRITE_BATCH]]
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.executemany(sql, params)


def recalculate_all(*, now: dt.datetime | None = None) -> int:
    """Recalculate every consortium's tickets; returns how many changed."""
    now = now or timezone.now()
    consortia = Consortium.objects.filter(pk__in=Ticket.objects.values("consortium_id")).order_by("pk")
    return sum(recalculate_for_consortium(consortium, now=now) for consortium in consortia)


# --- Warnings and breaches --------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckResult:
    warnings: int = 0
    breaches: int = 0


def notification_key(ticket_id: int, which: str, kind: str) -> str:
    return f"sla:{ticket_id}:{which}:{kind}"


def check_sla_deadlines(*, now: dt.datetime | None = None) -> CheckResult:
    """Email warnings (80% of the business time gone) and breaches (deadline passed) of open tickets
    whose clock runs, each once; set `sla_warning_sent` / `sla_breached`."""
    now = now or timezone.now()
    now_us = to_us(now)
    candidates = list(
        Ticket.objects.filter(merged_into__isnull=True).exclude(status__in=(*DONE_STATUSES, PAUSED))
        .filter(Q(first_responded_at__isnull=True, first_response_due__isnull=False)
                | Q(resolved_at__isnull=True, resolution_due__isnull=False))
        .select_related("consortium", "assignee").order_by("pk"))
    if not candidates:
        return CheckResult()
    clocks: dict[int, BusinessClock] = {}
    targets: dict[int, dict[str, tuple[int, int]]] = {}
    due_now: list[tuple[Ticket, str, str, list[str]]] = []  # (ticket, which, kind, superseded kinds)
    for ticket in candidates:
        if ticket.consortium_id not in clocks:
            try:
                clocks[ticket.consortium_id] = consortium_clock(ticket.consortium)
            except NoBusinessTime:
                continue
            targets[ticket.consortium_id] = targets_us(ticket.consortium_id)
        clock = clocks[ticket.consortium_id]
        for which, due, achieved, index in (("first_response", ticket.first_response_due,
                                             ticket.first_responded_at, 0),
                                            ("resolution", ticket.resolution_due, ticket.resolved_at, 1)):
            if due is None or achieved is not None:
                continue
            due_us = to_us(due)
            if now_us > due_us:
                due_now.append((ticket, which, "breach", ["warning"]))
                continue
            target = targets[ticket.consortium_id].get(ticket.priority, (0, 0))[index]
            left = clock.between_us(now_us, due_us)
            if left * 100 <= target * (100 - WARNING_PERCENT):
                due_now.append((ticket, which, "warning", []))
    if not due_now:
        return CheckResult()
    claimed = set(OnceMarker.objects.filter(
        key__in=[notification_key(t.pk, which, kind) for t, which, kind, _s in due_now]).values_list("key", flat=True))
    due_now = [item for item in due_now if notification_key(item[0].pk, item[1], item[2]) not in claimed]
    recipients = _lead_support_emails({t.consortium_id for t, *_rest in due_now})
    warnings = breaches = 0
    for ticket, which, kind, superseded in due_now:
        with transaction.atomic():
            for other in superseded:
                once(notification_key(ticket.pk, which, other))
            if not once(notification_key(ticket.pk, which, kind)):
                continue
            to = set(recipients.get(ticket.consortium_id, ()))
            if ticket.assignee is not None and ticket.assignee.is_active and ticket.assignee.email:
                to.add(ticket.assignee.email)
            if to:
                _notify(ticket, which, kind, sorted(to), clocks[ticket.consortium_id])
            else:
                log.warning("SLA %s of ticket %s (%s): nobody to notify", kind, ticket.pk, which)
            flag = "sla_breached" if kind == "breach" else "sla_warning_sent"
            if not getattr(ticket, flag):
                setattr(ticket, flag, True)
                ticket.save(update_fields=[flag])
        if kind == "breach":
            breaches += 1
        else:
            warnings += 1
    return CheckResult(warnings=warnings, breaches=breaches)


def _lead_support_emails(consortium_ids: set[int]) -> dict[int, list[str]]:
    from consortium_hub.accounts.models import RoleAssignment

    emails: dict[int, set[str]] = {}
    for consortium_id, email in (RoleAssignment.objects.filter(consortium_id__in=consortium_ids,
                                                               role__in=NOTIFY_ROLES, user__is_active=True)
                                 .values_list("consortium_id", "user__email")):
        if email:
            emails.setdefault(consortium_id, set()).add(email)
    return {pk: sorted(addresses) for pk, addresses in emails.items()}


def ticket_url(ticket: Ticket) -> str:
    for name, args in (("support:ticket_detail", [ticket.pk]), ("support:ticket_list", [])):
        try:
            return settings.SITE_URL + reverse(name, args=args)
        except NoReverseMatch:
            continue
    return settings.SITE_URL


def _notify(ticket: Ticket, which: str, kind: str, to: list[str], clock: BusinessClock) -> None:
    due = getattr(ticket, f"{which}_due")
    send_templated_email(to=to, template=f"support/email/sla_{kind}", context={
        "ticket": ticket, "which": which, "which_label": WHICH_LABELS[which],
        "due": due, "timezone_name": clock.spec.timezone, "ticket_url": ticket_url(ticket),
        "consortium": ticket.consortium,
    })
