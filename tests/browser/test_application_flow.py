"""Membership applications end to end in headless Chromium against a live server.

An organisation applies on the consortium's public page (no sign-in); the lead admin signs in
(password + TOTP), reviews and approves it; the new member is onboarding with its plan started; the
consortium's ORCID engagement lead sees the new organisation in the change feed.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROR_ID = "05dxps055"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _start() -> dt.date:
    today = dt.date.today()
    return (today.replace(day=1) + dt.timedelta(days=62)).replace(day=1)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded documents go to a temporary folder, not the project's media."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def member_template(transactional_db):
    """ORCID's default new-member plan, in calendar days (the business calendars are another part)."""
    from consortium_hub.onboarding.models import DueUnit, PlanKind, PlanTemplate, TaskTemplate

    PlanTemplate.objects.filter(consortium__isnull=True, kind=PlanKind.MEMBER).update(is_default=False)
    template = PlanTemplate.objects.create(name="New member", kind=PlanKind.MEMBER, is_default=True)
    TaskTemplate.objects.create(template=template, position=1, title="Kick-off call", due_offset=7,
                                due_unit=DueUnit.CALENDAR_DAYS)
    return template


def test_apply_publicly_then_lead_admin_approves_and_orcid_sees_the_new_member(
        page: Page, hub, consortium_a, lead_admin_a, engagement_lead_a, member_template):
    from django.core import mail

    from consortium_hub.directory.models import Membership, Organisation
    from consortium_hub.onboarding.models import Application, Plan

    start = _start()

    # 1. An organisation applies on the public page, without signing in.
    hub.goto(f"/onboarding/apply/{consortium_a.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Apply to join Consortium A")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    organisation_group = page.get_by_role("group", name="Organisation")
    organisation_group.get_by_label(re.compile(r"^Legal name")).fill("Gamma Research Institute")
    organisation_group.get_by_label(re.compile(r"^Country")).select_option(label="United Kingdom")
    organisation_group.get_by_label(re.compile(r"^City")).fill("Leeds")
    page.get_by_label("ROR ID").fill(f"https://ror.org/{ROR_ID}")
    page.get_by_label(re.compile(r"^Your name")).fill("Grace Gamma")
    page.get_by_label(re.compile(r"^Your email")).fill("grace@gamma.example")
    page.get_by_label(re.compile(r"^Wished start month")).fill(start.strftime("%Y-%m"))
    page.get_by_label("Integration plans").fill("Our CRIS first.")
    page.get_by_label("Supporting document (PDF)").set_input_files(
        files=[{"name": "letter.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_role("button", name="Submit application").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your application to join Consortium A")
    expect(page.get_by_role("status")).to_contain_text("your application has been submitted")
    expect(page.get_by_text("Submitted", exact=True)).to_be_visible()
    application = Application.objects.get()
    assert (application.ror_id, application.wished_start, application.status) == (ROR_ID, start, "submitted")
    assert application.attachment.name.endswith(".pdf")
    assert sorted(m.to[0] for m in mail.outbox) == ["grace@gamma.example", lead_admin_a.email]

    # 2. The lead admin signs in and finds it in the review list.
    hub.sign_in(lead_admin_a)
    hub.goto("/onboarding/applications/")
    expect(page.get_by_role("heading", name="Membership applications")).to_be_visible()
    page.get_by_role("link", name="Gamma Research Institute").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gamma Research Institute")
    expect(page.get_by_text("No organisation you can see has this ROR ID")).to_be_visible()
    approve_form = page.get_by_role("group", name=re.compile("Approve: which organisation"))
    expect(approve_form.get_by_label("Create a new organisation from this application")).to_be_checked()

    # 3. Approves it.
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("Application approved")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    application.refresh_from_db()
    assert application.status == "approved"
    plan = Plan.objects.get(membership=application.membership)
    assert plan.tasks.count() == 1
    expect(page.get_by_text(plan.title)).to_be_visible()

    # 4. The plan and the onboarding membership show on the member's pages.
    plan_link = page.get_by_role("link", name=plan.title)
    if plan_link.count():  # the plans part's page, once it exists
        plan_link.click()
        expect(page.get_by_role("main")).to_contain_text(plan.title)
        page.go_back()
    page.get_by_role("link", name="Gamma Research Institute", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gamma Research Institute")
    expect(page.get_by_role("cell", name="Onboarding", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="Main relationship contact, Voting contact")).to_be_visible()
    organisation = Organisation.objects.get(legal_name="Gamma Research Institute")
    assert Membership.objects.get(organisation=organisation).status == Membership.Status.ONBOARDING

    # 5. ORCID's engagement lead sees the new organisation in the change feed.
    hub.sign_out()
    hub.sign_in(engagement_lead_a)
    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Change feed").click()
    expect(page.get_by_role("heading", name=re.compile("Directory changes"))).to_be_visible()
    rows = page.get_by_role("row")
    expect(rows.filter(has_text="Organisation “Gamma Research Institute” created")).to_have_count(1)
    expect(rows.filter(has_text="“Grace Gamma”")).not_to_have_count(0)


def test_a_pdf_that_is_really_a_png_is_refused_on_the_page(page: Page, hub, consortium_a):
    from consortium_hub.onboarding.models import Application

    hub.goto(f"/onboarding/apply/{consortium_a.pk}/")
    page.get_by_label(re.compile(r"^Legal name")).fill("Delta College")
    page.get_by_label(re.compile(r"^Country")).select_option(label="United Kingdom")
    page.get_by_label(re.compile(r"^City")).fill("York")
    page.get_by_label(re.compile(r"^Your name")).fill("Dee Delta")
    page.get_by_label(re.compile(r"^Your email")).fill("dee@delta.example")
    page.get_by_label(re.compile(r"^Wished start month")).fill(_start().strftime("%Y-%m"))
    page.get_by_label("Supporting document (PDF)").set_input_files(
        files=[{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64}])
    page.get_by_role("button", name="Submit application").click()

    document = page.get_by_label("Supporting document (PDF)")
    expect(document).to_have_attribute("aria-invalid", "true")
    expect(document).to_have_accessible_description(re.compile("“scan.pdf” is not a PDF document"))
    expect(page.get_by_role("alert")).to_contain_text("is not a PDF document")
    expect(page.get_by_label(re.compile(r"^Legal name"))).to_have_value("Delta College")
    assert not Application.objects.exists()
