"""Fixtures for the headless-Chromium tests: Debian's Chromium, a live server and signed-in people."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery"  # what factories.UserFactory sets
# allauth renders its forms with Django's label suffix ("Email:"), so match the label with or without it.
EMAIL_LABEL = re.compile(r"^Email:?$")
PASSWORD_LABEL = re.compile(r"^Password:?$")
CODE_LABEL = re.compile(r"^Code:?$")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch the system Chromium (``playwright install`` is not used here)."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def page(page):
    """pytest-playwright's page, with shorter timeouts so a missing element fails fast."""
    page.set_default_timeout(10_000)
    page.set_default_navigation_timeout(20_000)
    return page


@dataclass
class Person:
    user: Any
    email: str
    totp_secret: str | None = None

    def totp_code(self) -> str:
        """The current TOTP code, waiting for the next period if this one is about to run out."""
        from allauth.mfa import app_settings
        from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

        period = app_settings.TOTP_PERIOD
        if period - time.time() % period < 3:  # allauth allows no tolerance by default
            time.sleep(period - time.time() % period + 0.2)
        return format_hotp_value(hotp_value(self.totp_secret, int(time.time()) // period))


@pytest.fixture
def make_person(transactional_db):
    """A user with one role and (by default) a TOTP authenticator whose secret the test knows."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from consortium_hub.core.testing import factories as f

    def make(email: str, role: str, *, totp: bool = True, **scope: Any) -> Person:
        user = f.UserFactory(email=email, name=email.split("@")[0].replace(".", " ").title())
        f.RoleAssignmentFactory(user=user, role=role, **scope)
        secret = None
        if totp:
            secret = generate_totp_secret()
            TOTP.activate(user, secret)
        return Person(user=user, email=email, totp_secret=secret)

    return make


@pytest.fixture
def consortium_a(transactional_db):
    from consortium_hub.core.testing import factories as f

    return f.ConsortiumFactory(name="Consortium A", country="GB", billing_currency="GBP",
                               timezone="Europe/London")


@pytest.fixture
def lead_admin_a(make_person, consortium_a) -> Person:
    from consortium_hub.core.roles import Role

    return make_person("lead.admin@a.example", Role.LEAD_ADMIN, consortium=consortium_a)


@pytest.fixture
def engagement_lead_a(make_person, consortium_a) -> Person:
    from consortium_hub.core.roles import Role

    person = make_person("engagement.lead@orcid.example", Role.ORCID_ENGAGEMENT)
    consortium_a.engagement_lead = person.user
    consortium_a.save()
    return person


@pytest.fixture
def hub(live_server, page):
    """The live server's address and the sign-in / sign-out steps, driven through the real pages."""
    from playwright.sync_api import expect

    class Hub:
        base = live_server.url

        def url(self, path: str) -> str:
            return self.base + path

        def goto(self, path: str):
            return page.goto(self.url(path))

        def sign_in(self, person: Person) -> None:
            self.goto("/accounts/login/")
            page.get_by_label(EMAIL_LABEL).fill(person.email)
            page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
            page.get_by_role("button", name="Sign In").click()
            if person.totp_secret:
                page.wait_for_url("**/accounts/2fa/authenticate/**")
                page.get_by_label(CODE_LABEL).fill(person.totp_code())
                page.get_by_role("button", name="Sign In").click()
            expect(page.get_by_role("button", name="Sign out")).to_be_visible()

        def sign_out(self) -> None:
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_load_state()
            expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    return Hub()
