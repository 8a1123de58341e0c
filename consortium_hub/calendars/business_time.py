"""Business time: the one home for counting business days and business hours.

Everything here is a pure function of a `CalendarSpec` (a frozen, hashable, picklable value) so it
can be property-tested without a database and cached by callers. `spec_for(calendar)` builds one from
a `calendars.BusinessCalendar` (two queries, none when `periods` and `closures` are prefetched).

Rules
-----
- A *business day* is a date whose weekday has at least one working period and that is neither a
  public holiday of the calendar's country/subdivision (the `holidays` package) nor a closure day.
- Working periods are wall-clock times in the calendar's timezone. Open time is computed as absolute
  intervals (UTC) per day, so DST changes count the time that really passes: a 00:00-04:00 period
  is 3 hours on the spring-forward night and 5 hours on the fall-back night in Europe/London.
  A wall time that does not exist (in a spring-forward gap) is read with the offset before the change.
  Periods are half-open [start, end): a calendar open 09:00-17:00 is closed at 17:00:00.
- Periods cannot run past midnight (end > start on the same day); split them at 23:59 if needed.
- `add_business_days(spec, start, n)`: for n == 0, `start` if it is a business day, otherwise the
  next business day (a due date never lands on a closed day); for n >= 1, the n-th business day
  *after* `start` (Saturday + 1 business day = Monday; Monday + 1 = Tuesday).
- `business_days_between(spec, a, b)` counts business days d with a < d <= b, so for n >= 1
  `business_days_between(spec, a, add_business_days(spec, a, n)) == n`; it is negative when b < a.
- `add_business_hours(spec, start, h)`: the instant when h hours of open time have passed since
  `start`. For h == 0 that is `next_opening(spec, start)`. A deadline that uses the last minute of
  a day is the closing time itself (Mon 09:00 + 8h = Mon 17:00, not Tue 09:00).
- `business_time_between(spec, a, b)` is the open time in [a, b) (negative when b < a), so
  `business_time_between(spec, s, add_business_hours(spec, s, h)) == h`.
- Returned datetimes are in the calendar's timezone; inputs may be in any timezone but must be aware.
- A calendar with no working periods never opens: functions that search forward raise
  `NoBusinessTime` (so do searches that find nothing open for ten years).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_lib
from django.utils.translation import gettext as _

UTC = dt.timezone.utc
ONE_DAY = dt.timedelta(days=1)
Period = tuple[dt.time, dt.time]
WeeklyHours = dict[int, tuple[Period, ...]]
Interval = tuple[dt.datetime, dt.datetime]
WEEKDAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Forward searches give up after this many days without any open time (about ten years).
MAX_SCAN_DAYS = 3660


class NoBusinessTime(ValueError):
    """The calendar has no open time where one was searched for (no working periods at all, or none
    for ten years because of closures)."""


class HolidayRegionError(ValueError):
    """An unsupported holiday country or subdivision; `field` names which."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


# --- The calendar as a value ------------------------------------------------------------------------

@dataclass(frozen=True)
class CalendarSpec:
    """Everything the business-time functions need about one calendar.

    `periods` maps a weekday (0 = Monday .. 6 = Sunday) to its working periods; it is normalised
    on construction (times parsed, sorted, empty days dropped, overlaps refused) and is not to be
    mutated. `closures` is the set of every closed date (ranges already expanded).
    """

    timezone: str
    periods: Mapping[int, tuple[Period, ...]]
    holiday_country: str = ""
    holiday_subdivision: str = ""
    closures: frozenset[dt.date] = frozenset()
    _key: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # unknown timezones fail here, not on first use
        periods = normalise_periods(self.periods)
        object.__setattr__(self, "periods", periods)
        object.__setattr__(self, "closures", frozenset(self.closures))
        object.__setattr__(self, "holiday_country", (self.holiday_country or "").strip().upper())
        object.__setattr__(self, "holiday_subdivision", (self.holiday_subdivision or "").strip())
        object.__setattr__(self, "_key", (self.timezone, tuple(periods.items()), self.holiday_country,
                                          self.holiday_subdivision, self.closures))

    def __hash__(self) -> int:
        return hash(self._key)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances per key


def spec_for(calendar: Any) -> CalendarSpec:
    """The spec of a `BusinessCalendar`: two queries, or none when `periods` and `closures` were
    prefetched. The result is hashable and picklable; `(calendar.pk, calendar.updated_at)` is a
    valid cache key because every service that changes a period or closure also saves the calendar."""
    periods: dict[int, list[Period]] = {}
    for p in calendar.periods.all():
        periods.setdefault(p.weekday, []).append((p.start, p.end))
    closed: set[dt.date] = set()
    for c in calendar.closures.all():
        closed.update(c.days())
    return CalendarSpec(timezone=calendar.timezone, periods=periods, holiday_country=calendar.holiday_country,
                        holiday_subdivision=calendar.holiday_subdivision, closures=frozenset(closed))


# --- Weekly hours --------------------------------------------------------------------------------------

def parse_time(value: dt.time | str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(value))
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(_("%(value)s is not a time of day (use HH:MM, e.g. 09:00).") % {"value": value})
    return dt.time(int(match.group(1)), int(match.group(2)))


def normalise_periods(periods: Mapping[int, Iterable[tuple[dt.time | str, dt.time | str]]]) -> WeeklyHours:
    """Weekly hours in canonical form: {weekday: ((start, end), ...)} sorted, without empty days.

    Raises ValueError for a weekday outside 0..6, an end not after its start, or overlapping periods
    on one day (touching periods such as 09:00-12:00 and 12:00-13:00 are allowed)."""
    result: WeeklyHours = {}
    for weekday, day_periods in periods.items():
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValueError(_("%(day)s is not a weekday (0 = Monday to 6 = Sunday).") % {"day": weekday})
        parsed = sorted((parse_time(start), parse_time(end)) for start, end in day_periods)
        for start, end in parsed:
            if end <= start:
                raise ValueError(_("%(day)s %(start)s-%(end)s: the end must be after the start.")
                                 % {"day": WEEKDAY_ABBREVIATIONS[weekday], "start": _hhmm(start), "end": _hhmm(end)})
        for (s1, e1), (s2, e2) in zip(parsed, parsed[1:]):
            if s2 < e1:
                raise ValueError(_("%(day)s %(a)s and %(b)s overlap.")
                                 % {"day": WEEKDAY_ABBREVIATIONS[weekday], "a": f"{_hhmm(s1)}-{_hhmm(e1)}",
                                    "b": f"{_hhmm(s2)}-{_hhmm(e2)}"})
        if parsed:
            result[weekday] = tuple(parsed)
    return dict(sorted(result.items()))


def default_weekly_hours(start: dt.time | str = "09:00", end: dt.time | str = "17:00") -> WeeklyHours:
    """Monday to Friday, `start` to `end`."""
    return normalise_periods({weekday: [(start, end)] for weekday in range(5)})


def format_weekly_hours(periods: Mapping[int, Iterable[Period]]) -> str:
    """One line per run of consecutive days with the same hours, e.g. `Mon-Fri 09:00-12:30, 13:30-17:00`.

    `parse_weekly_hours(format_weekly_hours(p)) == normalise_periods(p)`."""
    week = normalise_periods(periods)
    lines: list[str] = []
    days = sorted(week)
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1 and week[days[j + 1]] == week[days[i]]:
            j += 1
        label = WEEKDAY_ABBREVIATIONS[days[i]] if i == j else (
            f"{WEEKDAY_ABBREVIATIONS[days[i]]}-{WEEKDAY_ABBREVIATIONS[days[j]]}")
        lines.append(f"{label} " + ", ".join(f"{_hhmm(s)}-{_hhmm(e)}" for s, e in week[days[i]]))
        i = j + 1
    return "\n".join(lines)


_LINE_RE = re.compile(r"^(?P<days>[A-Za-z]+(?:\s*-\s*[A-Za-z]+)?)\s*:?\s+(?P<ranges>.+)$")
_RANGE_RE = re.compile(r"^(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})$")


def parse_weekly_hours(text: str) -> WeeklyHours:
    """Read weekly hours written one day (or run of days) per line:

        Mon-Thu 09:00-12:30, 13:30-17:00
        Fri 09:00-15:00
        Sat closed

    Day names may be abbreviated (Mon) or full (Monday); lines may also be separated by `;`.
    Raises ValueError naming the line that cannot be read."""
    periods: dict[int, list[Period]] = {}
    lines = [line.strip() for line in re.split(r"[\n;]", text or "") if line.strip()]
    for number, line in enumerate(lines, start=1):
        match = _LINE_RE.match(line)
        if not match:
            raise ValueError(_("Line %(n)d (%(line)s): write a day and its hours, e.g. Mon 09:00-17:00.")
                             % {"n": number, "line": line})
        day_names = [d.strip() for d in match.group("days").split("-")]
        try:
            day_numbers = [_weekday_number(d) for d in day_names]
        except ValueError as exc:
            raise ValueError(_("Line %(n)d: %(problem)s") % {"n": number, "problem": exc}) from exc
        first, last = day_numbers[0], day_numbers[-1]
        if last < first:
            raise ValueError(_("Line %(n)d: the day range %(range)s runs backwards.")
                             % {"n": number, "range": match.group("days")})
        ranges = match.group("ranges").strip()
        day_periods: list[Period] = []
        if ranges.lower() != "closed":
            for part in ranges.split(","):
                found = _RANGE_RE.match(part.strip())
                if not found:
                    raise ValueError(_("Line %(n)d: %(part)s is not a time range such as 09:00-17:00.")
                                     % {"n": number, "part": part.strip()})
                try:
                    day_periods.append((parse_time(found.group(1)), parse_time(found.group(2))))
                except ValueError as exc:
                    raise ValueError(_("Line %(n)d: %(problem)s") % {"n": number, "problem": exc}) from exc
        for weekday in range(first, last + 1):
            periods.setdefault(weekday, []).extend(day_periods)
    return normalise_periods(periods)


def _weekday_number(name: str) -> int:
    lowered = name.lower()
    for i, (short, full) in enumerate(zip(WEEKDAY_ABBREVIATIONS, WEEKDAY_NAMES)):
        if lowered in (short.lower(), full.lower()):
            return i
    raise ValueError(_("%(name)s is not a day of the week (Mon, Tue, ... Sun).") % {"name": name})


def _hhmm(t: dt.time) -> str:
    return t.strftime("%H:%M") if not t.second and not t.microsecond else t.isoformat()


# --- Holidays ----------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def supported_holiday_regions() -> dict[str, tuple[str, ...]]:
    """Country code -> its subdivision codes, as the `holidays` package supports them."""
    return {country: tuple(subdivisions) for country, subdivisions in holidays_lib.list_supported_countries().items()
            if len(country) == 2}


def normalise_holiday_region(country: str, subdivision: str) -> tuple[str, str]:
    """The canonical (country, subdivision) codes; raises HolidayRegionError naming the bad field.

    Subdivisions match case-insensitively and by the package's names (England -> ENG)."""
    country = (country or "").strip().upper()
    subdivision = (subdivision or "").strip()
    if not country:
        if subdivision:
            raise HolidayRegionError("holiday_subdivision", _("Choose the holiday country of this subdivision."))
        return "", ""
    regions = supported_holiday_regions()
    if country not in regions:
        raise HolidayRegionError("holiday_country", _("Public holidays of %(country)s are not available; leave the "
                                                      "holiday country blank and add closures instead.")
                                 % {"country": country})
    if not subdivision:
        return country, ""
    codes = regions[country]
    by_lower = {code.lower(): code for code in codes}
    aliases = getattr(type(holidays_lib.country_holidays(country)), "subdivisions_aliases", {}) or {}
    by_lower.update({name.lower(): code for name, code in aliases.items()})
    if subdivision.lower() in by_lower:
        return country, by_lower[subdivision.lower()]
    if codes:
        raise HolidayRegionError("holiday_subdivision", _("%(sub)s is not a subdivision of %(country)s; use one of "
                                                          "%(codes)s.")
                                 % {"sub": subdivision, "country": country, "codes": ", ".join(codes)})
    raise HolidayRegionError("holiday_subdivision", _("%(country)s has no subdivisions with their own holidays; "
                                                      "leave the subdivision blank.") % {"country": country})


@lru_cache(maxsize=1024)
def holidays_in_year(country: str, subdivision: str, year: int) -> tuple[tuple[dt.date, str], ...]:
    """The public holidays (date, name) of one country/subdivision in one year, cached per process."""
    if not country:
        return ()
    try:
        entity_class = type(holidays_lib.country_holidays(country))
        # Names in the country's own English (Labour Day in Australia), else US English where available.
        default_language = getattr(entity_class, "default_language", None) or ""
        supported = getattr(entity_class, "supported_languages", ()) or ()
        language = "en_US" if not default_language.startswith("en") and "en_US" in supported else None
        entity = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=year, language=language)
    except NotImplementedError as exc:
        # The `holidays` library signals a country it does not cover this way; callers expect ValueError.
        raise ValueError(str(exc)) from exc
    return tuple(sorted((day, name) for day, name in entity.items() if day.year == year))


@lru_cache(maxsize=1024)
def holiday_dates(country: str, subdivision: str, year: int) -> frozenset[dt.date]:
    return frozenset(day for day, _name in holidays_in_year(country, subdivision, year))


def holidays_between(spec: CalendarSpec, start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
    """The calendar's public holidays from `start` to `end` inclusive, with their names."""
    result: list[tuple[dt.date, str]] = []
    for year in range(start.year, end.year + 1):
        result.extend((day, name) for day, name in
                      holidays_in_year(spec.holiday_country, spec.holiday_subdivision, year) if start <= day <= end)
    return result


# --- Business days -------------------------------------------------------------------------------

def is_business_day(spec: CalendarSpec, day: dt.date) -> bool:
    if day.weekday() not in spec.periods or day in spec.closures:
        return False
    return not (spec.holiday_country
                and day in holiday_dates(spec.holiday_country, spec.holiday_subdivision, day.year))


def business_day_on_or_after(spec: CalendarSpec, day: dt.date) -> dt.date:
    """`day` if it is a business day, otherwise the next one."""
    _require_hours(spec)
    for _i in range(MAX_SCAN_DAYS):
        if is_business_day(spec, day):
            return day
        day += ONE_DAY
    raise NoBusinessTime(_("The calendar has no business day within ten years."))


def add_business_days(spec: CalendarSpec, start: dt.date, n: int) -> dt.date:
    """The due date `n` business days after `start` (see the module's rules for n == 0)."""
    if n < 0:
        raise ValueError(_("The number of business days cannot be negative."))
    if n == 0:
        return business_day_on_or_after(spec, start)
    day = start
    for _i in range(n):
        day = business_day_on_or_after(spec, day + ONE_DAY)
    return day


def business_days_between(spec: CalendarSpec, a: dt.date, b: dt.date) -> int:
    """Business days d with a < d <= b; negative (-(days in (b, a])) when b < a."""
    if b < a:
        return -business_days_between(spec, b, a)
    first, last = a + ONE_DAY, b
    if first > last:
        return 0
    working = set(spec.periods)
    full_weeks, rest = divmod((last - first).days + 1, 7)
    count = full_weeks * len(working) + sum(1 for i in range(rest) if (first.weekday() + i) % 7 in working)
    closed = {d for d in spec.closures if first <= d <= last and d.weekday() in working}
    if spec.holiday_country:
        for year in range(first.year, last.year + 1):
            closed.update(d for d in holiday_dates(spec.holiday_country, spec.holiday_subdivision, year)
                          if first <= d <= last and d.weekday() in working)
    return count - len(closed)


# --- Business hours ------------------------------------------------------------------------------

def _require_hours(spec: CalendarSpec) -> None:
    if not spec.periods:
        raise NoBusinessTime(_("The calendar has no working hours."))


def _aware_utc(value: dt.datetime) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(_("Business-time functions need timezone-aware datetimes."))
    return value.astimezone(UTC)


def _local_date(spec: CalendarSpec, at_utc: dt.datetime) -> dt.date:
    return at_utc.astimezone(spec.tz).date()


def day_intervals(spec: CalendarSpec, day: dt.date) -> list[Interval]:
    """The open intervals (UTC, half-open) of one local date, merged, in order."""
    if not is_business_day(spec, day):
        return []
    tz = spec.tz
    intervals = []
    for start, end in spec.periods[day.weekday()]:
        s = dt.datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
        e = dt.datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
        if e > s:  # a period lying wholly in a spring-forward gap has no time
            intervals.append((s, e))
    return list(_merged(sorted(intervals)))


def _merged(intervals: Iterable[Interval]) -> Iterator[Interval]:
    """Join overlapping or touching intervals of a start-ordered sequence (lazily: it may be endless)."""
    pending: Interval | None = None
    for s, e in intervals:
        if pending is not None and s <= pending[1]:
            pending = (pending[0], max(pending[1], e))
            continue
        if pending is not None:
            yield pending
        pending = (s, e)
    if pending is not None:
        yield pending


def _raw_intervals(spec: CalendarSpec, first_day: dt.date, last_day: dt.date | None) -> Iterator[Interval]:
    day = first_day
    empty_run = 0
    while last_day is None or day <= last_day:
        intervals = day_intervals(spec, day)
        if intervals:
            empty_run = 0
            yield from intervals
        else:
            empty_run += 1
            if last_day is None and empty_run > MAX_SCAN_DAYS:
                raise NoBusinessTime(_("The calendar is closed for more than ten years from here."))
        day += ONE_DAY


def open_intervals(spec: CalendarSpec, first_day: dt.date, last_day: dt.date | None = None) -> Iterator[Interval]:
    """Open intervals (UTC) of the local dates from `first_day` (to `last_day`, or for ever), merged
    across days (a DST anomaly can make one day's intervals meet the next day's)."""
    if last_day is None:
        _require_hours(spec)
    return _merged(_raw_intervals(spec, first_day, last_day))


def is_open(spec: CalendarSpec, at: dt.datetime) -> bool:
    at_utc = _aware_utc(at)
    day = _local_date(spec, at_utc)
    return any(s <= at_utc < e for s, e in open_intervals(spec, day - ONE_DAY, day + ONE_DAY))


def next_opening(spec: CalendarSpec, at: dt.datetime) -> dt.datetime:
    """The first instant at or after `at` when the calendar is open (`at` itself if open)."""
    at_utc = _aware_utc(at)
    for s, e in open_intervals(spec, _local_date(spec, at_utc) - ONE_DAY):
        if e > at_utc:
            return max(s, at_utc).astimezone(spec.tz)
    raise NoBusinessTime  # pragma: no cover  (open_intervals is endless or raises)


def open_until(spec: CalendarSpec, at: dt.datetime) -> dt.datetime | None:
    """When the open period containing `at` ends; None if the calendar is closed at `at`."""
    at_utc = _aware_utc(at)
    day = _local_date(spec, at_utc)
    for s, e in open_intervals(spec, day - ONE_DAY, day + ONE_DAY):
        if s <= at_utc < e:
            return e.astimezone(spec.tz)
    return None


def _as_timedelta(amount: dt.timedelta | float | int) -> dt.timedelta:
    delta = amount if isinstance(amount, dt.timedelta) else dt.timedelta(hours=amount)
    if delta < dt.timedelta(0):
        raise ValueError(_("The number of business hours cannot be negative."))
    return delta


def add_business_hours(spec: CalendarSpec, start: dt.datetime,
                       hours_or_timedelta: dt.timedelta | float | int) -> dt.datetime:
    """The deadline `hours_or_timedelta` of open time after `start` (hours as a number, or a timedelta)."""
    remaining = _as_timedelta(hours_or_timedelta)
    at_utc = _aware_utc(start)
    for s, e in open_intervals(spec, _local_date(spec, at_utc) - ONE_DAY):
        if e <= at_utc:
            continue
        s = max(s, at_utc)
        if remaining <= e - s:
            return (s + remaining).astimezone(spec.tz)
        remaining -= e - s
    raise NoBusinessTime  # pragma: no cover


def business_time_between(spec: CalendarSpec, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Open time in [start, end); negative when end < start."""
    a, b = _aware_utc(start), _aware_utc(end)
    if b < a:
        return -business_time_between(spec, end, start)
    total = dt.timedelta(0)
    for s, e in open_intervals(spec, _local_date(spec, a) - ONE_DAY, _local_date(spec, b) + ONE_DAY):
        lo, hi = max(s, a), min(e, b)
        if hi > lo:
            total += hi - lo
    return total


def business_time_between_excluding(spec: CalendarSpec, start: dt.datetime, end: dt.datetime,
                                    paused_intervals: Iterable[tuple[dt.datetime, dt.datetime | None]]
                                    ) -> dt.timedelta:
    """Open time in [start, end) outside the paused intervals (for SLA clocks).

    Each pause is (paused_at, resumed_at); resumed_at None means still paused. Pauses may overlap
    each other and [start, end) only partly. Negative when end < start, like business_time_between."""
    a, b = _aware_utc(start), _aware_utc(end)
    if b < a:
        return -business_time_between_excluding(spec, end, start, paused_intervals)
    clipped = []
    for paused_at, resumed_at in paused_intervals:
        ps = max(_aware_utc(paused_at), a)
        pe = b if resumed_at is None else min(_aware_utc(resumed_at), b)
        if pe > ps:
            clipped.append((ps, pe))
    paused = sum((business_time_between(spec, ps, pe) for ps, pe in _merged(sorted(clipped))), dt.timedelta(0))
    return business_time_between(spec, a, b) - paused


# --- For pages ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OpeningStatus:
    """Open now (and until when), or closed (and when it next opens; None if it never does)."""

    is_open: bool
    closes_at: dt.datetime | None = None
    next_opening: dt.datetime | None = None


def opening_status(spec: CalendarSpec, at: dt.datetime) -> OpeningStatus:
    until = open_until(spec, at)
    if until is not None:
        return OpeningStatus(is_open=True, closes_at=until)
    try:
        return OpeningStatus(is_open=False, next_opening=next_opening(spec, at))
    except NoBusinessTime:
        return OpeningStatus(is_open=False)
