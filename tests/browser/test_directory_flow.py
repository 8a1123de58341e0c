"""The directory's acceptance flow, end to end in headless Chromium against a live server.

A consortium lead admin signs in (password + TOTP), adds an organisation and a contact through the forms;
the consortium's ORCID engagement lead then sees both changes in the change feed and acknowledges them.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROR_ID = "05dxps055"


def test_lead_admin_adds_organisation_and_contact_then_engagement_lead_acknowledges(
        page: Page, hub, consortium_a, lead_admin_a, engagement_lead_a):
    from consortium_hub.directory.models import Contact, Organisation

    # 1. The lead admin signs in through the real login and TOTP pages.
    hub.sign_in(lead_admin_a)

    # 2. Adds an organisation through the form.
    hub.goto("/directory/organisations/new/")
    expect(page.get_by_role("heading", name="New organisation")).to_be_visible()
    page.get_by_label("Consortium").select_option(label="Consortium A")
    page.get_by_label("Legal name").fill("Gamma Research Institute")
    page.get_by_label("Country").select_option(label="United Kingdom")
    page.get_by_label("ROR ID").fill(ROR_ID)
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Gamma Research Institute")
    expect(page.get_by_role("status")).to_contain_text("Organisation added.")
    expect(page.get_by_role("link", name=f"https://ror.org/{ROR_ID}")).to_be_visible()
    organisation = Organisation.objects.get(legal_name="Gamma Research Institute")
    assert organisation.consortium == consortium_a and organisation.ror_id == ROR_ID
    assert page.url == hub.url(organisation.get_absolute_url())

    # 3. Adds a contact from the organisation's page.
    page.get_by_role("link", name="Add contact").click()
    expect(page.get_by_role("heading", name="New contact")).to_be_visible()
    expect(page.get_by_label(re.compile(r"^Organisation\b"))).to_have_value(str(organisation.pk))
    page.get_by_label(re.compile(r"^Name\b")).fill("Grace Gamma")
    page.get_by_label(re.compile(r"^Email\b")).fill("Grace@Gamma.example")
    roles = page.get_by_role("group", name="Roles")
    roles.get_by_label("Main relationship contact", exact=True).check()
    roles.get_by_label("Voting contact", exact=True).check()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Gamma")
    expect(page.get_by_role("status")).to_contain_text("Contact added.")
    expect(page.get_by_role("link", name="grace@gamma.example")).to_be_visible()
    expect(page.get_by_role("link", name="Gamma Research Institute")).to_be_visible()
    contact = Contact.objects.get(email="grace@gamma.example")
    assert contact.organisation == organisation
    assert sorted(contact.roles.values_list("role", flat=True)) == ["main", "voting"]

    # 4. Signs out; the engagement lead signs in and works through the change feed.
    hub.sign_out()
    hub.sign_in(engagement_lead_a)
    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Change feed").click()
    expect(page.get_by_role("heading", name=re.compile("Directory changes"))).to_be_visible()

    rows = page.get_by_role("row")
    expect(rows.filter(has_text="“Gamma Research Institute”")).not_to_have_count(0)
    expect(rows.filter(has_text="“Grace Gamma”")).not_to_have_count(0)
    expect(page.get_by_role("listitem").filter(has_text="Consortium A")).to_be_visible()
    expect(page.get_by_role("checkbox", name=re.compile("Select change"))).not_to_have_count(0)

    page.get_by_role("button", name="Acknowledge all shown").click()

    expect(page.get_by_role("status")).to_contain_text(re.compile(r"[1-9]\d* change\(s\) acknowledged"))
    expect(page.get_by_role("cell", name="No changes to show.")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Nothing to acknowledge.")).to_be_visible()
    expect(page.get_by_role("checkbox", name=re.compile("Select change"))).to_have_count(0)

    # The acknowledged changes are still there when asked for.
    page.get_by_role("link", name="Show acknowledged too").click()
    expect(page.get_by_role("row").filter(has_text="“Gamma Research Institute”")).not_to_have_count(0)
    expect(page.get_by_role("row").filter(has_text="“Grace Gamma”")).not_to_have_count(0)


def test_bad_ror_id_shows_the_field_error_and_creates_nothing(page: Page, hub, consortium_a, lead_admin_a):
    from consortium_hub.directory.models import Organisation

    hub.sign_in(lead_admin_a)
    hub.goto("/directory/organisations/new/")
    page.get_by_label("Consortium").select_option(label="Consortium A")
    page.get_by_label("Legal name").fill("Delta College")
    page.get_by_label("Country").select_option(label="United Kingdom")
    page.get_by_label("ROR ID").fill("05dxps056")  # wrong checksum
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", name="New organisation")).to_be_visible()
    ror = page.get_by_label("ROR ID")
    message = "05dxps056 is not a valid ROR ID"
    expect(page.get_by_role("main")).to_contain_text(message)
    # Django ties the error to the input (aria-invalid + aria-describedby), so assistive tech reads it out.
    expect(ror).to_have_attribute("aria-invalid", "true")
    expect(ror).to_have_accessible_description(re.compile(re.escape(message)))
    # Only the ROR field is in error.
    expect(page.locator("[aria-invalid=true]")).to_have_count(1)
    # What was typed is kept, so the user can correct it.
    expect(page.get_by_label("ROR ID")).to_have_value("05dxps056")
    expect(page.get_by_label("Legal name")).to_have_value("Delta College")
    assert page.url == hub.url("/directory/organisations/new/")
    assert not Organisation.objects.filter(legal_name="Delta College").exists()


def test_login_form_works_with_the_keyboard_only(page: Page, hub, lead_admin_a):
    hub.goto("/accounts/login/")
    email = page.get_by_label(re.compile(r"^Email:?$"))
    password = page.get_by_label(re.compile(r"^Password:?$"))

    # Tab from the top of the page until the email field has focus (skip link, brand, ... come first).
    for _ in range(15):
        page.keyboard.press("Tab")
        if email.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the email field cannot be reached with Tab")
    page.keyboard.type(lead_admin_a.email)
    page.keyboard.press("Tab")
    expect(password).to_be_focused()
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")

    page.wait_for_url("**/accounts/2fa/authenticate/**")
    code = page.get_by_label(re.compile(r"^Code:?$"))
    if not code.evaluate("el => el === document.activeElement"):
        for _ in range(15):
            page.keyboard.press("Tab")
            if code.evaluate("el => el === document.activeElement"):
                break
        else:
            pytest.fail("the code field cannot be reached with Tab")
    page.keyboard.type(lead_admin_a.totp_code())
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
