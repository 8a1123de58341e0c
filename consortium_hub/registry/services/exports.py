"""The affiliation manager's spreadsheets: rows to edit and upload again, a status report, permission links.

Each export takes a queryset the caller has already filtered with `visible_to(user)` and reads it in
one query, however many rows it has (`iterator()`, nothing fetched per row). `*_rows` yield lists of
cells, the header first, for a view to stream as CSV through `core/downloads.csv_response` (which
guards cells against spreadsheet formulas).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from consortium_hub.registry import validation
from consortium_hub.registry.models import Affiliation, PermissionLink

CHUNK = 2000
EDIT_COLUMNS: tuple[str, ...] = validation.COLUMNS
STATUS_COLUMNS: tuple[str, ...] = ("id", "email", "affiliation-section", "org-name", "status", "put-code", "orcid",
                                   "orcid-error", "last-written", "updated")
LINK_COLUMNS: tuple[str, ...] = ("email", "status", "created", "expires", "link")


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _rows(queryset: QuerySet, header: tuple[str, ...], row: Callable[[Any], list[Any]]) -> Iterator[list[Any]]:
    yield list(header)
    for obj in queryset.iterator(chunk_size=CHUNK):
        yield row(obj)


def editing_rows(queryset: QuerySet[Affiliation]) -> Iterator[list[Any]]:
    """ORCID's CSV columns with `id` filled, so a member can edit the file and upload it again.

    Deleted rows are left out: an id of a deleted row cannot be uploaded again.
    """
    fields = validation.CONTENT_FIELDS
    live = queryset.exclude(status=Affiliation.Status.DELETED).order_by("pk").select_related(None)
    return _rows(live.only("pk", *fields), EDIT_COLUMNS,
                 lambda a: [*(getattr(a, name) for name in fields), a.pk])


def status_report_rows(queryset: QuerySet[Affiliation]) -> Iterator[list[Any]]:
    """Where each row stands in ORCID: status, put-code, the researcher's iD and ORCID's last error."""
    columns = ("pk", "email", "section", "org_name", "status", "put_code", "orcid_id", "orcid_error",
               "last_synced_at", "updated_at")
    # Only the columns shown (a list selector's joins would be read for nothing).
    return _rows(queryset.order_by("pk").select_related(None).only(*columns), STATUS_COLUMNS,
                 lambda a: [a.pk, a.email, a.section, a.org_name, a.get_status_display(), a.put_code, a.orcid_id,
                            a.orcid_error, _when(a.last_synced_at), _when(a.updated_at)])


def permission_link_rows(queryset: QuerySet[PermissionLink]) -> Iterator[list[Any]]:
    """The permission links with the URL each researcher was sent (members sometimes forward it themselves).

    The URL is rebuilt from the stored half of the token by services/permissions.link_url, which needs
    `token_hash`: a queryset that defers it (the list selector does) is undeferred here, so the export
    still runs one query.
    """
    link_url = importlib.import_module("consortium_hub.registry.services.permissions").link_url
    links = queryset.defer(None).order_by("-created_at", "-pk")
    return _rows(links, LINK_COLUMNS,
                 lambda link: [link.email, link.get_status_display(), _when(link.created_at), _when(link.expires_at),
                               link_url(link)])
