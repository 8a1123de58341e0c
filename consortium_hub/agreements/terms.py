"""Date arithmetic of agreement terms: pure functions, no database.

Member agreements follow the membership rule: they start on the 1st of a month and end on the
last day of a month. A renewal's next term starts the day after the current one ends and runs for
`term_months` months.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.utils.translation import gettext as _


def last_day_of_month(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by `months` calendar months (the 31st becomes the month's last day when needed)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_term(*, end_date: dt.date, term_months: int, month_aligned: bool) -> tuple[dt.date, dt.date]:
    """(start, end) of the term after one ending on `end_date`.

    start = the day after the end; end = start + term months − 1 day, moved to the month's last
    day for month-aligned (member) agreements.
    """
    start = end_date + dt.timedelta(days=1)
    end = add_months(start, max(term_months, 1)) - dt.timedelta(days=1)
    if month_aligned:
        end = last_day_of_month(end)
    return start, end


def notice_deadline(*, end_date: dt.date, notice_days: int) -> dt.date:
    """The last day notice can be given: the end date minus the notice period."""
    return end_date - dt.timedelta(days=notice_days or 0)


def month_rule_problems(*, start_date: dt.date | None, end_date: dt.date | None) -> dict[str, str]:
    """Field → message for a member agreement's dates that break the month rule."""
    problems: dict[str, str] = {}
    if start_date and start_date.day != 1:
        first = start_date.replace(day=1)
        problems["start_date"] = _(
            "A member agreement starts on the 1st of a month, like the membership: %(day)s is not. "
            "Did you mean %(first)s?") % {"day": start_date.isoformat(), "first": first.isoformat()}
    if end_date and end_date != last_day_of_month(end_date):
        problems["end_date"] = _(
            "A member agreement ends on the last day of a month, like the membership: %(day)s is not. "
            "Did you mean %(last)s?") % {"day": end_date.isoformat(), "last": last_day_of_month(end_date).isoformat()}
    return problems
