from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "consortium_hub.calendars"
    label = "calendars"
