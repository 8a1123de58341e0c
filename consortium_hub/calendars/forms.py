from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from consortium_hub.calendars import business_time
from consortium_hub.calendars.models import BusinessCalendar, ClosureDay
from consortium_hub.directory import identifiers


def holiday_country_choices() -> list[tuple[str, str]]:
    supported = business_time.supported_holiday_regions()
    named = sorted(((code, countries.name(code) or code) for code in supported), key=lambda c: c[1])
    return [("", _("No public holidays")), *named]


class CalendarForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    timezone = forms.ChoiceField(label=_("Timezone"), choices=identifiers.timezone_choices)
    holiday_country = forms.ChoiceField(label=_("Public holidays of"), choices=holiday_country_choices,
                                        required=False)
    holiday_subdivision = forms.CharField(
        label=_("Holiday subdivision"), required=False, max_length=40,
        help_text=_("Optional state or region with its own holidays, e.g. QLD (Queensland), ENG (England)."))
    weekly_hours = forms.CharField(
        label=_("Weekly working hours"), widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_("One day or run of days per line, e.g. “Mon-Thu 09:00-12:30, 13:30-17:00” and "
                    "“Fri 09:00-15:00”. Days not listed are closed."))

    def __init__(self, *args: Any, calendar: BusinessCalendar | None = None, **kwargs: Any) -> None:
        if calendar is not None:
            kwargs.setdefault("initial", {
                "name": calendar.name, "timezone": calendar.timezone, "holiday_country": calendar.holiday_country,
                "holiday_subdivision": calendar.holiday_subdivision,
                "weekly_hours": business_time.format_weekly_hours(
                    _periods_of(calendar)),
            })
        super().__init__(*args, **kwargs)
        for name in ("holiday_subdivision", "weekly_hours"):
            self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_helptext"

    def clean_weekly_hours(self) -> business_time.WeeklyHours:
        try:
            weekly = business_time.parse_weekly_hours(self.cleaned_data["weekly_hours"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if not weekly:
            raise forms.ValidationError(_("A calendar needs at least one working period."))
        return weekly

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            data["holiday_country"], data["holiday_subdivision"] = business_time.normalise_holiday_region(
                data.get("holiday_country", ""), data.get("holiday_subdivision", ""))
        except business_time.HolidayRegionError as exc:
            self.add_error(exc.field, str(exc))
        return data

    def service_data(self) -> dict[str, Any]:
        """The cleaned data as calendar_create/calendar_update take it."""
        data = dict(self.cleaned_data)
        data["periods"] = data.pop("weekly_hours")  # the service says "periods"
        return data


def _periods_of(calendar: BusinessCalendar) -> dict[int, list[tuple]]:
    periods: dict[int, list[tuple]] = {}
    for p in calendar.periods.all():
        periods.setdefault(p.weekday, []).append((p.start, p.end))
    return periods


class ClosureForm(forms.ModelForm):
    class Meta:
        model = ClosureDay
        fields = ["date", "end_date", "reason"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}), "end_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_helptext"
