from django.core.management.base import BaseCommand

from consortium_hub.directory.demo import demo_permission_links, load_demo


class Command(BaseCommand):
    help = "Load the demo consortia, members, contacts and one user per role (idempotent), and print the sign-ins."

    def handle(self, *args, **options):
        sign_ins = load_demo()
        self.stdout.write(self.style.SUCCESS("Demo sign-ins at http://127.0.0.1:8000 (password for all: %s)"
                                             % sign_ins[0][2]))
        for label, email, _password in sign_ins:
            self.stdout.write(f"  {label:<24} {email}")
        self.stdout.write("ORCID staff and lead admins sign in with a second factor: "
                          "`.venv/bin/python manage.py demo_totp` prints the current code.")
        links = demo_permission_links()
        if links:
            self.stdout.write("Researchers asked to let a member write to their ORCID record (open a link to grant "
                              "access in the ORCID emulator; the affiliation is then written to their record):")
            for email, url in links:
                self.stdout.write(f"  {email:<32} {url}")
