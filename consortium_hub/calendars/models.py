"""Business calendars: when a consortium (or ORCID) is open, for everything that counts business time.

The counting itself lives in `business_time.py` (pure functions of a `CalendarSpec`); these models
store one calendar's timezone, holiday region, weekly working periods and custom closures.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _

from consortium_hub.calendars import business_time
from consortium_hub.core.models import DomainModel
from consortium_hub.directory import identifiers

# A closure range longer than this is almost certainly a typo (e.g. the wrong year).
MAX_CLOSURE_DAYS = 366


class BusinessCalendar(DomainModel):
    access_area = "calendars"
    consortium_path = "consortium"
    # Members see their consortium's calendar: when is their support desk open?
    shared_with_members = True

    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(_("timezone"), max_length=64, validators=[identifiers.validate_timezone],
                                help_text=_("Working hours are wall-clock times in this timezone."))
    holiday_country = models.CharField(_("holiday country"), max_length=2, blank=True,
                                       help_text=_("Public holidays of this country (ISO code, e.g. GB) are closed "
                                                   "days. Blank: none."))
    holiday_subdivision = models.CharField(_("holiday subdivision"), max_length=40, blank=True,
                                           help_text=_("State or region with its own holidays, e.g. QLD, ENG."))
    consortium = models.ForeignKey("directory.Consortium", verbose_name=_("consortium"), null=True, blank=True,
                                   on_delete=models.CASCADE, related_name="business_calendars",
                                   help_text=_("Blank: one of ORCID's calendars."))
    is_orcid_default = models.BooleanField(_("ORCID's default calendar"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [
            # One calendar answers "when is ORCID open?" for every feature that asks.
            models.UniqueConstraint(fields=["is_orcid_default"], condition=Q(is_orcid_default=True),
                                    name="calendar_one_orcid_default",
                                    violation_error_message=_("ORCID already has a default calendar.")),
            # One calendar answers "when is this consortium open?" (onboarding, support, communiqués).
            models.UniqueConstraint(fields=["consortium"], condition=Q(consortium__isnull=False),
                                    name="calendar_one_per_consortium",
                                    violation_error_message=_("This consortium already has a business calendar.")),
            # ORCID's default belongs to ORCID, not to a consortium.
            models.CheckConstraint(condition=Q(is_orcid_default=False) | Q(consortium__isnull=True),
                                   name="calendar_orcid_default_has_no_consortium",
                                   violation_error_message=_("ORCID's default calendar cannot belong to a "
                                                             "consortium.")),
            # A subdivision means nothing without its country.
            models.CheckConstraint(condition=Q(holiday_subdivision="") | ~Q(holiday_country=""),
                                   name="calendar_subdivision_needs_country",
                                   violation_error_message=_("Choose the holiday country of this subdivision.")),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("calendars:calendar_detail", args=[self.pk])

    @property
    def is_orcid_calendar(self) -> bool:
        return self.consortium_id is None

    def clean(self) -> None:
        try:
            self.holiday_country, self.holiday_subdivision = business_time.normalise_holiday_region(
                self.holiday_country, self.holiday_subdivision)
        except business_time.HolidayRegionError as exc:
            raise ValidationError({exc.field: str(exc)}) from exc

    def spec(self) -> business_time.CalendarSpec:
        return business_time.spec_for(self)

    @cached_property
    def status_now(self) -> business_time.OpeningStatus:
        """Open now (until when) or closed (next opening), for pages."""
        return business_time.opening_status(self.spec(), django_timezone.now())


class WorkingPeriod(DomainModel):
    """One stretch of working time on one weekday; a split shift is several rows."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    access_area = "calendars"
    consortium_path = "calendar__consortium"
    shared_with_members = True

    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="periods")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("opens"))
    end = models.TimeField(_("closes"))

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        constraints = [
            # A period ends the day it starts; overlaps between rows are checked in clean().
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="working_period_end_after_start",
                                   violation_error_message=_("A working period must end after it starts.")),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="working_period_weekday_range"),
        ]

    def __str__(self) -> str:
        return (f"{business_time.WEEKDAY_ABBREVIATIONS[self.weekday]} "
                f"{self.start:%H:%M}-{self.end:%H:%M}")

    def get_absolute_url(self) -> str:
        return self.calendar.get_absolute_url()

    def clean(self) -> None:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValidationError({"end": _("A working period must end after it starts.")})
        if self.calendar_id and self.start is not None and self.end is not None:
            overlapping = (WorkingPeriod.objects.filter(calendar_id=self.calendar_id, weekday=self.weekday,
                                                        start__lt=self.end, end__gt=self.start)
                           .exclude(pk=self.pk).first())
            if overlapping is not None:
                raise ValidationError(_("%(new)s overlaps %(old)s.") % {"new": self, "old": overlapping})


class ClosureDay(DomainModel):
    """A custom closed day or range of days ("Christmas closure"), on top of public holidays."""

    access_area = "calendars"
    consortium_path = "calendar__consortium"
    shared_with_members = True

    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="closures")
    date = models.DateField(_("date"), help_text=_("The (first) closed day."))
    end_date = models.DateField(_("last day"), null=True, blank=True,
                                help_text=_("For a range of days: the last closed day."))
    reason = models.CharField(_("reason"), max_length=200, help_text=_("e.g. Christmas closure"))

    class Meta:
        ordering = ["calendar", "date"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=F("date")),
                                   name="closure_end_not_before_start",
                                   violation_error_message=_("The last day cannot be before the first.")),
        ]
        indexes = [models.Index(fields=["calendar", "date"])]

    def __str__(self) -> str:
        if self.end_date and self.end_date != self.date:
            return f"{self.reason} ({self.date:%Y-%m-%d} – {self.end_date:%Y-%m-%d})"
        return f"{self.reason} ({self.date:%Y-%m-%d})"

    def get_absolute_url(self) -> str:
        return self.calendar.get_absolute_url()

    @property
    def last_day(self) -> dt.date:
        return self.end_date or self.date

    def days(self) -> list[dt.date]:
        return [self.date + dt.timedelta(days=i) for i in range((self.last_day - self.date).days + 1)]

    def clean(self) -> None:
        if self.date and self.end_date:
            if self.end_date < self.date:
                raise ValidationError({"end_date": _("The last day cannot be before the first.")})
            if (self.end_date - self.date).days >= MAX_CLOSURE_DAYS:
                raise ValidationError({"end_date": _("A closure can last at most %(n)d days.")
                                       % {"n": MAX_CLOSURE_DAYS}})


# History of these shows on their calendar's History tab.
WorkingPeriod.audit_parent = "calendar"
ClosureDay.audit_parent = "calendar"
