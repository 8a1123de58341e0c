import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from consortium_hub.audit.context import acting_as
from consortium_hub.onboarding.services.plans import catch_up_reminders


class Command(BaseCommand):
    help = ("Send overdue onboarding task reminders now, catching up on every day the daily job missed "
            "(each day and each reminder step goes out once, however often this runs).")

    def add_arguments(self, parser):
        parser.add_argument("--today", help="Treat this date (YYYY-MM-DD) as today.")

    def handle(self, *args, **options):
        try:
            today = dt.date.fromisoformat(options["today"]) if options["today"] else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--today: {exc}") from exc
        with acting_as(None, via="command"):
            sent = catch_up_reminders(today=today)
        self.stdout.write(f"{sent} reminder(s) sent.")
