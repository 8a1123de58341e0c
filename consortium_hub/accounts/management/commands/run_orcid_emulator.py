from django.conf import settings
from django.core.management.base import BaseCommand

from orcid_emulator.__main__ import main as emulator_main


class Command(BaseCommand):
    help = ("Run the bundled ORCID emulator (OAuth/OpenID Connect) for development, registered with this hub's "
            "ORCID client id, secret and callback.")

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8090)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, **options):
        emulator_main([
            "--host", options["host"], "--port", str(options["port"]),
            "--client-id", settings.ORCID_CLIENT_ID or "APP-DEMO",
            "--client-secret", settings.ORCID_CLIENT_SECRET or "demo-secret",
            "--client-name", "Consortium Hub",
            "--redirect-uri", settings.SITE_URL + "/accounts/oidc/orcid/",
        ])
