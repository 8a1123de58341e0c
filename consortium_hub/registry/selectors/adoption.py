"""Reads of the adoption figures: latest per member, totals over time, CSV rows.

Every read starts from `AdoptionSnapshot.objects.visible_to(user)`: a member sees its organisation, a
lead its consortium, ORCID staff everything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import ExpressionWrapper, F, IntegerField, OuterRef, QuerySet, Subquery
from django.utils.formats import number_format

from consortium_hub.registry.models import AdoptionSnapshot

CSV_HEADER = ["consortium", "organisation", "identifier-type", "identifier", "date", "records-total",
              "records-from-hub"]


def _visible(user: Any, consortium_id: int | None) -> QuerySet[AdoptionSnapshot]:
    snapshots = AdoptionSnapshot.objects.visible_to(user)
    if consortium_id is not None:
        snapshots = snapshots.filter(organisation__consortium_id=consortium_id)
    return snapshots


def adoption_by_organisation(user: Any, *, consortium_id: int | None = None) -> QuerySet[AdoptionSnapshot]:
    """Each visible member's latest snapshot, with the one before it, in one query.

    Annotations: `previous_total` and `previous_taken_on` (None for a member's first snapshot) and
    `change` (records_total - previous_total, None without a previous one).
    """
    same_organisation = AdoptionSnapshot.objects.filter(organisation_id=OuterRef("organisation_id"))
    latest = same_organisation.order_by("-taken_on", "-pk").values("pk")[:1]
    previous = same_organisation.filter(taken_on__lt=OuterRef("taken_on")).order_by("-taken_on", "-pk")
    return (
        _visible(user, consortium_id)
        .filter(pk=Subquery(latest))
        .annotate(previous_total=Subquery(previous.values("records_total")[:1]),
                  previous_taken_on=Subquery(previous.values("taken_on")[:1]))
        .annotate(change=ExpressionWrapper(F("records_total") - F("previous_total"), output_field=IntegerField()))
        .select_related("organisation", "organisation__consortium")
        .order_by("organisation__legal_name", "organisation_id")
    )


@dataclass(frozen=True)
class AdoptionPoint:
    """A consortium's figures on one day: the sum over its members of each one's latest figure by then."""

    day: dt.date
    records_total: int
    records_from_hub: int
    organisations: int


def adoption_over_time(user: Any, *, consortium_id: int, since: dt.date | None = None,
                       until: dt.date | None = None) -> list[AdoptionPoint]:
    """The consortium's totals on each day a snapshot was taken (visible members only), oldest first.

    A member whose refresh failed on a day counts with its previous figure, so a failed search shows
    as no change instead of a dip. One query.
    """
    snapshots = _visible(user, consortium_id)
    if until is not None:
        snapshots = snapshots.filter(taken_on__lte=until)
    latest: dict[int, tuple[int, int]] = {}
    points: list[AdoptionPoint] = []
    rows = snapshots.order_by("taken_on", "organisation_id").values_list(
        "taken_on", "organisation_id", "records_total", "records_from_hub")
    day: dt.date | None = None
    for taken_on, organisation_id, total, from_hub in rows.iterator():
        if day is not None and taken_on != day:
            points.append(_point(day, latest))
        day = taken_on
        latest[organisation_id] = (total, from_hub)
    if day is not None:
        points.append(_point(day, latest))
    return [point for point in points if since is None or point.day >= since]


def _point(day: dt.date, latest: dict[int, tuple[int, int]]) -> AdoptionPoint:
    return AdoptionPoint(day=day, records_total=sum(total for total, _hub in latest.values()),
                         records_from_hub=sum(hub for _total, hub in latest.values()), organisations=len(latest))


def adoption_chart_bars(points: list[AdoptionPoint], *, from_hub: bool = False) -> list[tuple[str, Decimal, str]]:
    """`points` as the bars `billing.charts.bar_chart` draws: (date, value, formatted value)."""
    bars = []
    for point in points:
        value = point.records_from_hub if from_hub else point.records_total
        bars.append((point.day.isoformat(), Decimal(value), number_format(value, force_grouping=True)))
    return bars


def adoption_csv_rows(user: Any, *, consortium_id: int | None = None, organisation_id: int | None = None,
                      since: dt.date | None = None) -> Iterator[list[str]]:
    """Every visible snapshot as CSV rows (the header first), by consortium, member and date."""
    snapshots = _visible(user, consortium_id)
    if organisation_id is not None:
        snapshots = snapshots.filter(organisation_id=organisation_id)
    if since is not None:
        snapshots = snapshots.filter(taken_on__gte=since)
    yield list(CSV_HEADER)
    rows = snapshots.order_by("organisation__consortium__name", "organisation__legal_name", "organisation_id",
                              "taken_on").values_list(
        "organisation__consortium__name", "organisation__legal_name", "organisation__public_name",
        "identifier_type", "identifier", "taken_on", "records_total", "records_from_hub")
    for consortium, legal_name, public_name, identifier_type, identifier, taken_on, total, from_hub in rows.iterator():
        yield [consortium, public_name or legal_name, identifier_type, identifier, taken_on.isoformat(), str(total),
               str(from_hub)]
