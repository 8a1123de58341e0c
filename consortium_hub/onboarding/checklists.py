"""ORCID's ready-made plan templates, as data.

`services.plans.ensure_orcid_templates()` creates them once (consortium = None: shared with every
consortium, each the default for its kind unless a default already exists). Editing them afterwards
is done in the app by ORCID admins; this file is only the starting point.

Each task is a `TaskSpec`; `depends_on` names earlier tasks of the same template by their `key`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_noop as _

from consortium_hub.onboarding.models import DueUnit, EvidenceKind, Party, PlanKind

CAL, BIZ = DueUnit.CALENDAR_DAYS, DueUnit.BUSINESS_DAYS
LEAD, MEMBER, ORCID = Party.LEAD, Party.MEMBER, Party.ORCID

# ORCID's consortium guidance: fees are due within 60 days of signing, and the set-up work (staff,
# training, first contact with members, member details) within three months.
FEES_DUE_DAYS = 60
SETUP_DUE_DAYS = 90


@dataclass(frozen=True)
class TaskSpec:
    key: str
    title: str
    owner_party: str
    due_offset: int
    due_unit: str = CAL
    evidence: str = EvidenceKind.NONE
    description: str = ""
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class TemplateSpec:
    kind: str
    name: str
    description: str
    tasks: tuple[TaskSpec, ...] = field(default_factory=tuple)


CONSORTIUM_CHECKLIST = TemplateSpec(
    kind=PlanKind.CONSORTIUM,
    name=_("New consortium checklist (ORCID)"),
    description=_("ORCID's onboarding checklist for a new consortium. The plan starts on the date the consortium "
                  "agreement is signed: the criteria before signing are due on that date, the rest follow it."),
    tasks=(
        # Before signing: due at the start.
        TaskSpec("named", _("Lead organisation and main contact named"), LEAD, 0,
                 description=_("The consortium lead organisation and its main contact for ORCID are named.")),
        TaskSpec("funding", _("Funding and cost-recovery model agreed"), LEAD, 0, evidence=EvidenceKind.NOTE,
                 description=_("How the consortium is funded and how it recovers its costs from members.")),
        TaskSpec("policy", _("Consortium policy written: goals, membership criteria, governance, progress "
                             "monitoring"), LEAD, 0, evidence=EvidenceKind.FILE),
        TaskSpec("call", _("Call for participation issued"), LEAD, 0, evidence=EvidenceKind.LINK),
        TaskSpec("model", _("Implementation model chosen: central, distributed or mixed"), LEAD, 0,
                 evidence=EvidenceKind.NOTE),
        TaskSpec("staffing", _("Staffing plan agreed"), LEAD, 0, evidence=EvidenceKind.NOTE),
        TaskSpec("web_page", _("Public web page published, with the consortium's support contact"), LEAD, 0,
                 evidence=EvidenceKind.LINK),
        # ORCID's side.
        TaskSpec("orcid_contact", _("ORCID point of contact named for the consortium"), ORCID, 0,
                 description=_("ORCID names the engagement lead who is the consortium's point of contact.")),
        TaskSpec("orcid_training", _("ORCID trains the consortium lead"), ORCID, SETUP_DUE_DAYS,
                 description=_("Training of the lead's staff within 90 days of formation."),
                 depends_on=("orcid_contact",)),
        # After signing.
        TaskSpec("fees", _("Consortium fees paid to ORCID"), LEAD, FEES_DUE_DAYS, evidence=EvidenceKind.NOTE,
                 description=_("Within 60 days of signing the agreement.")),
        TaskSpec("staff_hired", _("Community support staff hired and onboarded"), LEAD, SETUP_DUE_DAYS,
                 depends_on=("staffing",)),
        TaskSpec("lead_trained", _("Lead staff attended ORCID training"), LEAD, SETUP_DUE_DAYS,
                 depends_on=("orcid_training",)),
        TaskSpec("support_trained", _("Support staff completed ORCID training and homework"), LEAD, SETUP_DUE_DAYS,
                 depends_on=("staff_hired",)),
        TaskSpec("member_details", _("Member organisation details entered in the hub"), LEAD, SETUP_DUE_DAYS),
        TaskSpec("first_contact", _("First contact made with every member: how to reach support and each other"),
                 LEAD, SETUP_DUE_DAYS, evidence=EvidenceKind.NOTE, depends_on=("member_details",)),
    ),
)

MEMBER_PLAN = TemplateSpec(
    kind=PlanKind.MEMBER,
    name=_("New member onboarding (ORCID)"),
    description=_("A short default plan for a new member organisation, counted in the consortium's business days "
                  "from the plan's start."),
    tasks=(
        TaskSpec("welcome", _("Welcome call held"), LEAD, 5, BIZ, EvidenceKind.NOTE),
        TaskSpec("technical", _("Technical contact confirmed"), MEMBER, 10, BIZ, depends_on=("welcome",)),
        TaskSpec("integration", _("Integration plan recorded"), MEMBER, 20, BIZ, EvidenceKind.NOTE,
                 depends_on=("welcome",)),
        TaskSpec("credentials", _("Member API credentials requested"), MEMBER, 25, BIZ,
                 depends_on=("technical", "integration")),
        TaskSpec("affiliation", _("First affiliation written to an ORCID record"), MEMBER, 40, BIZ,
                 EvidenceKind.LINK, depends_on=("credentials",)),
        TaskSpec("member_page", _("Member page published on the consortium's website"), LEAD, 45, BIZ,
                 EvidenceKind.LINK, depends_on=("welcome",)),
    ),
)

SUPPORT_STAFF_PLAN = TemplateSpec(
    kind=PlanKind.SUPPORT_STAFF,
    name=_("New support staff onboarding (ORCID)"),
    description=_("For a new member of the consortium's support staff, in business days from their start."),
    tasks=(
        TaskSpec("modules", _("ORCID training modules completed"), LEAD, 10, BIZ),
        TaskSpec("homework", _("ORCID homework submitted"), LEAD, 15, BIZ, EvidenceKind.FILE,
                 depends_on=("modules",)),
        TaskSpec("shadowing", _("Shadowed experienced staff on member support calls"), LEAD, 20, BIZ,
                 depends_on=("modules",)),
        TaskSpec("first_tickets", _("First support tickets handled, reviewed by a colleague"), LEAD, 30, BIZ,
                 EvidenceKind.NOTE, depends_on=("homework", "shadowing")),
    ),
)

ORCID_TEMPLATES: tuple[TemplateSpec, ...] = (CONSORTIUM_CHECKLIST, MEMBER_PLAN, SUPPORT_STAFF_PLAN)
