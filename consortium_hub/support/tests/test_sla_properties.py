"""Properties of SLA deadlines on random calendars (no database).

- `BusinessClock` (the fast index the SLA code uses) answers exactly what the business_time functions do;
- a deadline never falls outside working time, unless exactly at the end of a working period;
- a later start never gives an earlier deadline (with or without pauses);
- at the deadline the SLA clock (open time outside pauses) reads exactly the target; pauses only delay.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from consortium_hub.calendars import business_time as bt
from consortium_hub.calendars.business_time import CalendarSpec
from consortium_hub.support.services.sla import BusinessClock, compute_sla, to_us

UTC = dt.timezone.utc
US = dt.timedelta(microseconds=1)
examples = settings(database=None, max_examples=120, deadline=None)

ZONES = ["UTC", "Europe/London", "Australia/Brisbane", "America/New_York", "Pacific/Auckland", "Asia/Kolkata"]
HOLIDAYS = [("", ""), ("GB", "ENG"), ("AU", "QLD"), ("DE", "BY")]
START, END = dt.datetime(2025, 6, 1), dt.datetime(2027, 6, 1)


@st.composite
def working_days(draw) -> list[tuple[dt.time, dt.time]]:
    """0-3 periods in a day (split shifts, nights), on 15-minute boundaries."""
    marks = sorted(draw(st.sets(st.integers(min_value=0, max_value=95), max_size=6)))
    return [(dt.time(a // 4, a % 4 * 15), dt.time(b // 4, b % 4 * 15)) for a, b in zip(marks[::2], marks[1::2])]


@st.composite
def calendars(draw) -> CalendarSpec:
    periods = {weekday: draw(working_days()) for weekday in range(7)}
    assume(any(periods.values()))
    country, subdivision = draw(st.sampled_from(HOLIDAYS))
    closures = draw(st.frozensets(st.dates(min_value=START.date(), max_value=END.date()), max_size=30))
    return CalendarSpec(timezone=draw(st.sampled_from(ZONES)), periods=periods, holiday_country=country,
                        holiday_subdivision=subdivision, closures=closures)


instants = st.datetimes(min_value=START, max_value=END - dt.timedelta(days=60), timezones=st.just(UTC))


def weekly_hours(spec: CalendarSpec) -> dt.timedelta:
    return sum((dt.datetime.combine(dt.date.min, e) - dt.datetime.combine(dt.date.min, s)
                for day in spec.periods.values() for s, e in day), dt.timedelta(0))


@st.composite
def targets(draw, spec: CalendarSpec) -> dt.timedelta:
    """Up to three weeks of the calendar's open time, whole seconds (SLA targets are hours)."""
    share = draw(st.floats(min_value=0.001, max_value=3, allow_nan=False))
    return dt.timedelta(seconds=max(1, int(weekly_hours(spec).total_seconds() * share)))


@st.composite
def pauses(draw, after: dt.datetime) -> list[tuple[dt.datetime, dt.datetime | None]]:
    result = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        start = after + dt.timedelta(minutes=draw(st.integers(min_value=0, max_value=30 * 24 * 60)))
        length = dt.timedelta(minutes=draw(st.integers(min_value=1, max_value=7 * 24 * 60)))
        result.append((start, start + length))
    return result


def deadline(spec: CalendarSpec, start: dt.datetime, target: dt.timedelta, paused=()) -> dt.datetime:
    clock = BusinessClock(spec)
    figures = compute_sla(clock=clock, targets=(target // US, target // US), created_at=start, pauses=paused,
                          now=END.replace(tzinfo=UTC))
    return figures.first_response_due


def at_period_end(spec: CalendarSpec, instant: dt.datetime) -> bool:
    """`instant` is the closing time of a working period (open just before, closed at it)."""
    return bt.is_open(spec, instant - US) and not bt.is_open(spec, instant)


@examples
@given(st.data(), calendars(), instants)
def test_clock_agrees_with_business_time(data, spec, start):
    clock = BusinessClock(spec)
    amount = data.draw(targets(spec))
    assert clock.add(start, amount) == bt.add_business_hours(spec, start, amount)
    assert clock.add(start, 0) == bt.next_opening(spec, start)
    end = start + dt.timedelta(minutes=data.draw(st.integers(min_value=-5 * 24 * 60, max_value=40 * 24 * 60)))
    assert clock.between(start, end) == bt.business_time_between(spec, start, end)
    paused = data.draw(pauses(start))
    assert clock.between_excluding(start, end, paused) == bt.business_time_between_excluding(spec, start, end, paused)


@examples
@given(st.data(), calendars(), instants)
def test_deadline_is_in_working_time_or_at_a_periods_end(data, spec, start):
    due = deadline(spec, start, data.draw(targets(spec)), data.draw(pauses(start)))
    assert bt.is_open(spec, due) or at_period_end(spec, due)


@examples
@given(st.data(), calendars(), instants, st.integers(min_value=0, max_value=10 * 24 * 60))
def test_later_start_never_gives_an_earlier_deadline(data, spec, start, minutes_later):
    target = data.draw(targets(spec))
    later = start + dt.timedelta(minutes=minutes_later)
    assert deadline(spec, later, target) >= deadline(spec, start, target)
    paused = data.draw(pauses(start))
    assert deadline(spec, later, target, paused) >= deadline(spec, start, target, paused)


@examples
@given(st.data(), calendars(), instants)
def test_clock_reads_the_target_at_the_deadline_and_pauses_only_delay(data, spec, start):
    target = data.draw(targets(spec))
    paused = data.draw(pauses(start))
    due = deadline(spec, start, target, paused)
    assert bt.business_time_between_excluding(spec, start, due, paused) == target
    assert due >= deadline(spec, start, target)
    # ...and not a microsecond of open, unpaused time earlier.
    assert bt.business_time_between_excluding(spec, start, due - US, paused) < target


def test_clock_window_grows_backwards_and_forwards():
    spec = CalendarSpec(timezone="Europe/London", periods=bt.default_weekly_hours(), holiday_country="GB",
                        holiday_subdivision="ENG")
    clock = BusinessClock(spec)
    late, early = dt.datetime(2030, 1, 7, 10, tzinfo=UTC), dt.datetime(2020, 1, 6, 10, tzinfo=UTC)
    assert clock.add(late, 8) == bt.add_business_hours(spec, late, 8)
    assert clock.add(early, 8) == bt.add_business_hours(spec, early, 8)
    assert clock.between(early, late) == bt.business_time_between(spec, early, late)
    assert to_us(early) < to_us(late)
