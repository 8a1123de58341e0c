"""Reads of each consortium's ORCID member API credentials. The secret is never read here: lists defer
it, and pages only say whether one is set."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from consortium_hub.directory.models import Consortium
from consortium_hub.registry.models import RegistryClient


def registry_client_list(*, user: Any) -> QuerySet[RegistryClient]:
    return (RegistryClient.objects.visible_to(user).select_related("consortium").defer("client_secret")
            .order_by("consortium__name", "pk"))


def consortia_with_clients(*, user: Any) -> QuerySet[Consortium]:
    """The consortia whose settings the user may see, each with `client` (its RegistryClient or None)."""
    clients = RegistryClient.objects.defer("client_secret")
    return (Consortium.objects.visible_to(user, area="registry_settings").order_by("name")
            .prefetch_related(Prefetch("registry_client", queryset=clients)))
