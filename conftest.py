import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would otherwise refuse DB access.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def cast(db):
    from consortium_hub.core.testing.cast import build_cast

    return build_cast()


@pytest.fixture
def client_for(client):
    """A test client signed in as one member of the cast (or anonymous)."""

    def sign_in(user):
        client.logout()
        if user is not None:
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return sign_in


@pytest.fixture
def api_for():
    from rest_framework.test import APIClient

    def sign_in(user):
        api = APIClient()
        if user is not None:
            api.force_authenticate(user)
        return api

    return sign_in
