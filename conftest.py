import os

import pytest


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` (row locking under concurrency) run only against PostgreSQL."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return
    kept = [item for item in items if item.get_closest_marker("postgres") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept

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
