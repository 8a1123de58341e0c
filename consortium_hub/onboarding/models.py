"""Onboarding: membership applications, onboarding plans (from templates), and training records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consortium_hub.core.models import DomainModel
from consortium_hub.directory import identifiers
from consortium_hub.directory.models import Membership, Organisation


class Party(models.TextChoices):
    LEAD = "lead", _("Consortium lead")
    MEMBER = "member", _("Member organisation")
    ORCID = "orcid", _("ORCID")


# --- Membership applications -------------------------------------------------------------------

class Application(DomainModel):
    """An organisation's application to join a consortium, public or entered by lead staff."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    access_area = "onboarding"
    consortium_path = "consortium"
    organisation_path = "organisation"

    consortium = models.ForeignKey("directory.Consortium", on_delete=models.PROTECT, related_name="applications")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    # The organisation as the applicant describes it.
    legal_name = models.CharField(_("legal name"), max_length=255)
    public_name = models.CharField(_("public name"), max_length=255, blank=True)
    type = models.CharField(_("type"), max_length=20, choices=Organisation.Type.choices,
                            default=Organisation.Type.RESEARCH)
    country = models.CharField(_("country"), max_length=2, validators=[identifiers.validate_country])
    region = models.CharField(_("region"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100)
    website = models.URLField(_("website"), blank=True)
    ror_id = models.CharField(_("ROR ID"), max_length=40, blank=True, validators=[identifiers.validate_ror])
    ringgold_id = models.CharField(_("Ringgold ID"), max_length=20, blank=True,
                                   validators=[identifiers.validate_ringgold])
    grid_id = models.CharField(_("GRID ID"), max_length=40, blank=True, validators=[identifiers.validate_grid])
    isni = models.CharField(_("ISNI"), max_length=19, blank=True, validators=[identifiers.validate_isni])
    crossref_funder_id = models.CharField(_("Crossref Funder ID"), max_length=60, blank=True,
                                          validators=[identifiers.validate_funder_id])
    # The applicant is the main relationship contact, and the voting contact unless one is named.
    contact_name = models.CharField(_("your name"), max_length=200)
    contact_email = models.EmailField(_("your email"))
    contact_phone = models.CharField(_("your phone"), max_length=40, blank=True)
    contact_job_title = models.CharField(_("your job title"), max_length=200, blank=True)
    voting_contact_name = models.CharField(_("voting contact's name"), max_length=200, blank=True)
    voting_contact_email = models.EmailField(_("voting contact's email"), blank=True)
    tier = models.CharField(_("tier"), max_length=10, choices=Membership.Tier.choices, default=Membership.Tier.BASIC)
    size = models.CharField(_("size"), max_length=10, choices=Membership.Size.choices,
                            default=Membership.Size.STANDARD)
    wished_start = models.DateField(_("wished start month"), help_text=_("Memberships start on the 1st of a month."))
    integration_plans = models.TextField(_("integration plans"), blank=True)
    attachment = models.FileField(_("supporting document (PDF)"), upload_to="applications/%Y/", blank=True)
    # Review.
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("reason or requested changes"), blank=True)
    # A hashed secret lets an anonymous applicant reopen the application when changes are requested.
    edit_token_hash = models.CharField(max_length=64, blank=True)
    # Set on approval.
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="applications")
    membership = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="applications")
    audit_exclude = ("edit_token_hash",)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.legal_name} → {self.consortium}"


# --- Onboarding plans --------------------------------------------------------------------------

class PlanKind(models.TextChoices):
    MEMBER = "member", _("New member")
    CONSORTIUM = "consortium", _("New consortium")
    SUPPORT_STAFF = "support_staff", _("New support staff")


class PlanTemplate(DomainModel):
    """A reusable plan. consortium = None: ORCID's templates (e.g. the new-consortium checklist)."""

    access_area = "onboarding_templates"
    consortium_path = "consortium"
    shared_when_unscoped = True

    consortium = models.ForeignKey("directory.Consortium", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="plan_templates")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("for"), max_length=20, choices=PlanKind.choices)
    description = models.TextField(_("description"), blank=True)
    is_default = models.BooleanField(_("used by default for this kind"), default=False)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["consortium", "kind"], condition=Q(is_default=True),
                                    name="one_default_template_per_kind"),
            # NULL consortia never collide above, so ORCID's own defaults need their own constraint.
            models.UniqueConstraint(fields=["kind"], condition=Q(is_default=True, consortium__isnull=True),
                                    name="one_orcid_default_template_per_kind"),
        ]

    def __str__(self) -> str:
        return self.name


class DueUnit(models.TextChoices):
    BUSINESS_DAYS = "business_days", _("business days")
    CALENDAR_DAYS = "calendar_days", _("calendar days")


class EvidenceKind(models.TextChoices):
    NONE = "none", _("none")
    NOTE = "note", _("a note")
    FILE = "file", _("a file")
    LINK = "link", _("a link")


class TaskTemplate(DomainModel):
    access_area = "onboarding_templates"
    consortium_path = "template__consortium"
    shared_when_unscoped = True
    audit_parent = "template"

    template = models.ForeignKey(PlanTemplate, on_delete=models.CASCADE, related_name="tasks")
    position = models.PositiveIntegerField(_("order"), default=0)
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    owner_party = models.CharField(_("owner"), max_length=10, choices=Party.choices, default=Party.LEAD)
    due_offset = models.IntegerField(_("due after"), default=0,
                                     help_text=_("From the plan's start; negative means before it."))
    due_unit = models.CharField(_("counted in"), max_length=20, choices=DueUnit.choices,
                                default=DueUnit.BUSINESS_DAYS)
    evidence = models.CharField(_("evidence required"), max_length=10, choices=EvidenceKind.choices,
                                default=EvidenceKind.NONE)
    depends_on = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="blocks",
                                        verbose_name=_("depends on"))

    class Meta:
        ordering = ["template", "position", "pk"]

    def __str__(self) -> str:
        return self.title


class Plan(DomainModel):
    """A template instantiated for one member, one new consortium, or one new support-staff member."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        COMPLETE = "complete", _("Complete")
        CANCELLED = "cancelled", _("Cancelled")

    access_area = "onboarding"
    consortium_path = "consortium"
    organisation_path = "membership__organisation"

    consortium = models.ForeignKey("directory.Consortium", on_delete=models.CASCADE, related_name="plans")
    template = models.ForeignKey(PlanTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="plans")
    kind = models.CharField(_("for"), max_length=20, choices=PlanKind.choices)
    title = models.CharField(_("title"), max_length=255)
    membership = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="plans")
    staff_member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="onboarding_plans")
    start_date = models.DateField(_("start"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-start_date", "pk"]
        constraints = [
            # A member has at most one open onboarding plan.
            models.UniqueConstraint(fields=["membership"], condition=Q(status="open", membership__isnull=False),
                                    name="one_open_plan_per_membership"),
        ]

    def __str__(self) -> str:
        return self.title


class Task(DomainModel):
    class Status(models.TextChoices):
        PENDING = "todo", _("To do")
        DONE = "done", _("Done")

    access_area = "onboarding"
    consortium_path = "plan__consortium"
    organisation_path = "plan__membership__organisation"
    audit_parent = "plan"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    template_task = models.ForeignKey(TaskTemplate, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    owner_party = models.CharField(_("owner"), max_length=10, choices=Party.choices)
    due_date = models.DateField(_("due"))
    evidence = models.CharField(_("evidence required"), max_length=10, choices=EvidenceKind.choices,
                                default=EvidenceKind.NONE)
    depends_on = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="blocks")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    evidence_note = models.TextField(_("note"), blank=True)
    evidence_file = models.FileField(_("file"), upload_to="onboarding/%Y/", blank=True)
    evidence_link = models.URLField(_("link"), blank=True)

    class Meta:
        ordering = ["plan", "position", "due_date", "pk"]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return self.title


# --- Training records --------------------------------------------------------------------------

class Course(DomainModel):
    """A training module. consortium = None: ORCID's own modules, visible to every lead."""

    class Kind(models.TextChoices):
        ORCID_MODULE = "orcid_module", _("ORCID training module")
        HOMEWORK = "homework", _("ORCID homework")
        INTERNAL = "internal", _("Internal course")

    access_area = "training"
    consortium_path = "consortium"
    shared_when_unscoped = True

    consortium = models.ForeignKey("directory.Consortium", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="courses")
    title = models.CharField(_("title"), max_length=255)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    description = models.TextField(_("description"), blank=True)
    url = models.URLField(_("link"), blank=True)
    required_for_support_staff = models.BooleanField(_("required for lead support staff"), default=False)

    class Meta:
        ordering = ["kind", "title"]

    def __str__(self) -> str:
        return self.title


class TrainingRecord(DomainModel):
    """Who completed which course, when."""

    access_area = "training"
    consortium_path = "consortium"

    consortium = models.ForeignKey("directory.Consortium", on_delete=models.CASCADE, related_name="training_records")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="records")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_records")
    completed_on = models.DateField(_("completed on"))
    note = models.CharField(_("note"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["-completed_on", "pk"]
        constraints = [models.UniqueConstraint(fields=["course", "person", "completed_on"],
                                               name="one_record_per_completion")]

    def __str__(self) -> str:
        return f"{self.person}: {self.course} ({self.completed_on})"
