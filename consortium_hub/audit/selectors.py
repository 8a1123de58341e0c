from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from consortium_hub.audit.models import ChangeRecord


def change_log(*, user: Any) -> QuerySet[ChangeRecord]:
    return ChangeRecord.objects.visible_to(user).select_related("user", "content_type")
