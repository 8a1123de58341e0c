"""CSV downloads of the affiliation manager: rows for editing (ORCID's columns with each row's id, to edit
and upload again), the status report, and the permission links. Each takes the list page's filters and
only the rows the user may see; rows are streamed, so a member's 100,000 rows never sit in memory."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone

from consortium_hub.core import downloads
from consortium_hub.core.access import require_area
from consortium_hub.core.roles import CHANGE, VIEW
from consortium_hub.registry.filters import AffiliationFilter, PermissionLinkFilter
from consortium_hub.registry.models import PermissionLink
from consortium_hub.registry.selectors import affiliations as selectors
from consortium_hub.registry.services import exports

AREA = "affiliations"


def csv_response(filename: str, rows: Iterable[Iterable[Any]]) -> StreamingHttpResponse:
    # Streamed: a member's 100,000 rows never sit in memory. The byte-order mark makes spreadsheet
    # programs read the file as UTF-8 (uploads accept it too).
    return downloads.csv_response(filename, rows, streaming=True, bom=True)


def _filtered(request: HttpRequest, filterset_class: Any, queryset: Any) -> Any:
    filterset = filterset_class(request.GET or None, queryset=queryset, request=request)
    return filterset.qs if filterset.is_bound else filterset.queryset


def _stamp() -> str:
    return timezone.localdate().isoformat()


@login_required
def affiliation_export(request: HttpRequest) -> StreamingHttpResponse:
    require_area(request.user, AREA, VIEW)
    rows = _filtered(request, AffiliationFilter, selectors.affiliation_list(user=request.user))
    return csv_response(f"affiliations-{_stamp()}.csv", exports.editing_rows(rows))


@login_required
def affiliation_status_export(request: HttpRequest) -> StreamingHttpResponse:
    require_area(request.user, AREA, VIEW)
    rows = _filtered(request, AffiliationFilter, selectors.affiliation_list(user=request.user))
    return csv_response(f"affiliation-status-{_stamp()}.csv", exports.status_report_rows(rows))


@login_required
def link_export(request: HttpRequest) -> StreamingHttpResponse:
    # The links are working credentials (anyone holding one can connect an ORCID iD), so only those who
    # may act for the member get them; ORCID's read-only staff see the list page without the URLs.
    require_area(request.user, AREA, CHANGE)
    # Not the list's selector: each link's URL is derived from its stored nonce, which the list defers.
    links = PermissionLink.objects.visible_to(request.user, CHANGE).select_related("organisation")
    return csv_response(f"permission-links-{_stamp()}.csv",
                        exports.permission_link_rows(_filtered(request, PermissionLinkFilter, links)))


urlpatterns = [
    path("affiliations/export.csv", affiliation_export, name="affiliation_export"),
    path("affiliations/status.csv", affiliation_status_export, name="affiliation_status_export"),
    path("permission-links/export.csv", link_export, name="link_export"),
]
