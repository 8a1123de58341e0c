"""The fixed test cast every access test uses: who they are and what they may reach."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from consortium_hub.accounts.services import sync_admin_site_access
from consortium_hub.core.roles import MFA_REQUIRED_ROLES, Role
from consortium_hub.core.testing import factories as f
from consortium_hub.directory.models import ContactRole

CAST_NAMES = ("orcid_admin", "engagement_lead", "orcid_support", "lead_admin_a", "lead_support_a",
              "member_contact_a", "lead_admin_b", "anonymous")


@dataclass
class Cast:
    consortium_a: Any
    consortium_b: Any
    org_a: Any
    org_a2: Any
    org_b: Any
    membership_a: Any
    membership_b: Any
    contact_a: Any
    contact_a2: Any
    contact_b: Any
    users: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.users[name]


def build_cast() -> Cast:
    a = f.ConsortiumFactory(name="Consortium A", country="GB", billing_currency="GBP", timezone="Europe/London")
    b = f.ConsortiumFactory(name="Consortium B", country="AU", billing_currency="AUD", timezone="Australia/Brisbane")
    org_a = f.OrganisationFactory(consortium=a, legal_name="Alpha University")
    org_a2 = f.OrganisationFactory(consortium=a, legal_name="Alpha Institute")
    org_b = f.OrganisationFactory(consortium=b, legal_name="Beta University", country="AU")
    membership_a = f.MembershipFactory(organisation=org_a)
    f.MembershipFactory(organisation=org_a2)
    membership_b = f.MembershipFactory(organisation=org_b)
    contact_a = f.ContactFactory(organisation=org_a, name="Ann Alpha", email="ann@alpha.example")
    contact_a2 = f.ContactFactory(organisation=org_a2, name="Ian Institute", email="ian@inst.example")
    contact_b = f.ContactFactory(organisation=org_b, name="Bea Beta", email="bea@beta.example")
    for contact in (contact_a, contact_a2, contact_b):
        f.ContactRoleFactory(contact=contact, role=ContactRole.Kind.MAIN)
        f.ContactRoleFactory(contact=contact, role=ContactRole.Kind.VOTING)

    users: dict[str, Any] = {"anonymous": None}

    def user(name: str, role: str, **scope: Any) -> Any:
        u = f.UserFactory(email=f"{name}@cast.example", name=name.replace("_", " ").title())
        f.RoleAssignmentFactory(user=u, role=role, **scope)
        if role in MFA_REQUIRED_ROLES:
            TOTP.activate(u, generate_totp_secret())
        users[name] = u
        return u

    admin = user("orcid_admin", Role.ORCID_ADMIN)
    sync_admin_site_access(admin)
    engagement = user("engagement_lead", Role.ORCID_ENGAGEMENT)
    a.engagement_lead = engagement
    a.save()
    user("orcid_support", Role.ORCID_SUPPORT)
    user("lead_admin_a", Role.LEAD_ADMIN, consortium=a)
    user("lead_support_a", Role.LEAD_SUPPORT, consortium=a)
    user("member_contact_a", Role.MEMBER_CONTACT, consortium=a, organisation=org_a)
    user("lead_admin_b", Role.LEAD_ADMIN, consortium=b)
    return Cast(a, b, org_a, org_a2, org_b, membership_a, membership_b, contact_a, contact_a2, contact_b, users)
