"""The registry link's pages: who sees which rows, ORCID staff reading only, the upload's preview → apply
flow through the web, the CSV exports' contents, credentials whose secret is never shown, adoption."""

from __future__ import annotations

import csv
import datetime as dt
import io
from unittest import mock

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from consortium_hub.audit.models import ChangeRecord
from consortium_hub.core.testing import factories as f
from consortium_hub.registry import validation
from consortium_hub.registry.models import (AdoptionSnapshot, Affiliation, AffiliationUpload, OrcidApiCall,
                                            OrcidGrant, PermissionLink, RegistryClient)
from consortium_hub.registry.services.permissions import link_url

pytestmark = pytest.mark.django_db

Status = Affiliation.Status
ADMIN, ENG, SUP = "orcid_admin", "engagement_lead", "orcid_support"
LA, LS, MC, LB = "lead_admin_a", "lead_support_a", "member_contact_a", "lead_admin_b"
ROR = "05dxps055"


def fields(email: str, **changes: str) -> dict[str, str]:
    data = {"email": email, "section": "employment", "department_name": "Physics", "role_title": "Professor",
            "start_date": "2019-09", "end_date": "", "org_name": "Alpha University", "org_country": "GB",
            "org_city": "London", "org_region": "", "disambiguated_organization_identifier": ROR,
            "disambiguation_source": "ROR", "external_id": "", "external_id_type": "", "external_id_url": "",
            "url": ""}
    data.update(changes)
    return data


def affiliation(organisation, email: str, **state) -> Affiliation:
    clean = validation.clean_affiliation(fields(email, **state.pop("content", {})))
    return Affiliation.objects.create(organisation=organisation, content_key=validation.content_key(clean),
                                      **clean, **state)


def csv_file(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(validation.COLUMNS))
    writer.writeheader()
    for row in rows:
        writer.writerow({validation.FIELD_COLUMNS.get(k, k): v for k, v in row.items()})
    return out.getvalue().encode()


def _named(content: bytes, name: str = "upload.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def writer():
    """The writer's job would call ORCID: these pages only need to know it was asked to run."""
    with mock.patch("consortium_hub.registry.services.sync.schedule_writes") as schedule_writes:
        yield schedule_writes


@pytest.fixture
def rows(cast):
    """One row each of Alpha University (A), Alpha Institute (A2, the same consortium) and Beta (B)."""
    return {"a": affiliation(cast.org_a, "ann@alpha.example", status=Status.IN_ORCID, put_code="11",
                             orcid_id=f.valid_orcid(1)),
            "a2": affiliation(cast.org_a2, "ian@inst.example", content={"org_name": "Alpha Institute"}),
            "b": affiliation(cast.org_b, "bea@beta.example", content={"org_name": "Beta University",
                                                                      "org_country": "AU", "org_city": "Perth"})}


# --- Who sees what -----------------------------------------------------------------------------------

def test_a_member_sees_its_own_organisations_rows_only(cast, client_for, rows):
    client = client_for(cast[MC])
    page = client.get(reverse("registry:affiliation_list")).content.decode()
    assert "ann@alpha.example" in page
    assert "ian@inst.example" not in page and "bea@beta.example" not in page
    for key in ("a2", "b"):
        for name in ("registry:affiliation_detail", "registry:affiliation_edit", "registry:affiliation_history"):
            assert client.get(reverse(name, args=[rows[key].pk])).status_code == 404, (key, name)
    assert client.post(reverse("registry:affiliation_delete", args=[rows["b"].pk])).status_code == 404
    rows["b"].refresh_from_db()
    assert rows["b"].status == Status.PENDING


def test_a_lead_sees_its_consortium_and_gets_404_for_another(cast, client_for, rows):
    page = client_for(cast[LA]).get(reverse("registry:affiliation_list")).content.decode()
    assert "ann@alpha.example" in page and "ian@inst.example" in page and "bea@beta.example" not in page
    assert client_for(cast[LB]).get(reverse("registry:affiliation_detail", args=[rows["a"].pk])).status_code == 404


def test_the_list_counts_rows_per_status_and_filters_by_them(cast, client_for, rows):
    affiliation(cast.org_a, "err@alpha.example", status=Status.ERROR_ADDING, orcid_error="Invalid start date")
    client = client_for(cast[LA])
    page = client.get(reverse("registry:affiliation_list")).content.decode()
    assert "In ORCID <small>(1)</small>" in page and "Pending <small>(1)</small>" in page
    assert "Error adding to ORCID <small>(1)</small>" in page and "Invalid start date" in page
    assert f'href="https://orcid.org/{f.valid_orcid(1)}"' in page
    narrowed = client.get(reverse("registry:affiliation_list"), {"status": Status.ERROR_ADDING}).content.decode()
    assert "err@alpha.example" in narrowed and "ann@alpha.example" not in narrowed
    # The summary keeps counting the other statuses, so each stays a link to switch to.
    assert "In ORCID <small>(1)</small>" in narrowed


def test_orcid_staff_read_but_never_write(cast, client_for, rows, writer):
    client = client_for(cast[SUP])
    page = client.get(reverse("registry:affiliation_list")).content.decode()
    assert "bea@beta.example" in page and "ann@alpha.example" in page
    assert reverse("registry:affiliation_create") not in page
    pk = rows["a"].pk
    assert client.get(reverse("registry:affiliation_detail", args=[pk])).status_code == 200
    assert client.get(reverse("registry:affiliation_create")).status_code == 403
    assert client.get(reverse("registry:upload_create")).status_code == 403
    assert client.post(reverse("registry:affiliation_edit", args=[pk]), fields("x@alpha.example")).status_code == 403
    assert client.post(reverse("registry:affiliation_delete", args=[pk])).status_code == 403
    assert client.post(reverse("registry:affiliation_retry", args=[pk])).status_code == 403
    rows["a"].refresh_from_db()
    assert (rows["a"].email, rows["a"].status) == ("ann@alpha.example", Status.IN_ORCID)


def test_the_orcid_area_is_in_the_navigation_with_the_tabs_each_role_may_open(cast, client_for):
    member = client_for(cast[MC]).get(reverse("registry:affiliation_list")).content.decode()
    assert f'href="{reverse("registry:home")}"' in member
    assert reverse("registry:adoption") in member
    assert reverse("registry:call_list") not in member and reverse("registry:settings_list") not in member
    lead = client_for(cast[LA]).get(reverse("registry:affiliation_list")).content.decode()
    assert reverse("registry:call_list") in lead and reverse("registry:settings_list") in lead
    assert client_for(cast[MC]).get(reverse("registry:home")).url == reverse("registry:affiliation_list")


# --- Row edits ----------------------------------------------------------------------------------------

def test_a_member_adds_edits_and_deletes_a_row_through_the_pages(cast, client_for, writer,
                                                                django_capture_on_commit_callbacks):
    client = client_for(cast[MC])
    form = client.get(reverse("registry:affiliation_create")).content.decode()
    assert "Alpha University" in form and "Alpha Institute" not in form and "Beta University" not in form

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registry:affiliation_create"),
                               {"organisation": cast.org_a.pk, **fields("new@alpha.example")})
    row = Affiliation.objects.get(email="new@alpha.example")
    assert response.url == reverse("registry:affiliation_detail", args=[row.pk])
    # No grant yet: the researcher is asked for permission (by email) before anything goes to ORCID.
    assert row.status in (Status.NOTIFICATION_REQUESTED, Status.NOTIFICATION_SENT)
    assert [m.to for m in mail.outbox] == [["new@alpha.example"]]

    bad = client.post(reverse("registry:affiliation_edit", args=[row.pk]),
                      fields("new@alpha.example", start_date="2021-02-30"))
    assert bad.status_code == 200 and "not a day on the calendar" in bad.content.decode()
    client.post(reverse("registry:affiliation_edit", args=[row.pk]),
                fields("new@alpha.example", role_title="Reader"))
    row.refresh_from_db()
    assert row.role_title == "Reader"

    confirm = client.get(reverse("registry:affiliation_delete", args=[row.pk])).content.decode()
    assert "never written to ORCID" in confirm
    client.post(reverse("registry:affiliation_delete", args=[row.pk]))
    row.refresh_from_db()
    assert row.status == Status.DELETED

    history = client.get(reverse("registry:affiliation_history", args=[row.pk])).content.decode()
    assert ChangeRecord.objects.filter(object_id=str(row.pk)).count() >= 3
    assert "Reader" in history


def test_a_failed_row_is_retried_and_a_good_one_is_not(cast, client_for, writer):
    OrcidGrant.objects.create(organisation=cast.org_a, email="err@alpha.example", status=OrcidGrant.Status.GRANTED,
                              orcid_id=f.valid_orcid(2), access_token="t")
    failed = affiliation(cast.org_a, "err@alpha.example", status=Status.ERROR_ADDING, orcid_error="boom",
                         attempts=5)
    client = client_for(cast[LS])
    assert "Retry now" in client.get(reverse("registry:affiliation_detail", args=[failed.pk])).content.decode()
    client.post(reverse("registry:affiliation_retry", args=[failed.pk]))
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.orcid_error) == (Status.PENDING, 0, "")
    writer.assert_called_with(organisation_id=cast.org_a.pk)

    followed = client.post(reverse("registry:affiliation_retry", args=[failed.pk]), follow=True)
    assert "Only a row that failed to reach ORCID can be retried" in followed.content.decode()


# --- Upload: preview, then apply ----------------------------------------------------------------------

def test_upload_preview_lists_each_rows_result_then_applies_once(cast, client_for, writer):
    client = client_for(cast[MC])
    form = client.get(reverse("registry:upload_create")).content.decode()
    assert "Alpha University" in form and "Alpha Institute" not in form
    assert f'<option value="{cast.org_a.pk}" selected>' in form  # a member's one organisation is chosen for them
    content = csv_file([fields("one@alpha.example"), fields("two@alpha.example", org_country="XX"),
                        fields("three@alpha.example", role_title="Lecturer")])

    response = client.post(reverse("registry:upload_create"), {
        "organisation": cast.org_a.pk, "language": "fr",
        "file": _named(content, "staff.csv")})
    upload = AffiliationUpload.objects.get()
    assert response.url == reverse("registry:upload_detail", args=[upload.pk]) + "?language=fr"
    assert not Affiliation.objects.exists()

    preview = client.get(response.url).content.decode()
    assert "Apply 2 rows" in preview
    assert "org-country" in preview and "XX" in preview  # row 3's column and reason
    assert '<th scope="row">3</th>' in preview
    assert '<option value="fr" selected>' in preview
    rejected = client.get(reverse("registry:upload_detail", args=[upload.pk]), {"show": "problems"}).content.decode()
    assert "three@alpha.example" not in rejected and '<th scope="row">3</th>' in rejected

    done = client.post(reverse("registry:upload_apply", args=[upload.pk]), {"language": "fr"}, follow=True)
    assert sorted(Affiliation.objects.values_list("email", flat=True)) == ["one@alpha.example",
                                                                          "three@alpha.example"]
    upload.refresh_from_db()
    assert upload.applied_at is not None and upload.language == "fr"
    page = done.content.decode()
    assert "Where its rows stand" in page and "Apply 2 rows" not in page
    assert PermissionLink.objects.filter(language="fr").count() == 2
    writer.assert_called_with(organisation_id=cast.org_a.pk)

    # The same file again: the preview says so and it cannot be applied.
    again = client.post(reverse("registry:upload_create"), {"organisation": cast.org_a.pk, "language": "en",
                                                            "file": _named(content, "staff-again.csv")}, follow=True)
    text = again.content.decode()
    assert "already applied" in text and "Apply 2 rows" not in text
    second = AffiliationUpload.objects.exclude(pk=upload.pk).get()
    refused = client.post(reverse("registry:upload_apply", args=[second.pk]), {"language": "en"}, follow=True)
    assert "cannot be applied again" in refused.content.decode()
    assert Affiliation.objects.count() == 2


def test_a_member_cannot_upload_for_another_organisation(cast, client_for, writer):
    client = client_for(cast[MC])
    response = client.post(reverse("registry:upload_create"), {
        "organisation": cast.org_a2.pk, "language": "en", "file": _named(csv_file([fields("x@inst.example")]))})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not AffiliationUpload.objects.exists()
    other = AffiliationUpload.objects.create(organisation=cast.org_b, filename="b.csv")
    assert client.get(reverse("registry:upload_detail", args=[other.pk])).status_code == 404
    assert client.post(reverse("registry:upload_apply", args=[other.pk])).status_code == 404


# --- Exports --------------------------------------------------------------------------------------------

def test_rows_for_editing_can_be_uploaded_again_and_follow_the_filters(cast, client_for, rows):
    affiliation(cast.org_a, "formula@alpha.example", content={"role_title": "=HYPERLINK(\"x\")"})
    client = client_for(cast[MC])
    table = read_csv(client.get(reverse("registry:affiliation_export")))
    assert table[0] == list(validation.COLUMNS)
    by_email = {row[0]: row for row in table[1:]}
    assert set(by_email) == {"ann@alpha.example", "formula@alpha.example"}
    assert by_email["ann@alpha.example"][-1] == str(rows["a"].pk)
    # A spreadsheet must not run a researcher's text as a formula.
    assert by_email["formula@alpha.example"][validation.COLUMNS.index("role-title")] == "'=HYPERLINK(\"x\")"

    filtered = read_csv(client.get(reverse("registry:affiliation_export"), {"status": Status.IN_ORCID}))
    assert [row[0] for row in filtered[1:]] == ["ann@alpha.example"]


def test_the_status_report_shows_where_each_visible_row_stands(cast, client_for, rows):
    table = read_csv(client_for(cast[LA]).get(reverse("registry:affiliation_status_export")))
    header, body = table[0], table[1:]
    assert header[:5] == ["id", "email", "affiliation-section", "org-name", "status"]
    statuses = {row[1]: row[4] for row in body}
    assert statuses == {"ann@alpha.example": "In ORCID", "ian@inst.example": "Pending"}
    ann = next(row for row in body if row[1] == "ann@alpha.example")
    assert ann[5] == "11" and ann[6] == f.valid_orcid(1)


def test_the_permission_links_export_carries_each_link_of_the_visible_members(cast, client_for):
    expires = timezone.now() + dt.timedelta(days=30)
    mine = PermissionLink.objects.create(organisation=cast.org_a, email="ann@alpha.example", token_hash="nonce-a",
                                         status=PermissionLink.Status.SENT, expires_at=expires)
    PermissionLink.objects.create(organisation=cast.org_b, email="bea@beta.example", token_hash="nonce-b",
                                  status=PermissionLink.Status.SENT, expires_at=expires)
    client = client_for(cast[MC])
    table = read_csv(client.get(reverse("registry:link_export")))
    assert table[0] == ["email", "status", "created", "expires", "link"]
    assert table[1:] == [["ann@alpha.example", "Notification sent", table[1][2], table[1][3], link_url(mine)]]
    page = client.get(reverse("registry:link_list")).content.decode()
    assert "ann@alpha.example" in page and "nonce-a" not in page and "bea@beta.example" not in page


def test_a_failed_link_can_be_sent_again(cast, client_for, django_capture_on_commit_callbacks):
    failed = PermissionLink.objects.create(organisation=cast.org_a, email="ann@alpha.example", token_hash="old",
                                           status=PermissionLink.Status.FAILED,
                                           expires_at=timezone.now() + dt.timedelta(days=3))
    client = client_for(cast[MC])
    assert "Send a new link" in client.get(reverse("registry:link_list")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registry:link_resend", args=[failed.pk]))
    fresh = PermissionLink.objects.exclude(pk=failed.pk).get()
    assert (fresh.email, fresh.organisation_id) == ("ann@alpha.example", cast.org_a.pk)
    assert [m.to for m in mail.outbox] == [["ann@alpha.example"]]
    # A link still on its way is not doubled.
    done = client.post(reverse("registry:link_resend", args=[failed.pk]), follow=True)
    assert "no new link was sent" in done.content.decode()
    assert PermissionLink.objects.count() == 2


# --- Grants, calls, credentials ------------------------------------------------------------------------

def test_grants_show_status_and_dates_never_a_token(cast, client_for):
    OrcidGrant.objects.create(organisation=cast.org_a, email="ann@alpha.example", status=OrcidGrant.Status.GRANTED,
                              orcid_id=f.valid_orcid(3), access_token="very-secret-token",
                              refresh_token="very-secret-refresh", granted_at=timezone.now())
    page = client_for(cast[LA]).get(reverse("registry:grant_list")).content.decode()
    assert "ann@alpha.example" in page and "User granted access" in page
    assert "very-secret" not in page


def test_the_call_log_is_for_staff_and_scoped_to_the_consortium(cast, client_for):
    OrcidApiCall.objects.create(consortium=cast.consortium_a, organisation=cast.org_a, method="POST",
                                path="/v3.0/a/employment", status_code=201)
    OrcidApiCall.objects.create(consortium=cast.consortium_b, organisation=cast.org_b, method="PUT",
                                path="/v3.0/b/employment/9", status_code=409, error_code="9044")
    assert client_for(cast[MC]).get(reverse("registry:call_list")).status_code == 403
    lead = client_for(cast[LS]).get(reverse("registry:call_list")).content.decode()
    assert "/v3.0/a/employment" in lead and "/v3.0/b/employment" not in lead
    failed = client_for(cast[SUP]).get(reverse("registry:call_list"), {"failed": "true"}).content.decode()
    assert "/v3.0/b/employment/9" in failed and "/v3.0/a/employment" not in failed


def test_credentials_keep_the_secret_write_only(cast, client_for):
    client = client_for(cast[LA])
    url = reverse("registry:settings_edit", args=[cast.consortium_a.pk])
    missing = client.post(url, {"client_id": "APP-A", "client_secret": ""})
    assert missing.status_code == 200 and "This field is required" in missing.content.decode()
    client.post(url, {"client_id": "APP-A", "client_secret": "s3cret-value", "rate_per_second": "12"})
    saved = RegistryClient.objects.get(consortium=cast.consortium_a)
    assert (saved.client_id, saved.client_secret, saved.rate_per_second) == ("APP-A", "s3cret-value", 12)

    listing = client.get(reverse("registry:settings_list")).content.decode()
    assert "APP-A" in listing and "s3cret-value" not in listing and "Consortium B" not in listing
    edit = client.get(url).content.decode()
    assert "s3cret-value" not in edit and "A secret is set" in edit
    client.post(url, {"client_id": "APP-A2", "client_secret": "", "rate_per_second": ""})
    saved.refresh_from_db()
    assert (saved.client_id, saved.client_secret, saved.rate_per_second) == ("APP-A2", "s3cret-value", None)
    assert client_for(cast[LB]).get(url).status_code == 404
    assert client_for(cast[MC]).get(reverse("registry:settings_list")).status_code == 403


# --- Adoption ---------------------------------------------------------------------------------------------

def _snapshots(cast) -> None:
    for org, figures in ((cast.org_a, (100, 130)), (cast.org_a2, (50, 40)), (cast.org_b, (7, 9))):
        for day, total in zip((dt.date(2026, 9, 30), dt.date(2026, 10, 31)), figures):
            AdoptionSnapshot.objects.create(organisation=org, taken_on=day, identifier_type="ror",
                                            identifier=f"https://ror.org/{org.pk}", records_total=total,
                                            records_from_hub=total // 10)


def test_adoption_shows_each_member_the_change_and_the_consortiums_chart(cast, client_for):
    _snapshots(cast)
    lead = client_for(cast[LA]).get(reverse("registry:adoption")).content.decode()
    assert "Alpha University" in lead and "Alpha Institute" in lead and "Beta University" not in lead
    assert "+30" in lead and "-10" in lead
    assert "<svg" in lead and "2026-10-31" in lead  # one consortium: its chart without choosing
    assert "170" in lead  # the consortium's total on the last day (130 + 40)

    member = client_for(cast[MC]).get(reverse("registry:adoption")).content.decode()
    assert "Alpha University" in member and "Alpha Institute" not in member

    admin = client_for(cast[ADMIN]).get(reverse("registry:adoption")).content.decode()
    assert "Beta University" in admin and "Choose a consortium" in admin
    chosen = client_for(cast[ADMIN]).get(reverse("registry:adoption"), {"consortium": cast.consortium_b.pk})
    assert "<svg" in chosen.content.decode() and "Alpha University" not in chosen.content.decode()


def test_the_adoption_csv_has_every_visible_figure(cast, client_for):
    _snapshots(cast)
    table = read_csv(client_for(cast[MC]).get(reverse("registry:adoption_csv")))
    assert table[0][:2] == ["consortium", "organisation"]
    assert [row[1] for row in table[1:]] == ["Alpha University", "Alpha University"]
    assert [row[-2] for row in table[1:]] == ["100", "130"]
