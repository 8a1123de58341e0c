"""The registry link's REST API: the same rows and rules as the pages (scoping, read-only ORCID staff),
writes through the services, uploads previewed then applied, and no token or secret ever returned."""

from __future__ import annotations

import csv
import datetime as dt
import io
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from consortium_hub.core.testing import factories as f
from consortium_hub.registry import validation
from consortium_hub.registry.models import (AdoptionSnapshot, Affiliation, OrcidApiCall, OrcidGrant, PermissionLink,
                                            RegistryClient)

pytestmark = pytest.mark.django_db

Status = Affiliation.Status
ADMIN, ENG, SUP = "orcid_admin", "engagement_lead", "orcid_support"
LA, LS, MC, LB = "lead_admin_a", "lead_support_a", "member_contact_a", "lead_admin_b"
ROR = "05dxps055"
BASE = "/api/v1/registry"


def fields(email: str, **changes: str) -> dict[str, str]:
    data = {"email": email, "section": "employment", "department_name": "Physics", "role_title": "Professor",
            "start_date": "2019-09", "org_name": "Alpha University", "org_country": "GB", "org_city": "London",
            "disambiguated_organization_identifier": ROR, "disambiguation_source": "ROR"}
    data.update(changes)
    return data


def affiliation(organisation, email: str, **state) -> Affiliation:
    clean = validation.clean_affiliation(fields(email))
    return Affiliation.objects.create(organisation=organisation, content_key=validation.content_key(clean),
                                      **clean, **state)


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.fixture(autouse=True)
def writer():
    """The writer's job would call ORCID; here it is enough that it was asked to run."""
    with mock.patch("consortium_hub.registry.services.sync.schedule_writes") as schedule_writes:
        yield schedule_writes


@pytest.fixture
def rows(cast):
    return {"a": affiliation(cast.org_a, "ann@alpha.example", status=Status.IN_ORCID, put_code="7",
                             orcid_id=f.valid_orcid(1)),
            "a2": affiliation(cast.org_a2, "ian@inst.example"),
            "b": affiliation(cast.org_b, "bea@beta.example")}


def test_each_role_lists_the_rows_it_may_see(cast, api_for, rows):
    def emails(who: str, **query: str) -> set[str]:
        return {row["email"] for row in results(api_for(cast[who]).get(f"{BASE}/affiliations/", query))}

    assert emails(MC) == {"ann@alpha.example"}
    assert emails(LA) == {"ann@alpha.example", "ian@inst.example"}
    assert emails(LB) == {"bea@beta.example"}
    assert emails(SUP) == {"ann@alpha.example", "ian@inst.example", "bea@beta.example"}
    assert emails(SUP, status=Status.IN_ORCID) == {"ann@alpha.example"}
    assert emails(LA, organisation=str(cast.org_a2.pk)) == {"ian@inst.example"}


def test_another_organisations_row_is_not_found(cast, api_for, rows):
    member = api_for(cast[MC])
    for key in ("a2", "b"):
        url = f"{BASE}/affiliations/{rows[key].pk}/"
        assert member.get(url).status_code == 404
        assert member.patch(url, {"role_title": "Dean"}, format="json").status_code == 404
        assert member.delete(url).status_code == 404
        assert member.post(f"{url}retry/").status_code == 404
    assert api_for(cast[LB]).get(f"{BASE}/affiliations/{rows['a'].pk}/").status_code == 404


def test_orcid_staff_read_and_are_refused_every_write(cast, api_for, rows):
    for who in (SUP, ENG):
        client = api_for(cast[who])
        url = f"{BASE}/affiliations/{rows['a'].pk}/"
        assert client.get(url).status_code == 200
        assert client.post(f"{BASE}/affiliations/", {"organisation": cast.org_a.pk, **fields("x@alpha.example")},
                           format="json").status_code == 403
        assert client.patch(url, {"role_title": "Dean"}, format="json").status_code == 403
        assert client.delete(url).status_code == 403
        assert client.post(f"{url}retry/").status_code == 403
        assert client.post(f"{BASE}/uploads/", {}, format="json").status_code == 403
    rows["a"].refresh_from_db()
    assert (rows["a"].role_title, rows["a"].status) == ("Professor", Status.IN_ORCID)


def test_a_member_creates_updates_retries_and_deletes_rows(cast, api_for, writer):
    OrcidGrant.objects.create(organisation=cast.org_a, email="ann@alpha.example", status=OrcidGrant.Status.GRANTED,
                              orcid_id=f.valid_orcid(1), access_token="t")
    client = api_for(cast[MC])
    refused = client.post(f"{BASE}/affiliations/", {"organisation": cast.org_b.pk, **fields("ann@alpha.example")},
                          format="json")
    assert refused.status_code == 400 and "organisation" in refused.json()

    created = client.post(f"{BASE}/affiliations/", {"organisation": cast.org_a.pk, **fields("ann@alpha.example")},
                          format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == Status.PENDING and body["organisation"] == cast.org_a.pk
    writer.assert_called_with(organisation_id=cast.org_a.pk)
    url = f"{BASE}/affiliations/{body['id']}/"

    bad = client.patch(url, {"start_date": "2019-13"}, format="json")
    assert bad.status_code == 400 and "start_date" in bad.json()
    changed = client.patch(url, {"role_title": "Dean", "organisation": cast.org_b.pk}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["role_title"], changed.json()["organisation"]) == ("Dean", cast.org_a.pk)
    assert changed.json()["department_name"] == "Physics"  # a PATCH keeps the fields it does not name

    not_failed = client.post(f"{url}retry/")
    assert not_failed.status_code == 400 and "status" in not_failed.json()
    Affiliation.objects.filter(pk=body["id"]).update(status=Status.ERROR_ADDING, orcid_error="bad", attempts=3)
    retried = client.post(f"{url}retry/")
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"], retried.json()["orcid_error"]) == (
        Status.PENDING, 0, "")

    deleted = client.delete(url)
    assert deleted.status_code == 200 and deleted.json()["status"] == Status.DELETED


def _csv(*emails: str, bad: str = "") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(validation.COLUMNS))
    writer.writeheader()
    for email in (*emails, *([bad] if bad else [])):
        data = fields(email, org_country="XX" if email == bad else "GB")
        writer.writerow({validation.FIELD_COLUMNS[k]: v for k, v in data.items()})
    return out.getvalue().encode()


def test_an_upload_is_previewed_with_its_problems_then_applied_once(cast, api_for, writer):
    client = api_for(cast[LS])
    content = _csv("one@alpha.example", "two@alpha.example", bad="bad@alpha.example")
    preview = client.post(f"{BASE}/uploads/", {"organisation": cast.org_a.pk,
                                               "file": SimpleUploadedFile("staff.csv", content)}, format="multipart")
    assert preview.status_code == 201, preview.content
    body = preview.json()
    assert (body["rows_total"], body["rows_accepted"], body["rows_rejected"]) == (3, 2, 1)
    assert body["problems"] == [{"row": 4, "column": "org-country", "reason": body["problems"][0]["reason"]}]
    assert "content" not in body and body["applied_at"] is None
    assert not Affiliation.objects.exists()

    url = f"{BASE}/uploads/{body['id']}/"
    wrong = client.post(f"{url}apply/", {"language": "xx"}, format="json")
    assert wrong.status_code == 400
    applied = client.post(f"{url}apply/", {"language": "de"}, format="json")
    assert applied.status_code == 200 and applied.json()["applied_at"] and applied.json()["language"] == "de"
    assert Affiliation.objects.filter(organisation=cast.org_a).count() == 2
    assert client.post(f"{url}apply/", {}, format="json").status_code == 400

    again = client.post(f"{BASE}/uploads/", {"organisation": cast.org_a.pk,
                                             "file": SimpleUploadedFile("copy.csv", content)}, format="multipart")
    assert again.json()["already_applied_as"] == body["id"]
    assert client.post(f"{BASE}/uploads/{again.json()['id']}/apply/", {}, format="json").status_code == 400
    assert Affiliation.objects.count() == 2
    assert client.get(f"{BASE}/uploads/").json()["count"] == 2
    assert api_for(cast[LB]).get(url).status_code == 404


def test_grants_and_links_never_carry_a_token(cast, api_for):
    OrcidGrant.objects.create(organisation=cast.org_a, email="ann@alpha.example", status=OrcidGrant.Status.GRANTED,
                              orcid_id=f.valid_orcid(1), access_token="very-secret-access",
                              refresh_token="very-secret-refresh", granted_at=timezone.now())
    PermissionLink.objects.create(organisation=cast.org_a, email="ann@alpha.example", token_hash="very-secret-nonce",
                                  status=PermissionLink.Status.SENT,
                                  expires_at=timezone.now() + dt.timedelta(days=30))
    client = api_for(cast[MC])
    for path in ("grants", "permission-links"):
        response = client.get(f"{BASE}/{path}/")
        assert [row["email"] for row in results(response)] == ["ann@alpha.example"]
        assert b"very-secret" not in response.content
        detail = client.get(f"{BASE}/{path}/{results(response)[0]['id']}/")
        assert detail.status_code == 200 and b"very-secret" not in detail.content
    assert results(api_for(cast[LB]).get(f"{BASE}/grants/")) == []


def test_the_call_log_is_for_staff_of_the_consortium(cast, api_for):
    OrcidApiCall.objects.create(consortium=cast.consortium_a, organisation=cast.org_a, method="POST",
                                path="/v3.0/a/employment", status_code=201)
    OrcidApiCall.objects.create(consortium=cast.consortium_b, organisation=cast.org_b, method="PUT",
                                path="/v3.0/b/employment/1", status_code=503)
    assert api_for(cast[MC]).get(f"{BASE}/calls/").status_code == 403
    assert [c["path"] for c in results(api_for(cast[LA]).get(f"{BASE}/calls/"))] == ["/v3.0/a/employment"]
    failed = results(api_for(cast[SUP]).get(f"{BASE}/calls/", {"failed": "true"}))
    assert [c["path"] for c in failed] == ["/v3.0/b/employment/1"]


def test_adoption_snapshots_filter_by_member_consortium_and_date(cast, api_for):
    for org in (cast.org_a, cast.org_a2, cast.org_b):
        for day in (dt.date(2026, 9, 30), dt.date(2026, 10, 31)):
            AdoptionSnapshot.objects.create(organisation=org, taken_on=day, identifier_type="ror",
                                            identifier=f"https://ror.org/{org.pk}", records_total=10,
                                            records_from_hub=1)
    admin = api_for(cast[ADMIN])
    assert len(results(admin.get(f"{BASE}/adoption/"))) == 6
    in_a = results(admin.get(f"{BASE}/adoption/", {"consortium": cast.consortium_a.pk, "since": "2026-10-01"}))
    assert {(s["organisation"], s["taken_on"]) for s in in_a} == {(cast.org_a.pk, "2026-10-31"),
                                                                  (cast.org_a2.pk, "2026-10-31")}
    assert all(s["consortium"] == cast.consortium_a.pk for s in in_a)
    mine = results(api_for(cast[MC]).get(f"{BASE}/adoption/"))
    assert {s["organisation"] for s in mine} == {cast.org_a.pk}


def test_credentials_accept_a_secret_and_never_return_it(cast, api_for):
    lead = api_for(cast[LA])
    refused = lead.post(f"{BASE}/clients/", {"consortium": cast.consortium_b.pk, "client_id": "APP-B",
                                             "client_secret": "x"}, format="json")
    assert refused.status_code == 400 and "consortium" in refused.json()
    no_secret = lead.post(f"{BASE}/clients/", {"consortium": cast.consortium_a.pk, "client_id": "APP-A"},
                          format="json")
    assert no_secret.status_code == 400 and "client_secret" in no_secret.json()

    created = lead.post(f"{BASE}/clients/", {"consortium": cast.consortium_a.pk, "client_id": "APP-A",
                                             "client_secret": "s3cret-value", "rate_per_second": 12}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["secret_set"] is True and b"s3cret-value" not in created.content
    url = f"{BASE}/clients/{created.json()['id']}/"
    changed = lead.patch(url, {"client_id": "APP-A2"}, format="json")
    assert changed.status_code == 200 and b"s3cret-value" not in changed.content
    client = RegistryClient.objects.get()
    assert (client.client_id, client.client_secret, client.rate_per_second) == ("APP-A2", "s3cret-value", 12)
    lead.patch(url, {"client_secret": "rotated"}, format="json")
    client.refresh_from_db()
    assert client.client_secret == "rotated"
    assert api_for(cast[LB]).get(url).status_code == 404
    assert api_for(cast[SUP]).get(f"{BASE}/clients/").status_code == 403
