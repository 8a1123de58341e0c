"""Every list page and API list runs the same number of queries whether it shows 5 rows or 100.

Rows are made with bulk_create for speed (it skips the audit signals, so change-log rows are made
directly). Each case runs as an ORCID admin and, where the role may see the page, as a consortium
lead admin (or, for ORCID's change feed, the engagement lead of one consortium).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from consortium_hub.accounts.models import Invitation, RoleAssignment, User
from consortium_hub.audit.models import ChangeRecord
from consortium_hub.core.roles import Role
from consortium_hub.core.testing.queries import api_rows, assert_constant_queries, html_rows
from consortium_hub.directory.models import (ChangeAcknowledgement, Consortium, Contact, ContactRole, Membership,
                                             MembershipStatusChange, Organisation)
from consortium_hub.jobs.models import JobRun

pytestmark = pytest.mark.django_db

_serial = itertools.count(1)


def _serials(n: int) -> list[int]:
    return [next(_serial) for _ in range(n)]


# --- Row makers: each adds n rows of what one page lists --------------------------------------------

def add_organisations(cast: Any, n: int, *, consortium: Consortium | None = None, name: str = "Scale org",
                      memberships: bool = True, contact_roles: tuple[str, ...] | None = (ContactRole.Kind.MAIN,
                                                                                         ContactRole.Kind.TECHNICAL)
                      ) -> list[Organisation]:
    """n organisations in consortium A, each with a membership and one contact holding `contact_roles`."""
    consortium = consortium or cast.consortium_a
    orgs = Organisation.objects.bulk_create([
        Organisation(consortium=consortium, legal_name=f"{name} {s}", country="GB", city="Leeds")
        for s in _serials(n)])
    if memberships:
        Membership.objects.bulk_create([
            Membership(organisation=o, consortium=consortium, status=Membership.Status.ACTIVE,
                       tier=Membership.Tier.PREMIUM, start_date=dt.date(2024, 1, 1)) for o in orgs])
    if contact_roles is not None:
        contacts = Contact.objects.bulk_create([
            Contact(organisation=o, name=f"{name} person {o.pk}", email=f"person{o.pk}@scale.example")
            for o in orgs])
        ContactRole.objects.bulk_create([ContactRole(contact=c, organisation_id=c.organisation_id, role=r)
                                         for c in contacts for r in contact_roles])
    return orgs


def add_org_without_contacts(cast: Any, n: int) -> None:
    add_organisations(cast, n, contact_roles=None)  # active members with no voting or main contact


def add_consortia(cast: Any, n: int) -> None:
    Consortium.objects.bulk_create([
        Consortium(name=f"Scale consortium {s}", country="NZ", billing_currency="NZD", timezone="Pacific/Auckland",
                   lead_organisation=cast.org_a, engagement_lead=cast["engagement_lead"]) for s in _serials(n)])


def add_search_hits(cast: Any, n: int) -> None:
    add_organisations(cast, n, name="Searchable")


def add_contacts_to_org_a(cast: Any, n: int) -> None:
    """Contacts with roles on Alpha University, and a membership (with its status history) per five."""
    org = cast.org_a
    contacts = Contact.objects.bulk_create([
        Contact(organisation=org, name=f"Alpha person {s}", email=f"alpha{s}@alpha.example") for s in _serials(n)])
    ContactRole.objects.bulk_create([ContactRole(contact=c, organisation=org, role=r) for c in contacts
                                     for r in (ContactRole.Kind.TECHNICAL, ContactRole.Kind.INVOICE)])
    memberships = Membership.objects.bulk_create([
        Membership(organisation=org, consortium=org.consortium, status=Membership.Status.LAPSED,
                   # Far in the past, so they never meet the cast's own memberships (unique per start).
                   start_date=dt.date(1000 + (s // 12) % 900, s % 12 + 1, 1)) for s in _serials(max(1, n // 5))])
    MembershipStatusChange.objects.bulk_create([
        MembershipStatusChange(membership=m, from_status=Membership.Status.ACTIVE, to_status=Membership.Status.LAPSED,
                               effective_on=m.start_date, changed_by=cast["lead_admin_a"], reason="lapsed")
        for m in memberships])


def add_changes(cast: Any, n: int) -> None:
    """Directory change records in consortium A, by a user; every other one acknowledged."""
    ct = ContentType.objects.get_for_model(Organisation)
    records = ChangeRecord.objects.bulk_create([
        ChangeRecord(content_type=ct, object_id=str(cast.org_a.pk), object_repr=f"Alpha University {s}",
                     action=ChangeRecord.Action.UPDATE, before={"city": "London"}, after={"city": f"Leeds {s}"},
                     consortium_id=cast.consortium_a.pk, organisation_id=cast.org_a.pk, user=cast["lead_admin_a"],
                     request_id=f"req-{s}", via="web") for s in _serials(n)])
    ChangeAcknowledgement.objects.bulk_create([ChangeAcknowledgement(change=r, by=cast["orcid_admin"])
                                               for r in records[::2]])


def add_job_runs(cast: Any, n: int) -> None:
    now = timezone.now()
    JobRun.objects.bulk_create([
        JobRun(task_id=f"task-{s}", name="directory.nightly", status=JobRun.Status.FAILED, attempt=1,
               started_at=now, finished_at=now, duration_ms=12, error="boom") for s in _serials(n)])


def add_people(cast: Any, n: int) -> None:
    """Users with a role in consortium A (or one of its organisations), and pending invitations."""
    serials = _serials(n)
    users = User.objects.bulk_create([User(email=f"person{s}@people.example", name=f"Person {s}", password="!")
                                      for s in serials])
    RoleAssignment.objects.bulk_create([
        RoleAssignment(user=u, role=Role.LEAD_SUPPORT, consortium=cast.consortium_a) if i % 2 else
        RoleAssignment(user=u, role=Role.MEMBER_CONTACT, consortium=cast.consortium_a, organisation=cast.org_a)
        for i, u in enumerate(users)])
    expires = timezone.now() + dt.timedelta(days=7)
    Invitation.objects.bulk_create([
        Invitation(email=f"invitee{s}@people.example", role=Role.MEMBER_CONTACT, consortium=cast.consortium_a,
                   organisation=cast.org_a, token_hash=f"hash-{s}", expires_at=expires,
                   invited_by=cast["lead_admin_a"]) for s in serials])


def add_applications(cast: Any, n: int) -> None:
    from consortium_hub.onboarding.models import Application

    Application.objects.bulk_create([
        Application(consortium=cast.consortium_a, legal_name=f"Applicant {s}", country="GB", city="Leeds",
                    contact_name=f"Applicant person {s}", contact_email=f"applicant{s}@apply.example",
                    wished_start=dt.date(2027, 1, 1)) for s in _serials(n)])


def add_plans(cast: Any, n: int) -> None:
    """Support-staff plans in consortium A, each with two tasks."""
    from consortium_hub.onboarding.models import Plan, PlanKind, Task

    plans = Plan.objects.bulk_create([
        Plan(consortium=cast.consortium_a, kind=PlanKind.SUPPORT_STAFF, title=f"Plan {s}",
             staff_member=cast["lead_support_a"], start_date=dt.date(2026, 1, 1)) for s in _serials(n)])
    Task.objects.bulk_create([Task(plan=p, title=f"Task {i}", owner_party="lead", due_date=dt.date(2026, 2, 1))
                              for p in plans for i in range(2)])


def add_templates(cast: Any, n: int) -> None:
    from consortium_hub.onboarding.models import PlanKind, PlanTemplate, TaskTemplate

    templates = PlanTemplate.objects.bulk_create([
        PlanTemplate(consortium=cast.consortium_a, name=f"Template {s}", kind=PlanKind.MEMBER)
        for s in _serials(n)])
    TaskTemplate.objects.bulk_create([TaskTemplate(template=t, title="Call", owner_party="lead") for t in templates])


def add_training(cast: Any, n: int) -> None:
    from consortium_hub.onboarding.models import Course, TrainingRecord

    courses = Course.objects.bulk_create([
        Course(consortium=cast.consortium_a, title=f"Course {s}", kind=Course.Kind.INTERNAL,
               required_for_support_staff=True) for s in _serials(n)])
    TrainingRecord.objects.bulk_create([
        TrainingRecord(consortium=cast.consortium_a, course=c, person=cast["lead_support_a"],
                       completed_on=dt.date(2026, 1, 1), recorded_by=cast["lead_admin_a"]) for c in courses[::2]])


def add_calendars(cast: Any, n: int) -> None:
    from consortium_hub.calendars.services import ensure_default_calendars

    add_consortia(cast, n)
    ensure_default_calendars()


def add_agreements(cast: Any, n: int) -> None:
    from consortium_hub.agreements.tests.test_views import add_agreements as make

    make(cast, n)


def add_affiliations(cast: Any, n: int) -> None:
    """Affiliation rows of Alpha University from one upload, every third one failed with ORCID's error."""
    from consortium_hub.registry.models import Affiliation, AffiliationUpload

    upload = AffiliationUpload.objects.create(organisation=cast.org_a, filename="scale.csv")
    Affiliation.objects.bulk_create([
        Affiliation(organisation=cast.org_a, upload=upload, email=f"r{s}@alpha.example", section="employment",
                    org_name="Alpha University", org_country="GB", org_city="London", content_key=f"key-{s}",
                    disambiguated_organization_identifier="https://ror.org/02mhbdp94", disambiguation_source="ROR",
                    status=Affiliation.Status.ERROR_ADDING if s % 3 else Affiliation.Status.IN_ORCID,
                    orcid_error="" if s % 3 == 0 else "Invalid start date", put_code=str(s),
                    orcid_id="0000-0002-1825-0097") for s in _serials(n)])


def add_uploads(cast: Any, n: int) -> None:
    from consortium_hub.registry.models import AffiliationUpload

    AffiliationUpload.objects.bulk_create([
        AffiliationUpload(organisation=cast.org_a, filename=f"upload-{s}.csv", uploaded_by=cast["lead_admin_a"],
                          content=b"email\n", content_sha256=f"sha-{s}", rows_total=3, rows_accepted=2,
                          rows_rejected=1) for s in _serials(n)])


def add_grants(cast: Any, n: int) -> None:
    from consortium_hub.registry.models import OrcidGrant

    OrcidGrant.objects.bulk_create([
        OrcidGrant(organisation=cast.org_a, email=f"g{s}@alpha.example", orcid_id="0000-0002-1825-0097",
                   status=OrcidGrant.Status.GRANTED, access_token=f"token-{s}", granted_at=timezone.now())
        for s in _serials(n)])


def add_permission_links(cast: Any, n: int) -> None:
    from consortium_hub.registry.models import PermissionLink

    expires = timezone.now() + dt.timedelta(days=30)
    PermissionLink.objects.bulk_create([
        PermissionLink(organisation=cast.org_a, email=f"l{s}@alpha.example", token_hash=f"nonce-{s}",
                       status=PermissionLink.Status.FAILED if s % 2 else PermissionLink.Status.SENT,
                       expires_at=expires, created_by=cast["lead_admin_a"]) for s in _serials(n)])


def add_api_calls(cast: Any, n: int) -> None:
    from consortium_hub.registry.models import OrcidApiCall

    OrcidApiCall.objects.bulk_create([
        OrcidApiCall(consortium=cast.consortium_a, organisation=cast.org_a, method="POST",
                     path=f"/v3.0/0000-0002-1825-0097/employment/{s}", status_code=201, duration_ms=40)
        for s in _serials(n)])


def add_adoption(cast: Any, n: int) -> None:
    """n members of consortium A with two daily figures each (the page shows the latest and the change)."""
    from consortium_hub.registry.models import AdoptionSnapshot

    orgs = add_organisations(cast, n, memberships=False, contact_roles=None, name="Adopting")
    AdoptionSnapshot.objects.bulk_create([
        AdoptionSnapshot(organisation=o, taken_on=day, identifier_type="ror", identifier=f"https://ror.org/{o.pk}",
                         records_total=100 + i, records_from_hub=10 + i)
        for o in orgs for i, day in enumerate((dt.date(2026, 10, 31), dt.date(2026, 11, 30)))])


def add_registry_clients(cast: Any, n: int) -> None:
    from consortium_hub.registry.models import RegistryClient

    before = set(Consortium.objects.values_list("pk", flat=True))
    add_consortia(cast, n)
    RegistryClient.objects.bulk_create([
        RegistryClient(consortium=c, client_id=f"APP-{c.pk}", client_secret="secret")
        for c in Consortium.objects.exclude(pk__in=before)])


# --- Cases ------------------------------------------------------------------------------------------

ADMIN, LEAD, ENGAGEMENT = "orcid_admin", "lead_admin_a", "engagement_lead"


@dataclass(frozen=True)
class Case:
    id: str
    url: Callable[[Any], str]
    make: Callable[[Any, int], Any]
    users: tuple[str, ...] = (ADMIN, LEAD)
    # A lead admin of one consortium sees one consortium however many there are.
    grows_for: tuple[str, ...] | None = None

    def grows(self, user: str) -> bool:
        return self.grows_for is None or user in self.grows_for


def _list(name: str, query: str = "per_page=100") -> Callable[[Any], str]:
    return lambda cast: f"{reverse(name)}?{query}"


PAGES = [
    Case("organisation_list", _list("directory:organisation_list"), add_organisations),
    Case("contact_list", _list("directory:contact_list"), add_organisations),
    Case("membership_list", _list("directory:membership_list"), add_organisations),
    Case("consortium_list", _list("directory:consortium_list"), add_consortia, grows_for=(ADMIN,)),
    Case("contact_rule_breaches", _list("directory:contact_rule_breaches"), add_org_without_contacts),
    Case("change_feed", _list("directory:change_feed", "show=all&per_page=100"), add_changes,
         users=(ADMIN, ENGAGEMENT)),
    Case("change_log", _list("audit:change_log"), add_changes, users=(ADMIN,)),
    Case("job_runs", _list("jobs:run_list"), add_job_runs, users=(ADMIN,)),
    Case("people", _list("accounts:people"), add_people),
    Case("search", _list("directory:search", "q=Searchable"), add_search_hits),
    Case("consortium_detail", lambda cast: reverse("directory:consortium_detail", args=[cast.consortium_a.pk])
         + "?per_page=100", add_organisations),
    Case("organisation_detail", lambda cast: reverse("directory:organisation_detail", args=[cast.org_a.pk]),
         add_contacts_to_org_a),
    Case("application_list", _list("onboarding:application_list"), add_applications),
    Case("plan_list", _list("onboarding:plan_list"), add_plans),
    Case("template_list", _list("onboarding:template_list"), add_templates),
    Case("training", _list("onboarding:training"), add_training),
    Case("agreement_list", _list("agreements:agreement_list"), add_agreements),
    Case("renewal_pipeline", _list("agreements:renewal_pipeline"), add_agreements),
    Case("calendar_list", _list("calendars:calendar_list"), add_calendars, grows_for=(ADMIN,)),
    Case("affiliation_list", _list("registry:affiliation_list"), add_affiliations),
    Case("upload_list", _list("registry:upload_list"), add_uploads),
    Case("grant_list", _list("registry:grant_list"), add_grants),
    Case("permission_link_list", _list("registry:link_list"), add_permission_links),
    Case("orcid_call_list", _list("registry:call_list"), add_api_calls),
    Case("adoption", _list("registry:adoption"), add_adoption),
    Case("registry_settings", _list("registry:settings_list"), add_registry_clients, grows_for=(ADMIN,)),
]

API = [
    Case("organisations", lambda cast: "/api/v1/organisations/", add_organisations),
    Case("contacts", lambda cast: "/api/v1/contacts/", add_organisations),
    Case("memberships", lambda cast: "/api/v1/memberships/", add_organisations),
    Case("consortia", lambda cast: "/api/v1/consortia/", add_consortia, grows_for=(ADMIN,)),
    Case("changes", lambda cast: "/api/v1/changes/?all=1", add_changes, users=(ADMIN, ENGAGEMENT)),
    Case("applications", lambda cast: "/api/v1/onboarding/applications/", add_applications),
    Case("plans", lambda cast: "/api/v1/onboarding/plans/", add_plans),
    Case("plan_tasks", lambda cast: "/api/v1/onboarding/tasks/", add_plans),
    Case("plan_templates", lambda cast: "/api/v1/onboarding/templates/", add_templates),
    Case("courses", lambda cast: "/api/v1/onboarding/courses/", add_training),
    Case("training_records", lambda cast: "/api/v1/onboarding/training-records/", add_training),
    Case("agreements", lambda cast: "/api/v1/agreements/agreements/", add_agreements),
    Case("renewal_decisions", lambda cast: "/api/v1/agreements/decisions/", add_agreements),
    Case("registry_affiliations", lambda cast: "/api/v1/registry/affiliations/", add_affiliations),
    Case("registry_uploads", lambda cast: "/api/v1/registry/uploads/", add_uploads),
    Case("registry_grants", lambda cast: "/api/v1/registry/grants/", add_grants),
    Case("registry_permission_links", lambda cast: "/api/v1/registry/permission-links/", add_permission_links),
    Case("registry_calls", lambda cast: "/api/v1/registry/calls/", add_api_calls),
    Case("adoption_snapshots", lambda cast: "/api/v1/registry/adoption/", add_adoption),
    Case("registry_clients", lambda cast: "/api/v1/registry/clients/", add_registry_clients, grows_for=(ADMIN,)),
]


def _params(cases: list[Case]) -> list[Any]:
    return [pytest.param(case, user, id=f"{case.id}-{user}") for case in cases for user in case.users]


@pytest.mark.parametrize(("case", "user"), _params(PAGES))
def test_list_page_query_count_does_not_grow_with_rows(cast, client_for, case, user):
    client = client_for(cast[user])
    url = case.url(cast)
    assert_constant_queries(lambda n: case.make(cast, n), lambda: client.get(url),
                            shown=html_rows if case.grows(user) else None)


@pytest.mark.parametrize(("case", "user"), _params(API))
def test_api_list_query_count_does_not_grow_with_rows(cast, api_for, case, user):
    api = api_for(cast[user])
    url = case.url(cast)
    assert_constant_queries(lambda n: case.make(cast, n), lambda: api.get(url),
                            shown=api_rows if case.grows(user) else None)


def test_the_helper_catches_an_n_plus_one(cast, client_for):
    """A fetch that queries once per row must fail the check."""
    def fetch_with_n_plus_one() -> int:
        return sum(len(o.contacts.all()) for o in Organisation.objects.all())

    with pytest.raises(AssertionError, match="N\\+1"):
        assert_constant_queries(lambda n: add_organisations(cast, n), fetch_with_n_plus_one, few=2, many=5)


# --- The benchmark's data ---------------------------------------------------------------------------

def test_seed_scale_makes_valid_members_without_auditing_and_adds_more_when_run_again(db):
    import io

    from django.core.management import call_command
    from django.db.models import Count, Q

    from consortium_hub.directory.identifiers import is_valid_ror

    for _ in range(2):
        call_command("seed_scale", organisations=6, contacts=14, consortia=3, stdout=io.StringIO())
    orgs = Organisation.objects.filter(consortium__name__startswith="Scale consortium ")
    assert orgs.count() == 12 and Consortium.objects.filter(name__startswith="Scale consortium ").count() == 3
    assert orgs.values("consortium").distinct().count() == 3
    assert all(is_valid_ror(r) for r in orgs.values_list("ror_id", flat=True))
    assert Membership.objects.filter(organisation__in=orgs).count() == 12
    assert Contact.objects.filter(organisation__in=orgs).count() == 28
    assert Contact.objects.values("email").distinct().count() == 28
    counted = orgs.annotate(voting=Count("contact_roles", filter=Q(contact_roles__role=ContactRole.Kind.VOTING)),
                            main=Count("contact_roles", filter=Q(contact_roles__role=ContactRole.Kind.MAIN)))
    assert all(o.voting == 1 and o.main >= 1 for o in counted)
    # bulk_create: benchmark data is deliberately not audited
    assert not ChangeRecord.objects.filter(content_type__app_label="directory").exists()
