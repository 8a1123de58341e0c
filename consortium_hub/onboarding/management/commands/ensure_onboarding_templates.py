from django.core.management.base import BaseCommand

from consortium_hub.audit.context import acting_as
from consortium_hub.onboarding.services.plans import ensure_orcid_templates


class Command(BaseCommand):
    help = ("Create ORCID's ready-made onboarding plan templates (new-consortium checklist, member plan, "
            "support-staff plan) if they are missing. Safe to run again.")

    def handle(self, *args, **options):
        with acting_as(None, via="command"):
            created = ensure_orcid_templates()
        for template in created:
            self.stdout.write(f"Created {template.name} ({template.tasks.count()} tasks)")
        if not created:
            self.stdout.write("ORCID's onboarding templates already exist.")
