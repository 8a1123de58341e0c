from __future__ import annotations

from typing import Any

from rest_framework import serializers

from consortium_hub.calendars.models import BusinessCalendar, ClosureDay, WorkingPeriod
from consortium_hub.directory.api.serializers import VisibleRelatedField
from consortium_hub.directory.models import Consortium


class PeriodSerializer(serializers.Serializer):
    weekday = serializers.ChoiceField(choices=WorkingPeriod.Weekday.choices, help_text="0 = Monday .. 6 = Sunday")
    start = serializers.TimeField(format="%H:%M")
    end = serializers.TimeField(format="%H:%M")


class NestedClosureSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClosureDay
        fields = ["id", "date", "end_date", "reason"]


class CalendarSerializer(serializers.ModelSerializer):
    """A calendar with its weekly periods and closures. Writing `periods` replaces them all; closures
    are written through /calendar-closures/."""

    consortium = VisibleRelatedField(model=Consortium, area="calendars", allow_null=True, required=False)
    periods = PeriodSerializer(many=True, required=False)
    closures = NestedClosureSerializer(many=True, read_only=True)
    is_open_now = serializers.SerializerMethodField()
    open_until = serializers.SerializerMethodField()
    next_opening = serializers.SerializerMethodField()

    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "consortium", "timezone", "holiday_country", "holiday_subdivision",
                  "is_orcid_default", "periods", "closures", "is_open_now", "open_until", "next_opening",
                  "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness and the holiday region are reported by the service with clear messages.
        validators: list = []

    def get_is_open_now(self, calendar: BusinessCalendar) -> bool:
        return calendar.status_now.is_open

    def get_open_until(self, calendar: BusinessCalendar) -> str | None:
        """While open: when the current working period ends (in the calendar's timezone)."""
        until = calendar.status_now.closes_at
        return until.isoformat() if until else None

    def get_next_opening(self, calendar: BusinessCalendar) -> str | None:
        """While closed: when it next opens (in the calendar's timezone); null while open or if it never does."""
        at = calendar.status_now.next_opening
        return at.isoformat() if at else None

    def service_data(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        if "periods" in data:
            periods: dict[int, list[tuple]] = {}
            for p in data["periods"]:
                periods.setdefault(int(p["weekday"]), []).append((p["start"], p["end"]))
            data["periods"] = periods
        return data


class ClosureSerializer(serializers.ModelSerializer):
    calendar = VisibleRelatedField(model=BusinessCalendar, area="calendars")

    class Meta:
        model = ClosureDay
        fields = ["id", "calendar", "date", "end_date", "reason", "created_at"]
        read_only_fields = ["created_at"]
        validators: list = []
