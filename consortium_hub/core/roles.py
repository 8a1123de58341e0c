"""The roles a user can hold and what each may do, in one table.

A role is held in a scope: ORCID-wide, one consortium, or one organisation. What a role may do is
granted per *area* (a model declares its area); the scope decides which rows it applies to.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
ALL_ACTIONS = frozenset({VIEW, ADD, CHANGE, DELETE})


class Role(models.TextChoices):
    ORCID_ADMIN = "orcid_admin", _("ORCID admin")
    ORCID_ENGAGEMENT = "orcid_engagement", _("ORCID engagement lead")
    ORCID_SUPPORT = "orcid_support", _("ORCID support")
    ORCID_FINANCE = "orcid_finance", _("ORCID finance")
    LEAD_ADMIN = "lead_admin", _("Consortium lead admin")
    LEAD_SUPPORT = "lead_support", _("Consortium lead support")
    LEAD_FINANCE = "lead_finance", _("Consortium lead finance")
    MEMBER_CONTACT = "member_contact", _("Member organisation contact")


class Scope(models.TextChoices):
    ORCID = "orcid", _("ORCID-wide")
    CONSORTIUM = "consortium", _("One consortium")
    ORGANISATION = "organisation", _("One organisation")


ROLE_SCOPE: dict[str, str] = {
    Role.ORCID_ADMIN: Scope.ORCID,
    Role.ORCID_ENGAGEMENT: Scope.ORCID,
    Role.ORCID_SUPPORT: Scope.ORCID,
    Role.ORCID_FINANCE: Scope.ORCID,
    Role.LEAD_ADMIN: Scope.CONSORTIUM,
    Role.LEAD_SUPPORT: Scope.CONSORTIUM,
    Role.LEAD_FINANCE: Scope.CONSORTIUM,
    Role.MEMBER_CONTACT: Scope.ORGANISATION,
}

ORCID_ROLES = frozenset(r for r, s in ROLE_SCOPE.items() if s == Scope.ORCID)
# Roles that must sign in with a second factor: they can change or oversee whole consortia.
MFA_REQUIRED_ROLES = ORCID_ROLES | {Role.LEAD_ADMIN}

READ = frozenset({VIEW})
WRITE = ALL_ACTIONS

# Areas:
#   directory  consortia, organisations, memberships
#   contacts   contacts and their roles (members keep their own up to date)
#   people     users, role assignments and invitations
#   feed       ORCID's change feed (acknowledging changes)
#   audit      the change log across objects
#   jobs       background job runs
#   consortia  creating consortia (ORCID admins only)
#   onboarding applications, onboarding plans and their tasks
#   onboarding_templates  plan templates
#   training   courses and training records
#   calendars  business calendars (opening hours, holidays, closures)
#   agreements lead and member agreements, renewal decisions
#   billing    fee schedules, billing cycles, the lead's invoices to members, payments
#   support    tickets, messages, SLA policies, saved answers (members: their own organisation's tickets)
#   support_notes  internal notes on tickets (lead staff)
#   orcid_support  escalated tickets as ORCID works them (Tier 2/3 queue)
#   problems   ORCID's problem records (leads: those their tickets link to)
#   communiques ORCID's communiqués and the leads' responses
#   orcid_billing  ORCID's invoices to the lead (licence fees): ORCID finance and lead finance only
#   affiliations  the affiliation manager: rows, uploads, permission links, researchers' grants
#   registry_settings  a consortium's ORCID member API credentials
#   registry_calls  the log of calls to ORCID's API
#   adoption   adoption figures: ORCID records affiliated with each member
VIEW_CHANGE = frozenset({VIEW, CHANGE})
VIEW_ADD = frozenset({VIEW, ADD})

GRANTS: dict[str, dict[str, frozenset[str]]] = {
    Role.ORCID_ADMIN: {"*": WRITE},
    Role.ORCID_ENGAGEMENT: {
        "directory": READ, "contacts": READ, "feed": WRITE, "people": READ, "onboarding": VIEW_CHANGE,
        "onboarding_templates": READ, "training": WRITE, "calendars": READ, "agreements": READ,
        "support": READ, "problems": READ, "communiques": WRITE, "affiliations": READ, "registry_calls": READ,
        "adoption": READ,
    },
    Role.ORCID_SUPPORT: {
        "directory": READ, "contacts": READ, "onboarding": READ, "training": READ, "calendars": READ,
        "orcid_support": WRITE, "problems": WRITE, "communiques": READ, "affiliations": READ,
        "registry_calls": READ, "adoption": READ,
    },
    Role.ORCID_FINANCE: {
        "directory": READ, "contacts": READ, "onboarding": READ, "calendars": READ, "agreements": READ,
        "billing": READ, "orcid_billing": WRITE,
    },
    Role.LEAD_ADMIN: {
        "directory": WRITE, "contacts": WRITE, "people": WRITE, "onboarding": WRITE, "onboarding_templates": WRITE,
        "training": WRITE, "calendars": WRITE, "agreements": WRITE, "billing": WRITE,
        "support": WRITE, "support_notes": WRITE, "problems": READ, "communiques": VIEW_CHANGE,
        "affiliations": WRITE, "registry_settings": WRITE, "registry_calls": READ, "adoption": READ,
    },
    Role.LEAD_SUPPORT: {
        "directory": READ, "contacts": READ, "onboarding": VIEW_CHANGE, "onboarding_templates": READ,
        "training": READ, "calendars": READ,
        "support": WRITE, "support_notes": WRITE, "problems": READ, "communiques": VIEW_CHANGE,
        "affiliations": WRITE, "registry_calls": READ, "adoption": READ,
    },
    Role.LEAD_FINANCE: {
        "directory": READ, "contacts": READ, "onboarding": READ, "calendars": READ, "agreements": READ,
        "billing": WRITE, "orcid_billing": READ,
    },
    # Members complete their own onboarding tasks (services check the task's owner party) and raise
    # tickets for their organisation.
    Role.MEMBER_CONTACT: {
        "directory": READ, "contacts": WRITE, "onboarding": VIEW_CHANGE, "calendars": READ, "agreements": READ,
        "billing": READ, "support": VIEW_ADD, "affiliations": WRITE, "adoption": READ,
    },
}


def role_grants(role: str, area: str, action: str) -> bool:
    grants = GRANTS.get(role, {})
    return action in grants.get(area, grants.get("*", frozenset()))
