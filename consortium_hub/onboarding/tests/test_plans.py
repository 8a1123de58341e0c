"""Onboarding plans: templates, due dates on the consortium's calendar, completing tasks (dependencies,
owner parties, evidence), the activation step, reminders, ORCID's checklist, pages, API and query counts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import reverse

from consortium_hub.core.testing.queries import assert_constant_queries, html_rows
from consortium_hub.directory.models import ContactRole, Membership
from consortium_hub.onboarding import checklists
from consortium_hub.onboarding.models import (
    DueUnit,
    EvidenceKind,
    Party,
    Plan,
    PlanKind,
    PlanTemplate,
    Task,
    TaskTemplate,
)
from consortium_hub.onboarding.selectors import plans as selectors
from consortium_hub.onboarding.services import plans as services

pytestmark = pytest.mark.django_db

BIZ, CAL = DueUnit.BUSINESS_DAYS, DueUnit.CALENDAR_DAYS


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def orcid_templates(db):
    services.ensure_orcid_templates()  # idempotent: post_migrate may have made them already
    return {t.kind: t for t in PlanTemplate.objects.filter(consortium__isnull=True, is_default=True)}


def make_template(cast, tasks, *, kind=PlanKind.MEMBER, consortium=None, user="lead_admin_a"):
    """A template of consortium A; `tasks` are (title, party, offset, unit, evidence, [prerequisite titles])."""
    template = services.template_create(user=cast[user], consortium=consortium or cast.consortium_a,
                                        name=f"Test {kind}", kind=kind)
    made: dict[str, TaskTemplate] = {}
    for title, party, offset, unit, evidence, *deps in tasks:
        made[title] = services.task_template_add(
            user=cast[user], template=template, title=title, owner_party=party, due_offset=offset, due_unit=unit,
            evidence=evidence, depends_on=[made[d] for d in (deps[0] if deps else [])])
    return template


def member_plan(cast, template, *, start=dt.date(2026, 12, 22), membership=None):
    return services.plan_start(user=cast["lead_admin_a"], consortium=cast.consortium_a, kind=PlanKind.MEMBER,
                               start_date=start, template=template, membership=membership or cast.membership_a)


def task(plan, title) -> Task:
    return plan.tasks.get(title=title)


# --- Due dates ------------------------------------------------------------------------------------

def test_business_day_due_dates_skip_christmas_boxing_day_and_the_weekend(cast):
    template = make_template(cast, [
        ("Business", Party.LEAD, 5, BIZ, EvidenceKind.NONE),
        ("Calendar", Party.LEAD, 5, CAL, EvidenceKind.NONE),
        ("Before", Party.LEAD, -2, BIZ, EvidenceKind.NONE),
        ("At start", Party.LEAD, 0, BIZ, EvidenceKind.NONE),
    ])
    plan = member_plan(cast, template, start=dt.date(2026, 12, 22))  # a Tuesday; consortium A is in GB
    # 23, 24, (25 Christmas, 26-27 weekend, 28 Boxing Day observed), 29, 30, 31.
    assert task(plan, "Business").due_date == dt.date(2026, 12, 31)
    assert task(plan, "Calendar").due_date == dt.date(2026, 12, 27)
    assert task(plan, "Before").due_date == dt.date(2026, 12, 18)
    assert task(plan, "At start").due_date == dt.date(2026, 12, 22)
    # A start on a holiday: offset 0 business days lands on the next business day.
    services.task_template_update(user=cast["lead_admin_a"], task_template=template.tasks.get(title="Business"),
                                  due_offset=0)
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.CANCELLED)
    later = member_plan(cast, template, start=dt.date(2026, 12, 25))
    assert task(later, "Business").due_date == dt.date(2026, 12, 29)
    assert services.due_date_for(consortium=cast.consortium_a, start=dt.date(2026, 12, 22), offset=5,
                                 unit=BIZ) == dt.date(2026, 12, 31)


# --- Templates ------------------------------------------------------------------------------------

def test_dependencies_only_within_the_template_and_without_cycles(cast):
    template = make_template(cast, [
        ("A", Party.LEAD, 1, BIZ, EvidenceKind.NONE),
        ("B", Party.LEAD, 2, BIZ, EvidenceKind.NONE, ["A"]),
        ("C", Party.LEAD, 3, BIZ, EvidenceKind.NONE, ["B"]),
    ])
    a, b, c = (template.tasks.get(title=t) for t in "ABC")
    with pytest.raises(ValidationError) as error:
        services.task_template_update(user=cast["lead_admin_a"], task_template=a, depends_on=[c])
    message = str(error.value)
    assert "circle" in message and "“C”" in message and "“A”" in message
    assert list(a.depends_on.all()) == []  # nothing half-written
    with pytest.raises(ValidationError, match="itself"):
        services.task_template_update(user=cast["lead_admin_a"], task_template=a, depends_on=[a])
    other = make_template(cast, [("X", Party.LEAD, 1, BIZ, EvidenceKind.NONE)], kind=PlanKind.CONSORTIUM)
    with pytest.raises(ValidationError, match="another template"):
        services.task_template_update(user=cast["lead_admin_a"], task_template=a,
                                      depends_on=[other.tasks.get()])


def test_only_one_default_template_per_kind_and_owner(cast):
    first = services.template_create(user=cast["lead_admin_a"], consortium=cast.consortium_a, name="One",
                                     kind=PlanKind.MEMBER, is_default=True)
    second = services.template_create(user=cast["lead_admin_a"], consortium=cast.consortium_a, name="Two",
                                      kind=PlanKind.MEMBER, is_default=True)
    first.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)


def test_template_access(cast, orcid_templates):
    orcid = orcid_templates[PlanKind.MEMBER]
    with pytest.raises(PermissionDenied):  # ORCID's templates are ORCID admins' to change
        services.template_update(user=cast["lead_admin_a"], template=orcid, name="Mine now")
    with pytest.raises(PermissionDenied):
        services.template_create(user=cast["lead_admin_a"], consortium=None, name="X", kind=PlanKind.MEMBER)
    with pytest.raises(PermissionDenied):
        services.template_create(user=cast["lead_admin_a"], consortium=cast.consortium_b, name="X",
                                 kind=PlanKind.MEMBER)
    services.template_update(user=cast["orcid_admin"], template=orcid, description="Edited by ORCID")
    names = set(selectors.template_list(user=cast["lead_admin_b"]).values_list("name", flat=True))
    assert orcid.name in names  # shared with every lead


def test_template_pages_add_reorder_edit_and_delete_tasks(cast, client_for):
    client = client_for(cast["lead_admin_a"])
    response = client.post(reverse("onboarding:template_create"), {
        "consortium": cast.consortium_a.pk, "name": "Our member plan", "kind": PlanKind.MEMBER})
    template = PlanTemplate.objects.get(name="Our member plan")
    assert response.status_code == 302 and template.consortium == cast.consortium_a
    add = reverse("onboarding:template_task_add", args=[template.pk])
    for title in ("First", "Second"):
        client.post(add, {"title": title, "owner_party": Party.LEAD, "due_offset": 3, "due_unit": BIZ,
                          "evidence": EvidenceKind.NONE})
    first, second = template.tasks.order_by("position")
    # A cycle through the edit page is refused with the message on the form.
    client.post(reverse("onboarding:template_task_edit", args=[first.pk]), {
        "title": "First", "owner_party": Party.LEAD, "due_offset": 3, "due_unit": BIZ, "evidence": "none",
        "depends_on": [second.pk]})
    response = client.post(reverse("onboarding:template_task_edit", args=[second.pk]), {
        "title": "Second", "owner_party": Party.LEAD, "due_offset": 3, "due_unit": BIZ, "evidence": "none",
        "depends_on": [first.pk]})
    assert response.status_code == 200 and "circle" in response.content.decode()
    client.post(reverse("onboarding:template_task_move", args=[second.pk]), {"direction": "up"})
    assert list(template.tasks.order_by("position").values_list("title", flat=True)) == ["Second", "First"]
    client.post(reverse("onboarding:template_task_delete", args=[first.pk]))
    assert list(template.tasks.values_list("title", flat=True)) == ["Second"]
    page = client.get(reverse("onboarding:template_detail", args=[template.pk]))
    assert "Second" in page.content.decode()
    # Another consortium's lead cannot even see it; ORCID's template is read-only for a lead.
    assert client_for(cast["lead_admin_b"]).get(reverse("onboarding:template_edit", args=[template.pk])
                                                ).status_code == 404
    assert client_for(cast["lead_admin_b"]).get(reverse("onboarding:template_detail", args=[template.pk])
                                                ).status_code == 404
    assert client_for(cast["lead_support_a"]).get(reverse("onboarding:template_edit", args=[template.pk])
                                                  ).status_code == 403


# --- Completing tasks -----------------------------------------------------------------------------

@pytest.fixture
def three_party_plan(cast):
    template = make_template(cast, [
        ("Lead task", Party.LEAD, 1, BIZ, EvidenceKind.NONE),
        ("Member task", Party.MEMBER, 2, BIZ, EvidenceKind.NONE),
        ("ORCID task", Party.ORCID, 3, BIZ, EvidenceKind.NONE),
        ("After lead", Party.LEAD, 4, BIZ, EvidenceKind.NONE, ["Lead task", "Member task"]),
    ])
    return member_plan(cast, template)


def test_a_prerequisite_blocks_completion_and_is_named(cast, three_party_plan):
    plan = three_party_plan
    with pytest.raises(ValidationError) as error:
        services.task_complete(user=cast["lead_admin_a"], task=task(plan, "After lead"))
    assert "“Lead task”" in str(error.value) and "“Member task”" in str(error.value)
    services.task_complete(user=cast["lead_admin_a"], task=task(plan, "Lead task"))
    services.task_complete(user=cast["member_contact_a"], task=task(plan, "Member task"))
    done = services.task_complete(user=cast["lead_admin_a"], task=task(plan, "After lead"))
    assert done.status == Task.Status.DONE and done.completed_by == cast["lead_admin_a"]


@pytest.mark.parametrize(("who", "allowed"), [
    ("lead_admin_a", {"Lead task", "Member task"}),
    ("lead_support_a", {"Lead task", "Member task"}),
    ("member_contact_a", {"Member task"}),
    ("engagement_lead", {"ORCID task"}),
    ("orcid_admin", {"ORCID task"}),
    ("orcid_support", set()),
    ("lead_admin_b", set()),
])
def test_only_the_owning_party_completes_a_task(cast, three_party_plan, who, allowed):
    for title in ("Lead task", "Member task", "ORCID task"):
        if title in allowed:
            assert services.task_complete(user=cast[who], task=task(three_party_plan, title)).status == "done"
        else:
            with pytest.raises(PermissionDenied):
                services.task_complete(user=cast[who], task=task(three_party_plan, title))


def test_party_refusal_on_the_page_names_the_owner(cast, three_party_plan, client_for):
    url = reverse("onboarding:task_complete", args=[task(three_party_plan, "Lead task").pk])
    assert client_for(cast["member_contact_a"]).post(url).status_code == 403
    assert client_for(cast["orcid_admin"]).get(url).status_code == 403
    assert not task(three_party_plan, "Lead task").completed_at


def test_evidence_is_required_as_the_template_says(cast):
    template = make_template(cast, [
        ("Note", Party.LEAD, 1, BIZ, EvidenceKind.NOTE),
        ("File", Party.LEAD, 1, BIZ, EvidenceKind.FILE),
        ("Link", Party.LEAD, 1, BIZ, EvidenceKind.LINK),
    ])
    plan = member_plan(cast, template)
    lead = cast["lead_admin_a"]
    with pytest.raises(ValidationError) as error:
        services.task_complete(user=lead, task=task(plan, "Note"), note="  ")
    assert "note" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.task_complete(user=lead, task=task(plan, "File"),
                               file=SimpleUploadedFile("big.pdf", b"x" * (10 * 1024 * 1024 + 1)))
    assert "10 MB" in str(error.value)
    with pytest.raises(ValidationError) as error:
        services.task_complete(user=lead, task=task(plan, "Link"), link="not a url")
    assert "link" in error.value.message_dict
    services.task_complete(user=lead, task=task(plan, "Note"), note="Called them")
    services.task_complete(user=lead, task=task(plan, "File"), file=SimpleUploadedFile("policy.pdf", b"%PDF-1.4"))
    services.task_complete(user=lead, task=task(plan, "Link"), link="https://example.org/members")
    assert task(plan, "Note").evidence_note == "Called them"
    assert task(plan, "Link").evidence_link == "https://example.org/members"
    file_task = task(plan, "File")
    assert file_task.evidence_file.name.endswith(".pdf")


def test_evidence_through_the_page_and_file_download_is_access_checked(cast, client_for):
    template = make_template(cast, [("File", Party.MEMBER, 1, BIZ, EvidenceKind.FILE)])
    plan = member_plan(cast, template)
    file_task = task(plan, "File")
    client = client_for(cast["member_contact_a"])
    url = reverse("onboarding:task_complete", args=[file_task.pk])
    assert client.post(url, {}).status_code == 400  # no file
    response = client.post(url, {"file": SimpleUploadedFile("homework.pdf", b"%PDF-1.4 done")})
    assert response.status_code == 302
    download = reverse("onboarding:task_evidence", args=[file_task.pk])
    assert b"".join(client.get(download).streaming_content) == b"%PDF-1.4 done"
    assert client_for(cast["lead_admin_b"]).get(download).status_code == 404


def test_reopen_is_for_lead_admins_and_reopens_a_complete_plan(cast):
    template = make_template(cast, [("Only", Party.LEAD, 1, BIZ, EvidenceKind.NONE)],
                             kind=PlanKind.SUPPORT_STAFF)
    plan = services.support_staff_plan_start(user=cast["lead_admin_a"], consortium=cast.consortium_a,
                                             staff_member=cast["lead_support_a"], template=template,
                                             start_date=dt.date(2026, 12, 1))
    only = task(plan, "Only")
    services.task_complete(user=cast["lead_support_a"], task=only)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.COMPLETE  # not a member plan: no confirmation step
    with pytest.raises(PermissionDenied):
        services.task_reopen(user=cast["lead_support_a"], task=only)
    services.task_reopen(user=cast["lead_admin_a"], task=only)
    plan.refresh_from_db()
    assert (task(plan, "Only").status, plan.status) == (Task.Status.PENDING, Plan.Status.OPEN)


def test_support_staff_plan_needs_a_support_staff_member(cast):
    with pytest.raises(ValidationError, match="not support staff"):
        services.support_staff_plan_start(user=cast["lead_admin_a"], consortium=cast.consortium_a,
                                          staff_member=cast["member_contact_a"])
    with pytest.raises(PermissionDenied):
        services.support_staff_plan_start(user=cast["lead_support_a"], consortium=cast.consortium_a,
                                          staff_member=cast["lead_support_a"])


def test_a_member_has_one_open_plan(cast):
    template = make_template(cast, [("Only", Party.LEAD, 1, BIZ, EvidenceKind.NONE)])
    member_plan(cast, template)
    with pytest.raises(ValidationError, match="already has an open onboarding plan"):
        member_plan(cast, template)


# --- The last task and the activation step --------------------------------------------------------

@pytest.fixture
def onboarding_member(cast):
    Membership.objects.filter(pk=cast.membership_a.pk).update(status=Membership.Status.ONBOARDING)
    template = make_template(cast, [
        ("Welcome", Party.LEAD, 1, BIZ, EvidenceKind.NONE),
        ("Technical contact", Party.MEMBER, 2, BIZ, EvidenceKind.NOTE, ["Welcome"]),
    ])
    return member_plan(cast, template)


def test_last_task_asks_to_activate_the_membership(cast, client_for, onboarding_member):
    plan = onboarding_member
    client = client_for(cast["lead_admin_a"])
    response = client.post(reverse("onboarding:task_complete", args=[task(plan, "Welcome").pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("onboarding:plan_detail", args=[plan.pk]))
    response = client.post(reverse("onboarding:task_complete", args=[task(plan, "Technical contact").pk]),
                           {"note": "Tess Tech confirmed"})
    assert response.url == reverse("onboarding:plan_activate", args=[plan.pk])
    plan.refresh_from_db()
    assert plan.status == Plan.Status.OPEN  # waits for the confirmation
    page = client.get(response.url).content.decode()
    assert "All tasks are done. Activate the membership of Alpha University now?" in page
    assert client.post(response.url).status_code == 302
    plan.refresh_from_db()
    cast.membership_a.refresh_from_db()
    assert plan.status == Plan.Status.COMPLETE and plan.completed_at
    assert cast.membership_a.status == Membership.Status.ACTIVE


def test_activation_refused_by_the_contact_rules_shows_the_reason(cast, client_for, onboarding_member):
    plan = onboarding_member
    ContactRole.objects.filter(organisation=cast.org_a, role=ContactRole.Kind.VOTING).delete()
    services.task_complete(user=cast["lead_admin_a"], task=task(plan, "Welcome"))
    services.task_complete(user=cast["member_contact_a"], task=task(plan, "Technical contact"), note="Done")
    response = client_for(cast["lead_admin_a"]).post(reverse("onboarding:plan_activate", args=[plan.pk]))
    assert response.status_code == 400
    assert "cannot become an active member yet" in response.content.decode()
    assert "voting contact" in response.content.decode()
    plan.refresh_from_db()
    cast.membership_a.refresh_from_db()
    assert (plan.status, cast.membership_a.status) == (Plan.Status.OPEN, Membership.Status.ONBOARDING)


def test_a_member_contact_finishing_the_plan_leaves_activation_to_the_lead(cast, client_for, onboarding_member):
    plan = onboarding_member
    services.task_complete(user=cast["lead_admin_a"], task=task(plan, "Welcome"))
    client = client_for(cast["member_contact_a"])
    response = client.post(reverse("onboarding:task_complete", args=[task(plan, "Technical contact").pk]),
                           {"note": "Confirmed"})
    page = client.get(response.url).content.decode()
    assert "The consortium lead will activate the membership" in page
    assert client.post(response.url).status_code == 403
    with pytest.raises(PermissionDenied):
        services.plan_activate_membership(user=cast["member_contact_a"], plan=plan)


# --- Reminders ------------------------------------------------------------------------------------

@pytest.fixture
def overdue_plan(cast):
    """Due Monday 2 March 2026: step 2 on Monday 9 March, step 3 on Monday 16 March (5 and 10 business days)."""
    template = make_template(cast, [
        ("Lead task", Party.LEAD, 0, CAL, EvidenceKind.NONE),
        ("Member task", Party.MEMBER, 0, CAL, EvidenceKind.NONE),
        ("ORCID task", Party.ORCID, 0, CAL, EvidenceKind.NONE),
    ])
    plan = member_plan(cast, template, start=dt.date(2026, 3, 2))
    Plan.objects.exclude(pk=plan.pk).update(status=Plan.Status.CANCELLED)  # e.g. a support-staff plan of the cast
    return plan


def _reminders():
    """(task title, step, sorted recipients) of each reminder sent."""
    found = []
    for message in mail.outbox:
        step = int(re.search(r"Reminder (\d) of 3", message.body).group(1))
        title = re.search(r"task “(.+?)”", message.body).group(1)
        found.append((title, step, tuple(sorted(message.to))))
    return found


def _days(first, last):
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def test_reminders_go_once_per_step_even_when_the_scheduler_runs_twice_a_day(
        cast, overdue_plan, django_capture_on_commit_callbacks):
    sent_on: dict[tuple[str, int], dt.date] = {}
    for day in _days(dt.date(2026, 3, 1), dt.date(2026, 3, 31)):
        for _run in range(2):
            before = len(mail.outbox)
            with django_capture_on_commit_callbacks(execute=True):
                services.catch_up_reminders(today=day)
                services.send_overdue_reminders(today=day)  # a second scheduler ignoring the catch-up marker
            for title, step, _to in _reminders()[before:]:
                sent_on[(title, step)] = day
    reminders = _reminders()
    assert len(reminders) == 9  # three tasks, three steps, once each
    assert {(title, step) for title, step, _ in reminders} == {
        (t, s) for t in ("Lead task", "Member task", "ORCID task") for s in (1, 2, 3)}
    assert sent_on[("Lead task", 1)] == dt.date(2026, 3, 3)
    assert sent_on[("Lead task", 2)] == dt.date(2026, 3, 9)
    assert sent_on[("Lead task", 3)] == dt.date(2026, 3, 16)
    to = {(title, step): recipients for title, step, recipients in reminders}
    leads = ("lead_admin_a@cast.example", "lead_support_a@cast.example")
    assert to[("Lead task", 1)] == leads
    assert to[("Member task", 1)] == ("ann@alpha.example",)  # the main relationship contact
    assert to[("Member task", 3)] == ("ann@alpha.example", "lead_admin_a@cast.example")  # lead admins copied
    assert to[("ORCID task", 1)] == ("engagement_lead@cast.example",)
    assert to[("ORCID task", 3)] == ("engagement_lead@cast.example", "lead_admin_a@cast.example")


def test_a_scheduler_that_missed_days_sends_each_step_once(cast, overdue_plan, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.catch_up_reminders(today=dt.date(2026, 3, 2))  # first run: nothing overdue yet
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        services.catch_up_reminders(today=dt.date(2026, 3, 20))  # down for 18 days
        services.catch_up_reminders(today=dt.date(2026, 3, 20))
    steps = sorted((title, step) for title, step, _ in _reminders())
    assert steps == sorted((t, s) for t in ("Lead task", "Member task", "ORCID task") for s in (1, 2, 3))


def test_done_tasks_get_no_reminder_and_a_first_run_sends_only_the_highest_step(
        cast, overdue_plan, django_capture_on_commit_callbacks):
    services.task_complete(user=cast["lead_admin_a"], task=task(overdue_plan, "Lead task"))
    with django_capture_on_commit_callbacks(execute=True):
        services.send_overdue_reminders(today=dt.date(2026, 4, 1))
        services.send_overdue_reminders(today=dt.date(2026, 4, 2))
    assert sorted((title, step) for title, step, _ in _reminders()) == [("Member task", 3), ("ORCID task", 3)]


def test_the_daily_job_is_thin_and_runs(cast):
    from consortium_hub.onboarding.tasks import send_task_reminders

    send_task_reminders.call_local()


# --- ORCID's consortium checklist -----------------------------------------------------------------

def test_orcid_templates_are_created_once_with_the_checklist(cast, orcid_templates):
    services.ensure_orcid_templates()
    assert PlanTemplate.objects.filter(consortium__isnull=True).count() == len(checklists.ORCID_TEMPLATES)
    checklist = orcid_templates[PlanKind.CONSORTIUM]
    tasks = {t.title: t for t in checklist.tasks.all()}
    assert len(tasks) == len(checklists.CONSORTIUM_CHECKLIST.tasks)
    pre_signing = [t for t in tasks.values() if t.due_offset <= 0 and t.owner_party == Party.LEAD]
    assert {"Funding and cost-recovery model agreed", "Call for participation issued",
            "Staffing plan agreed"} <= {t.title for t in pre_signing}
    assert any("governance" in t.title and "membership criteria" in t.title for t in pre_signing)
    assert any("central, distributed or mixed" in t.title for t in pre_signing)
    assert any("support contact" in t.title for t in pre_signing)
    fees = tasks["Consortium fees paid to ORCID"]
    assert (fees.due_offset, fees.due_unit) == (60, CAL)
    orcid = {t.title for t in tasks.values() if t.owner_party == Party.ORCID}
    assert orcid == {"ORCID trains the consortium lead", "ORCID point of contact named for the consortium"}
    assert tasks["ORCID trains the consortium lead"].due_offset == 90
    assert orcid_templates[PlanKind.MEMBER].tasks.count() == 6
    assert orcid_templates[PlanKind.SUPPORT_STAFF].tasks.count() == 4


def test_orcid_staff_start_the_checklist_and_the_lead_sees_it_with_dates(cast, orcid_templates, client_for):
    with pytest.raises(PermissionDenied):
        services.consortium_checklist_start(user=cast["lead_admin_a"], consortium=cast.consortium_a)
    plan = services.consortium_checklist_start(user=cast["orcid_admin"], consortium=cast.consortium_a,
                                               start_date=dt.date(2026, 1, 15))
    assert plan.template == orcid_templates[PlanKind.CONSORTIUM]
    due = {t.title: t.due_date for t in plan.tasks.all()}
    assert due["Consortium fees paid to ORCID"] == dt.date(2026, 3, 16)  # 60 days
    for title in ("Community support staff hired and onboarded", "Lead staff attended ORCID training",
                  "Support staff completed ORCID training and homework",
                  "Member organisation details entered in the hub", "ORCID trains the consortium lead"):
        assert due[title] == dt.date(2026, 4, 15), title  # 90 days
    assert due["Staffing plan agreed"] == dt.date(2026, 1, 15)  # before signing: at the start
    with pytest.raises(ValidationError, match="already has an open consortium checklist"):
        services.consortium_checklist_start(user=cast["orcid_admin"], consortium=cast.consortium_a)
    for who in ("orcid_admin", "engagement_lead", "lead_admin_a", "lead_support_a"):
        page = client_for(cast[who]).get(reverse("onboarding:plan_detail", args=[plan.pk]))
        assert page.status_code == 200, who
        assert "2026-04-15" in page.content.decode() or "April 15, 2026" in page.content.decode()
    assert client_for(cast["member_contact_a"]).get(reverse("onboarding:plan_detail", args=[plan.pk])
                                                    ).status_code == 404
    assert client_for(cast["lead_admin_b"]).get(reverse("onboarding:plan_detail", args=[plan.pk])
                                                ).status_code == 404


def test_checklist_starts_on_the_formation_date_by_default(cast, orcid_templates):
    plan = services.consortium_checklist_start(user=cast["orcid_admin"], consortium=cast.consortium_b)
    assert plan.start_date == cast.consortium_b.formed_on
    assert plan.tasks.get(title="Consortium fees paid to ORCID").due_date == \
        cast.consortium_b.formed_on + dt.timedelta(days=60)


def test_member_plan_from_orcid_default_template(cast, orcid_templates):
    plan = services.member_plan_start(user=cast["lead_admin_a"], membership=cast.membership_a,
                                      start_date=dt.date(2026, 12, 22))
    assert plan.template == orcid_templates[PlanKind.MEMBER]
    welcome = plan.tasks.get(title="Welcome call held")
    assert welcome.due_date == dt.date(2026, 12, 31)  # 5 business days over Christmas
    assert set(plan.tasks.get(title="Member API credentials requested").depends_on.values_list("title", flat=True)) \
        == {"Technical contact confirmed", "Integration plan recorded"}


# --- Pages ----------------------------------------------------------------------------------------

def test_plan_page_and_home_show_progress_and_what_i_owe(cast, client_for, three_party_plan):
    services.task_complete(user=cast["lead_admin_a"], task=task(three_party_plan, "Lead task"))
    page = client_for(cast["lead_admin_a"]).get(reverse("onboarding:plan_detail", args=[three_party_plan.pk]))
    text = page.content.decode()
    assert "1 of 4 tasks done" in text and "(25%)" in text
    home = client_for(cast["member_contact_a"]).get(reverse("onboarding:home")).content.decode()
    owed = home.split("Plans in progress")[0]
    assert "Member task" in owed and "Lead task" not in owed and "ORCID task" not in owed
    home = client_for(cast["engagement_lead"]).get(reverse("onboarding:home")).content.decode()
    assert "ORCID task" in home.split("Plans in progress")[0]
    assert "Consortium A" in home.split("Plans in progress")[1]


def test_overdue_tasks_come_first_on_home(cast, client_for):
    template = make_template(cast, [
        ("Later", Party.LEAD, 400, CAL, EvidenceKind.NONE),
        ("Overdue", Party.LEAD, 1, CAL, EvidenceKind.NONE),
    ])
    member_plan(cast, template, start=dt.date(2026, 1, 1))
    owed = list(selectors.tasks_owed(user=cast["lead_admin_a"], today=dt.date(2026, 6, 1)))
    titles = [t.title for t in owed if t.title in ("Later", "Overdue")]
    assert titles == ["Overdue", "Later"]
    assert [t.overdue for t in owed if t.title in ("Later", "Overdue")] == [True, False]


def test_organisation_progress_snippet(cast, three_party_plan):
    services.task_complete(user=cast["lead_admin_a"], task=task(three_party_plan, "Lead task"))
    plans = selectors.plans_for_organisation(user=cast["member_contact_a"], organisation=cast.org_a)
    html = render_to_string("onboarding/_plan_progress.html", {"plans": plans})
    assert "1 of 4 tasks done" in html and "(25%)" in html
    assert not selectors.plans_for_organisation(user=cast["lead_admin_b"], organisation=cast.org_a).exists()


def test_start_pages(cast, client_for, orcid_templates):
    client = client_for(cast["lead_admin_a"])
    assert client.get(reverse("onboarding:plan_start") + "?kind=member").status_code == 200
    assert client.get(reverse("onboarding:plan_start") + "?kind=consortium").status_code == 403
    response = client.post(reverse("onboarding:plan_start") + "?kind=support_staff", {
        "consortium": cast.consortium_a.pk, "staff_member": cast["lead_support_a"].pk, "start_date": "2026-12-01"})
    assert response.status_code == 302
    response = client_for(cast["orcid_admin"]).post(reverse("onboarding:plan_start") + "?kind=consortium", {
        "consortium": cast.consortium_b.pk, "start_date": "2026-02-01"})
    assert response.status_code == 302
    assert Plan.objects.filter(consortium=cast.consortium_b, kind=PlanKind.CONSORTIUM).exists()


def test_cross_consortium_ids_are_404(cast, client_for, api_for, three_party_plan):
    lead_b = cast["lead_admin_b"]
    some_task = task(three_party_plan, "Lead task")
    for url in (reverse("onboarding:plan_detail", args=[three_party_plan.pk]),
                reverse("onboarding:plan_activate", args=[three_party_plan.pk]),
                reverse("onboarding:plan_history", args=[three_party_plan.pk]),
                reverse("onboarding:task_complete", args=[some_task.pk])):
        assert client_for(lead_b).get(url).status_code == 404, url
    assert client_for(lead_b).post(reverse("onboarding:task_complete", args=[some_task.pk])).status_code == 404
    assert client_for(lead_b).post(reverse("onboarding:task_reopen", args=[some_task.pk])).status_code == 404
    api = api_for(lead_b)
    assert api.get(reverse("api:plan-detail", args=[three_party_plan.pk])).status_code == 404
    assert api.post(reverse("api:plan-task-complete", args=[some_task.pk])).status_code == 404
    assert api.get(reverse("api:plan-task-list")).json()["count"] == 0


# --- API ------------------------------------------------------------------------------------------

def test_api_tasks_filter_complete_and_reopen(cast, api_for, three_party_plan):
    api = api_for(cast["lead_support_a"])
    listed = api.get(reverse("api:plan-task-list"), {"plan": three_party_plan.pk, "party": "lead"}).json()
    assert {t["title"] for t in listed["results"]} == {"Lead task", "After lead"}
    overdue = api.get(reverse("api:plan-task-list"), {"plan": three_party_plan.pk, "overdue": "true"}).json()
    assert overdue["count"] == 0  # nothing is due before 23 December 2026
    lead_task = task(three_party_plan, "Lead task")
    Task.objects.filter(pk=lead_task.pk).update(due_date=dt.date(2020, 1, 1))
    overdue = api.get(reverse("api:plan-task-list"), {"plan": three_party_plan.pk, "overdue": "true"}).json()
    assert [t["title"] for t in overdue["results"]] == ["Lead task"]
    blocked = api.post(reverse("api:plan-task-complete", args=[task(three_party_plan, "After lead").pk]))
    assert blocked.status_code == 400 and "Lead task" in str(blocked.json())
    orcid = api.post(reverse("api:plan-task-complete", args=[task(three_party_plan, "ORCID task").pk]))
    assert orcid.status_code == 403
    done = api.post(reverse("api:plan-task-complete", args=[lead_task.pk]), {"note": "ok"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert api.post(reverse("api:plan-task-reopen", args=[lead_task.pk])).status_code == 403
    reopened = api_for(cast["lead_admin_a"]).post(reverse("api:plan-task-reopen", args=[lead_task.pk]))
    assert reopened.status_code == 200 and reopened.json()["status"] == "todo"


def test_api_templates_and_plans(cast, api_for, orcid_templates):
    api = api_for(cast["lead_admin_a"])
    created = api.post(reverse("api:plan-template-list"), {"consortium": cast.consortium_a.pk, "name": "API plan",
                                                           "kind": "member"}, format="json")
    assert created.status_code == 201, created.content
    assert api.post(reverse("api:plan-template-list"), {"consortium": cast.consortium_b.pk, "name": "No",
                                                        "kind": "member"}, format="json").status_code == 400
    pk = created.json()["id"]
    assert api.patch(reverse("api:plan-template-detail", args=[pk]), {"description": "Ours"},
                     format="json").json()["description"] == "Ours"
    orcid_pk = orcid_templates[PlanKind.MEMBER].pk
    assert api.get(reverse("api:plan-template-detail", args=[orcid_pk])).json()["tasks"]
    assert api.patch(reverse("api:plan-template-detail", args=[orcid_pk]), {"name": "X"},
                     format="json").status_code == 403
    assert api_for(cast["member_contact_a"]).get(reverse("api:plan-template-list")).status_code == 403
    started = api.post(reverse("api:plan-start"), {"kind": "member", "membership": cast.membership_a.pk,
                                                   "start_date": "2026-12-22"}, format="json")
    assert started.status_code == 201, started.content
    assert started.json()["task_total"] == 6 and started.json()["percent_done"] == 0
    listed = api_for(cast["member_contact_a"]).get(reverse("api:plan-list")).json()
    assert started.json()["id"] in [p["id"] for p in listed["results"]]
    assert api_for(cast["lead_support_a"]).post(reverse("api:plan-start"), {
        "kind": "member", "membership": cast.membership_a.pk}, format="json").status_code == 403


def test_api_schema_builds(cast, api_for):
    assert api_for(cast["orcid_admin"]).get(reverse("api:schema")).status_code == 200


# --- Query counts ---------------------------------------------------------------------------------

def _add_tasks(plan, party=Party.LEAD):
    def make(n):
        last = plan.tasks.order_by("-position").first()
        for i in range(n):
            new = Task.objects.create(plan=plan, position=1000 + plan.tasks.count(), title=f"Scale task {i}",
                                      owner_party=party, due_date=dt.date(2026, 1, 1) + dt.timedelta(days=i))
            if last is not None:
                new.depends_on.add(last)
            last = new
    return make


def test_plan_page_queries_do_not_grow_with_tasks(cast, client_for):
    template = make_template(cast, [("Seed", Party.LEAD, 1, BIZ, EvidenceKind.NOTE)])
    plan = member_plan(cast, template)
    client = client_for(cast["lead_admin_a"])
    assert_constant_queries(_add_tasks(plan), lambda: client.get(reverse("onboarding:plan_detail", args=[plan.pk])),
                            shown=html_rows, few=5, many=50)


def test_onboarding_home_queries_do_not_grow_with_tasks(cast, client_for):
    template = make_template(cast, [("Seed", Party.LEAD, 1, BIZ, EvidenceKind.NONE)])
    plan = member_plan(cast, template)
    client = client_for(cast["lead_admin_a"])
    assert_constant_queries(_add_tasks(plan), lambda: client.get(reverse("onboarding:home")),
                            shown=html_rows, few=5, many=50)


def test_plan_list_and_api_queries_do_not_grow(cast, client_for, api_for):
    template = make_template(cast, [("Seed", Party.LEAD, 1, BIZ, EvidenceKind.NONE)])
    memberships = iter(Membership.objects.filter(consortium=cast.consortium_a))
    plans = [member_plan(cast, template, membership=m) for m in memberships]

    def more_plans(n):
        for _ in range(n):
            services.plan_start(user=cast["lead_admin_a"], consortium=cast.consortium_a,
                                kind=PlanKind.SUPPORT_STAFF, staff_member=cast["lead_support_a"],
                                template=make_template(cast, [("S", Party.LEAD, 1, BIZ, EvidenceKind.NONE)],
                                                       kind=PlanKind.SUPPORT_STAFF),
                                start_date=dt.date(2026, 12, 1))
    assert plans
    client = client_for(cast["lead_admin_a"])
    assert_constant_queries(more_plans, lambda: client.get(reverse("onboarding:plan_list")), shown=html_rows,
                            few=2, many=8)
    api = api_for(cast["lead_admin_a"])
    assert_constant_queries(_add_tasks(plans[0]), lambda: api.get(reverse("api:plan-task-list")), few=3, many=12)
