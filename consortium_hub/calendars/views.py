from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consortium_hub.calendars import business_time, selectors, services
from consortium_hub.calendars.filters import CalendarFilter
from consortium_hub.calendars.forms import CalendarForm, ClosureForm
from consortium_hub.calendars.models import BusinessCalendar, ClosureDay, WorkingPeriod
from consortium_hub.core.access import access_scope, get_for_user_or_404
from consortium_hub.core.roles import CHANGE
from consortium_hub.core.viewkit import HistoryPage, ListPage, form_page
from consortium_hub.directory.models import Consortium


def _with_parts():
    return BusinessCalendar.objects.select_related("consortium").prefetch_related("periods", "closures")


class CalendarList(ListPage):
    area = "calendars"
    title = gettext_lazy("Business calendars")
    selector = staticmethod(selectors.calendar_list)
    filterset_class = CalendarFilter
    template_name = "calendars/calendar_list.html"
    partial_template_name = "calendars/_calendar_table.html"


def _one_year_on(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


@login_required
def calendar_detail(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = get_for_user_or_404(request.user, _with_parts(), pk=pk)
    spec = calendar.spec()
    now = timezone.now()
    today = now.astimezone(spec.tz).date()
    by_day: dict[int, list[WorkingPeriod]] = {}
    for period in calendar.periods.all():
        by_day.setdefault(period.weekday, []).append(period)
    week = [{"label": label, "periods": by_day.get(value, [])} for value, label in WorkingPeriod.Weekday.choices]
    return render(request, "calendars/calendar_detail.html", {
        "calendar": calendar,
        "status": business_time.opening_status(spec, now),
        "week": week,
        "holidays": business_time.holidays_between(spec, today, _one_year_on(today) - dt.timedelta(days=1)),
        "closures": [c for c in calendar.closures.all() if c.last_day >= today],
        "can_change": access_scope(request.user).can(CHANGE, calendar),
    })


@login_required
def calendar_edit(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = get_for_user_or_404(request.user, _with_parts(), CHANGE, pk=pk)
    form = CalendarForm(request.POST or None, calendar=calendar)
    return form_page(request, form=form, template="calendars/form.html",
                     save=lambda data: services.calendar_update(user=request.user, calendar=calendar,
                                                                **form.service_data()),
                     success_url=lambda obj: obj.get_absolute_url(), success_message=_("Calendar saved."),
                     context={"title": _("Edit %(name)s") % {"name": calendar}, "object": calendar})


class CalendarHistory(HistoryPage):
    model = BusinessCalendar


@login_required
def closure_add(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = get_for_user_or_404(request.user, BusinessCalendar, CHANGE, pk=pk)
    form = ClosureForm(request.POST or None)
    return form_page(request, form=form, template="calendars/form.html",
                     save=lambda data: services.closure_add(user=request.user, calendar=calendar, **data),
                     success_url=calendar.get_absolute_url(), success_message=_("Closure added."),
                     context={"title": _("Add a closure to %(name)s") % {"name": calendar}, "object": calendar})


@login_required
def closure_remove(request: HttpRequest, pk: int) -> HttpResponse:
    closure = get_for_user_or_404(request.user, ClosureDay.objects.select_related("calendar"), CHANGE, pk=pk)
    if request.method == "POST":
        try:
            services.closure_remove(user=request.user, closure=closure)
        except ValidationError as exc:
            return render(request, "calendars/confirm_remove.html", {"object": closure, "errors": exc.messages})
        return redirect(closure.calendar.get_absolute_url())
    return render(request, "calendars/confirm_remove.html", {"object": closure})


@login_required
def consortium_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    """The consortium's calendar (created with the defaults on first use), for links from other areas."""
    consortium = get_for_user_or_404(request.user, Consortium, pk=pk)
    calendar = selectors.calendar_for_consortium(consortium)
    calendar = get_for_user_or_404(request.user, BusinessCalendar, pk=calendar.pk)
    return redirect(calendar.get_absolute_url())
