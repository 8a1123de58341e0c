"""Writes of a consortium's ORCID member API credentials (the secret is encrypted at rest)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from consortium_hub.core.access import require
from consortium_hub.core.roles import CHANGE
from consortium_hub.directory.models import Consortium
from consortium_hub.registry.models import RegistryClient

AREA = "registry_settings"


@transaction.atomic
def registry_client_save(*, user: Any, consortium: Consortium, client_id: str, client_secret: str = "",
                         rate_per_second: int | None = None) -> RegistryClient:
    """Create or update the consortium's credentials; an empty `client_secret` keeps the stored secret."""
    require(user, CHANGE, AREA, consortium_id=consortium.pk)
    # Locked so two admins saving at once cannot both create the (one-to-one) row.
    client = RegistryClient.objects.select_for_update().filter(consortium=consortium).first()
    if client is None:
        client = RegistryClient(consortium=consortium)
    client.client_id = client_id.strip()
    if client_secret:
        client.client_secret = client_secret
    client.rate_per_second = rate_per_second
    client.full_clean()
    client.save()
    return client
