"""Writes to business calendars: atomic, keyword-only, validated by the models, checked for access.

`user=None` means a system action (creating default calendars, a job): no access check is made.
Only code that has already decided the action is allowed (or that runs without a person behind it)
passes None; pages and the API always pass the requesting user.

Every change to a calendar's periods or closures also saves the calendar, so `updated_at` moves and
`(pk, updated_at)` can key a cache of its `CalendarSpec`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from consortium_hub.calendars import business_time
from consortium_hub.calendars.models import BusinessCalendar, ClosureDay, WorkingPeriod
from consortium_hub.core.access import require
from consortium_hub.core.roles import ADD, CHANGE
from consortium_hub.directory.models import Consortium

AREA = "calendars"
ORCID_DEFAULT_NAME = "ORCID business hours"
ORCID_DEFAULT_TIMEZONE = "UTC"  # ORCID works across the world; its default counts in UTC.
UPDATABLE_FIELDS = ("name", "timezone", "holiday_country", "holiday_subdivision", "is_orcid_default")

PeriodsInput = Mapping[int, Iterable[tuple[dt.time | str, dt.time | str]]]
# A closure to create: (date, end_date or None, reason), or a mapping with those keys.
ClosureInput = tuple[dt.date, dt.date | None, str] | Mapping[str, Any]


def _check(user: Any, action: str, consortium_id: int | None) -> None:
    if user is not None:
        require(user, action, AREA, consortium_id=consortium_id)


def _save_validated(instance: Any) -> Any:
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise ValidationError(_("This would break a rule of business calendars: %(detail)s") % {"detail": exc}) from exc
    return instance


def _normalised_periods(periods: PeriodsInput) -> business_time.WeeklyHours:
    """Valid weekly hours with at least one period: a calendar that never opens would make every
    due date and deadline unreachable (the business-time functions raise NoBusinessTime)."""
    try:
        weekly = business_time.normalise_periods(periods)
    except ValueError as exc:
        raise ValidationError({"periods": str(exc)}) from exc
    if not weekly:
        raise ValidationError({"periods": _("A calendar needs at least one working period.")})
    return weekly


def _set_periods(calendar: BusinessCalendar, periods: PeriodsInput) -> None:
    """Make the calendar's periods exactly `periods`; unchanged rows are kept (and stay out of the history)."""
    wanted = {(weekday, start, end) for weekday, day in _normalised_periods(periods).items() for start, end in day}
    existing = {(p.weekday, p.start, p.end): p for p in calendar.periods.all()}
    for key, row in existing.items():
        if key not in wanted:
            row.delete()
    for weekday, start, end in sorted(wanted - set(existing)):
        _save_validated(WorkingPeriod(calendar=calendar, weekday=weekday, start=start, end=end))


def _closure_fields(item: ClosureInput) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return {"date": item["date"], "end_date": item.get("end_date"), "reason": item.get("reason", "")}
    date, end_date, reason = item
    return {"date": date, "end_date": end_date, "reason": reason}


def _touch(calendar: BusinessCalendar) -> None:
    # Moves updated_at only; the audit receiver records nothing for a save that changed no field.
    calendar.save(update_fields=["updated_at"])
    _forget_cached(calendar)


def _forget_cached(calendar: BusinessCalendar) -> None:
    """Drop what the instance remembers of its parts (prefetched rows, its open-now status)."""
    prefetched = getattr(calendar, "_prefetched_objects_cache", {})
    prefetched.pop("periods", None)
    prefetched.pop("closures", None)
    calendar.__dict__.pop("status_now", None)


@transaction.atomic
def calendar_create(*, user: Any, consortium: Consortium | None, name: str, timezone: str,
                    holiday_country: str = "", holiday_subdivision: str = "",
                    periods: PeriodsInput | None = None, closures: Iterable[ClosureInput] = (),
                    is_orcid_default: bool = False) -> BusinessCalendar:
    """A calendar for `consortium` (None: one of ORCID's). `periods` defaults to Mon-Fri 09:00-17:00."""
    _check(user, ADD, consortium.pk if consortium is not None else None)
    calendar = BusinessCalendar(consortium=consortium, name=name, timezone=timezone, holiday_country=holiday_country,
                                holiday_subdivision=holiday_subdivision, is_orcid_default=is_orcid_default)
    weekly = _normalised_periods(business_time.default_weekly_hours() if periods is None else periods)
    _save_validated(calendar)
    _set_periods(calendar, weekly)
    for item in closures:
        _save_validated(ClosureDay(calendar=calendar, **_closure_fields(item)))
    return calendar


@transaction.atomic
def calendar_update(*, user: Any, calendar: BusinessCalendar, periods: PeriodsInput | None = None,
                    **data: Any) -> BusinessCalendar:
    """Change any of name, timezone, holiday_country, holiday_subdivision, is_orcid_default, and
    (when given) replace the weekly `periods`. A calendar cannot move to another consortium."""
    _check(user, CHANGE, calendar.consortium_id)
    if "consortium" in data:
        new = data.pop("consortium")
        if (new.pk if new is not None else None) != calendar.consortium_id:
            raise ValidationError({"consortium": _("A calendar cannot move to another consortium.")})
    unknown = set(data) - set(UPDATABLE_FIELDS)
    if unknown:
        raise TypeError(f"calendar_update() got unexpected fields: {', '.join(sorted(unknown))}")
    if data.get("is_orcid_default") and not calendar.is_orcid_default:
        # Moving ORCID's default is ORCID's decision; the old default gives way in the same transaction.
        _check(user, CHANGE, None)
        for old in BusinessCalendar.objects.select_for_update().filter(is_orcid_default=True).exclude(pk=calendar.pk):
            old.is_orcid_default = False
            old.save()
    for name, value in data.items():
        setattr(calendar, name, value)
    _save_validated(calendar)
    if periods is not None:
        _set_periods(calendar, periods)
        _touch(calendar)
    _forget_cached(calendar)
    return calendar


@transaction.atomic
def closure_add(*, user: Any, calendar: BusinessCalendar, date: dt.date, end_date: dt.date | None = None,
                reason: str) -> ClosureDay:
    """Close the calendar on `date` (through `end_date`, for a range). Closures are part of the
    calendar, so this needs the right to change it."""
    _check(user, CHANGE, calendar.consortium_id)
    closure = _save_validated(ClosureDay(calendar=calendar, date=date, end_date=end_date, reason=reason))
    _touch(calendar)
    return closure


@transaction.atomic
def closure_remove(*, user: Any, closure: ClosureDay) -> None:
    calendar = closure.calendar
    _check(user, CHANGE, calendar.consortium_id)
    closure.delete()
    _touch(calendar)


# --- Defaults ----------------------------------------------------------------------------------------

def _holiday_country_of(consortium: Consortium) -> str:
    code = str(consortium.country or "").upper()
    try:
        return business_time.normalise_holiday_region(code, "")[0]
    except business_time.HolidayRegionError:
        return ""  # the holidays package does not know this country: closures only


def default_calendar_for(consortium: Consortium) -> BusinessCalendar:
    """The consortium's calendar, created (as a system action) if it has none: Mon-Fri 09:00-17:00 in
    the consortium's timezone with its country's public holidays. Safe against a concurrent creator."""
    existing = BusinessCalendar.objects.filter(consortium=consortium).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return calendar_create(user=None, consortium=consortium,
                                   name=_("%(consortium)s business hours") % {"consortium": consortium.name},
                                   timezone=consortium.timezone, holiday_country=_holiday_country_of(consortium))
    except (IntegrityError, ValidationError):
        existing = BusinessCalendar.objects.filter(consortium=consortium).first()
        if existing is None:
            raise
        return existing


def default_orcid_calendar() -> BusinessCalendar:
    """ORCID's default calendar, created (as a system action) if missing: UTC, Mon-Fri 09:00-17:00,
    no public holidays (ORCID is international; add closures for its own closed days)."""
    existing = BusinessCalendar.objects.filter(is_orcid_default=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return calendar_create(user=None, consortium=None, name=ORCID_DEFAULT_NAME,
                                   timezone=ORCID_DEFAULT_TIMEZONE, is_orcid_default=True)
    except (IntegrityError, ValidationError):
        existing = BusinessCalendar.objects.filter(is_orcid_default=True).first()
        if existing is None:
            raise
        return existing


@transaction.atomic
def ensure_default_calendars() -> list[BusinessCalendar]:
    """Create ORCID's default calendar and one for every consortium without a calendar; return those
    created. Idempotent: running it again creates nothing."""
    created: list[BusinessCalendar] = []
    if not BusinessCalendar.objects.filter(is_orcid_default=True).exists():
        created.append(default_orcid_calendar())
    for consortium in Consortium.objects.filter(business_calendars__isnull=True).order_by("pk"):
        created.append(default_calendar_for(consortium))
    return created
