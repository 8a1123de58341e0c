from django.conf import settings
from django.core.management.base import BaseCommand

from orcid_emulator.__main__ import main as emulator_main


class Command(BaseCommand):
    help = ("Run the bundled ORCID emulator (OAuth/OpenID Connect, member and public API) for development, "
            "registered with this hub's ORCID client id, secret and callbacks.")

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8090)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-rate-limit", action="store_true",
                            help="do not throttle API calls (by default it limits like ORCID: 24/s per client)")

    def handle(self, *args, **options):
        emulator_main([
            "--host", options["host"], "--port", str(options["port"]),
            "--client-id", settings.ORCID_CLIENT_ID or "APP-DEMO",
            "--client-secret", settings.ORCID_CLIENT_SECRET or "demo-secret",
            "--client-name", "Consortium Hub",
            "--redirect-uri", settings.SITE_URL + "/accounts/oidc/orcid/",
            # Researchers granting a member permission to update their record come back here.
            "--redirect-uri", settings.SITE_URL + "/orcid/permission/callback/",
            *(["--no-rate-limit"] if options["no_rate_limit"] else []),
        ])
