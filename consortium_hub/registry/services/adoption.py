"""Adoption figures: how many ORCID records carry an affiliation to each member, day by day.

ORCID's public expanded search counts the records affiliated with an organisation identifier; the hub
adds how many of those records it wrote itself (distinct iDs of rows "in ORCID"). One snapshot per
member and day; refreshing the same day again replaces that day's figures.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Count

from consortium_hub.directory.identifiers import ror_url
from consortium_hub.directory.models import Membership, Organisation
from consortium_hub.registry.client import OrcidApiError, client_for_organisation
from consortium_hub.registry.models import AdoptionSnapshot, Affiliation

logger = logging.getLogger(__name__)

# Members whose figures are followed: joined and not gone.
CURRENT_MEMBERSHIP = (Membership.Status.ONBOARDING, Membership.Status.ACTIVE)
IdentifierType = AdoptionSnapshot.IdentifierType


def search_identifier(organisation: Organisation) -> tuple[str, str] | None:
    """(type, identifier) to search ORCID by: ROR, else Ringgold, else GRID (retired, still on old records)."""
    if organisation.ror_id:
        return IdentifierType.ROR, ror_url(organisation.ror_id)
    if organisation.ringgold_id:
        return IdentifierType.RINGGOLD, organisation.ringgold_id
    if organisation.grid_id:
        return IdentifierType.GRID, organisation.grid_id
    return None


def search_query(identifier_type: str, identifier: str) -> str:
    """ORCID's expanded-search query for records affiliated with the identifier."""
    field = {IdentifierType.ROR: "ror-org-id", IdentifierType.RINGGOLD: "ringgold-org-id",
             IdentifierType.GRID: "grid-org-id"}[IdentifierType(identifier_type)]
    escaped = identifier.replace("\\", "\\\\").replace('"', '\\"')
    return f'{field}:"{escaped}"'


def refresh_adoption(*, today: dt.date, organisation_ids: Iterable[int] | None = None) -> int:
    """Take today's snapshot of every current member (or of `organisation_ids`); returns how many were saved.

    Not one transaction: each member's figures are saved on their own, after ORCID has answered, so a
    slow or failing search holds no locks and costs only that member's figure (its latest snapshot
    stays the one shown).
    """
    organisations = (Organisation.objects.filter(memberships__status__in=CURRENT_MEMBERSHIP).distinct()
                     .order_by("pk"))
    if organisation_ids is not None:
        organisations = organisations.filter(pk__in=list(organisation_ids))
    from_hub = dict(
        Affiliation.objects.filter(organisation__in=organisations.values("pk"), status=Affiliation.Status.IN_ORCID)
        .exclude(orcid_id="").values("organisation_id")
        .annotate(records=Count("orcid_id", distinct=True)).values_list("organisation_id", "records")
    )
    saved = 0
    for organisation in organisations:
        identifier = search_identifier(organisation)
        if identifier is None:
            continue
        identifier_type, value = identifier
        try:
            total = client_for_organisation(organisation).search_count(search_query(identifier_type, value))
        except OrcidApiError as exc:
            logger.warning("Adoption figure of organisation %s not refreshed: %s", organisation.pk, exc)
            continue
        _save_snapshot(organisation=organisation, taken_on=today, identifier_type=identifier_type,
                       identifier=value, records_total=total, records_from_hub=from_hub.get(organisation.pk, 0))
        saved += 1
    return saved


@transaction.atomic
def _save_snapshot(*, organisation: Organisation, taken_on: dt.date, identifier_type: str, identifier: str,
                   records_total: int, records_from_hub: int) -> AdoptionSnapshot:
    figures = {"identifier_type": identifier_type, "identifier": identifier, "records_total": records_total,
               "records_from_hub": records_from_hub}
    snapshot = (AdoptionSnapshot.objects.select_for_update()
                .filter(organisation=organisation, taken_on=taken_on).first())
    if snapshot is None:
        try:
            with transaction.atomic():
                return AdoptionSnapshot.objects.create(organisation=organisation, taken_on=taken_on, **figures)
        except IntegrityError:
            # Another worker saved the day's snapshot in between (the unique constraint): update theirs.
            snapshot = AdoptionSnapshot.objects.select_for_update().get(organisation=organisation, taken_on=taken_on)
    for name, value in figures.items():
        setattr(snapshot, name, value)
    snapshot.save()
    return snapshot
