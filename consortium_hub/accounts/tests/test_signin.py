"""Password sign-in, the TOTP second factor ORCID staff and lead admins must use, and throttling."""

import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.urls import reverse

from consortium_hub.core.roles import Role
from consortium_hub.core.testing import factories as f

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def _current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))


@pytest.fixture
def lead_admin():
    consortium = f.ConsortiumFactory()
    user = f.UserFactory(email="lead@example.org")
    f.RoleAssignmentFactory(user=user, role=Role.LEAD_ADMIN, consortium=consortium)
    return user


def test_password_sign_in_works_for_a_member_contact(client):
    org = f.OrganisationFactory()
    user = f.UserFactory(email="member@example.org")
    f.RoleAssignmentFactory(user=user, role=Role.MEMBER_CONTACT, consortium=org.consortium, organisation=org)
    response = client.post(reverse("account_login"), {"login": "member@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("core:home")).status_code == 200


def test_lead_admin_without_totp_must_set_it_up_first(client, lead_admin):
    client.post(reverse("account_login"), {"login": lead_admin.email, "password": PASSWORD})
    response = client.get(reverse("directory:organisation_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_lead_admin_with_totp_needs_the_code_to_sign_in(client, lead_admin):
    secret = generate_totp_secret()
    TOTP.activate(lead_admin, secret)

    response = client.post(reverse("account_login"), {"login": lead_admin.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("core:home")).status_code == 302  # not signed in yet

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000" if _current_code(secret) != "000000"
                                                      else "111111"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session

    client.post(reverse("mfa_authenticate"), {"code": _current_code(secret)})
    assert client.session.get("_auth_user_id") == str(lead_admin.pk)
    assert client.get(reverse("directory:organisation_list")).status_code == 200


def test_repeated_failed_sign_ins_are_throttled(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = f.UserFactory(email="target@example.org")
    for _ in range(3):
        client.post(reverse("account_login"), {"login": user.email, "password": "wrong password"})
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
