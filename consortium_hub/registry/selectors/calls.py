"""Reads of the log of calls the hub made to ORCID's API (for ORCID staff and the lead's staff)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from consortium_hub.registry.models import OrcidApiCall


def api_call_list(*, user: Any) -> QuerySet[OrcidApiCall]:
    return OrcidApiCall.objects.visible_to(user).select_related("consortium", "organisation")
