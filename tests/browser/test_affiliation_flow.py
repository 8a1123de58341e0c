"""The affiliation manager end to end, in headless Chromium, against a live hub and the ORCID emulator.

A member contact uploads a CSV; the researcher gets a permission email, follows the link and grants
access on the emulator's consent page; the writer puts the affiliation on the record (put-code shown);
the member edits the row (PUT) and deletes it (DELETE). Then the researcher revokes the grant in ORCID,
and the next write shows "User revoked access".

Jobs run inline in this suite (Huey immediate mode), so each write happens when its request commits.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from orcid_emulator import Client, EmulatorServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENT_ID = "APP-BROWSER0000001"
CLIENT_SECRET = "browser-secret"
RESEARCHER = "imogen@alpha.example"
ROR = "https://ror.org/02mhbdp94"

CSV = (
    "email,affiliation-section,department-name,role-title,start-date,end-date,org-name,org-country,org-city,"
    "org-region,disambiguated-organization-identifier,disambiguation-source,external-id,external-id-type,"
    "external-id-url,url,id\n"
    f"{RESEARCHER},employment,Chemistry,Lecturer,2019-09,,Alpha University,GB,Leeds,,{ROR},ROR,,,,,\n"
)


@pytest.fixture
def emulator(live_server, settings):
    with EmulatorServer(clients=[Client(CLIENT_ID, CLIENT_SECRET, name="Alpha University via Consortium Hub",
                                        redirect_uris=[live_server.url + "/orcid/permission/callback/"])],
                        records=[{"given_name": "Imogen", "family_name": "Fairweather", "email": RESEARCHER}]
                        ) as server:
        for name in ("ORCID_BASE_URL", "ORCID_API_BASE_URL", "ORCID_PUBLIC_API_BASE_URL"):
            setattr(settings, name, server.base_url)
        settings.ORCID_MEMBER_CLIENT_ID = CLIENT_ID
        settings.ORCID_MEMBER_CLIENT_SECRET = CLIENT_SECRET
        settings.SITE_URL = live_server.url
        yield server


@pytest.fixture
def member_a(make_person, consortium_a):
    from consortium_hub.core.roles import Role
    from consortium_hub.core.testing import factories as f

    organisation = f.OrganisationFactory(consortium=consortium_a, legal_name="Alpha University", ror_id=ROR)
    return make_person("ann@alpha.example", Role.MEMBER_CONTACT, totp=False, consortium=consortium_a,
                       organisation=organisation)


def _items(emulator: EmulatorServer, orcid: str) -> list:
    return emulator.state.affiliations(orcid)


def test_upload_grant_write_edit_delete_and_revoke(page: Page, hub, emulator, member_a, mailoutbox, tmp_path):
    from consortium_hub.registry.models import Affiliation

    record = emulator.state.find_record_by_email(RESEARCHER)

    # 1. The member uploads the file, sees the preview, and applies it.
    hub.sign_in(member_a)
    hub.goto("/registry/uploads/new/")
    upload = tmp_path / "affiliations.csv"
    upload.write_text(CSV)
    page.get_by_label(re.compile(r"^CSV or XLSX file")).set_input_files(str(upload))
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("button", name="Apply 1 row").click()
    row = Affiliation.objects.get()
    assert row.status == Affiliation.Status.NOTIFICATION_SENT

    # 2. The researcher follows the emailed link and grants access on ORCID's consent page.
    (message,) = [m for m in mailoutbox if RESEARCHER in m.to]
    link = re.search(r"https?://\S+/orcid/permission/\S+/", message.body).group(0)
    hub.sign_out()
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Alpha University")
    page.get_by_role("button", name="Connect your ORCID iD").click()
    page.wait_for_url(emulator.base_url + "/**")
    page.get_by_role("button", name="Authorize access").click()
    page.wait_for_url(hub.url("/orcid/permission/callback/") + "**")

    # 3. The writer has put the affiliation on the record.
    row.refresh_from_db()
    assert row.status == Affiliation.Status.IN_ORCID and row.put_code and row.orcid_id == record.orcid
    (item,) = _items(emulator, record.orcid)
    assert str(item.put_code) == row.put_code

    hub.sign_in(member_a)
    hub.goto(f"/registry/affiliations/{row.pk}/")
    expect(page.locator("main")).to_contain_text("In ORCID")
    expect(page.locator("main")).to_contain_text(row.put_code)

    # 4. Editing the row updates the item in place (PUT, same put-code).
    page.get_by_role("link", name="Edit").click()
    page.get_by_label(re.compile(r"^Role title")).fill("Senior lecturer")
    page.get_by_role("button", name="Save").click()
    row.refresh_from_db()
    assert row.status == Affiliation.Status.IN_ORCID
    (item,) = _items(emulator, record.orcid)
    assert str(item.put_code) == row.put_code and "Senior lecturer" in str(item.fields)

    # 5. Deleting the row deletes the item (DELETE).
    hub.goto(f"/registry/affiliations/{row.pk}/")
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete").click()
    row.refresh_from_db()
    assert row.status == Affiliation.Status.DELETED
    assert _items(emulator, record.orcid) == []

    # 6. The researcher revokes the grant in ORCID; the next write shows it.
    emulator.state.revoke_grants(record.orcid)
    hub.goto("/registry/affiliations/new/")
    page.get_by_label(re.compile(r"^Email")).fill(RESEARCHER)
    page.get_by_label(re.compile(r"^Affiliation section")).select_option("education")
    page.get_by_label(re.compile(r"^Organisation name")).fill("Alpha University")
    page.get_by_label(re.compile(r"^Organisation country")).fill("GB")
    page.get_by_label(re.compile(r"^Organisation city")).fill("Leeds")
    page.get_by_label(re.compile(r"^Disambiguated organisation identifier")).fill(ROR)
    page.get_by_label(re.compile(r"^Disambiguation source")).select_option("ROR")
    page.get_by_label(re.compile(r"^Start date")).fill("2012")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("User revoked access")
    newest = Affiliation.objects.exclude(pk=row.pk).get()
    assert newest.status == Affiliation.Status.USER_REVOKED_ACCESS
    assert _items(emulator, record.orcid) == []
