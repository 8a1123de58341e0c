"""Membership applications: public submission, review, approval into directory records and a plan."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from consortium_hub.core.testing import factories as f
from consortium_hub.directory.models import Consortium, Contact, ContactRole, Membership, Organisation
from consortium_hub.directory.selectors import change_feed
from consortium_hub.onboarding.models import (
    Application,
    DueUnit,
    Party,
    Plan,
    PlanKind,
    PlanTemplate,
    Task,
    TaskTemplate,
)
from consortium_hub.onboarding.selectors import applications as selectors
from consortium_hub.onboarding.services import applications as services
from consortium_hub.onboarding.views import applications as views

pytestmark = pytest.mark.django_db

ROR = "05dxps055"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def _start() -> dt.date:
    """A 1st of the month comfortably in the future."""
    return (timezone.localdate().replace(day=1) + dt.timedelta(days=62)).replace(day=1)


START = _start()


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cache.clear()  # the per-address submission brake
    yield
    cache.clear()


@pytest.fixture
def member_template(db):
    """ORCID's default new-member plan, with calendar-day tasks (business days need the calendars app)."""
    # Replace ORCID's ready-made default with one whose dates are easy to check.
    PlanTemplate.objects.filter(consortium__isnull=True, kind=PlanKind.MEMBER).update(is_default=False)
    template = PlanTemplate.objects.create(name="New member", kind=PlanKind.MEMBER, is_default=True)
    first = TaskTemplate.objects.create(template=template, position=1, title="Kick-off call", due_offset=7,
                                        due_unit=DueUnit.CALENDAR_DAYS, owner_party=Party.LEAD)
    second = TaskTemplate.objects.create(template=template, position=2, title="Connect the CRIS", due_offset=30,
                                         due_unit=DueUnit.CALENDAR_DAYS, owner_party=Party.MEMBER)
    second.depends_on.set([first])
    return template


def form_data(**overrides):
    data = {
        "legal_name": "Gamma Research Institute", "public_name": "Gamma", "type": "research", "country": "GB",
        "region": "West Yorkshire", "city": "Leeds", "website": "https://gamma.example",
        "ror_id": f"https://ror.org/{ROR.upper()}", "ringgold_id": " 12345 ", "grid_id": "", "isni": "0000000121032683",
        "crossref_funder_id": "", "contact_name": "Grace Gamma", "contact_email": "Grace@Gamma.example",
        "contact_phone": "+44 113 000", "contact_job_title": "Librarian", "voting_contact_name": "",
        "voting_contact_email": "", "tier": "basic", "size": "standard", "wished_start": START.strftime("%Y-%m"),
        "integration_plans": "Our CRIS first, then the repository.", "website_url": "",
    }
    data.update(overrides)
    return data


def service_data(**overrides):
    data = {k: v for k, v in form_data().items() if k != "website_url"}
    data["wished_start"] = START
    data.update(overrides)
    return data


def submit(consortium, **overrides) -> services.Submission:
    return services.application_submit(consortium=consortium, user=None, **service_data(**overrides))


def counts():
    return {"organisations": Organisation.objects.count(), "memberships": Membership.objects.count(),
            "contacts": Contact.objects.count(), "roles": ContactRole.objects.count(), "plans": Plan.objects.count(),
            "tasks": Task.objects.count(), "applications": Application.objects.count()}


def delta(before, after):
    return {k: after[k] - before[k] for k in before}


def apply_url(consortium) -> str:
    return reverse("onboarding:apply", args=[consortium.pk])


def link_in(message, name: str) -> str:
    match = re.search(r"http://testserver(/onboarding/apply/application/[^/\s]+/(?:edit/)?)", message.body)
    assert match, f"no private link in the {name} email:\n{message.body}"
    return match.group(1)


# --- Public submission ---------------------------------------------------------------------------------

def test_public_submission_stores_the_application_and_emails_applicant_and_lead_admins(
        cast, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(apply_url(cast.consortium_a), form_data())
    assert response.status_code == 302
    application = Application.objects.get()
    assert application.consortium == cast.consortium_a
    assert application.status == Application.Status.SUBMITTED
    assert application.submitted_by is None
    # Identifiers and emails are stored in canonical form.
    assert (application.ror_id, application.ringgold_id, application.isni) == (ROR, "12345", "0000 0001 2103 2683")
    assert application.contact_email == "grace@gamma.example"
    assert application.wished_start == START
    assert application.edit_token_hash and len(application.edit_token_hash) == 64

    to = sorted(tuple(m.to) for m in mail.outbox)
    assert to == [("grace@gamma.example",), ("lead_admin_a@cast.example",)]
    applicant_mail = next(m for m in mail.outbox if m.to == ["grace@gamma.example"])
    status_path = link_in(applicant_mail, "confirmation")
    assert response["Location"] == status_path
    lead_mail = next(m for m in mail.outbox if m.to == ["lead_admin_a@cast.example"])
    assert "Gamma Research Institute" in lead_mail.subject
    assert reverse("onboarding:application_detail", args=[application.pk]) in lead_mail.body

    page = client.get(status_path)
    assert page.status_code == 200
    assert b"Your application to join Consortium A" in page.content
    assert b"has been submitted" in page.content  # the confirmation message
    assert page["Referrer-Policy"] == "no-referrer"
    assert client.get("/onboarding/apply/application/not-a-token/").status_code == 404


def test_public_page_is_only_for_active_or_forming_consortia(cast, client):
    assert client.get(apply_url(cast.consortium_a)).status_code == 200
    Consortium.objects.filter(pk=cast.consortium_b.pk).update(status=Consortium.Status.FORMING)
    assert client.get(apply_url(cast.consortium_b)).status_code == 200
    for status in (Consortium.Status.SUSPENDED, Consortium.Status.CLOSED):
        Consortium.objects.filter(pk=cast.consortium_b.pk).update(status=status)
        assert client.get(apply_url(cast.consortium_b)).status_code == 404
        assert client.post(apply_url(cast.consortium_b), form_data()).status_code == 404
    assert client.get(reverse("onboarding:apply", args=[999_999])).status_code == 404
    assert not Application.objects.exists()


def test_public_page_is_accessible_markup(cast, client):
    content = client.get(apply_url(cast.consortium_a)).content.decode()
    assert "<h1>Apply to join Consortium A</h1>" in content
    assert '<label for="id_legal_name">' in content and '<label for="id_wished_start">' in content
    assert 'type="month"' in content and 'enctype="multipart/form-data"' in content
    assert "<legend><h2>Organisation</h2></legend>" in content
    # The honeypot is hidden from sight and labelled for screen readers.
    assert re.search(r'<div class="visually-hidden">\s*<label for="id_website_url">Leave this field empty</label>',
                     content)


def _png_as_pdf():
    return SimpleUploadedFile("letter.pdf", PNG, content_type="application/pdf")


def _oversize_pdf():
    return SimpleUploadedFile("big.pdf", PDF + b"0" * (5 * 1024 * 1024), content_type="application/pdf")


MALFORMED = [
    ("bad ROR checksum", {"ror_id": "05dxps056"}, None, "05dxps056 is not a valid ROR ID"),
    ("bad email", {"contact_email": "grace-at-gamma"}, None, "Enter a valid email address."),
    ("missing legal name", {"legal_name": ""}, None, "This field is required."),
    ("missing city", {"city": ""}, None, "This field is required."),
    ("start not the 1st", {"wished_start": START.replace(day=15).isoformat()}, None, "starts on the 1st of a month"),
    ("start in the past", {"wished_start": "2020-01"}, None, "cannot be in the past"),
    ("start not a month", {"wished_start": "next spring"}, None, "Enter a month as YYYY-MM"),
    ("voting name without email", {"voting_contact_name": "Val Vote"}, None, "Give both the voting contact"),
    ("bad ISNI", {"isni": "0000000121032684"}, None, "is not a valid ISNI"),
    ("a .pdf that is a PNG", {}, _png_as_pdf, "“letter.pdf” is not a PDF document"),
    ("oversize PDF", {}, _oversize_pdf, "may be at most 5.0"),
]


@pytest.mark.parametrize(("case", "overrides", "make_file", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_submissions_create_nothing_and_say_why(cast, client, django_capture_on_commit_callbacks,
                                                          case, overrides, make_file, message):
    data = form_data(**overrides)
    if make_file:
        data["attachment"] = make_file()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(apply_url(cast.consortium_a), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content, content
    assert re.search(r'<div role="alert"><ul class="errorlist"', content)
    assert 'aria-invalid="true"' in content
    assert not Application.objects.exists()
    assert mail.outbox == []


def test_honeypot_filled_shows_a_neutral_message_and_creates_nothing(cast, client,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(apply_url(cast.consortium_a), form_data(website_url="https://spam.example"))
    assert response.status_code == 200
    assert b"Your submission has been received." in response.content
    assert b"errorlist" not in response.content
    assert not Application.objects.exists()
    assert mail.outbox == []


def test_valid_pdf_is_stored_under_a_random_name(cast, client):
    data = form_data(attachment=SimpleUploadedFile("My Letter.pdf", PDF, content_type="application/pdf"))
    assert client.post(apply_url(cast.consortium_a), data).status_code == 302
    application = Application.objects.get()
    assert re.fullmatch(r"applications/\d{4}/[0-9a-f]{32}\.pdf", application.attachment.name)
    assert application.attachment.read().startswith(b"%PDF-")
    # Lead staff download it; other consortia cannot.
    url = reverse("onboarding:application_document", args=[application.pk])
    client.force_login(cast["lead_admin_a"])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    client.force_login(cast["lead_admin_b"])
    assert client.get(url).status_code == 404


def test_submissions_from_one_address_are_throttled(cast, client, monkeypatch):
    monkeypatch.setattr(views, "SUBMISSIONS_PER_HOUR", 1)
    assert client.post(apply_url(cast.consortium_a), form_data()).status_code == 302
    response = client.post(apply_url(cast.consortium_a), form_data(legal_name="Another One"))
    assert response.status_code == 429
    assert Application.objects.count() == 1


def test_lead_staff_enter_an_application_by_hand(cast, client_for, django_capture_on_commit_callbacks):
    client = client_for(cast["lead_admin_a"])
    url = reverse("onboarding:application_create")
    page = client.get(url)
    assert page.status_code == 200
    assert b"website_url" not in page.content  # no honeypot for staff
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form_data(consortium=cast.consortium_a.pk))
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("onboarding:application_detail", args=[application.pk])
    assert application.submitted_by == cast["lead_admin_a"]
    # The applicant is told; the lead admin who entered it is not told about their own entry.
    assert [m.to for m in mail.outbox] == [["grace@gamma.example"]]
    # Consortium B is not a choice for lead admin A; lead support may not add applications.
    response = client.post(url, form_data(consortium=cast.consortium_b.pk, legal_name="Elsewhere"))
    assert response.status_code == 200 and b"Select a valid choice" in response.content
    assert client_for(cast["lead_support_a"]).get(url).status_code == 403
    with pytest.raises(PermissionDenied):
        services.application_submit(consortium=cast.consortium_a, user=cast["lead_support_a"], **service_data())


# --- Approval --------------------------------------------------------------------------------------------

def test_approval_creates_exactly_the_expected_records(cast, client_for, member_template,
                                                       django_capture_on_commit_callbacks):
    application = submit(cast.consortium_a).application
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast["lead_admin_a"]).post(
            reverse("onboarding:application_approve", args=[application.pk]), {"organisation": "new"})
    assert response.status_code == 302
    assert delta(before, counts()) == {"organisations": 1, "memberships": 1, "contacts": 1, "roles": 2, "plans": 1,
                                       "tasks": 2, "applications": 0}

    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert application.reviewed_by == cast["lead_admin_a"] and application.reviewed_at is not None
    organisation = application.organisation
    assert (organisation.consortium, organisation.legal_name, organisation.ror_id, organisation.isni) == (
        cast.consortium_a, "Gamma Research Institute", ROR, "0000 0001 2103 2683")
    membership = application.membership
    assert (membership.organisation, membership.status, membership.start_date, membership.tier, membership.size) == (
        organisation, Membership.Status.ONBOARDING, START, "basic", "standard")
    contact = Contact.objects.get(organisation=organisation)
    assert (contact.name, contact.email, contact.job_title) == ("Grace Gamma", "grace@gamma.example", "Librarian")
    assert sorted(contact.roles.values_list("role", flat=True)) == ["main", "voting"]
    plan = Plan.objects.get(membership=membership)
    assert (plan.kind, plan.start_date, plan.template, plan.consortium) == (
        PlanKind.MEMBER, START, member_template, cast.consortium_a)
    tasks = list(plan.tasks.order_by("position"))
    assert [t.due_date for t in tasks] == [START + dt.timedelta(days=7), START + dt.timedelta(days=30)]
    assert list(tasks[1].depends_on.all()) == [tasks[0]]
    # The applicant hears about it.
    assert any(m.to == ["grace@gamma.example"] and "approved" in m.subject for m in mail.outbox)
    # The detail page shows the result.
    page = client_for(cast["lead_admin_a"]).get(reverse("onboarding:application_detail", args=[application.pk]))
    assert b"Onboarding Gamma" in page.content and b"Onboarding</span>" in page.content


def test_named_voting_contact_becomes_the_voting_contact(cast, member_template):
    application = submit(cast.consortium_a, voting_contact_name="Val Vote",
                         voting_contact_email="Val@Gamma.example").application
    before = counts()
    approval = services.application_approve(user=cast["lead_admin_a"], application=application)
    assert delta(before, counts())["contacts"] == 2 and delta(before, counts())["roles"] == 2
    roles = {c.email: sorted(c.roles.values_list("role", flat=True)) for c in approval.contacts}
    assert roles == {"grace@gamma.example": ["main"], "val@gamma.example": ["voting"]}
    assert approval.organisation_created and approval.notes == []


def test_approval_works_without_a_default_template(cast):
    PlanTemplate.objects.filter(kind=PlanKind.MEMBER).update(is_default=False)
    application = submit(cast.consortium_a).application
    approval = services.application_approve(user=cast["lead_admin_a"], application=application)
    assert approval.plan.membership == approval.membership and approval.plan.tasks.count() == 0


def test_an_application_cannot_be_approved_twice(cast, member_template):
    application = submit(cast.consortium_a).application
    services.application_approve(user=cast["lead_admin_a"], application=application)
    before = counts()
    with pytest.raises(ValidationError, match="already been approved"):
        services.application_approve(user=cast["lead_admin_a"], application=application)
    with pytest.raises(ValidationError, match="already been approved"):
        services.application_decline(user=cast["lead_admin_a"], application=application, reason="No")
    assert delta(before, counts()) == dict.fromkeys(before, 0)


def test_change_feed_shows_the_new_organisation_to_the_engagement_lead(cast, client_for, member_template):
    application = submit(cast.consortium_a).application
    client_for(cast["lead_admin_a"]).post(reverse("onboarding:application_approve", args=[application.pk]))
    application.refresh_from_db()
    feed = change_feed(user=cast["engagement_lead"])
    created = feed.filter(content_type__model="organisation", object_id=str(application.organisation_id),
                          action="create").get()
    assert created.object_repr == "Gamma" and created.user == cast["lead_admin_a"]
    assert feed.filter(content_type__model="membership", object_id=str(application.membership_id)).exists()
    assert feed.filter(content_type__model="contact", object_repr="Grace Gamma").exists()
    # Not for another consortium's lead admin (who has no feed at all).
    assert not change_feed(user=cast["lead_admin_b"]).exists()


# --- Duplicates ----------------------------------------------------------------------------------------------

@pytest.fixture
def lapsed_gamma(cast):
    """Gamma was a member of consortium A before: same ROR, a lapsed membership and a voting contact."""
    organisation = f.OrganisationFactory(consortium=cast.consortium_a, legal_name="Gamma Institute (old name)",
                                         ror_id=ROR)
    f.MembershipFactory(organisation=organisation, status=Membership.Status.LAPSED, start_date=dt.date(2019, 1, 1))
    voter = f.ContactFactory(organisation=organisation, name="Old Voter", email="old.voter@gamma.example")
    f.ContactRoleFactory(contact=voter, role=ContactRole.Kind.VOTING)
    return organisation


def test_same_ror_is_detected_and_can_be_linked_keeping_the_existing_voting_contact(
        cast, client_for, lapsed_gamma, member_template):
    application = submit(cast.consortium_a).application
    check = selectors.application_duplicates(user=cast["lead_admin_a"], application=application)
    assert [(d.organisation, d.reasons, d.linkable) for d in check.matches] == [(lapsed_gamma, ("ror",), True)]
    assert check.blocks_new_organisation and not check.ror_elsewhere

    client = client_for(cast["lead_admin_a"])
    detail = client.get(reverse("onboarding:application_detail", args=[application.pk])).content.decode()
    assert "Possible duplicates" in detail and "same ROR ID" in detail
    assert f'value="{lapsed_gamma.pk}"' in detail and "Link the existing organisation" in detail

    # Creating a new organisation would break ROR uniqueness: refused, nothing created.
    before = counts()
    response = client.post(reverse("onboarding:application_approve", args=[application.pk]), {"organisation": "new"},
                           follow=True)
    assert "already in the hub" in response.content.decode()
    assert delta(before, counts()) == dict.fromkeys(before, 0)

    response = client.post(reverse("onboarding:application_approve", args=[application.pk]),
                           {"organisation": lapsed_gamma.pk}, follow=True)
    content = response.content.decode()
    assert "Application approved" in content
    assert "Old Voter" in content and "stay the voting contact" in content  # said so
    assert delta(before, counts()) == {"organisations": 0, "memberships": 1, "contacts": 1, "roles": 1, "plans": 1,
                                       "tasks": 2, "applications": 0}
    application.refresh_from_db()
    assert application.organisation == lapsed_gamma
    assert application.membership.status == Membership.Status.ONBOARDING
    voting = ContactRole.objects.get(organisation=lapsed_gamma, role=ContactRole.Kind.VOTING)
    assert voting.contact.email == "old.voter@gamma.example"
    grace = Contact.objects.get(organisation=lapsed_gamma, email="grace@gamma.example")
    assert list(grace.roles.values_list("role", flat=True)) == ["main"]


def test_same_name_in_the_consortium_is_detected_case_insensitively(cast, member_template):
    application = submit(cast.consortium_a, legal_name="ALPHA institute", ror_id="").application
    check = selectors.application_duplicates(user=cast["lead_admin_a"], application=application)
    assert [(d.organisation, d.reasons) for d in check.matches] == [(cast.org_a2, ("name",))]
    # Alpha Institute is an active member already: it cannot get a second membership.
    assert not check.matches[0].linkable and "active" in check.matches[0].why_not_linkable
    before = counts()
    with pytest.raises(ValidationError, match="already has an organisation called"):
        services.application_approve(user=cast["lead_admin_a"], application=application)
    with pytest.raises(ValidationError, match="already has a membership that is active"):
        services.application_approve(user=cast["lead_admin_a"], application=application, organisation=cast.org_a2)
    assert delta(before, counts()) == dict.fromkeys(before, 0)


def test_a_duplicate_in_another_consortium_is_shown_but_not_linkable(cast):
    application = submit(cast.consortium_a, ror_id=cast.org_b.ror_id).application
    lead = selectors.application_duplicates(user=cast["lead_admin_a"], application=application)
    assert lead.matches == [] and lead.ror_elsewhere  # lead admin A cannot see Beta University
    admin = selectors.application_duplicates(user=cast["orcid_admin"], application=application)
    assert [(d.organisation, d.linkable) for d in admin.matches] == [(cast.org_b, False)]
    with pytest.raises(ValidationError, match="belongs to another consortium"):
        services.application_approve(user=cast["orcid_admin"], application=application, organisation=cast.org_b)
    with pytest.raises(ValidationError, match="already in the hub"):
        services.application_approve(user=cast["lead_admin_a"], application=application)


# --- Decline, ask for changes ----------------------------------------------------------------------------------

def test_declined_creates_nothing_and_tells_the_applicant_why(cast, client_for, django_capture_on_commit_callbacks):
    application = submit(cast.consortium_a).application
    client = client_for(cast["lead_admin_a"])
    url = reverse("onboarding:application_decline", args=[application.pk])
    before = counts()
    response = client.post(url, {"reason": "  "}, follow=True)
    assert "Give the applicant a reason." in response.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "We only take members in Great Britain."})
    assert response.status_code == 302
    assert delta(before, counts()) == dict.fromkeys(before, 0)
    application.refresh_from_db()
    assert application.status == Application.Status.DECLINED
    assert application.review_note == "We only take members in Great Britain."
    [message] = mail.outbox
    assert message.to == ["grace@gamma.example"] and "We only take members in Great Britain." in message.body
    assert message.reply_to == ["lead_admin_a@cast.example"]
    with pytest.raises(ValidationError, match="already been declined"):
        services.application_approve(user=cast["lead_admin_a"], application=application)


def test_ask_for_changes_then_resubmit_then_approve(cast, client, client_for, member_template,
                                                    django_capture_on_commit_callbacks):
    submission = submit(cast.consortium_a, city="Leds")
    application = submission.application
    first_link = submission.status_path
    lead = client_for(cast["lead_admin_a"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = lead.post(reverse("onboarding:application_request_changes", args=[application.pk]),
                             {"message": "Please correct the city's spelling."})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.CHANGES_REQUESTED
    [message] = mail.outbox
    assert message.to == ["grace@gamma.example"] and "Please correct the city's spelling." in message.body
    edit_path = link_in(message, "changes requested")
    assert edit_path.endswith("/edit/")
    # Waiting for the applicant: cannot be approved now.
    with pytest.raises(ValidationError, match="waiting for the applicant"):
        services.application_approve(user=cast["lead_admin_a"], application=application)

    client.logout()
    assert client.get(first_link).status_code == 404  # the new link replaces the old one
    page = client.get(edit_path)
    assert page.status_code == 200
    content = page.content.decode()
    assert "Please correct the city" in content and 'value="Leds"' in content
    assert f'value="{START.strftime("%Y-%m")}"' in content
    # A malformed resubmission changes nothing.
    assert client.post(edit_path, form_data(ror_id="05dxps056", city="Leeds")).status_code == 200
    application.refresh_from_db()
    assert (application.city, application.status) == ("Leds", Application.Status.CHANGES_REQUESTED)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(edit_path, form_data(city="Leeds"))
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.city, application.status) == ("Leeds", Application.Status.SUBMITTED)
    assert [m.to for m in mail.outbox] == [["lead_admin_a@cast.example"]]
    assert "resubmitted" in mail.outbox[0].subject
    # Not editable again until asked.
    assert client.get(edit_path).status_code == 302
    with pytest.raises(PermissionDenied):
        services.application_resubmit(application=application, token="wrong", **service_data())

    approval = services.application_approve(user=cast["lead_admin_a"], application=application)
    assert approval.organisation.city == "Leeds"
    assert approval.application.status == Application.Status.APPROVED


# --- Access -------------------------------------------------------------------------------------------------------

def test_lead_admin_b_cannot_see_or_review_consortium_a_applications(cast, client_for, api_for):
    application = submit(cast.consortium_a).application
    client = client_for(cast["lead_admin_b"])
    assert client.get(reverse("onboarding:application_detail", args=[application.pk])).status_code == 404
    assert client.get(reverse("onboarding:application_history", args=[application.pk])).status_code == 404
    for name in ("application_approve", "application_decline", "application_request_changes"):
        assert client.post(reverse(f"onboarding:{name}", args=[application.pk]),
                           {"reason": "x", "message": "x"}).status_code == 404
    listing = client.get(reverse("onboarding:application_list"))
    assert listing.status_code == 200 and b"Gamma Research Institute" not in listing.content
    api = api_for(cast["lead_admin_b"])
    assert api.get("/api/v1/onboarding/applications/").json()["count"] == 0
    assert api.get(f"/api/v1/onboarding/applications/{application.pk}/").status_code == 404
    assert api.post(f"/api/v1/onboarding/applications/{application.pk}/approve/", {}, format="json"
                    ).status_code == 404
    with pytest.raises(PermissionDenied):
        services.application_approve(user=cast["lead_admin_b"], application=application)
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert not Plan.objects.filter(kind=PlanKind.MEMBER).exists()


def test_who_may_view_and_who_may_review(cast, client_for):
    application = submit(cast.consortium_a).application
    detail = reverse("onboarding:application_detail", args=[application.pk])
    approve = reverse("onboarding:application_approve", args=[application.pk])
    for who in ("orcid_admin", "engagement_lead", "orcid_support", "lead_admin_a", "lead_support_a"):
        assert client_for(cast[who]).get(detail).status_code == 200, who
    # The member contact of another organisation does not see it.
    assert client_for(cast["member_contact_a"]).get(detail).status_code == 404
    for who in ("engagement_lead", "lead_support_a", "orcid_support"):
        page = client_for(cast[who]).get(detail)
        assert b"Approve" not in page.content and b"Decline" not in page.content, who
        for name in ("application_approve", "application_decline", "application_request_changes"):
            url = reverse(f"onboarding:{name}", args=[application.pk])
            assert client_for(cast[who]).post(url).status_code == 403, (who, name)
            assert client_for(cast[who]).post(url, {"reason": "x", "message": "x"}).status_code == 403, (who, name)
    assert client_for(None).get(detail).status_code == 302
    assert client_for(cast["lead_admin_a"]).get(approve).status_code == 405  # actions are POST only
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED


def test_list_filters_by_status(cast, client_for):
    submit(cast.consortium_a)
    declined = submit(cast.consortium_a, legal_name="Delta College", ror_id="").application
    services.application_decline(user=cast["lead_admin_a"], application=declined, reason="No")
    client = client_for(cast["lead_admin_a"])
    content = client.get(reverse("onboarding:application_list"), {"status": "declined"}).content.decode()
    assert "Delta College" in content and "Gamma Research Institute" not in content
    assert '<th scope="col">' in content
    content = client.get(reverse("onboarding:application_list")).content.decode()
    assert "Delta College" in content and "Gamma Research Institute" in content
    assert f"/onboarding/apply/{cast.consortium_a.pk}/" in content  # the public link to share


# --- API ----------------------------------------------------------------------------------------------------------

def test_api_create_list_and_review(cast, api_for, member_template, django_capture_on_commit_callbacks):
    api = api_for(cast["lead_admin_a"])
    body = service_data(consortium=cast.consortium_a.pk, wished_start=START.isoformat())
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/onboarding/applications/", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["status"] == "submitted" and created["ror_id"] == ROR and "edit_token_hash" not in created
    assert [m.to for m in mail.outbox] == [["grace@gamma.example"]]
    pk = created["id"]

    bad = api.post("/api/v1/onboarding/applications/",
                   service_data(consortium=cast.consortium_a.pk, wished_start=START.replace(day=2).isoformat()),
                   format="json")
    assert bad.status_code == 400 and "wished_start" in bad.json()
    other = api.post("/api/v1/onboarding/applications/", {**body, "consortium": cast.consortium_b.pk},
                     format="json")
    assert other.status_code == 400 and "consortium" in other.json()
    assert api_for(cast["lead_support_a"]).post("/api/v1/onboarding/applications/", body,
                                                format="json").status_code == 403
    assert api_for(None).get("/api/v1/onboarding/applications/").status_code == 401

    listing = api.get("/api/v1/onboarding/applications/", {"status": "submitted"}).json()
    assert [row["id"] for row in listing["results"]] == [pk]

    changes = api.post(f"/api/v1/onboarding/applications/{pk}/request-changes/", {"message": ""}, format="json")
    assert changes.status_code == 400
    changes = api.post(f"/api/v1/onboarding/applications/{pk}/request-changes/", {"message": "Add a website"},
                       format="json")
    assert changes.status_code == 200 and changes.json()["status"] == "changes_requested"
    refused = api.post(f"/api/v1/onboarding/applications/{pk}/approve/", {}, format="json")
    assert refused.status_code == 400 and "waiting for the applicant" in str(refused.json())
    assert api_for(cast["engagement_lead"]).post(f"/api/v1/onboarding/applications/{pk}/decline/",
                                                 {"reason": "x"}, format="json").status_code == 403

    application = Application.objects.get(pk=pk)
    Application.objects.filter(pk=pk).update(status=Application.Status.SUBMITTED)
    before = counts()
    approved = api.post(f"/api/v1/onboarding/applications/{application.pk}/approve/", {}, format="json")
    assert approved.status_code == 200, approved.json()
    result = approved.json()
    assert result["application"]["status"] == "approved" and result["organisation_created"]
    assert result["plan"] == Plan.objects.get(membership_id=result["membership"]).pk
    assert delta(before, counts())["organisations"] == 1
    again = api.post(f"/api/v1/onboarding/applications/{pk}/approve/", {}, format="json")
    assert again.status_code == 400 and "already been approved" in str(again.json())


def test_api_decline(cast, api_for):
    application = submit(cast.consortium_a).application
    api = api_for(cast["lead_admin_a"])
    assert api.post(f"/api/v1/onboarding/applications/{application.pk}/decline/", {}, format="json"
                    ).status_code == 400
    response = api.post(f"/api/v1/onboarding/applications/{application.pk}/decline/", {"reason": "Out of scope"},
                        format="json")
    assert response.status_code == 200 and response.json()["status"] == "declined"
    assert response.json()["review_note"] == "Out of scope"
