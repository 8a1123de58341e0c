"""Demo data: two consortia in different countries, timezones and currencies, ~40 members.

Identifiers are generated with valid checksums; names are invented.
"""

from __future__ import annotations

import datetime as dt
import random

from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction

from consortium_hub.accounts.models import RoleAssignment, User
from consortium_hub.audit.context import acting_as
from consortium_hub.accounts.services import sync_admin_site_access
from consortium_hub.core.roles import MFA_REQUIRED_ROLES, Role
from consortium_hub.core.testing.factories import valid_orcid, valid_ror
from consortium_hub.directory.models import Consortium, Contact, ContactRole, Membership, Organisation

DEMO_PASSWORD = "demo-password-2026"
# Shared TOTP secret for the demo accounts that require MFA, so the printed code generator works.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

UK_CITIES = ["London", "Manchester", "Edinburgh", "Cardiff", "Bristol", "Leeds", "Glasgow", "Belfast", "York",
             "Oxford", "Cambridge", "Durham", "Exeter", "Norwich", "Brighton", "Bath", "Sheffield", "Nottingham",
             "Leicester", "Aberdeen"]
AU_CITIES = [("Brisbane", "QLD"), ("Sydney", "NSW"), ("Melbourne", "VIC"), ("Perth", "WA"), ("Adelaide", "SA"),
             ("Hobart", "TAS"), ("Darwin", "NT"), ("Canberra", "ACT"), ("Townsville", "QLD"), ("Cairns", "QLD"),
             ("Geelong", "VIC"), ("Newcastle", "NSW"), ("Wollongong", "NSW"), ("Toowoomba", "QLD"),
             ("Ballarat", "VIC"), ("Bendigo", "VIC"), ("Launceston", "TAS"), ("Armidale", "NSW"),
             ("Rockhampton", "QLD"), ("Bunbury", "WA")]
KINDS = [("University of {}", Organisation.Type.RESEARCH), ("{} Institute of Technology", Organisation.Type.RESEARCH),
         ("{} Research Council", Organisation.Type.FUNDER), ("{} University Press", Organisation.Type.PUBLISHER),
         ("{} Health Research Agency", Organisation.Type.GOVERNMENT)]
FIRST = ["Amara", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Isla", "Jonas", "Kemi", "Liam", "Maya",
         "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Viktor", "Wen", "Yara", "Zoe"]
LAST = ["Adeyemi", "Brown", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones", "Khan", "Lee",
        "Murphy", "Nguyen", "O'Neill", "Patel", "Quinn", "Rossi", "Smith", "Taylor", "Walsh", "Young"]


@transaction.atomic
def load_demo() -> list[tuple[str, str, str]]:
    """Create the demo data once; return the sign-ins (role, email, password)."""
    rng = random.Random(2026)
    with acting_as(None, via="command:load_demo"):
        if Consortium.objects.filter(name="UK ORCID Consortium (demo)").exists():
            return _sign_ins()
        uk = Consortium.objects.create(name="UK ORCID Consortium (demo)", country="GB", billing_currency="GBP",
                                       timezone="Europe/London", formed_on=dt.date(2015, 8, 1))
        au = Consortium.objects.create(name="Australian ORCID Consortium (demo)", country="AU",
                                       billing_currency="AUD", timezone="Australia/Brisbane",
                                       formed_on=dt.date(2016, 1, 1))
        serial = 0
        for consortium, cities in ((uk, [(c, "") for c in UK_CITIES]), (au, AU_CITIES)):
            orgs = []
            for i, (city, region) in enumerate(cities):
                pattern, kind = KINDS[i % len(KINDS)]
                serial += 1
                org = Organisation.objects.create(
                    consortium=consortium, legal_name=pattern.format(city), country=consortium.country,
                    city=city, region=region, type=kind, website=f"https://www.{city.lower()}-{serial}.example.org",
                    ror_id=valid_ror(serial * 131), ringgold_id=str(10000 + serial * 17),
                )
                orgs.append(org)
                status = Membership.Status.ACTIVE if i < len(cities) - 3 else Membership.Status.ONBOARDING
                Membership.objects.create(organisation=org, consortium=consortium, status=status,
                                          tier=Membership.Tier.PREMIUM if i % 4 == 0 else Membership.Tier.BASIC,
                                          size=[Membership.Size.SMALL, Membership.Size.STANDARD,
                                                Membership.Size.LARGE][i % 3],
                                          start_date=dt.date(2018 + i % 6, 1 + i % 12, 1))
                _contacts(org, rng, serial, leave_gap=(i == 5))
            consortium.lead_organisation = orgs[0]
            consortium.save()
        _users(uk, au)
        _onboarding(uk, au)
        _affiliations(uk)
    return _sign_ins()


def _onboarding(uk: Consortium, au: Consortium) -> None:
    """Plans for the members still onboarding, the new-consortium checklist for the newer consortium,
    a pending application and some training, so each area has something to show."""
    from consortium_hub.onboarding.models import Course, PlanKind
    from consortium_hub.onboarding.services.applications import application_submit, earliest_start
    from consortium_hub.onboarding.services.plans import plan_start
    from consortium_hub.onboarding.services.training import course_create

    today = dt.date.today()
    for membership in Membership.objects.filter(status=Membership.Status.ONBOARDING).select_related("consortium"):
        plan_start(user=None, consortium=membership.consortium, kind=PlanKind.MEMBER, membership=membership,
                   start_date=today - dt.timedelta(days=20))
    plan_start(user=None, consortium=au, kind=PlanKind.CONSORTIUM, start_date=today - dt.timedelta(days=45))
    application_submit(consortium=uk, user=None, legal_name="University of Inverness", country="GB",
                       city="Inverness", contact_name="Morag Fraser", contact_email="morag.fraser@inverness.example",
                       wished_start=earliest_start(), integration_plans="CRIS integration with Pure next spring.")
    admin = User.objects.get(email="admin@orcid.example")
    course_create(user=admin, consortium=None, title="ORCID API fundamentals", kind=Course.Kind.ORCID_MODULE,
                  required_for_support_staff=True)
    course_create(user=admin, consortium=None, title="Support homework: common member questions",
                  kind=Course.Kind.HOMEWORK, required_for_support_staff=True)


def _contacts(org: Organisation, rng: random.Random, serial: int, leave_gap: bool) -> None:
    roles_by_person = [
        [ContactRole.Kind.MAIN, ContactRole.Kind.AGREEMENT_SIGNATORY] + ([] if leave_gap else [ContactRole.Kind.VOTING]),
        [ContactRole.Kind.TECHNICAL, ContactRole.Kind.PRODUCT],
        [ContactRole.Kind.INVOICE],
        [ContactRole.Kind.COMMS, ContactRole.Kind.OTHER],
    ]
    domain = org.website.split("//")[1].removeprefix("www.")
    for n, roles in enumerate(roles_by_person):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        contact = Contact.objects.create(
            organisation=org, name=f"{first} {last}",
            email=f"{first.lower()}.{last.lower().replace(chr(39), '')}{n}@{domain}",
            job_title=["Research Office Manager", "Systems Librarian", "Finance Officer", "Communications Lead"][n],
            orcid_id=valid_orcid(serial * 10 + n) if n < 2 else "",
        )
        for role in roles:
            ContactRole.objects.create(contact=contact, organisation=org, role=role)


DEMO_USERS = [
    ("ORCID admin", "admin@orcid.example", Role.ORCID_ADMIN, None),
    ("ORCID engagement lead", "engagement@orcid.example", Role.ORCID_ENGAGEMENT, None),
    ("ORCID support", "support@orcid.example", Role.ORCID_SUPPORT, None),
    ("ORCID finance", "finance@orcid.example", Role.ORCID_FINANCE, None),
    ("UK lead admin", "lead-admin@uk.example", Role.LEAD_ADMIN, "uk"),
    ("UK lead support", "lead-support@uk.example", Role.LEAD_SUPPORT, "uk"),
    ("UK lead finance", "lead-finance@uk.example", Role.LEAD_FINANCE, "uk"),
    ("UK member contact", "member@uk.example", Role.MEMBER_CONTACT, "uk-member"),
    ("AU lead admin", "lead-admin@au.example", Role.LEAD_ADMIN, "au"),
]


def _users(uk: Consortium, au: Consortium) -> None:
    member_org = uk.organisations.order_by("legal_name").first()
    for label, email, role, where in DEMO_USERS:
        user = User.objects.create_user(email, DEMO_PASSWORD, name=label)
        scope = {"uk": {"consortium": uk}, "au": {"consortium": au},
                 "uk-member": {"consortium": uk, "organisation": member_org}}.get(where or "", {})
        RoleAssignment.objects.create(user=user, role=role, **scope)
        sync_admin_site_access(user)
        if role == Role.ORCID_ENGAGEMENT:
            uk.engagement_lead = user
            uk.save()
            au.engagement_lead = user
            au.save()
        if role in MFA_REQUIRED_ROLES:
            TOTP.activate(user, DEMO_TOTP_SECRET)


def _affiliations(uk: Consortium) -> None:
    """Rows waiting for the emulator's demo researchers to grant access, so the whole flow can be tried."""
    from orcid_emulator.state import DEMO_RECORDS

    from consortium_hub.registry.services.affiliations import affiliation_create

    member = User.objects.get(email=next(email for _l, email, role, _w in DEMO_USERS if role == Role.MEMBER_CONTACT))
    org = uk.organisations.order_by("legal_name").first()
    roles = [("employment", "School of Chemistry", "Lecturer", "2019-09"),
             ("education", "Graduate School", "PhD", "2012-10"),
             ("employment", "Library", "Research data manager", "2021-01")]
    for record, (section, department, role_title, start) in zip(DEMO_RECORDS, roles):
        affiliation_create(user=member, organisation=org, data={
            "email": record["email"], "section": section, "department_name": department, "role_title": role_title,
            "start_date": start, "org_name": org.legal_name, "org_country": org.country, "org_city": org.city,
            "disambiguated_organization_identifier": org.ror_id, "disambiguation_source": "ROR",
        })


def demo_permission_links() -> list[tuple[str, str]]:
    """(email, link) of the demo's unused permission links, for the demo's start-up message."""
    from django.utils import timezone

    from consortium_hub.registry.models import PermissionLink
    from consortium_hub.registry.services.permissions import link_url

    links = PermissionLink.objects.filter(used_at__isnull=True, expires_at__gt=timezone.now(),
                                          organisation__consortium__name="UK ORCID Consortium (demo)")
    return [(link.email, link_url(link)) for link in links.order_by("email")]


def _sign_ins() -> list[tuple[str, str, str]]:
    return [(label, email, DEMO_PASSWORD) for label, email, _role, _where in DEMO_USERS]
