"""The raw adoption snapshots, for the API (the pages' figures are in selectors/adoption.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from consortium_hub.registry.models import AdoptionSnapshot


def snapshot_list(*, user: Any) -> QuerySet[AdoptionSnapshot]:
    return AdoptionSnapshot.objects.visible_to(user).select_related("organisation")
