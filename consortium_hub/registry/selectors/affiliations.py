"""Reads of the affiliation manager: rows, uploads, researchers' grants and permission links.

Every selector starts from `visible_to(user)` and joins what its page shows, so a list costs the
same number of queries however many rows it has. Secrets never leave the database through these:
grants defer their (encrypted) tokens and links their token hash, and uploads defer the stored file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from consortium_hub.core.roles import ADD
from consortium_hub.directory.models import Organisation
from consortium_hub.registry.models import Affiliation, AffiliationUpload, OrcidGrant, PermissionLink

# Statuses whose rows wait for the member to act (the list's "needs attention" hint and the retry button).
ERROR_STATUSES = frozenset({Affiliation.Status.ERROR_ADDING, Affiliation.Status.ERROR_UPDATING,
                            Affiliation.Status.ERROR_DELETING})
RETRYABLE_STATUSES = ERROR_STATUSES | {Affiliation.Status.PENDING_RETRY}


def affiliation_list(*, user: Any) -> QuerySet[Affiliation]:
    # The upload is joined for its name only: its stored file stays in the database.
    return (Affiliation.objects.visible_to(user).select_related("organisation", "organisation__consortium", "upload")
            .defer("upload__content"))


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


def status_summary(queryset: QuerySet[Affiliation]) -> list[StatusCount]:
    """How many rows of `queryset` are in each status, in the order ORCID's tool lists them (one query)."""
    counts = dict(queryset.order_by().values_list("status").annotate(n=Count("pk")))
    return [StatusCount(value, str(label), counts[value]) for value, label in Affiliation.Status.choices
            if counts.get(value)]


def organisations_for_upload(*, user: Any) -> QuerySet[Organisation]:
    """The organisations the user may add affiliations for (members: their own)."""
    return Organisation.objects.visible_to(user, ADD, area="affiliations").order_by("legal_name")


def upload_list(*, user: Any) -> QuerySet[AffiliationUpload]:
    return (AffiliationUpload.objects.visible_to(user).select_related("organisation", "uploaded_by")
            .defer("content"))


def upload_detail(*, user: Any) -> QuerySet[AffiliationUpload]:
    """For one upload's page (the stored file is needed to list its rows again)."""
    return AffiliationUpload.objects.visible_to(user).select_related("organisation", "uploaded_by")


def upload_status_summary(upload: AffiliationUpload) -> list[StatusCount]:
    return status_summary(Affiliation.objects.filter(upload=upload))



def grant_list(*, user: Any) -> QuerySet[OrcidGrant]:
    return OrcidGrant.objects.visible_to(user).select_related("organisation").defer("access_token", "refresh_token")


def permission_link_list(*, user: Any) -> QuerySet[PermissionLink]:
    return (PermissionLink.objects.visible_to(user).select_related("organisation", "created_by")
            .defer("token_hash"))
