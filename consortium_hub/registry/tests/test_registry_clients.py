"""A consortium's own ORCID member API credentials: services/registry_clients.py."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from consortium_hub.registry.models import RegistryClient
from consortium_hub.registry.services.registry_clients import registry_client_save


def test_lead_admin_saves_credentials_and_the_secret_is_stored_encrypted(cast):
    saved = registry_client_save(user=cast["lead_admin_a"], consortium=cast.consortium_a, client_id="APP-A000000001",
                                 client_secret="s3cret-value", rate_per_second=12)
    assert RegistryClient.objects.get(pk=saved.pk).client_secret == "s3cret-value"
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM registry_registryclient WHERE id = %s", [saved.pk])
        (raw,) = cursor.fetchone()
    assert "s3cret-value" not in raw
    # An empty secret keeps the stored one.
    registry_client_save(user=cast["lead_admin_a"], consortium=cast.consortium_a, client_id="APP-A000000001")
    assert RegistryClient.objects.get(pk=saved.pk).client_secret == "s3cret-value"


@pytest.mark.parametrize("rate", [0, 41, 30000])
def test_a_rate_outside_orcids_limits_is_refused(cast, rate):
    with pytest.raises(ValidationError) as raised:
        registry_client_save(user=cast["lead_admin_a"], consortium=cast.consortium_a, client_id="APP-A000000001",
                             client_secret="s", rate_per_second=rate)
    assert "rate_per_second" in raised.value.message_dict


def test_one_client_id_belongs_to_one_consortium(cast):
    """The writer paces and locks per client id: sharing one would let a consortium set another's pace."""
    registry_client_save(user=cast["lead_admin_a"], consortium=cast.consortium_a, client_id="APP-SHARED00001",
                         client_secret="s")
    with pytest.raises(ValidationError) as raised:
        registry_client_save(user=cast["lead_admin_b"], consortium=cast.consortium_b, client_id="APP-SHARED00001",
                             client_secret="s")
    assert "client_id" in raised.value.message_dict


def test_the_hubs_own_client_cannot_be_claimed_by_a_consortium(cast, settings):
    settings.ORCID_MEMBER_CLIENT_ID = "APP-HUB000000001"
    with pytest.raises(ValidationError) as raised:
        registry_client_save(user=cast["lead_admin_a"], consortium=cast.consortium_a, client_id="APP-HUB000000001",
                             client_secret="s")
    assert "client_id" in raised.value.message_dict


def test_only_the_consortiums_admins_save_its_credentials(cast):
    for name in ("lead_support_a", "lead_admin_b", "member_contact_a"):
        with pytest.raises(PermissionDenied):
            registry_client_save(user=cast[name], consortium=cast.consortium_a, client_id="APP-A000000001",
                                 client_secret="s")
