"""Agreement pages and API: who sees what, forms, the signed PDF, and constant query counts."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from consortium_hub.agreements.models import Agreement, RenewalDecision
from consortium_hub.agreements.tests.conftest import PDF, PNG, lead_agreement, member_agreement
from consortium_hub.core.testing.queries import api_rows, assert_constant_queries, html_rows
from consortium_hub.directory.models import Membership, Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def agreements(cast) -> dict[str, Agreement]:
    return {
        "a": member_agreement(cast, document=SimpleUploadedFile("signed.pdf", PDF)),
        "a2": member_agreement(cast, Membership.objects.get(organisation=cast.org_a2)),
        "lead_a": lead_agreement(cast),
        "b": member_agreement(cast, cast.membership_b),
        "lead_b": lead_agreement(cast, cast.consortium_b),
    }


def _listed(client, url: str = "") -> set[int]:
    response = client.get(url or reverse("agreements:agreement_list"))
    assert response.status_code == 200
    return {a.pk for a in response.context["objects"]}


def test_each_role_lists_what_it_may_see(cast, agreements, client_for):
    ids = {k: a.pk for k, a in agreements.items()}
    assert _listed(client_for(cast["orcid_admin"])) == set(ids.values())
    assert _listed(client_for(cast["lead_admin_a"])) == {ids["a"], ids["a2"], ids["lead_a"]}
    assert _listed(client_for(cast["engagement_lead"])) == {ids["a"], ids["a2"], ids["lead_a"]}
    assert _listed(client_for(cast["lead_admin_b"])) == {ids["b"], ids["lead_b"]}
    # A member contact sees its own member agreement only: not another member's, not the lead agreement.
    assert _listed(client_for(cast["member_contact_a"])) == {ids["a"]}
    for who in ("orcid_support", "lead_support_a"):
        assert client_for(cast[who]).get(reverse("agreements:agreement_list")).status_code == 403


def test_list_filters(cast, agreements, client_for):
    client = client_for(cast["orcid_admin"])
    url = reverse("agreements:agreement_list")
    assert _listed(client, f"{url}?kind=lead") == {agreements["lead_a"].pk, agreements["lead_b"].pk}
    assert _listed(client, f"{url}?consortium={cast.consortium_b.pk}") == {agreements["b"].pk,
                                                                           agreements["lead_b"].pk}
    assert _listed(client, f"{url}?status=draft") == set()
    assert _listed(client, f"{url}?q=Alpha Inst") == {agreements["a2"].pk}
    today = timezone.localdate()
    soon = member_agreement(cast, Membership.objects.create(
        organisation=Organisation.objects.create(consortium=cast.consortium_a, legal_name="Soon College",
                                                 country="GB"),
        consortium=cast.consortium_a, start_date=dt.date(2020, 1, 1)),
        start=(today.replace(day=1) - dt.timedelta(days=300)).replace(day=1),
        end=(today.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1))
    assert _listed(client, f"{url}?ending_within=31") == {soon.pk}


def test_cross_consortium_ids_are_not_found(cast, agreements, client_for):
    client = client_for(cast["lead_admin_b"])
    a = agreements["a"].pk
    for name in ("agreement_detail", "agreement_edit", "agreement_decide", "agreement_document",
                 "agreement_history"):
        assert client.get(reverse(f"agreements:{name}", args=[a])).status_code == 404, name
    assert client.post(reverse("agreements:agreement_decide", args=[a]), {"decision": "renew"}).status_code == 404
    assert not RenewalDecision.objects.exists()


def test_member_contacts_see_their_own_agreement_only(cast, agreements, client_for):
    client = client_for(cast["member_contact_a"])
    assert client.get(reverse("agreements:agreement_detail", args=[agreements["a"].pk])).status_code == 200
    for key in ("a2", "lead_a", "b"):
        assert client.get(reverse("agreements:agreement_detail", args=[agreements[key].pk])).status_code == 404
    assert client.get(reverse("agreements:agreement_edit", args=[agreements["a"].pk])).status_code == 403
    page = client.get(reverse("agreements:agreement_detail", args=[agreements["a"].pk])).content.decode()
    assert "Record the renewal decision" not in page and ">Edit<" not in page


def test_the_signed_pdf_is_downloaded_through_an_access_checked_view(cast, agreements, client_for):
    url = reverse("agreements:agreement_document", args=[agreements["a"].pk])
    for who in ("orcid_admin", "lead_admin_a", "member_contact_a", "engagement_lead"):
        response = client_for(cast[who]).get(url)
        assert response.status_code == 200, who
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["Content-Type"] == "application/pdf"
    assert client_for(cast["lead_admin_b"]).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302
    detail = client_for(cast["lead_admin_a"]).get(reverse("agreements:agreement_detail",
                                                          args=[agreements["a"].pk])).content.decode()
    assert url in detail and agreements["a"].document.url not in detail  # never the media URL
    assert client_for(cast["lead_admin_a"]).get(
        reverse("agreements:agreement_document", args=[agreements["a2"].pk])).status_code == 404  # none uploaded


def test_a_lead_admin_records_a_member_agreement_on_the_page(cast, client_for):
    client = client_for(cast["lead_admin_a"])
    url = reverse("agreements:agreement_create")
    form = client.get(url).context["form"]
    assert "kind" not in form.fields and "consortium" not in form.fields  # lead agreements are ORCID's
    assert set(form.fields["membership"].queryset) == set(Membership.objects.filter(consortium=cast.consortium_a))
    data = {"membership": cast.membership_a.pk, "start_date": "2026-01-15", "end_date": "2026-12-30",
            "term_months": 12, "notice_days": 90, "status": "active", "auto_renew": "on"}
    page = client.post(url, data).content.decode()
    assert "starts on the 1st of a month" in page and "ends on the last day of a month" in page
    page = client.post(url, {**data, "start_date": "2026-01-01", "end_date": "2026-12-31",
                             "document": SimpleUploadedFile("photo.pdf", PNG)}).content.decode()
    assert "is not a PDF document" in page
    assert not Agreement.objects.exists()
    response = client.post(url, {**data, "start_date": "2026-01-01", "end_date": "2026-12-31",
                                 "document": SimpleUploadedFile("signed.pdf", PDF)})
    agreement = Agreement.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("agreements:agreement_detail",
                                                                           args=[agreement.pk])
    assert agreement.document and agreement.organisation == cast.org_a
    history = client.get(reverse("agreements:agreement_history", args=[agreement.pk])).content.decode()
    assert "created" in history and "Lead Admin A" in history
    # Another consortium's membership is not a choice.
    response = client.post(url, {**data, "membership": cast.membership_b.pk, "start_date": "2026-01-01",
                                  "end_date": "2026-12-31"})
    assert "Select a valid choice" in response.content.decode()


def test_orcid_admins_record_the_lead_agreement_and_lead_admins_cannot_edit_it(cast, agreements, client_for):
    admin = client_for(cast["orcid_admin"])
    response = admin.post(reverse("agreements:agreement_create"), {
        "kind": "lead", "consortium": cast.consortium_a.pk, "start_date": "2026-03-15", "end_date": "2027-03-14",
        "term_months": 12, "notice_days": 180, "status": "active"})
    assert response.status_code == 302
    lead = Agreement.objects.get(kind="lead", start_date=dt.date(2026, 3, 15))
    assert lead.consortium == cast.consortium_a and lead.organisation is None
    lead_admin = client_for(cast["lead_admin_a"])
    assert lead_admin.get(reverse("agreements:agreement_detail", args=[lead.pk])).status_code == 200
    assert lead_admin.get(reverse("agreements:agreement_edit", args=[lead.pk])).status_code == 403
    assert lead_admin.get(reverse("agreements:agreement_decide", args=[lead.pk])).status_code == 403
    admin = client_for(cast["orcid_admin"])  # the test client is shared: sign in again
    assert admin.get(reverse("agreements:agreement_edit", args=[lead.pk])).status_code == 200


def test_editing_keeps_who_and_replaces_the_document(cast, agreements, client_for):
    client = client_for(cast["lead_admin_a"])
    a = agreements["a"]
    url = reverse("agreements:agreement_edit", args=[a.pk])
    form = client.get(url).context["form"]
    assert "membership" not in form.fields and form.initial["end_date"] == dt.date(2026, 12, 31)
    response = client.post(url, {"tier": "premium", "start_date": "2026-01-01", "end_date": "2026-12-31",
                                 "term_months": 12, "notice_days": 30, "status": "active",
                                 "document": SimpleUploadedFile("v2.pdf", PDF + b"v2")})
    assert response.status_code == 302
    a.refresh_from_db()
    assert (a.tier, a.notice_days, a.auto_renew) == ("premium", 30, False)
    assert a.document.read() == PDF + b"v2"


def test_recording_the_decision_on_the_page(cast, agreements, client_for):
    client = client_for(cast["lead_admin_a"])
    a = agreements["a"]
    url = reverse("agreements:agreement_decide", args=[a.pk])
    page = client.get(url).content.decode()
    assert "2027-01-01" in page and "2027-12-31" in page  # the next term
    page = client.post(url, {"decision": "change_tier"}).content.decode()
    assert "Choose the tier for the next term." in page
    response = client.post(url, {"decision": "change_tier", "new_tier": "premium", "note": "Growing"})
    assert response.status_code == 302
    decision = RenewalDecision.objects.get()
    assert (decision.decided_by, decision.next_agreement.tier) == (cast["lead_admin_a"], "premium")
    detail = client.get(reverse("agreements:agreement_detail", args=[a.pk])).content.decode()
    assert "Renew with a tier change: Premium" in detail and "Record the renewal decision" not in detail
    following = client.get(reverse("agreements:agreement_detail", args=[decision.next_agreement_id]))
    assert following.context["renewed_from"] == decision
    assert "2026-01-01 – 2026-12-31" in following.content.decode()  # "Continues" the renewed term
    page = client.post(url, {"decision": "terminate"}).content.decode()
    assert "Only one decision is recorded per term" in page
    assert RenewalDecision.objects.count() == 1


# --- API ----------------------------------------------------------------------------------------------

API = "/api/v1/agreements/agreements/"


def _api_ids(response) -> set[int]:
    assert response.status_code == 200
    data = response.json()
    return {row["id"] for row in (data["results"] if isinstance(data, dict) else data)}


def test_api_lists_what_each_role_may_see(cast, agreements, api_for):
    assert _api_ids(api_for(cast["lead_admin_a"]).get(API)) == {agreements[k].pk for k in ("a", "a2", "lead_a")}
    assert _api_ids(api_for(cast["member_contact_a"]).get(API)) == {agreements["a"].pk}
    assert _api_ids(api_for(cast["lead_admin_b"]).get(API)) == {agreements["b"].pk, agreements["lead_b"].pk}
    assert api_for(cast["lead_support_a"]).get(API).status_code == 403
    assert api_for(cast["lead_admin_b"]).get(f"{API}{agreements['a'].pk}/").status_code == 404
    assert api_for(cast["member_contact_a"]).get(f"{API}{agreements['lead_a'].pk}/").status_code == 404
    row = api_for(cast["member_contact_a"]).get(f"{API}{agreements['a'].pk}/").json()
    assert row["organisation_name"] == "Alpha University" and row["notice_deadline"] == "2026-10-02"
    assert row["has_document"] and row["document_url"].endswith(f"{API}{agreements['a'].pk}/document/")
    assert "document" not in row
    download = api_for(cast["member_contact_a"]).get(row["document_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def test_api_create_update_and_decide_go_through_the_services(cast, api_for):
    api = api_for(cast["lead_admin_a"])
    bad = api.post(API, {"kind": "member", "membership": cast.membership_a.pk, "start_date": "2026-01-02",
                         "end_date": "2026-12-31"}, format="json")
    assert bad.status_code == 400 and "1st of a month" in bad.json()["start_date"][0]
    created = api.post(API, {"kind": "member", "membership": cast.membership_a.pk, "start_date": "2026-01-01",
                             "end_date": "2026-12-31"}, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["tier"] == "basic" and created.json()["consortium"] == cast.consortium_a.pk
    upload = api.patch(f"{API}{pk}/", {"document": SimpleUploadedFile("x.pdf", PNG)}, format="multipart")
    assert upload.status_code == 400 and "not a PDF" in upload.json()["document"][0]
    patched = api.patch(f"{API}{pk}/", {"notice_days": 60}, format="json")
    assert patched.status_code == 200 and patched.json()["notice_deadline"] == "2026-11-01"
    assert api.patch(f"{API}{pk}/", {"membership": None}, format="json").status_code == 400
    lead = api.post(API, {"kind": "lead", "consortium": cast.consortium_a.pk, "start_date": "2026-01-01",
                          "end_date": "2026-12-31"}, format="json")
    assert lead.status_code == 403
    decided = api.post(f"{API}{pk}/decide/", {"decision": "renew", "note": "ok"}, format="json")
    assert decided.status_code == 201 and decided.json()["decided_by"] == "Lead Admin A"
    assert decided.json()["next_agreement"] and decided.json()["effective_on"] == "2027-01-01"
    again = api.post(f"{API}{pk}/decide/", {"decision": "terminate"}, format="json")
    assert again.status_code == 400 and "Only one decision" in again.json()["non_field_errors"][0]
    assert api.get(f"{API}{pk}/").json()["decision"]["decision"] == "renew"
    assert _api_ids(api.get("/api/v1/agreements/decisions/")) == {decided.json()["id"]}
    assert api_for(cast["lead_admin_b"]).post(f"{API}{pk}/decide/", {"decision": "renew"},
                                              format="json").status_code == 404
    assert _api_ids(api_for(cast["lead_admin_b"]).get("/api/v1/agreements/decisions/")) == set()


# --- Query counts: 5 rows or 50, the same number of queries ---------------------------------------------

_serial = itertools.count(1)


def add_agreements(cast: Any, n: int, *, ending_in_days: int = 10) -> None:
    """n members of consortium A with an agreement ending soon; every other one decided (renewed)."""
    end = timezone.localdate() + dt.timedelta(days=ending_in_days)
    serials = [next(_serial) for _ in range(n)]
    orgs = Organisation.objects.bulk_create([
        Organisation(consortium=cast.consortium_a, legal_name=f"Scale college {s}", country="GB") for s in serials])
    memberships = Membership.objects.bulk_create([
        Membership(organisation=o, consortium=cast.consortium_a, start_date=dt.date(2020, 1, 1),
                   status=Membership.Status.ACTIVE) for o in orgs])
    agreements = Agreement.objects.bulk_create([
        Agreement(kind=Agreement.Kind.MEMBER, consortium=cast.consortium_a, organisation=m.organisation,
                  membership=m, tier="basic", start_date=end - dt.timedelta(days=364), end_date=end,
                  document="agreements/2026/x.pdf") for m in memberships])
    nexts = Agreement.objects.bulk_create([
        Agreement(kind=Agreement.Kind.MEMBER, consortium=cast.consortium_a, organisation=a.organisation,
                  membership=a.membership, tier="basic", start_date=end + dt.timedelta(days=1),
                  end_date=end + dt.timedelta(days=365)) for a in agreements[::2]])
    RenewalDecision.objects.bulk_create([
        RenewalDecision(agreement=a, decision="renew", effective_on=a.end_date + dt.timedelta(days=1),
                        decided_by=cast["lead_admin_a"], next_agreement=following)
        for a, following in zip(agreements[::2], nexts, strict=True)])


PAGES = [
    ("agreement_list", lambda: reverse("agreements:agreement_list") + "?per_page=100", html_rows),
    ("renewal_pipeline", lambda: reverse("agreements:renewal_pipeline") + "?per_page=100", html_rows),
]


@pytest.mark.parametrize("who", ["orcid_admin", "lead_admin_a"])
@pytest.mark.parametrize(("name", "url", "shown"), PAGES, ids=[p[0] for p in PAGES])
def test_page_query_counts_do_not_grow_with_rows(cast, client_for, who, name, url, shown):
    client = client_for(cast[who])
    assert_constant_queries(lambda n: add_agreements(cast, n), lambda: client.get(url()), shown=shown,
                            few=5, many=50)


@pytest.mark.parametrize("who", ["orcid_admin", "lead_admin_a"])
@pytest.mark.parametrize("url", [API, "/api/v1/agreements/decisions/"])
def test_api_list_query_counts_do_not_grow_with_rows(cast, api_for, who, url):
    api = api_for(cast[who])
    assert_constant_queries(lambda n: add_agreements(cast, n), lambda: api.get(url), shown=api_rows,
                            few=5, many=50)
