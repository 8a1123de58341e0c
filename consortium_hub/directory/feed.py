"""ORCID's change feed: directory changes ORCID staff have not yet acknowledged."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count

from consortium_hub.core.access import require_area
from consortium_hub.core.roles import CHANGE
from consortium_hub.directory import selectors
from consortium_hub.directory.models import ChangeAcknowledgement, Consortium


def unacknowledged_by_consortium(*, user: Any) -> list[dict[str, Any]]:
    counts = dict(selectors.change_feed(user=user).order_by().values_list("consortium_id")
                  .annotate(n=Count("pk")).values_list("consortium_id", "n"))
    consortia = Consortium.objects.visible_to(user).filter(pk__in=counts.keys()).order_by("name")
    return [{"consortium": c, "count": counts[c.pk]} for c in consortia]


@transaction.atomic
def acknowledge(*, user: Any, change_ids: list[int] | None = None, consortium: Consortium | None = None) -> int:
    """Acknowledge the given changes, or every unacknowledged one (of one consortium)."""
    require_area(user, "feed", CHANGE)
    records = selectors.change_feed(user=user, consortium=consortium)
    records = records.visible_to(user, CHANGE, area="feed")
    if change_ids is not None:
        records = records.filter(pk__in=change_ids)
    pending = list(records.values_list("pk", flat=True))
    ChangeAcknowledgement.objects.bulk_create(
        [ChangeAcknowledgement(change_id=pk, by=user) for pk in pending], ignore_conflicts=True)
    return len(pending)
