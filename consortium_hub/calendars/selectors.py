"""Reads of business calendars.

Page and API selectors start from `visible_to(user)`. `calendar_for_consortium` and `orcid_calendar`
are for other features' code (onboarding due dates, support SLAs, communiqués) that has already
checked access to the consortium: they are not scoped to a user and create the default calendar,
as a system action, when it is missing. Use `business_time.spec_for(calendar)` to count with it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from consortium_hub.calendars import business_time, services
from consortium_hub.calendars.models import BusinessCalendar, ClosureDay
from consortium_hub.directory.models import Consortium


def calendar_list(*, user: Any) -> QuerySet[BusinessCalendar]:
    """Calendars the user may see, with everything a row (and its open-now status) needs."""
    return (BusinessCalendar.objects.visible_to(user)
            .select_related("consortium")
            .prefetch_related("periods", "closures"))


def closure_list(*, user: Any) -> QuerySet[ClosureDay]:
    return ClosureDay.objects.visible_to(user).select_related("calendar")


def calendar_for_consortium(consortium: Consortium) -> BusinessCalendar:
    """The consortium's business calendar, created with the defaults if it has none."""
    return services.default_calendar_for(consortium)


def orcid_calendar() -> BusinessCalendar:
    """ORCID's default calendar, created with the defaults if missing."""
    return services.default_orcid_calendar()


def spec_for_consortium(consortium: Consortium) -> business_time.CalendarSpec:
    """Shortcut: the CalendarSpec of the consortium's calendar."""
    return business_time.spec_for(calendar_for_consortium(consortium))
