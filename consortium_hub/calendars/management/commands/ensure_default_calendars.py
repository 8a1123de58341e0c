from django.core.management.base import BaseCommand

from consortium_hub.audit.context import acting_as
from consortium_hub.calendars.services import ensure_default_calendars


class Command(BaseCommand):
    help = "Create ORCID's default business calendar and one for every consortium without a calendar (idempotent)."

    def handle(self, *args, **options) -> None:
        with acting_as(None, via="command"):
            created = ensure_default_calendars()
        for calendar in created:
            self.stdout.write(f"Created {calendar} ({calendar.timezone})")
        self.stdout.write(self.style.SUCCESS(f"{len(created)} calendar(s) created."))
