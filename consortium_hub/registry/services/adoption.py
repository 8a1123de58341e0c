"""Adoption figures: how many ORCID records carry an affiliation to each member, day by day.

ORCID's public expanded search counts the records affiliated with an organisation identifier; the hub
adds how many of those records it wrote itself. One snapshot per member and day; refreshing the same
day again replaces that day's figures.

"Written by the hub" counts distinct ORCID iDs among the member's rows that name the identifier searched
(same source, same stored form) and are on the record: "in ORCID", or written and waiting for an update
or a delete (the item stays on the record meanwhile). It is capped at ORCID's total: items the hub wrote
can be missing from the public search (a researcher may make them private, or the search index may lag),
and a figure "of those" must never exceed the figure it is part of.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction

from consortium_hub.directory.identifiers import ror_url
from consortium_hub.directory.models import Membership, Organisation
from consortium_hub.registry.client import OrcidApiError, client_for_organisation
from consortium_hub.registry.models import AdoptionSnapshot, Affiliation, DisambiguationSource
from consortium_hub.registry.validation import stored_identifier

logger = logging.getLogger(__name__)

# Members whose figures are followed: joined and not gone.
CURRENT_MEMBERSHIP = (Membership.Status.ONBOARDING, Membership.Status.ACTIVE)
IdentifierType = AdoptionSnapshot.IdentifierType
# The disambiguation source a row names for each identifier ORCID is searched by.
SOURCE_OF = {IdentifierType.ROR: DisambiguationSource.ROR, IdentifierType.RINGGOLD: DisambiguationSource.RINGGOLD,
             IdentifierType.GRID: DisambiguationSource.GRID}
# Rows whose item is on the researcher's record (with a put-code).
ON_THE_RECORD = (Affiliation.Status.IN_ORCID, Affiliation.Status.PENDING_UPDATE, Affiliation.Status.PENDING_DELETE)


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


def records_from_hub(organisation: Organisation, identifier_type: str, identifier: str) -> int:
    """Distinct records on which the hub put an affiliation of this member naming `identifier`."""
    source = SOURCE_OF[IdentifierType(identifier_type)]
    stored = stored_identifier(source, identifier) or identifier
    return (Affiliation.objects.filter(organisation=organisation, status__in=ON_THE_RECORD,
                                       disambiguation_source=source, disambiguated_organization_identifier=stored)
            .exclude(put_code="").exclude(orcid_id="").values("orcid_id").distinct().count())


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
        from_hub = min(records_from_hub(organisation, identifier_type, value), total)
        _save_snapshot(organisation=organisation, taken_on=today, identifier_type=identifier_type,
                       identifier=value, records_total=total, records_from_hub=from_hub)
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
