"""Sign in with ORCID, end to end against the bundled emulator over real HTTP (no mocks)."""

from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from consortium_hub.core.roles import Role
from consortium_hub.core.testing import factories as f
from orcid_emulator import Client, EmulatorServer
from orcid_emulator.testing import submit_consent

pytestmark = pytest.mark.django_db

CALLBACK_PREFIX = "http://testserver/accounts/oidc/orcid/"


@pytest.fixture
def orcid():
    with EmulatorServer(clients=[Client("APP-TEST", "test-secret", redirect_uris=[CALLBACK_PREFIX],
                                        name="Consortium Hub")]) as server:
        providers = {"openid_connect": {"APPS": [{
            "provider_id": "orcid", "name": "ORCID", "client_id": "APP-TEST", "secret": "test-secret",
            "settings": {"server_url": server.base_url, "scope": ["openid"]},
        }]}}
        with override_settings(SOCIALACCOUNT_PROVIDERS=providers):
            yield server


def _sign_in_through_orcid(client, orcid_id, process=""):
    start = client.post("/accounts/oidc/orcid/login/" + (f"?process={process}" if process else ""))
    assert start.status_code == 302 and start["Location"].startswith("http://127.0.0.1"), start
    location = submit_consent(start["Location"], orcid=orcid_id)
    callback = urlsplit(location)
    assert callback.path == "/accounts/oidc/orcid/login/callback/"
    return client.get(callback.path + "?" + callback.query)


def test_user_with_linked_orcid_id_signs_in(orcid, client):
    record = orcid.state.add_record("Ada", "Lovelace", "ada@example.org")
    user = f.UserFactory(email="ada@member.example", orcid_id=record.orcid)
    org = f.OrganisationFactory()
    f.RoleAssignmentFactory(user=user, role=Role.MEMBER_CONTACT, consortium=org.consortium, organisation=org)

    response = _sign_in_through_orcid(client, record.orcid)

    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(user.pk)
    assert client.get("/").status_code == 200


def test_unknown_orcid_id_does_not_sign_in_or_create_an_account(orcid, client):
    record = orcid.state.add_record("Eve", "Stranger", "eve@example.org")
    users_before = get_user_model().objects.count()

    _sign_in_through_orcid(client, record.orcid)

    assert "_auth_user_id" not in client.session
    assert get_user_model().objects.count() == users_before


def test_connecting_orcid_links_the_verified_id_to_the_signed_in_user(orcid, client):
    record = orcid.state.add_record("Grace", "Hopper", "grace@example.org")
    user = f.UserFactory(email="grace@member.example")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")

    _sign_in_through_orcid(client, record.orcid, process="connect")

    user.refresh_from_db()
    assert user.orcid_id == record.orcid
    # From now on ORCID alone signs this user in.
    client.logout()
    _sign_in_through_orcid(client, record.orcid)
    assert client.session.get("_auth_user_id") == str(user.pk)


def test_denied_consent_signs_nobody_in(orcid, client):
    record = orcid.state.add_record("Dan", "Denied", "dan@example.org")
    f.UserFactory(email="dan@member.example", orcid_id=record.orcid)
    start = client.post("/accounts/oidc/orcid/login/")
    location = submit_consent(start["Location"], orcid=record.orcid, action="deny")
    callback = urlsplit(location)
    client.get(callback.path + "?" + callback.query)
    assert "_auth_user_id" not in client.session
