"""The affiliation manager's exports (services/exports.py): columns, round trip, one query however many rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from consortium_hub.core.testing.queries import count_queries
from consortium_hub.registry import validation
from consortium_hub.registry.models import Affiliation, PermissionLink
from consortium_hub.registry.selectors.affiliations import affiliation_list
from consortium_hub.registry.services import affiliations as services
from consortium_hub.core.downloads import csv_lines
from consortium_hub.registry.services import exports

Status = Affiliation.Status


def make_rows(organisation, count: int, start: int = 0, **state) -> list[Affiliation]:
    rows = []
    for n in range(start, start + count):
        data = validation.clean_affiliation({
            "email": f"p{n}@alpha.example", "section": "employment", "department_name": "Physics",
            "start_date": "2020-01", "org_name": "Alpha University", "org_country": "GB", "org_city": "London",
            "disambiguated_organization_identifier": "05dxps055", "disambiguation_source": "ROR",
            "external_id": f"G-{n}", "external_id_type": "grant_number", "url": "https://alpha.example/x"})
        rows.append(Affiliation.objects.create(organisation=organisation, content_key=validation.content_key(data),
                                               **data, **state))
    return rows


def make_links(organisation, count: int) -> None:
    for n in range(count):
        PermissionLink.objects.create(organisation=organisation, email=f"p{n}@alpha.example",
                                      token_hash=f"nonce-{organisation.pk}-{n}",
                                      expires_at=timezone.now() + dt.timedelta(days=30))


def as_csv(rows) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(csv_lines(rows)))))


def test_rows_for_editing_have_orcids_columns_and_the_id(cast):
    kept = make_rows(cast.org_a, 2)
    make_rows(cast.org_a, 1, start=5, status=Status.DELETED)
    table = as_csv(exports.editing_rows(Affiliation.objects.visible_to(cast["member_contact_a"])))
    assert table[0] == list(validation.COLUMNS)
    assert [int(r[-1]) for r in table[1:]] == [a.pk for a in kept]  # deleted rows are left out
    first = dict(zip(table[0], table[1], strict=True))
    assert first["email"] == "p0@alpha.example" and first["affiliation-section"] == "employment"
    assert first["disambiguated-organization-identifier"] == "https://ror.org/05dxps055"
    assert first["external-id"] == "G-0" and first["start-date"] == "2020-01"


def test_an_exported_file_uploads_again_unchanged_and_edits_become_updates(cast):
    make_rows(cast.org_a, 3)
    user = cast["member_contact_a"]
    content = "".join(csv_lines(exports.editing_rows(Affiliation.objects.visible_to(user)), bom=True)).encode()
    upload = services.preview_upload(user=user, organisation=cast.org_a,
                                     uploaded_file=SimpleUploadedFile("export.csv", content))
    assert upload.problems == []
    assert (upload.rows_total, upload.rows_unchanged, upload.rows_accepted) == (3, 3, 0)

    table = as_csv(exports.editing_rows(Affiliation.objects.visible_to(user)))
    table[1][table[0].index("role-title")] = "Dean"
    table[2] = [""] * (len(table[0]) - 1) + [table[2][-1]]  # only the id: a delete
    out = io.StringIO()
    csv.writer(out).writerows(table)
    edited = services.preview_upload(user=user, organisation=cast.org_a,
                                     uploaded_file=SimpleUploadedFile("edited.csv", out.getvalue().encode()))
    assert [r.action for r in services.preview_rows(edited)] == ["update", "delete", "unchanged"]


def test_the_status_report(cast):
    row = make_rows(cast.org_a, 1, status=Status.ERROR_ADDING, put_code="", orcid_id="0000-0002-1825-0097",
                    orcid_error="409: record locked")[0]
    Affiliation.objects.filter(pk=row.pk).update(last_synced_at=dt.datetime(2026, 3, 4, 5, 6, tzinfo=dt.UTC))
    table = as_csv(exports.status_report_rows(affiliation_list(user=cast["lead_admin_a"])))
    assert table[0] == ["id", "email", "affiliation-section", "org-name", "status", "put-code", "orcid", "orcid-error",
                        "last-written", "updated"]
    line = dict(zip(table[0], table[1], strict=True))
    assert line["id"] == str(row.pk) and line["status"] == "Error adding to ORCID"
    assert line["orcid"] == "0000-0002-1825-0097" and line["orcid-error"] == "409: record locked"
    assert line["last-written"] == timezone.localtime(dt.datetime(2026, 3, 4, 5, 6, tzinfo=dt.UTC)).strftime(
        "%Y-%m-%d %H:%M")
    assert line["updated"]


def test_exports_show_only_what_the_queryset_lets_through(cast):
    make_rows(cast.org_a, 2)
    make_rows(cast.org_b, 1)
    lead_b = Affiliation.objects.visible_to(cast["lead_admin_b"])
    assert len(list(exports.status_report_rows(lead_b))) == 2  # the header and org B's row
    assert len(list(exports.editing_rows(Affiliation.objects.visible_to(cast["member_contact_a"])))) == 3


def test_permission_links_carry_the_url_the_researcher_was_sent(cast):
    make_links(cast.org_a, 2)
    with mock.patch("consortium_hub.registry.services.permissions.link_url",
                    side_effect=lambda link: f"https://hub.example/p/{link.token_hash}") as link_url:
        table = as_csv(exports.permission_link_rows(PermissionLink.objects.visible_to(cast["member_contact_a"])
                                                    .defer("token_hash")))
    assert table[0] == ["email", "status", "created", "expires", "link"]
    assert [r[0] for r in table[1:]] == ["p1@alpha.example", "p0@alpha.example"]  # newest first
    assert table[1][1] == "Notification requested"
    assert table[1][4] == f"https://hub.example/p/nonce-{cast.org_a.pk}-1"
    assert link_url.call_count == 2


def test_the_exported_link_opens_that_link(cast):
    """The URL in the export is a working link: its token resolves to the same permission link."""
    from django.urls import resolve

    from consortium_hub.registry.services.permissions import resolve_link

    make_links(cast.org_a, 1)
    link = PermissionLink.objects.get()
    table = as_csv(exports.permission_link_rows(PermissionLink.objects.all()))
    match = resolve(urlsplit(table[1][4]).path)
    assert match.url_name == "permission_start"
    assert resolve_link(match.kwargs["token"]).pk == link.pk


@pytest.mark.parametrize("export", ["editing_rows", "status_report_rows", "permission_link_rows"])
def test_each_export_runs_the_same_queries_for_few_rows_as_for_many(cast, export):
    def fetch():
        if export == "permission_link_rows":
            queryset = PermissionLink.objects.visible_to(cast["lead_admin_a"]).select_related("organisation")
            queryset = queryset.defer("token_hash")  # as the list selector gives it
        else:
            queryset = affiliation_list(user=cast["lead_admin_a"])
        return list(getattr(exports, export)(queryset))

    grow = make_links if export == "permission_link_rows" else make_rows
    grow(cast.org_a, 2)
    fetch()  # warm per-process caches (content types, the user's access scope)
    few, few_queries = count_queries(fetch)
    grow(cast.org_a2, 40)
    many, many_queries = count_queries(fetch)
    assert len(many) == len(few) + 40
    assert len(many_queries) == len(few_queries) <= 2


