"""Ingest a consortium's support mailbox (a Maildir) into tickets.

    manage.py fetch_support_mail --maildir /var/mail/support-jisc --consortium 3

--maildir     the Maildir the consortium's support address delivers to (new/, cur/, tmp/).
--consortium  the id of the consortium that address belongs to: every message in the Maildir is for
              that consortium's desk (one Maildir per consortium; run the command once per mailbox).

Each message in new/ is threaded onto its ticket, becomes a new ticket, or is refused (see
consortium_hub/support/services/inbound.py); it then moves to cur/ with flag S (F too when a person
should look: oversize or automatic mail). Messages that fail stay whole in the Maildir's .errors/
folder; move one back to new/ to retry it. Nothing is deleted. Run it from cron (e.g. every minute,
under `flock` so runs do not overlap; overlapping runs are safe but wasteful).
"""

from django.core.management.base import BaseCommand, CommandError

from consortium_hub.audit.context import acting_as
from consortium_hub.directory.models import Consortium
from consortium_hub.support.services.inbound import fetch_maildir


class Command(BaseCommand):
    help = ("Ingest the support mailbox (Maildir) of one consortium: replies thread onto their tickets, new mail "
            "becomes tickets; processed messages move to cur/, failed ones to the .errors folder.")

    def add_arguments(self, parser):
        parser.add_argument("--maildir", required=True, help="Path of the Maildir (with new/, cur/, tmp/).")
        parser.add_argument("--consortium", required=True, type=int,
                            help="Id of the consortium whose support address delivers to this Maildir.")

    def handle(self, *args, **options):
        consortium = Consortium.objects.filter(pk=options["consortium"]).first()
        if consortium is None:
            raise CommandError(f"--consortium: there is no consortium with id {options['consortium']}.")
        with acting_as(None, via="command:fetch_support_mail"):
            try:
                report = fetch_maildir(maildir_path=options["maildir"], consortium=consortium)
            except FileNotFoundError as exc:
                raise CommandError(f"--maildir: {exc}") from exc
        for key, result in report.results:
            ticket = result.ticket.reference if result.ticket is not None else "-"
            self.stdout.write(f"{key}: {result.outcome.value} {ticket} {result.detail}".rstrip())
        for key, error in report.errors:
            self.stderr.write(f"{key}: error (kept in .errors/): {error}")
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.counts().items())) or "no new mail"
        self.stdout.write(f"{consortium}: {summary}.")
        if report.errors:
            raise CommandError(f"{len(report.errors)} message(s) could not be ingested; they are in .errors/.")
