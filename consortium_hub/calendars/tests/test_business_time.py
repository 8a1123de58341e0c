"""Business time without a database: concrete calendars, then properties over generated ones."""

from __future__ import annotations

import datetime as dt
import pickle
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from consortium_hub.calendars import business_time as bt
from consortium_hub.calendars.business_time import CalendarSpec

LONDON = ZoneInfo("Europe/London")
BRISBANE = ZoneInfo("Australia/Brisbane")
H = dt.timedelta(hours=1)


def closure_range(first: dt.date, last: dt.date) -> frozenset[dt.date]:
    return frozenset(first + dt.timedelta(days=i) for i in range((last - first).days + 1))


ENGLAND = CalendarSpec(timezone="Europe/London", periods=bt.default_weekly_hours(), holiday_country="GB",
                       holiday_subdivision="ENG")
ENGLAND_XMAS = CalendarSpec(timezone="Europe/London", periods=bt.default_weekly_hours(), holiday_country="GB",
                            holiday_subdivision="ENG",
                            closures=closure_range(dt.date(2026, 12, 24), dt.date(2027, 1, 1)))
QUEENSLAND = CalendarSpec(timezone="Australia/Brisbane", periods=bt.default_weekly_hours("08:30", "17:00"),
                          holiday_country="AU", holiday_subdivision="QLD")
SPLIT = CalendarSpec(timezone="Europe/London", periods=bt.parse_weekly_hours("Mon-Fri 09:00-12:30, 13:30-17:00"))


def london(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


# --- Weekly hours ---------------------------------------------------------------------------------

def test_default_weekly_hours_are_monday_to_friday_nine_to_five():
    week = bt.default_weekly_hours()
    assert sorted(week) == [0, 1, 2, 3, 4]
    assert week[0] == ((dt.time(9), dt.time(17)),)
    assert bt.default_weekly_hours("08:30", "16:00")[4] == ((dt.time(8, 30), dt.time(16)),)


def test_weekly_hours_text_round_trips():
    text = "Mon-Thu 09:00-12:30, 13:30-17:00\nFri 09:00-15:00\nsat closed"
    week = bt.parse_weekly_hours(text)
    assert week[3] == ((dt.time(9), dt.time(12, 30)), (dt.time(13, 30), dt.time(17)))
    assert week[4] == ((dt.time(9), dt.time(15)),)
    assert 5 not in week and 6 not in week
    assert bt.format_weekly_hours(week) == "Mon-Thu 09:00-12:30, 13:30-17:00\nFri 09:00-15:00"
    assert bt.parse_weekly_hours(bt.format_weekly_hours(week)) == week
    assert bt.parse_weekly_hours("Monday 9:00-17:00; Wednesday: 10:00-11:00")[2] == ((dt.time(10), dt.time(11)),)


@pytest.mark.parametrize("text, problem", [
    ("Mon 09:00-12:00, 11:00-17:00", "overlap"),
    ("Mon 17:00-09:00", "after the start"),
    ("Funday 09:00-17:00", "not a day of the week"),
    ("Fri-Mon 09:00-17:00", "backwards"),
    ("Mon 9-5", "not a time range"),
    ("Mon 25:00-26:00", "not a time of day"),
    ("09:00-17:00", "write a day"),
])
def test_unreadable_weekly_hours_say_what_is_wrong(text, problem):
    with pytest.raises(ValueError, match=problem):
        bt.parse_weekly_hours(text)


def test_spec_is_hashable_comparable_and_picklable():
    same = CalendarSpec(timezone="Europe/London", periods={0: [("09:00", "17:00")], 1: [("09:00", "17:00")],
                                                           2: [("09:00", "17:00")], 3: [("09:00", "17:00")],
                                                           4: [("09:00", "17:00")], 5: []},
                        holiday_country="gb", holiday_subdivision="ENG")
    assert same == ENGLAND and hash(same) == hash(ENGLAND)
    assert pickle.loads(pickle.dumps(ENGLAND_XMAS)) == ENGLAND_XMAS
    assert len({ENGLAND, same, ENGLAND_XMAS}) == 2


def test_unknown_timezone_is_refused():
    with pytest.raises(ZoneInfoNotFoundError):
        CalendarSpec(timezone="Mars/Olympus", periods={})


# --- Holidays --------------------------------------------------------------------------------------

def test_holiday_regions_are_validated_and_normalised():
    assert bt.normalise_holiday_region("gb", "eng") == ("GB", "ENG")
    assert bt.normalise_holiday_region("GB", "England") == ("GB", "ENG")
    assert bt.normalise_holiday_region("", "") == ("", "")
    with pytest.raises(bt.HolidayRegionError, match="ENG, NIR, SCT, WLS") as error:
        bt.normalise_holiday_region("GB", "QLD")
    assert error.value.field == "holiday_subdivision"
    with pytest.raises(bt.HolidayRegionError) as error:
        bt.normalise_holiday_region("XQ", "")
    assert error.value.field == "holiday_country"
    with pytest.raises(bt.HolidayRegionError):
        bt.normalise_holiday_region("", "QLD")


# --- UK (England) across Christmas and New Year 2026 ---------------------------------------------

def test_england_christmas_without_a_closure_skips_bank_holidays_only():
    # Thu 24 Dec is open; Fri 25 Christmas, Sat/Sun, Mon 28 Boxing Day (observed) are not.
    assert bt.add_business_days(ENGLAND, dt.date(2026, 12, 23), 1) == dt.date(2026, 12, 24)
    assert bt.add_business_days(ENGLAND, dt.date(2026, 12, 24), 1) == dt.date(2026, 12, 29)
    assert not bt.is_business_day(ENGLAND, dt.date(2026, 12, 28))
    assert not bt.is_business_day(ENGLAND, dt.date(2027, 1, 1))
    assert bt.business_days_between(ENGLAND, dt.date(2026, 12, 23), dt.date(2027, 1, 4)) == 5  # 24, 29, 30, 31, 4


def test_england_christmas_closure_runs_to_the_first_monday_of_january():
    assert bt.add_business_days(ENGLAND_XMAS, dt.date(2026, 12, 23), 1) == dt.date(2027, 1, 4)
    assert bt.add_business_days(ENGLAND_XMAS, dt.date(2026, 12, 23), 3) == dt.date(2027, 1, 6)
    assert bt.add_business_days(ENGLAND_XMAS, dt.date(2026, 12, 27), 0) == dt.date(2027, 1, 4)
    assert bt.business_days_between(ENGLAND_XMAS, dt.date(2026, 12, 23), dt.date(2027, 1, 4)) == 1
    # Two business hours from Wed 23 Dec 16:00: one that evening, one on Mon 4 Jan.
    assert bt.add_business_hours(ENGLAND_XMAS, london(2026, 12, 23, 16), 2) == london(2027, 1, 4, 10)
    assert bt.next_opening(ENGLAND_XMAS, london(2026, 12, 23, 17)) == london(2027, 1, 4, 9)
    assert bt.business_time_between(ENGLAND_XMAS, london(2026, 12, 23, 9), london(2027, 1, 5, 9)) == 16 * H


def test_holidays_between_lists_names():
    names = dict(bt.holidays_between(ENGLAND, dt.date(2026, 12, 1), dt.date(2027, 1, 31)))
    assert names[dt.date(2026, 12, 25)] == "Christmas Day"
    assert dt.date(2026, 12, 28) in names and dt.date(2027, 1, 1) in names


# --- Queensland ------------------------------------------------------------------------------------

def test_queensland_public_holidays():
    # King's Birthday is in October in Queensland (June in NSW); Easter runs Good Friday to Easter Monday.
    assert not bt.is_business_day(QUEENSLAND, dt.date(2026, 10, 5))
    assert bt.is_business_day(QUEENSLAND, dt.date(2026, 6, 8))
    assert bt.add_business_days(QUEENSLAND, dt.date(2026, 10, 2), 1) == dt.date(2026, 10, 6)
    assert bt.add_business_days(QUEENSLAND, dt.date(2026, 4, 2), 1) == dt.date(2026, 4, 7)
    assert not bt.is_business_day(QUEENSLAND, dt.date(2026, 5, 4))  # Labour Day
    brisbane = dt.datetime(2026, 4, 2, 16, tzinfo=BRISBANE)
    assert bt.add_business_hours(QUEENSLAND, brisbane, 2) == dt.datetime(2026, 4, 7, 9, 30, tzinfo=BRISBANE)
    # Brisbane has no DST: the deadline is the same instant whatever zone the start is given in.
    assert bt.add_business_hours(QUEENSLAND, brisbane.astimezone(dt.timezone.utc), 2) == \
        dt.datetime(2026, 4, 7, 9, 30, tzinfo=BRISBANE)


# --- Split shift -----------------------------------------------------------------------------------

def test_split_shift_skips_lunch():
    monday = dt.date(2026, 3, 2)
    assert bt.is_open(SPLIT, london(2026, 3, 2, 12, 29))
    assert not bt.is_open(SPLIT, london(2026, 3, 2, 12, 45))
    assert bt.next_opening(SPLIT, london(2026, 3, 2, 12, 45)) == london(2026, 3, 2, 13, 30)
    assert bt.open_until(SPLIT, london(2026, 3, 2, 10)) == london(2026, 3, 2, 12, 30)
    assert bt.add_business_hours(SPLIT, london(2026, 3, 2, 12), 1) == london(2026, 3, 2, 14)
    assert bt.business_time_between(SPLIT, london(2026, 3, 2, 9), london(2026, 3, 2, 17)) == 7 * H
    assert bt.day_intervals(SPLIT, monday)[1][0] == london(2026, 3, 2, 13, 30)


def test_deadline_at_closing_time_is_closing_time():
    assert bt.add_business_hours(ENGLAND, london(2026, 3, 2, 9), 8) == london(2026, 3, 2, 17)
    assert bt.add_business_hours(ENGLAND, london(2026, 3, 2, 9), dt.timedelta(hours=8, seconds=1)) == \
        london(2026, 3, 3, 9, 0, 1)
    assert bt.add_business_hours(ENGLAND, london(2026, 3, 6, 17), 0) == london(2026, 3, 9, 9)


# --- DST (Europe/London: clocks go forward on Sunday 29 March 2026, back on Sunday 25 October) ----

def test_dst_change_over_a_weekend_keeps_wall_clock_hours():
    start = london(2026, 3, 27, 16)  # Friday, GMT
    deadline = bt.add_business_hours(ENGLAND, start, 2)
    assert deadline == london(2026, 3, 30, 10)  # Monday, BST
    assert deadline.utcoffset() == H
    assert bt.business_time_between(ENGLAND, start, deadline) == 2 * H
    assert bt.next_opening(ENGLAND, london(2026, 3, 28, 12)).utcoffset() == H


def test_dst_night_periods_count_real_time():
    night = CalendarSpec(timezone="Europe/London", periods={6: [("00:00", "04:00")]})
    spring = bt.business_time_between(night, london(2026, 3, 29, 0), london(2026, 3, 30, 0))
    autumn = bt.business_time_between(night, london(2026, 10, 25, 0), london(2026, 10, 26, 0))
    assert (spring, autumn) == (3 * H, 5 * H)
    # 01:30 does not exist on 29 March; three business hours from midnight end at 04:00 BST.
    assert bt.add_business_hours(night, london(2026, 3, 29, 0), 3) == london(2026, 3, 29, 4)


# --- next_opening on a Friday evening --------------------------------------------------------------

def test_next_opening_on_a_friday_evening():
    assert bt.next_opening(ENGLAND, london(2026, 3, 6, 18, 30)) == london(2026, 3, 9, 9)
    # Before the May Day bank holiday, it is Tuesday.
    assert bt.next_opening(ENGLAND, london(2026, 5, 1, 18)) == london(2026, 5, 5, 9)
    status = bt.opening_status(ENGLAND, london(2026, 3, 6, 18, 30))
    assert (status.is_open, status.next_opening) == (False, london(2026, 3, 9, 9))
    status = bt.opening_status(ENGLAND, london(2026, 3, 6, 16))
    assert (status.is_open, status.closes_at) == (True, london(2026, 3, 6, 17))


# --- Rules at the edges ------------------------------------------------------------------------------

def test_business_days_rule_for_zero_and_weekends():
    saturday, monday = dt.date(2026, 3, 7), dt.date(2026, 3, 9)
    assert bt.add_business_days(ENGLAND, monday, 0) == monday
    assert bt.add_business_days(ENGLAND, saturday, 0) == monday
    assert bt.add_business_days(ENGLAND, saturday, 1) == monday
    assert bt.add_business_days(ENGLAND, monday, 1) == dt.date(2026, 3, 10)
    assert bt.add_business_days(ENGLAND, saturday, 3) == dt.date(2026, 3, 11)
    assert bt.business_days_between(ENGLAND, monday, saturday) == -1  # Monday itself, counted backwards
    with pytest.raises(ValueError):
        bt.add_business_days(ENGLAND, monday, -1)


def test_a_calendar_without_hours_never_opens():
    never = CalendarSpec(timezone="UTC", periods={})
    at = dt.datetime(2026, 3, 2, 12, tzinfo=dt.timezone.utc)
    assert not bt.is_open(never, at)
    assert bt.opening_status(never, at) == bt.OpeningStatus(is_open=False)
    with pytest.raises(bt.NoBusinessTime):
        bt.next_opening(never, at)
    with pytest.raises(bt.NoBusinessTime):
        bt.add_business_days(never, at.date(), 1)
    assert bt.business_time_between(never, at, at + 100 * H) == dt.timedelta(0)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        bt.is_open(ENGLAND, dt.datetime(2026, 3, 2, 12))


def test_pauses_are_excluded_once_even_when_they_overlap():
    start, end = london(2026, 3, 2, 9), london(2026, 3, 4, 17)  # Mon 09:00 to Wed 17:00: 24 business hours
    pauses = [(london(2026, 3, 2, 15), london(2026, 3, 3, 11)),   # 2h Mon + 2h Tue
              (london(2026, 3, 3, 10), london(2026, 3, 3, 12)),   # overlaps: adds Tue 11-12
              (london(2026, 3, 4, 16), None)]                      # still paused: Wed 16-17
    assert bt.business_time_between_excluding(ENGLAND, start, end, pauses) == 24 * H - 6 * H
    assert bt.business_time_between_excluding(ENGLAND, start, end, []) == 24 * H


# --- Properties ------------------------------------------------------------------------------------

quick = settings(database=None, max_examples=150, deadline=None)
TIMEZONES = ["UTC", "Europe/London", "Australia/Brisbane", "America/New_York", "Asia/Kolkata", "Pacific/Chatham",
             "America/Sao_Paulo", "Australia/Lord_Howe"]
REGIONS = [("", ""), ("GB", "ENG"), ("AU", "QLD"), ("US", ""), ("DE", "BY")]
FIRST, LAST = dt.date(2025, 1, 1), dt.date(2027, 12, 31)


@st.composite
def day_periods(draw) -> list[tuple[dt.time, dt.time]]:
    minutes = draw(st.lists(st.integers(min_value=0, max_value=24 * 60 - 1), max_size=6, unique=True))
    minutes = sorted(minutes)
    pairs = [(minutes[i], minutes[i + 1]) for i in range(0, len(minutes) - 1, 2)]
    return [(dt.time(a // 60, a % 60), dt.time(b // 60, b % 60)) for a, b in pairs]


@st.composite
def specs(draw) -> CalendarSpec:
    periods = {weekday: draw(day_periods()) for weekday in range(7)}
    assume(any(periods.values()))
    country, subdivision = draw(st.sampled_from(REGIONS))
    closures = draw(st.frozensets(st.dates(min_value=FIRST, max_value=LAST), max_size=40))
    return CalendarSpec(timezone=draw(st.sampled_from(TIMEZONES)), periods=periods, holiday_country=country,
                        holiday_subdivision=subdivision, closures=closures)


dates = st.dates(min_value=FIRST, max_value=dt.date(2026, 12, 31))
instants = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2026, 12, 31),
                        timezones=st.just(dt.timezone.utc))


def weekly_open_time(spec: CalendarSpec) -> dt.timedelta:
    return sum((dt.datetime.combine(dt.date.min, e) - dt.datetime.combine(dt.date.min, s)
                for day in spec.periods.values() for s, e in day), dt.timedelta(0))


@st.composite
def amounts(draw, spec: CalendarSpec) -> dt.timedelta:
    """Up to six weeks' worth of the calendar's open time (so sparse calendars stay quick)."""
    fraction = draw(st.floats(min_value=0, max_value=6, allow_nan=False))
    return dt.timedelta(microseconds=int(weekly_open_time(spec) / dt.timedelta(microseconds=1) * fraction))


def _naive_count(spec: CalendarSpec, a: dt.date, b: dt.date) -> int:
    return sum(bt.is_business_day(spec, a + dt.timedelta(days=i)) for i in range(1, (b - a).days + 1))


@quick
@given(specs(), dates, st.integers(min_value=0, max_value=30))
def test_add_business_days_lands_on_a_business_day_n_days_on(spec, start, n):
    due = bt.add_business_days(spec, start, n)
    assert bt.is_business_day(spec, due)
    assert due >= start
    if n >= 1:
        assert due > start
        assert bt.business_days_between(spec, start, due) == n
        assert bt.business_days_between(spec, start, due - dt.timedelta(days=1)) == n - 1
    # Never inside a closure, holiday or non-working weekday.
    assert due not in spec.closures and due.weekday() in spec.periods
    assert due not in bt.holiday_dates(spec.holiday_country, spec.holiday_subdivision, due.year)


@quick
@given(specs(), dates, st.integers(min_value=0, max_value=20), st.integers(min_value=0, max_value=20))
def test_add_business_days_is_monotonic_in_n(spec, start, n1, n2):
    n1, n2 = sorted((n1, n2))
    assert bt.add_business_days(spec, start, n1) <= bt.add_business_days(spec, start, n2)


@quick
@given(specs(), dates, dates)
def test_business_days_between_counts_business_days_and_is_antisymmetric(spec, a, b):
    if a <= b:
        assert bt.business_days_between(spec, a, b) == _naive_count(spec, a, b)
    assert bt.business_days_between(spec, a, b) == -bt.business_days_between(spec, b, a)


@quick
@given(st.data(), specs(), instants)
def test_add_business_hours_round_trips_with_business_time_between(data, spec, start):
    amount = data.draw(amounts(spec))
    deadline = bt.add_business_hours(spec, start, amount)
    assert deadline >= start
    assert deadline.tzinfo == spec.tz
    assert bt.business_time_between(spec, start, deadline) == amount
    if amount:
        # The last moment counted was open: on a business day, inside working hours.
        last = deadline - dt.timedelta(microseconds=1)
        assert bt.is_open(spec, last)
        assert bt.is_business_day(spec, last.astimezone(spec.tz).date())
    else:
        assert deadline == bt.next_opening(spec, start)


@quick
@given(specs(), instants)
def test_next_opening_is_open_and_nothing_opens_before_it(spec, at):
    opening = bt.next_opening(spec, at)
    assert opening >= at
    assert bt.is_open(spec, opening)
    assert bt.is_business_day(spec, opening.astimezone(spec.tz).date())
    assert bt.business_time_between(spec, at, opening) == dt.timedelta(0)
    assert bt.is_open(spec, at) == (opening == at)


@quick
@given(specs(), instants, st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=20)),
       st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=20)))
def test_business_time_between_adds_up(spec, a, d1, d2):
    b, c = a + d1, a + d1 + d2
    assert bt.business_time_between(spec, a, c) == bt.business_time_between(spec, a, b) + \
        bt.business_time_between(spec, b, c)
    assert dt.timedelta(0) <= bt.business_time_between(spec, a, c) <= c - a
    assert bt.business_time_between(spec, c, a) == -bt.business_time_between(spec, a, c)


@quick
@given(specs(), instants, st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=10)),
       st.lists(st.tuples(instants, st.one_of(st.none(), st.timedeltas(min_value=dt.timedelta(0),
                                                                           max_value=dt.timedelta(days=3)))),
                max_size=4))
def test_paused_time_is_subtracted_at_most_once(spec, start, length, raw_pauses):
    end = start + length
    pauses = [(p, None if d is None else p + d) for p, d in raw_pauses]
    total = bt.business_time_between(spec, start, end)
    excluded = bt.business_time_between_excluding(spec, start, end, pauses)
    assert dt.timedelta(0) <= excluded <= total
    # Same answer when the pauses are given twice (overlaps count once).
    assert bt.business_time_between_excluding(spec, start, end, pauses + pauses) == excluded


@quick
@given(specs())
def test_weekly_hours_format_round_trips(spec):
    assert bt.parse_weekly_hours(bt.format_weekly_hours(spec.periods)) == spec.periods
