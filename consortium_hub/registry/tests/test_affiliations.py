"""Affiliation uploads (preview, apply) and single-row edits: services/affiliations.py."""

from __future__ import annotations

import csv
import io
from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from consortium_hub.audit.context import acting_as
from consortium_hub.audit.models import ChangeRecord
from consortium_hub.core.testing import factories as f
from consortium_hub.registry import validation
from consortium_hub.registry.models import Affiliation, AffiliationUpload, OrcidGrant, PermissionLink
from consortium_hub.registry.services import affiliations as services

Status = Affiliation.Status
ROR = "05dxps055"


def line(email: str = "ann@alpha.example", **changes: str) -> dict[str, str]:
    data = {"email": email, "affiliation-section": "employment", "department-name": "Physics",
            "role-title": "Professor", "start-date": "2019-09", "org-name": "Alpha University", "org-country": "GB",
            "org-city": "London", "disambiguated-organization-identifier": ROR, "disambiguation-source": "ROR"}
    data.update({k.replace("_", "-"): value for k, value in changes.items()})
    return data


def upload_file(rows: list[dict[str, str]], name: str = "affiliations.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(validation.COLUMNS))
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def fields(email: str = "ann@alpha.example", **changes: str) -> dict[str, str]:
    """An affiliation's content as a form gives it (field names)."""
    return {validation.COLUMN_FIELDS[c]: value for c, value in line(email, **changes).items()}


def make_affiliation(organisation, email: str = "old@alpha.example", *, role_title: str = "Professor",
                     **state) -> Affiliation:
    data = validation.clean_affiliation(fields(email, role_title=role_title))
    return Affiliation.objects.create(organisation=organisation, content_key=validation.content_key(data),
                                      **data, **state)


def grant(organisation, email: str, status: str = OrcidGrant.Status.GRANTED) -> OrcidGrant:
    return OrcidGrant.objects.create(organisation=organisation, email=email, status=status,
                                     orcid_id=f.valid_orcid(1), access_token="token")


@pytest.fixture
def collaborators():
    """The permission requests and the writer: both would reach ORCID or send mail; their own tests cover them."""
    with mock.patch("consortium_hub.registry.services.permissions.request_permission") as request_permission, \
            mock.patch("consortium_hub.registry.services.sync.schedule_writes") as schedule_writes:
        yield mock.Mock(request_permission=request_permission, schedule_writes=schedule_writes)


def asked(collaborators) -> list[str]:
    return sorted(c.kwargs["email"] for c in collaborators.request_permission.call_args_list)


# --- Preview ---------------------------------------------------------------------------------------------

def test_preview_stores_the_file_and_every_rows_result_without_writing(cast, collaborators):
    member = cast["member_contact_a"]
    rows = [line(), line("bob@alpha.example", org_country="XX"), line("cy@alpha.example", start_date="2021-02-30")]
    upload = services.preview_upload(user=member, organisation=cast.org_a, uploaded_file=upload_file(rows))

    upload.refresh_from_db()
    assert bytes(upload.content).startswith(b"email,")
    assert len(upload.content_sha256) == 64
    assert (upload.rows_total, upload.rows_accepted, upload.rows_rejected, upload.rows_unchanged) == (3, 1, 2, 0)
    assert [(p["row"], p["column"]) for p in upload.problems] == [(3, "org-country"), (4, "start-date")]
    assert all(p["reason"] for p in upload.problems)
    assert upload.applied_at is None and upload.uploaded_by == member
    assert not Affiliation.objects.exists()
    collaborators.request_permission.assert_not_called()

    preview = services.preview_rows(upload)
    assert [(r.row, r.action) for r in preview] == [(2, "create"), (3, "rejected"), (4, "rejected")]
    assert preview[0].email == "ann@alpha.example" and preview[0].org_name == "Alpha University"
    assert preview[1].problems[0]["column"] == "org-country"
    assert (preview[1].email, preview[2].email) == ("bob@alpha.example", "cy@alpha.example")  # whose row it was


def test_a_file_with_a_wrong_header_accepts_nothing(cast):
    content = b"email,affiliation-section,colour\nann@alpha.example,employment,blue\n"
    upload = services.preview_upload(user=cast["lead_admin_a"], organisation=cast.org_a,
                                     uploaded_file=SimpleUploadedFile("a.csv", content))
    assert upload.rows_accepted == 0
    reasons = " ".join(p["reason"] for p in upload.problems)
    assert "org-name" in reasons and "colour" in reasons
    assert all(p["row"] is None for p in upload.problems)


@override_settings(IMPORT_MAX_BYTES=1024)
def test_a_file_over_the_size_limit_is_not_kept(cast):
    big = upload_file([line(f"p{n}@alpha.example") for n in range(20)])
    upload = services.preview_upload(user=cast["lead_admin_a"], organisation=cast.org_a, uploaded_file=big)
    assert bytes(upload.content) == b"" and upload.content_sha256 == ""
    assert "largest file" in upload.problems[0]["reason"]
    assert services.preview_rows(upload) == []


@pytest.mark.parametrize("name", ["orcid_support", "engagement_lead", "lead_admin_b", "anonymous"])
def test_only_the_members_people_and_its_lead_may_upload(cast, name):
    with pytest.raises(PermissionDenied):
        services.preview_upload(user=cast[name], organisation=cast.org_a, uploaded_file=upload_file([line()]))


def test_a_member_contact_uploads_for_its_own_organisation_only(cast):
    services.preview_upload(user=cast["member_contact_a"], organisation=cast.org_a, uploaded_file=upload_file([line()]))
    services.preview_upload(user=cast["lead_support_a"], organisation=cast.org_a2, uploaded_file=upload_file([line()]))
    with pytest.raises(PermissionDenied):
        services.preview_upload(user=cast["member_contact_a"], organisation=cast.org_a2,
                                uploaded_file=upload_file([line()]))


def test_another_organisations_id_is_refused_without_revealing_it(cast, collaborators):
    theirs = make_affiliation(cast.org_a2, "ian@inst.example")
    rows = [line(id=str(theirs.pk)), {"id": str(theirs.pk + 1000)}]
    upload = services.preview_upload(user=cast["lead_admin_a"], organisation=cast.org_a, uploaded_file=upload_file(
        [rows[0]]))
    assert upload.problems == [{"row": 2, "column": "id",
                                "reason": f"id {theirs.pk} is not one of this organisation's affiliations."}]
    unknown = services.preview_upload(user=cast["lead_admin_a"], organisation=cast.org_a,
                                      uploaded_file=upload_file([rows[1]]))
    # An id of another member reads exactly like an id that does not exist.
    assert unknown.problems[0]["reason"] == f"id {theirs.pk + 1000} is not one of this organisation's affiliations."
    with pytest.raises(ValidationError):
        services.apply_upload(user=cast["lead_admin_a"], upload=upload, language="en")
    theirs.refresh_from_db()
    assert theirs.org_name == "Alpha University" and theirs.status == Status.PENDING


# --- Apply ----------------------------------------------------------------------------------------------------

def test_apply_writes_good_rows_with_statuses_by_grant_and_asks_once_per_email(cast, collaborators):
    grant(cast.org_a, "granted@alpha.example")
    grant(cast.org_a, "revoked@alpha.example", OrcidGrant.Status.REVOKED)
    grant(cast.org_a2, "ann@alpha.example")  # another member's grant is not this member's permission
    rows = [line("Granted@ALPHA.example"), line("ann@alpha.example"), line("ann@alpha.example", role_title="Dean"),
            line("revoked@alpha.example"), line("bad@alpha.example", org_country="XX")]
    member = cast["member_contact_a"]
    upload = services.preview_upload(user=member, organisation=cast.org_a, uploaded_file=upload_file(rows))
    applied = services.apply_upload(user=member, upload=upload, language="fr")

    assert applied.applied_at is not None and applied.language == "fr"
    assert (applied.rows_accepted, applied.rows_rejected, applied.rows_unchanged) == (4, 1, 0)
    assert [p["row"] for p in applied.problems] == [6]
    statuses = {(a.email, a.role_title): a.status for a in Affiliation.objects.filter(upload=applied)}
    assert statuses == {
        ("granted@alpha.example", "Professor"): Status.PENDING,  # stored lower-cased; grants match
        ("ann@alpha.example", "Professor"): Status.NOTIFICATION_REQUESTED,
        ("ann@alpha.example", "Dean"): Status.NOTIFICATION_REQUESTED,
        ("revoked@alpha.example", "Professor"): Status.NOTIFICATION_REQUESTED,
    }
    assert asked(collaborators) == ["ann@alpha.example", "revoked@alpha.example"]
    for call in collaborators.request_permission.call_args_list:
        assert call.kwargs["organisation"] == cast.org_a
        assert call.kwargs["language"] == "fr" and call.kwargs["created_by"] == member
    collaborators.schedule_writes.assert_called_once_with(organisation_id=cast.org_a.pk)
    stored = Affiliation.objects.get(email="granted@alpha.example")
    assert stored.disambiguated_organization_identifier == f"https://ror.org/{ROR}"
    assert stored.content_key == validation.content_key({n: getattr(stored, n) for n in validation.CONTENT_FIELDS})


def test_bulk_created_rows_are_in_the_change_log(cast, collaborators):
    upload = services.preview_upload(user=cast["lead_admin_a"], organisation=cast.org_a,
                                     uploaded_file=upload_file([line(f"p{n}@alpha.example") for n in range(3)]))
    with acting_as(cast["lead_admin_a"], via="web", request_id="req-1"):
        services.apply_upload(user=cast["lead_admin_a"], upload=upload, language="en")
    created = list(Affiliation.objects.filter(upload=upload))
    records = ChangeRecord.objects.filter(content_type=ContentType.objects.get_for_model(Affiliation),
                                          action=ChangeRecord.Action.CREATE)
    assert sorted(int(r.object_id) for r in records) == sorted(a.pk for a in created)
    for record in records:
        assert record.user_id == cast["lead_admin_a"].pk and record.request_id == "req-1"
        assert record.organisation_id == cast.org_a.pk and record.consortium_id == cast.consortium_a.pk
        assert record.after["email"].startswith("p") and record.after["status"] == Status.NOTIFICATION_REQUESTED


def test_the_same_file_twice_is_not_applied_twice(cast, collaborators):
    rows = [line(), line("bob@alpha.example")]
    user = cast["lead_admin_a"]
    first = services.preview_upload(user=user, organisation=cast.org_a, uploaded_file=upload_file(rows))
    services.apply_upload(user=user, upload=first, language="en")

    again = services.preview_upload(user=user, organisation=cast.org_a, uploaded_file=upload_file(rows))
    assert again.problems[0]["row"] is None
    assert f"upload {first.pk}" in again.problems[0]["reason"]
    assert services.applied_earlier(again) == first
    with pytest.raises(ValidationError) as caught:
        services.apply_upload(user=user, upload=again, language="en")
    assert f"upload {first.pk}" in caught.value.messages[0]
    with pytest.raises(ValidationError):
        services.apply_upload(user=user, upload=first, language="en")
    assert Affiliation.objects.count() == 2


def test_the_same_rows_in_another_file_are_unchanged(cast, collaborators):
    user = cast["lead_admin_a"]
    first = services.preview_upload(user=user, organisation=cast.org_a, uploaded_file=upload_file([line()]))
    services.apply_upload(user=user, upload=first, language="en")
    # Written differently, but the same affiliation: found by its content key, not added again.
    same = [line("ann@ALPHA.example", org_country="gb", disambiguated_organization_identifier=f"https://ror.org/{ROR}"),
            line("new@alpha.example")]
    second = services.preview_upload(user=user, organisation=cast.org_a, uploaded_file=upload_file(same))
    assert (second.rows_accepted, second.rows_unchanged) == (1, 1)
    assert [r.action for r in services.preview_rows(second)] == ["unchanged", "create"]
    services.apply_upload(user=user, upload=second, language="en")
    assert Affiliation.objects.filter(organisation=cast.org_a).count() == 2

    nothing_new = services.preview_upload(user=user, organisation=cast.org_a, uploaded_file=upload_file(same[:1]))
    with pytest.raises(ValidationError) as caught:
        services.apply_upload(user=user, upload=nothing_new, language="en")
    assert "Nothing to apply" in caught.value.messages[0]


def test_the_database_refuses_a_second_application_of_the_same_file(cast, collaborators):
    """Two previews of one file applied at once: the check sees no earlier one, the constraint still does."""
    user = cast["lead_admin_a"]
    first = services.preview_upload(user=user, organisation=cast.org_a, uploaded_file=upload_file([line()]))
    second = services.preview_upload(user=user, organisation=cast.org_a, uploaded_file=upload_file([line()]))
    services.apply_upload(user=user, upload=first, language="en")
    Affiliation.objects.all().delete()  # so that the rows alone would not stop it
    with mock.patch.object(services, "applied_earlier", return_value=None), pytest.raises(ValidationError) as caught:
        services.apply_upload(user=user, upload=second, language="en")
    assert "already applied" in caught.value.messages[0]
    second.refresh_from_db()
    assert second.applied_at is None and not Affiliation.objects.exists()


def test_apply_revalidates_against_the_database_as_it_is_then(cast, collaborators):
    user = cast["lead_admin_a"]
    upload = services.preview_upload(user=user, organisation=cast.org_a,
                                     uploaded_file=upload_file([line(), line("bob@alpha.example")]))
    assert upload.rows_accepted == 2
    services.affiliation_create(user=user, organisation=cast.org_a, data=fields("bob@alpha.example"))
    applied = services.apply_upload(user=user, upload=upload, language="en")
    assert (applied.rows_accepted, applied.rows_unchanged) == (1, 1)
    assert Affiliation.objects.filter(email="bob@alpha.example").count() == 1


def test_apply_refuses_an_unknown_language(cast, collaborators):
    upload = services.preview_upload(user=cast["lead_admin_a"], organisation=cast.org_a,
                                     uploaded_file=upload_file([line()]))
    with pytest.raises(ValidationError) as caught:
        services.apply_upload(user=cast["lead_admin_a"], upload=upload, language="xx")
    assert "language" in caught.value.message_dict


def test_orcid_staff_who_only_read_cannot_apply(cast, collaborators):
    upload = services.preview_upload(user=cast["lead_admin_a"], organisation=cast.org_a,
                                     uploaded_file=upload_file([line()]))
    with pytest.raises(PermissionDenied):
        services.apply_upload(user=cast["orcid_support"], upload=upload, language="en")


# --- Updates and deletes through the file ---------------------------------------------------------------------------

def test_update_via_id(cast, collaborators):
    grant(cast.org_a, "old@alpha.example")
    in_orcid = make_affiliation(cast.org_a, "old@alpha.example", status=Status.IN_ORCID, put_code="11",
                                attempts=3, orcid_error="earlier failure")
    not_yet = make_affiliation(cast.org_a, "old@alpha.example", role_title="Dean", status=Status.PENDING)
    no_grant = make_affiliation(cast.org_a, "nogrant@alpha.example", status=Status.IN_ORCID, put_code="12")
    same = make_affiliation(cast.org_a, "same@alpha.example", status=Status.IN_ORCID, put_code="13")
    rows = [line("old@alpha.example", id=str(in_orcid.pk), role_title="Reader"),
            line("old@alpha.example", id=str(not_yet.pk), role_title="Provost"),
            line("nogrant@alpha.example", id=str(no_grant.pk), start_date="2018"),
            line("same@alpha.example", id=str(same.pk))]
    user = cast["lead_admin_a"]
    upload = services.preview_upload(user=user, organisation=cast.org_a, uploaded_file=upload_file(rows))
    assert [r.action for r in services.preview_rows(upload)] == ["update", "update", "update", "unchanged"]
    services.apply_upload(user=user, upload=upload, language="en")

    for row in (in_orcid, not_yet, no_grant, same):
        row.refresh_from_db()
    assert (in_orcid.role_title, in_orcid.status, in_orcid.put_code) == ("Reader", Status.PENDING_UPDATE, "11")
    assert (in_orcid.attempts, in_orcid.orcid_error, in_orcid.upload) == (0, "", upload)
    assert in_orcid.content_key == validation.content_key({n: getattr(in_orcid, n) for n in validation.CONTENT_FIELDS})
    assert (not_yet.role_title, not_yet.status) == ("Provost", Status.PENDING)
    assert (no_grant.start_date, no_grant.status) == ("2018", Status.NOTIFICATION_REQUESTED)
    assert same.status == Status.IN_ORCID and same.upload is None
    assert asked(collaborators) == ["nogrant@alpha.example"]
    assert ChangeRecord.objects.filter(object_id=str(in_orcid.pk), action=ChangeRecord.Action.UPDATE).exists()


def test_an_update_cannot_take_another_rows_content_or_move_an_orcid_item_to_another_person(cast, collaborators):
    first = make_affiliation(cast.org_a, "ann@alpha.example")
    second = make_affiliation(cast.org_a, "bob@alpha.example", status=Status.IN_ORCID, put_code="9")
    rows = [line("ann@alpha.example", id=str(second.pk)), line("carl@alpha.example", id=str(second.pk))]
    upload = services.preview_upload(user=cast["lead_admin_a"], organisation=cast.org_a,
                                     uploaded_file=upload_file(rows[:1]))
    assert upload.problems[0]["row"] == 2 and f"id {first.pk}" in upload.problems[0]["reason"]
    moved = services.preview_upload(user=cast["lead_admin_a"], organisation=cast.org_a,
                                    uploaded_file=upload_file(rows[1:]))
    assert moved.problems[0]["column"] == "email"


def test_delete_via_a_row_with_only_its_id(cast, collaborators):
    grant(cast.org_a, "old@alpha.example")
    never_written = make_affiliation(cast.org_a, status=Status.NOTIFICATION_SENT)
    in_orcid = make_affiliation(cast.org_a, role_title="Dean", status=Status.IN_ORCID, put_code="21")
    gone = make_affiliation(cast.org_a, role_title="Chair", status=Status.RECORD_DEACTIVATED, put_code="22")
    already = make_affiliation(cast.org_a, role_title="Head", status=Status.PENDING_DELETE, put_code="23")
    rows = [{"id": str(a.pk)} for a in (never_written, in_orcid, gone, already)]
    user = cast["member_contact_a"]
    upload = services.preview_upload(user=user, organisation=cast.org_a, uploaded_file=upload_file(rows))
    assert [r.action for r in services.preview_rows(upload)] == ["delete", "delete", "delete", "unchanged"]
    assert services.preview_rows(upload)[1].email == "old@alpha.example"
    services.apply_upload(user=user, upload=upload, language="en")
    for row in (never_written, in_orcid, gone, already):
        row.refresh_from_db()
    assert never_written.status == Status.DELETED
    assert in_orcid.status == Status.PENDING_DELETE
    assert gone.status == Status.DELETED
    assert already.status == Status.PENDING_DELETE
    collaborators.request_permission.assert_not_called()
    collaborators.schedule_writes.assert_called_once_with(organisation_id=cast.org_a.pk)


def test_a_deleted_row_cannot_be_updated_but_its_content_can_be_added_again(cast, collaborators):
    deleted = make_affiliation(cast.org_a, status=Status.DELETED)
    upload = services.preview_upload(user=cast["lead_admin_a"], organisation=cast.org_a,
                                     uploaded_file=upload_file([line("old@alpha.example", id=str(deleted.pk))]))
    assert "leave id empty" in upload.problems[0]["reason"]
    again = services.preview_upload(user=cast["lead_admin_a"], organisation=cast.org_a,
                                    uploaded_file=upload_file([line("old@alpha.example")]))
    assert again.rows_accepted == 1
    services.apply_upload(user=cast["lead_admin_a"], upload=again, language="en")
    assert Affiliation.objects.filter(email="old@alpha.example").exclude(status=Status.DELETED).count() == 1


# --- Single rows ---------------------------------------------------------------------------------------------------

def test_affiliation_create(cast, collaborators):
    member = cast["member_contact_a"]
    created = services.affiliation_create(user=member, organisation=cast.org_a, data=fields(), language="de")
    assert created.status == Status.NOTIFICATION_REQUESTED and created.upload is None
    assert created.disambiguated_organization_identifier == f"https://ror.org/{ROR}"
    collaborators.request_permission.assert_called_once_with(organisation=cast.org_a, email="ann@alpha.example",
                                                             language="de", created_by=member)
    collaborators.schedule_writes.assert_not_called()

    grant(cast.org_a, "bob@alpha.example")
    granted = services.affiliation_create(user=member, organisation=cast.org_a, data=fields("bob@alpha.example"))
    assert granted.status == Status.PENDING
    collaborators.schedule_writes.assert_called_once_with(organisation_id=cast.org_a.pk)
    assert ChangeRecord.objects.filter(object_id=str(granted.pk), action=ChangeRecord.Action.CREATE).exists()


def test_affiliation_create_validates_with_the_csv_rules(cast, collaborators):
    with pytest.raises(ValidationError) as caught:
        services.affiliation_create(user=cast["lead_admin_a"], organisation=cast.org_a,
                                    data={**fields(), "org_country": "XX", "end_date": "2018", "external_id": "G"})
    assert set(caught.value.message_dict) == {"org_country", "end_date", "external_id_type"}
    assert not Affiliation.objects.exists()


def test_affiliation_create_refuses_a_duplicate(cast, collaborators):
    first = services.affiliation_create(user=cast["lead_admin_a"], organisation=cast.org_a, data=fields())
    with pytest.raises(ValidationError) as caught:
        services.affiliation_create(user=cast["lead_admin_a"], organisation=cast.org_a,
                                    data={**fields(), "email": "ann@ALPHA.EXAMPLE", "section": "Employment"})
    assert f"id {first.pk}" in caught.value.message_dict[NON_FIELD_ERRORS][0]
    # Another member may hold the same affiliation.
    services.affiliation_create(user=cast["lead_admin_a"], organisation=cast.org_a2, data=fields())


def test_affiliation_update(cast, collaborators):
    grant(cast.org_a, "old@alpha.example")
    row = make_affiliation(cast.org_a, status=Status.ERROR_UPDATING, put_code="5", attempts=4,
                           orcid_error="409 locked")
    old_key = row.content_key
    updated = services.affiliation_update(user=cast["lead_support_a"], affiliation=row,
                                          data=fields("old@alpha.example", role_title="Dean"))
    assert (updated.status, updated.role_title, updated.attempts, updated.orcid_error) == (
        Status.PENDING_UPDATE, "Dean", 0, "")
    assert updated.content_key != old_key
    collaborators.schedule_writes.assert_called_once_with(organisation_id=cast.org_a.pk)

    unchanged = services.affiliation_update(user=cast["lead_support_a"], affiliation=updated,
                                            data=fields("old@alpha.example", role_title="Dean"))
    assert unchanged.updated_at == updated.updated_at


def test_affiliation_update_names_the_problem(cast, collaborators):
    other = make_affiliation(cast.org_a, "ann@alpha.example")
    row = make_affiliation(cast.org_a, "old@alpha.example", status=Status.IN_ORCID, put_code="5")
    with pytest.raises(ValidationError) as caught:
        services.affiliation_update(user=cast["lead_admin_a"], affiliation=row, data=fields("ann@alpha.example"))
    assert f"id {other.pk}" in caught.value.message_dict[NON_FIELD_ERRORS][0]
    with pytest.raises(ValidationError) as caught:
        services.affiliation_update(user=cast["lead_admin_a"], affiliation=row,
                                    data=fields("new@alpha.example", role_title="Dean"))
    assert list(caught.value.message_dict) == ["email"]
    with pytest.raises(ValidationError) as caught:
        services.affiliation_update(user=cast["lead_admin_a"], affiliation=row,
                                    data=fields("old@alpha.example", start_date="2019-02-29"))
    assert list(caught.value.message_dict) == ["start_date"]
    row.refresh_from_db()
    assert row.status == Status.IN_ORCID and row.start_date == "2019-09"


def test_affiliation_update_without_a_grant_asks_for_permission(cast, collaborators):
    row = make_affiliation(cast.org_a, status=Status.IN_ORCID, put_code="5")
    updated = services.affiliation_update(user=cast["lead_admin_a"], affiliation=row,
                                          data=fields("old@alpha.example", role_title="Dean"))
    assert updated.status == Status.NOTIFICATION_REQUESTED
    assert asked(collaborators) == ["old@alpha.example"]


@pytest.mark.parametrize("name", ["orcid_support", "engagement_lead", "lead_admin_b"])
def test_staff_who_only_read_and_other_leads_cannot_edit_rows(cast, collaborators, name):
    row = make_affiliation(cast.org_a)
    with pytest.raises(PermissionDenied):
        services.affiliation_update(user=cast[name], affiliation=row, data=fields(role_title="Dean"))
    with pytest.raises(PermissionDenied):
        services.affiliation_delete(user=cast[name], affiliation=row)
    with pytest.raises(PermissionDenied):
        services.affiliation_create(user=cast[name], organisation=cast.org_a, data=fields())


def test_affiliation_delete(cast, collaborators):
    never_written = make_affiliation(cast.org_a, status=Status.NOTIFICATION_SENT)
    in_orcid = make_affiliation(cast.org_a, role_title="Dean", status=Status.IN_ORCID, put_code="7")
    in_flight = make_affiliation(cast.org_a, role_title="Chair", status=Status.PENDING)
    Affiliation.objects.filter(pk=in_flight.pk).update(write_started_at="2026-01-01T00:00:00Z")
    user = cast["member_contact_a"]
    assert services.affiliation_delete(user=user, affiliation=never_written).status == Status.DELETED
    collaborators.schedule_writes.assert_not_called()
    assert services.affiliation_delete(user=user, affiliation=in_orcid).status == Status.PENDING_DELETE
    # A write may have reached ORCID without its answer being stored: the writer must find and delete it.
    assert services.affiliation_delete(user=user, affiliation=in_flight).status == Status.PENDING_DELETE
    assert collaborators.schedule_writes.call_count == 2
    # Its content may now be added again.
    services.affiliation_create(user=user, organisation=cast.org_a, data=fields("old@alpha.example"))


@pytest.mark.parametrize(("status", "put_code", "expected"), [
    (Status.ERROR_ADDING, "", Status.PENDING),
    (Status.ERROR_UPDATING, "3", Status.PENDING_UPDATE),
    (Status.ERROR_DELETING, "3", Status.PENDING_DELETE),
    (Status.PENDING_RETRY, "", Status.PENDING),
])
def test_affiliation_retry(cast, collaborators, status, put_code, expected):
    row = make_affiliation(cast.org_a, status=status, put_code=put_code, attempts=10, orcid_error="503")
    retried = services.affiliation_retry(user=cast["member_contact_a"], affiliation=row)
    assert (retried.status, retried.attempts, retried.orcid_error, retried.next_attempt_at) == (expected, 0, "", None)
    collaborators.schedule_writes.assert_called_once_with(organisation_id=cast.org_a.pk)


def test_only_failed_rows_are_retried(cast, collaborators):
    row = make_affiliation(cast.org_a, status=Status.IN_ORCID, put_code="3")
    with pytest.raises(ValidationError) as caught:
        services.affiliation_retry(user=cast["member_contact_a"], affiliation=row)
    assert "status" in caught.value.message_dict
    collaborators.schedule_writes.assert_not_called()


def test_with_the_real_permission_service_a_link_is_created_once_per_email(cast):
    """The collaboration with services/permissions as it is (the writer alone is left out: it calls ORCID)."""
    rows = [line("ann@alpha.example"), line("ann@alpha.example", role_title="Dean"), line("bob@alpha.example")]
    user = cast["lead_admin_a"]
    with mock.patch("consortium_hub.registry.services.sync.schedule_writes"):
        upload = services.preview_upload(user=user, organisation=cast.org_a, uploaded_file=upload_file(rows))
        services.apply_upload(user=user, upload=upload, language="es")
    links = PermissionLink.objects.filter(organisation=cast.org_a)
    assert sorted(links.values_list("email", flat=True)) == ["ann@alpha.example", "bob@alpha.example"]
    assert set(links.values_list("language", flat=True)) == {"es"}
    assert not Affiliation.objects.filter(upload=upload, status=Status.PENDING).exists()
    assert AffiliationUpload.objects.get(pk=upload.pk).applied_at is not None


# --- Review fixes ----------------------------------------------------------------------------------------

def test_the_uploaded_file_never_enters_the_change_log(cast, collaborators):
    """The file is every researcher's email; the rows it creates are logged one by one instead."""
    member = cast["member_contact_a"]
    upload = services.preview_upload(user=member, organisation=cast.org_a, uploaded_file=upload_file([line()]))
    services.apply_upload(user=member, upload=upload, language="en")
    records = ChangeRecord.objects.filter(content_type=ContentType.objects.get_for_model(AffiliationUpload))
    assert records.exists()
    assert not any("content" in (r.before or {}) or "content" in (r.after or {}) for r in records)
    assert not any("ann@alpha.example" in str(r.after) for r in records)


def test_emails_differing_only_in_case_are_one_researcher(cast, collaborators):
    member = cast["member_contact_a"]
    upload = services.preview_upload(user=member, organisation=cast.org_a,
                                     uploaded_file=upload_file([line("Ann@Alpha.example"), line("ann@alpha.example")]))
    assert [(r.row, r.action) for r in services.preview_rows(upload)] == [(2, "create"), (3, "rejected")]


def test_the_email_of_a_row_being_written_cannot_change(cast, collaborators):
    """ORCID may already hold the item (its answer is on the way); a new email would orphan it."""
    from django.utils import timezone

    row = make_affiliation(cast.org_a, "old@alpha.example", status=Status.PENDING, write_started_at=timezone.now())
    with pytest.raises(ValidationError) as raised:
        services.affiliation_update(user=cast["member_contact_a"], affiliation=row, data=fields("new@alpha.example"))
    assert "email" in raised.value.message_dict
