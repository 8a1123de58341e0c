"""A support ticket end to end in headless Chromium against a live server.

A member contact raises a ticket on the hub; the lead admin (password + TOTP) opens it, inserts a saved
answer into the reply (htmx), adds an internal note and answers, setting "waiting on member"; the
member sees the answer but not the note, and their reply opens the ticket again.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def member_a(make_person, consortium_a):
    from consortium_hub.core.roles import Role
    from consortium_hub.core.testing import factories as f

    organisation = f.OrganisationFactory(consortium=consortium_a, legal_name="Alpha University")
    return make_person("ann@alpha.example", Role.MEMBER_CONTACT, totp=False, consortium=consortium_a,
                       organisation=organisation)


def test_member_raises_a_ticket_and_the_lead_answers_with_a_saved_answer(page: Page, hub, consortium_a,
                                                                          lead_admin_a, member_a):
    from consortium_hub.support.models import SavedAnswer, Ticket

    SavedAnswer.objects.create(consortium=consortium_a, title="Reset the client secret",
                               body="Open Developer tools and choose Reset client secret.")

    # 1. The member raises a ticket.
    hub.sign_in(member_a)
    hub.goto("/support/tickets/new/")
    page.get_by_label(re.compile(r"^Subject")).fill("Our API client stopped working")
    page.get_by_label(re.compile(r"^Priority")).select_option("high")
    page.get_by_label(re.compile(r"^Describe the problem")).fill("Every token request returns 401.")
    page.get_by_role("button", name="Raise ticket").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Our API client stopped working")
    ticket = Ticket.objects.get()
    hub.sign_out()

    # 2. The lead admin inserts a saved answer, adds a note and replies.
    hub.sign_in(lead_admin_a)
    hub.goto(f"/support/tickets/{ticket.pk}/")
    reply = page.locator("#reply_body")
    reply.fill("Dear Ann,")
    page.get_by_label("Insert a saved answer").select_option(label="Reset the client secret")
    expect(page.locator("#reply_body")).to_have_value(re.compile(r"^Dear Ann,\n\nOpen Developer tools"))
    page.get_by_label(re.compile(r"^Then set the status to")).select_option("waiting_on_member")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("Reply sent")
    page.locator("#note_body").fill("Their secret was rotated by mistake (INTERNAL).")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Their secret was rotated by mistake (INTERNAL).")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.WAITING_ON_MEMBER and ticket.first_responded_at is not None
    hub.sign_out()

    # 3. The member sees the answer, not the note, and replies: the ticket is open again.
    hub.sign_in(member_a)
    hub.goto(f"/support/tickets/{ticket.pk}/")
    expect(page.get_by_text("Open Developer tools and choose Reset client secret.")).to_be_visible()
    expect(page.get_by_text("(INTERNAL)")).to_have_count(0)
    page.locator("#reply_body").fill("Done, it works again. Thank you!")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("Reply sent")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
