"""Bulk import of organisations and contacts: preview, problems, confirm, all-or-nothing, access."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from consortium_hub.audit.models import ChangeRecord
from consortium_hub.core.imports import read_table
from consortium_hub.core.testing import factories as f
from consortium_hub.directory import importing, services, tabular
from consortium_hub.directory.models import Contact, ContactRole, ImportBatch, Organisation

pytestmark = pytest.mark.django_db

ROR_NEW = f.valid_ror(90001)
ROR_NEW2 = f.valid_ror(90002)
ORCID_OK = f.valid_orcid(4242)


def bad_checksum(value: str) -> str:
    last = value[-1]
    return value[:-1] + ("0" if last != "0" else "1")


def org(**values: str) -> dict[str, str]:
    row = {"consortium": "Consortium A", "legal_name": "Gamma College", "public_name": "", "type": "research",
           "country": "GB", "region": "", "city": "Leeds", "website": "", "ror_id": ROR_NEW, "ringgold_id": "",
           "grid_id": "", "isni": "", "crossref_funder_id": ""}
    row.update(values)
    return row


def contact(**values: str) -> dict[str, str]:
    row = {"organisation": "Alpha University", "organisation_ror_id": "", "name": "Cat Carter",
           "email": "cat@alpha.example", "phone": "", "job_title": "", "orcid_id": "", "roles": "technical"}
    row.update(values)
    return row


def csv_bytes(rows: list[dict[str, str]], header: list[str] | None = None, *, encoding: str = "utf-8") -> bytes:
    header = header or list(rows[0])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict[str, str]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    header = list(rows[0])
    sheet.append(header)
    for row in rows:
        sheet.append([row[h] for h in header])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def preview_of(user, kind: str, content: bytes, filename: str = "upload.csv") -> ImportBatch:
    return importing.create_batch(user=user, kind=kind, filename=filename, content=content)


def problems(batch: ImportBatch) -> list[dict]:
    return [*batch.preview["file_problems"], *(p for r in batch.preview["rows"] for p in r["problems"])]


def messages_of(batch: ImportBatch) -> str:
    return " | ".join(p["message"] for p in problems(batch))


def counts() -> tuple[int, int, int]:
    return Organisation.objects.count(), Contact.objects.count(), ContactRole.objects.count()


def confirm(batch: ImportBatch, user, capture) -> ImportBatch:
    with capture(execute=True):
        importing.confirm_batch(batch=batch, user=user)
    batch.refresh_from_db()
    return batch


# --- File-level problems -----------------------------------------------------------------------------

def test_missing_column_is_named_and_nothing_is_written(cast):
    before = counts()
    rows = [org()]
    header = [h for h in rows[0] if h != "legal_name"]
    batch = preview_of(cast["lead_admin_a"], "organisations", csv_bytes(rows, header))
    assert "legal_name" in messages_of(batch) and "missing" in messages_of(batch)
    assert batch.preview["file_problems"][0]["row"] == 1
    assert not batch.can_confirm
    assert counts() == before


def test_unknown_column_is_named(cast):
    rows = [{**org(), "favourite_colour": "green"}]
    batch = preview_of(cast["lead_admin_a"], "organisations", csv_bytes(rows))
    assert "favourite_colour" in messages_of(batch)
    assert not batch.can_confirm


def test_headers_are_matched_case_insensitively_after_trimming(cast):
    rows = [org()]
    header = [f"  {h.upper()} " for h in rows[0]]
    content = csv_bytes([{h2: v for h2, v in zip(header, rows[0].values(), strict=True)}], header)
    batch = preview_of(cast["lead_admin_a"], "organisations", content)
    assert problems(batch) == []
    assert batch.can_confirm


def test_wrong_encoding_is_reported(cast):
    before = counts()
    batch = preview_of(cast["lead_admin_a"], "organisations",
                       csv_bytes([org(legal_name="Université Gamma")], encoding="latin-1"))
    assert "not UTF-8 encoded: save it as CSV UTF-8" in messages_of(batch)
    assert batch.problem_count == 1 and counts() == before


def test_utf8_with_bom_is_accepted(cast):
    content = b"\xef\xbb\xbf" + csv_bytes([org(legal_name="Université Gamma")])
    batch = preview_of(cast["lead_admin_a"], "organisations", content)
    assert problems(batch) == []
    assert batch.preview["rows"][0]["label"].startswith("Université Gamma")


def test_empty_file(cast):
    batch = preview_of(cast["lead_admin_a"], "organisations", b"")
    assert messages_of(batch) == "The file is empty."
    assert not batch.can_confirm


def test_header_only_file(cast):
    batch = preview_of(cast["lead_admin_a"], "organisations", ",".join(tabular.ORGANISATION_COLUMNS).encode())
    assert "no rows" in messages_of(batch)


def test_oversize_file(cast, settings, client_for):
    settings.IMPORT_MAX_BYTES = 1024
    before = counts()
    content = csv_bytes([org(legal_name=f"College {i}", ror_id="") for i in range(40)])
    assert len(content) > 1024
    client = client_for(cast["lead_admin_a"])
    response = client.post(reverse("directory:import_start"),
                           {"kind": "organisations", "file": _file(content, "big.csv")})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse("directory:import_preview", args=[batch.pk])
    assert "largest file accepted" in messages_of(batch)
    assert bytes(batch.content) == b"" and not batch.can_confirm
    assert counts() == before


def test_not_a_spreadsheet(cast):
    for content in (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary", b"PK\x03\x04 not really a workbook"):
        batch = preview_of(cast["lead_admin_a"], "organisations", content, "members.xlsx")
        assert "not a CSV or XLSX file" in messages_of(batch)


def test_semicolon_separated_csv_is_read():
    content = b"legal_name;country\nGamma College;GB\n"
    table = read_table(content, "x.csv")
    assert table.ok and table.rows[0].values == {"legal_name": "Gamma College", "country": "GB"}
    assert table.rows[0].number == 2


# --- Row-level problems ------------------------------------------------------------------------------

def test_bad_ror_checksum(cast):
    before = counts()
    batch = preview_of(cast["lead_admin_a"], "organisations",
                       csv_bytes([org(), org(legal_name="Delta Lab", ror_id=bad_checksum(ROR_NEW2))]))
    row3 = batch.preview["rows"][1]
    assert row3["row"] == 3
    assert [(p["row"], p["column"]) for p in row3["problems"]] == [(3, "ror_id")]
    assert "not a valid ROR ID" in row3["problems"][0]["message"]
    assert batch.preview["rows"][0]["problems"] == []
    assert not batch.can_confirm and counts() == before


def test_bad_country_type_and_blank_required(cast):
    batch = preview_of(cast["lead_admin_a"], "organisations",
                       csv_bytes([org(country="XX", type="university", legal_name="")]))
    found = {(p["column"], p["row"]) for p in problems(batch)}
    assert {("country", 2), ("type", 2), ("legal_name", 2)} <= found
    assert "ISO 3166-1" in messages_of(batch) and "legal_name is required" in messages_of(batch)


def test_bad_orcid_checksum(cast):
    before = counts()
    batch = preview_of(cast["lead_admin_a"], "contacts", csv_bytes([contact(orcid_id=bad_checksum(ORCID_OK))]))
    assert [(p["row"], p["column"]) for p in problems(batch)] == [(2, "orcid_id")]
    assert "not a valid ORCID iD" in messages_of(batch)
    assert counts() == before


def test_bad_email(cast):
    batch = preview_of(cast["lead_admin_a"], "contacts", csv_bytes([contact(email="cat-at-alpha")]))
    assert [(p["row"], p["column"]) for p in problems(batch)] == [(2, "email")]
    assert "not a valid email address" in messages_of(batch)


def test_two_voting_contacts_in_the_file_for_one_organisation(cast):
    rows = [contact(organisation="Alpha Institute", email="a@inst.example", name="Ada", roles="voting"),
            contact(organisation="Alpha Institute", email="b@inst.example", name="Bo", roles="Voting contact")]
    # Ian Institute holds the voting role of Alpha Institute; free it so only the in-file rule applies.
    ContactRole.objects.filter(contact=cast.contact_a2, role="voting").delete()
    before = counts()
    batch = preview_of(cast["lead_admin_a"], "contacts", csv_bytes(rows))
    assert batch.preview["rows"][0]["problems"] == []
    (problem,) = batch.preview["rows"][1]["problems"]
    assert problem["row"] == 3 and problem["column"] == "roles"
    assert "Row 2 already makes Ada the voting contact of Alpha Institute" in problem["message"]
    assert counts() == before


def test_voting_role_held_by_another_existing_contact_names_them(cast):
    batch = preview_of(cast["lead_admin_a"], "contacts", csv_bytes([contact(roles="main;voting")]))
    message = messages_of(batch)
    assert "Alpha University already has a voting contact, Ann Alpha <ann@alpha.example>" in message
    # The holder keeping the role in the file is no problem.
    batch = preview_of(cast["lead_admin_a"], "contacts",
                       csv_bytes([contact(name="Ann Alpha", email="ann@alpha.example", roles="main;voting")]))
    assert problems(batch) == [] and batch.preview["rows"][0]["action"] == "update"


def test_unknown_role_names(cast):
    batch = preview_of(cast["lead_admin_a"], "contacts", csv_bytes([contact(roles="technical;Chief of stuff")]))
    assert [(p["row"], p["column"]) for p in problems(batch)] == [(2, "roles")]
    assert "Chief of stuff" in messages_of(batch)


def test_duplicate_rows_in_the_file(cast):
    batch = preview_of(cast["lead_admin_a"], "organisations",
                       csv_bytes([org(), org(legal_name="Other name")]))
    assert "Row 2 has the same ROR ID" in messages_of(batch)
    batch = preview_of(cast["lead_admin_a"], "contacts", csv_bytes([contact(), contact(name="Cat again")]))
    assert "Row 2 has the same organisation and email" in messages_of(batch)


def test_ragged_row_is_reported_with_its_number(cast):
    content = csv_bytes([org()]) + b"Consortium A,Too Many,,,GB,,,,,,,,,,extra\n"
    batch = preview_of(cast["lead_admin_a"], "organisations", content)
    assert any(p["row"] == 3 and "more cells" in p["message"] for p in problems(batch))


# --- Access: never another consortium ---------------------------------------------------------------

def test_organisation_into_another_consortium_is_unknown(cast):
    before = counts()
    user = cast["lead_admin_a"]
    batch = preview_of(user, "organisations", csv_bytes([org(consortium="Consortium B")]))
    not_there = preview_of(user, "organisations", csv_bytes([org(consortium="Consortium Zed")]))
    assert messages_of(batch) == "Unknown consortium “Consortium B”."
    assert messages_of(not_there) == "Unknown consortium “Consortium Zed”."
    assert not importing.confirm_batch(batch=batch, user=user)
    assert counts() == before


def test_contact_at_another_consortiums_organisation_is_unknown(cast):
    before = counts()
    user = cast["lead_admin_a"]
    by_name = preview_of(user, "contacts", csv_bytes([contact(organisation="Beta University")]))
    by_ror = preview_of(user, "contacts", csv_bytes([contact(organisation="", organisation_ror_id=cast.org_b.ror_id)]))
    assert messages_of(by_name) == "Unknown organisation “Beta University”."
    assert messages_of(by_ror) == f"Unknown organisation with ROR ID {cast.org_b.ror_id}."
    assert "Beta" not in str(by_ror.preview["rows"])
    assert counts() == before


def test_member_contact_cannot_import_organisations_but_can_import_own_contacts(cast, client_for):
    user = cast["member_contact_a"]
    assert importing.allowed_kinds(user) == ["contacts"]
    client = client_for(user)
    response = client.post(reverse("directory:import_start"),
                           {"kind": "organisations", "file": _file(csv_bytes([org()]))})
    assert response.status_code == 200 and not ImportBatch.objects.exists()
    batch = preview_of(user, "contacts", csv_bytes([contact(organisation="Alpha Institute")]))
    assert "Unknown organisation" in messages_of(batch)
    assert problems(preview_of(user, "contacts", csv_bytes([contact()]))) == []


def test_only_the_uploader_sees_and_confirms_a_batch(cast, client_for, django_capture_on_commit_callbacks):
    batch = preview_of(cast["lead_admin_a"], "organisations", csv_bytes([org()]))
    other = client_for(cast["lead_support_a"])
    assert other.get(reverse("directory:import_preview", args=[batch.pk])).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert other.post(reverse("directory:import_confirm", args=[batch.pk])).status_code == 404
    assert client_for(cast["lead_admin_b"]).get(reverse("directory:import_preview", args=[batch.pk])).status_code == 404
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED
    assert not Organisation.objects.filter(legal_name="Gamma College").exists()


# --- Good paths -------------------------------------------------------------------------------------

def test_organisations_preview_confirm_and_audit(cast, client_for, django_capture_on_commit_callbacks):
    user = cast["lead_admin_a"]
    client = client_for(user)
    rows = [org(legal_name="Gamma College"),
            org(legal_name="Alpha University", ror_id=cast.org_a.ror_id, city="Oxford", type="Funder")]
    response = client.post(reverse("directory:import_start"),
                           {"kind": "organisations", "file": _file(csv_bytes(rows), "orgs.csv")})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert [(r["row"], r["action"]) for r in batch.preview["rows"]] == [(2, "create"), (3, "update")]
    assert (batch.create_count, batch.update_count, batch.problem_count) == (1, 1, 0)
    assert not Organisation.objects.filter(legal_name="Gamma College").exists()  # nothing before confirm

    page = client.get(reverse("directory:import_preview", args=[batch.pk]))
    html = page.content.decode()
    assert "Create" in html and "Update" in html and reverse("directory:import_confirm", args=[batch.pk]) in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("directory:import_confirm", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED and batch.applied_at is not None
    gamma = Organisation.objects.get(legal_name="Gamma College")
    assert gamma.consortium == cast.consortium_a and gamma.ror_id == ROR_NEW
    cast.org_a.refresh_from_db()
    assert cast.org_a.city == "Oxford" and cast.org_a.type == "funder"
    records = ChangeRecord.objects.filter(content_type__model="organisation", object_id__in=[str(gamma.pk),
                                                                                             str(cast.org_a.pk)])
    assert {(r.object_id, r.action) for r in records.filter(user=user)} >= {
        (str(gamma.pk), "create"), (str(cast.org_a.pk), "update")}

    # A second confirm of the same batch does nothing.
    changes = ChangeRecord.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("directory:import_confirm", args=[batch.pk]))
    assert ChangeRecord.objects.count() == changes
    assert Organisation.objects.filter(legal_name="Gamma College").count() == 1
    html = client.get(reverse("directory:import_preview", args=[batch.pk])).content.decode()
    assert "Applied" in html and reverse("directory:import_confirm", args=[batch.pk]) not in html


def test_contacts_import_creates_and_updates_with_roles(cast, django_capture_on_commit_callbacks):
    user = cast["lead_admin_a"]
    rows = [contact(roles="Main relationship contact; technical", orcid_id=f"https://orcid.org/{ORCID_OK}"),
            contact(name="Ann Alpha", email="ANN@alpha.example", phone="+44 1", roles="main;voting"),
            contact(organisation="", organisation_ror_id=cast.org_a2.ror_id, name="Ian Institute",
                    email="ian@inst.example", job_title="Librarian", roles="voting; main")]
    batch = preview_of(user, "contacts", csv_bytes(rows))
    assert problems(batch) == []
    assert [r["action"] for r in batch.preview["rows"]] == ["create", "update", "update"]
    batch = confirm(batch, user, django_capture_on_commit_callbacks)
    assert batch.status == ImportBatch.Status.APPLIED
    cat = Contact.objects.get(email="cat@alpha.example")
    assert cat.orcid_id == ORCID_OK and sorted(r.role for r in cat.roles.all()) == ["main", "technical"]
    cast.contact_a.refresh_from_db()
    cast.contact_a2.refresh_from_db()
    assert cast.contact_a.phone == "+44 1" and cast.contact_a2.job_title == "Librarian"
    assert sorted(r.role for r in cast.contact_a2.roles.all()) == ["main", "voting"]
    assert [r.role for r in cast.contact_a.roles.all()] == ["main", "voting"]
    assert ChangeRecord.objects.filter(content_type__model="contact", object_id=str(cat.pk), user=user,
                                       action="create").exists()


def test_xlsx_good_path(cast, django_capture_on_commit_callbacks):
    user = cast["lead_admin_a"]
    rows = [org(legal_name="Gamma College", ringgold_id="1234"), org(legal_name="Delta Lab", ror_id=ROR_NEW2)]
    content = xlsx_bytes(rows)
    batch = preview_of(user, "organisations", content, "orgs.xlsx")
    assert batch.format == "xlsx" and problems(batch) == []
    assert [r["row"] for r in batch.preview["rows"]] == [2, 3]
    batch = confirm(batch, user, django_capture_on_commit_callbacks)
    assert batch.status == ImportBatch.Status.APPLIED
    assert Organisation.objects.get(legal_name="Gamma College").ringgold_id == "1234"
    assert Organisation.objects.filter(legal_name="Delta Lab").exists()


def test_xlsx_with_an_error(cast):
    before = counts()
    rows = [org(), org(legal_name="Delta Lab", ror_id=bad_checksum(ROR_NEW2))]
    sheet_rows = [dict(r) for r in rows]
    workbook = xlsx_bytes(sheet_rows)
    batch = preview_of(cast["lead_admin_a"], "organisations", workbook, "orgs.xlsx")
    assert [(p["row"], p["column"]) for p in problems(batch)] == [(3, "ror_id")]
    assert not batch.can_confirm and counts() == before


def test_xlsx_numbers_become_text():
    workbook = openpyxl.Workbook()
    workbook.active.append(["legal_name", "ringgold_id"])
    workbook.active.append(["Gamma", 1234.0])
    out = io.BytesIO()
    workbook.save(out)
    table = read_table(out.getvalue(), "x.xlsx")
    assert table.rows[0].values == {"legal_name": "Gamma", "ringgold_id": "1234"}


def test_roles_column_replaces_roles_and_a_missing_column_keeps_them(cast, django_capture_on_commit_callbacks):
    user = cast["lead_admin_a"]
    f.ContactRoleFactory(contact=cast.contact_a, role=ContactRole.Kind.TECHNICAL)
    batch = preview_of(user, "contacts", csv_bytes([contact(name="Ann Alpha", email="ann@alpha.example",
                                                            roles="main;voting")]))
    confirm(batch, user, django_capture_on_commit_callbacks)
    assert sorted(r.role for r in cast.contact_a.roles.all()) == ["main", "voting"]
    row = contact(name="Ann A. Alpha", email="ann@alpha.example")
    del row["roles"]
    batch = confirm(preview_of(user, "contacts", csv_bytes([row])), user, django_capture_on_commit_callbacks)
    cast.contact_a.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED and cast.contact_a.name == "Ann A. Alpha"
    assert sorted(r.role for r in cast.contact_a.roles.all()) == ["main", "voting"]


def test_rules_only_the_services_know_show_in_the_preview(cast, monkeypatch):
    """The preview rehearses the writes (and rolls them back), so a service's refusal is a row problem."""
    real_create = services.organisation_create

    def refuse_delta(**kwargs):
        if kwargs["legal_name"] == "Delta Lab":
            raise ValidationError({"legal_name": "Delta Lab is not allowed here."})
        return real_create(**kwargs)

    monkeypatch.setattr(services, "organisation_create", refuse_delta)
    before = counts()
    changes = ChangeRecord.objects.count()
    batch = preview_of(cast["lead_admin_a"], "organisations",
                       csv_bytes([org(), org(legal_name="Delta Lab", ror_id=ROR_NEW2)]))
    assert problems(batch) == [{"message": "Delta Lab is not allowed here.", "row": 3, "column": "legal_name"}]
    assert not batch.can_confirm
    assert counts() == before and ChangeRecord.objects.count() == changes


# --- All or nothing at confirm time -----------------------------------------------------------------

def test_data_changed_between_preview_and_confirm_writes_nothing(cast, django_capture_on_commit_callbacks):
    user = cast["lead_admin_a"]
    batch = preview_of(user, "organisations", csv_bytes([org(legal_name="Delta Lab", ror_id=ROR_NEW2), org()]))
    assert batch.can_confirm
    # Meanwhile another consortium registers the ROR ID of row 3.
    f.OrganisationFactory(consortium=cast.consortium_b, legal_name="Gamma Elsewhere", ror_id=ROR_NEW)
    before = counts()
    changes = ChangeRecord.objects.count()
    batch = confirm(batch, user, django_capture_on_commit_callbacks)
    assert batch.status == ImportBatch.Status.FAILED
    assert counts() == before and ChangeRecord.objects.count() == changes
    assert not Organisation.objects.filter(legal_name="Delta Lab").exists()
    assert batch.preview["failure"] and any(p["row"] == 3 and p["column"] == "ror_id" for p in problems(batch))


def test_a_row_failing_while_applying_rolls_back_every_row(cast, monkeypatch, django_capture_on_commit_callbacks):
    user = cast["lead_admin_a"]
    batch = preview_of(user, "organisations", csv_bytes([org(legal_name="Delta Lab", ror_id=ROR_NEW2), org()]))
    real_create = services.organisation_create
    calls = []

    def create_then_collide(**kwargs):
        calls.append(kwargs["legal_name"])
        if len(calls) == 2:
            raise ValidationError("This would duplicate an existing record: UNIQUE constraint failed")
        return real_create(**kwargs)

    monkeypatch.setattr(services, "organisation_create", create_then_collide)
    before = counts()
    changes = ChangeRecord.objects.count()
    batch = confirm(batch, user, django_capture_on_commit_callbacks)
    assert calls == ["Delta Lab", "Gamma College"]
    assert batch.status == ImportBatch.Status.FAILED
    assert counts() == before and ChangeRecord.objects.count() == changes
    assert batch.preview["failure"] == [{"message": "This would duplicate an existing record: UNIQUE constraint "
                                                    "failed", "row": 3, "column": ""}]


# --- Pages and API ----------------------------------------------------------------------------------

def test_import_buttons_on_lists(cast, client_for):
    client = client_for(cast["lead_admin_a"])
    for name, kind in (("directory:organisation_list", "organisations"), ("directory:contact_list", "contacts")):
        html = client.get(reverse(name)).content.decode()
        assert f"{reverse('directory:import_start')}?kind={kind}" in html
    html = client_for(cast["lead_support_a"]).get(reverse("directory:organisation_list")).content.decode()
    assert reverse("directory:import_start") not in html
    assert client_for(cast["lead_support_a"]).get(reverse("directory:import_start")).status_code == 403


def test_start_page_renders(cast, client_for):
    response = client_for(cast["lead_admin_a"]).get(reverse("directory:import_start") + "?kind=contacts")
    html = response.content.decode()
    assert response.status_code == 200 and 'enctype="multipart/form-data"' in html
    assert '<option value="contacts" selected>' in html


def test_preview_page_lists_problems(cast, client_for):
    user = cast["lead_admin_a"]
    batch = preview_of(user, "contacts", csv_bytes([contact(email="nope")]))
    html = client_for(user).get(reverse("directory:import_preview", args=[batch.pk])).content.decode()
    assert "not a valid email address" in html and "Upload a corrected file" in html
    assert reverse("directory:import_confirm", args=[batch.pk]) not in html


def test_status_poll(cast, client_for):
    user = cast["lead_admin_a"]
    batch = preview_of(user, "organisations", csv_bytes([org()]))
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.QUEUED)
    client = client_for(user)
    url = reverse("directory:import_preview", args=[batch.pk]) + "?status=1"
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' in response.content.decode()
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.APPLIED)
    assert client.get(url, HTTP_HX_REQUEST="true").headers.get("HX-Refresh") == "true"


def test_api_upload_preview_and_confirm(cast, api_for, django_capture_on_commit_callbacks):
    user = cast["lead_admin_a"]
    api = api_for(user)
    bad = api.post("/api/v1/imports/", {"kind": "organisations", "file": _file(
        csv_bytes([org(ror_id=bad_checksum(ROR_NEW))]), "orgs.csv")}, format="multipart")
    assert bad.status_code == 201
    assert bad.json()["problem_count"] == 1
    assert bad.json()["preview"]["rows"][0]["problems"][0]["column"] == "ror_id"
    assert api.post(f"/api/v1/imports/{bad.json()['id']}/confirm/").status_code == 400

    response = api.post("/api/v1/imports/", {"kind": "organisations", "file": _file(csv_bytes([org()]), "o.csv")},
                        format="multipart")
    assert response.status_code == 201
    body = response.json()
    assert body["can_confirm"] and body["preview"]["rows"][0]["action"] == "create"
    assert api.get(f"/api/v1/imports/{body['id']}/").json()["status"] == "previewed"
    assert api_for(cast["lead_admin_b"]).get(f"/api/v1/imports/{body['id']}/").status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = api.post(f"/api/v1/imports/{body['id']}/confirm/")
    assert confirmed.status_code == 202
    assert api.get(f"/api/v1/imports/{body['id']}/").json()["status"] == "applied"
    assert Organisation.objects.filter(legal_name="Gamma College", consortium=cast.consortium_a).exists()
    assert api.post(f"/api/v1/imports/{body['id']}/confirm/").status_code == 409

    forbidden = api_for(cast["lead_support_a"]).post(
        "/api/v1/imports/", {"kind": "organisations", "file": _file(csv_bytes([org()]))}, format="multipart")
    assert forbidden.status_code == 403


def _file(content: bytes, name: str = "upload.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)
