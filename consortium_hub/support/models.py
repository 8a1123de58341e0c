"""The support desk: tickets (Tier 1 at the lead, Tier 2/3 escalated to ORCID), SLAs in business
time, ORCID's problem management, and saved answers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consortium_hub.core.access import any_of
from consortium_hub.core.models import DomainModel


class Ticket(DomainModel):
    class Category(models.TextChoices):
        MEMBERSHIP = "membership", _("Membership")
        TECHNICAL = "technical", _("Technical / API")
        OUTREACH = "outreach", _("Outreach")
        BILLING = "billing", _("Billing")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        WAITING_ON_MEMBER = "waiting_on_member", _("Waiting on member")
        WITH_ORCID = "with_orcid", _("With ORCID")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Tier(models.IntegerChoices):
        TIER_1 = 1, _("Tier 1 (consortium)")
        TIER_2 = 2, _("Tier 2 (ORCID)")
        TIER_3 = 3, _("Tier 3 (ORCID)")

    class OrcidStatus(models.TextChoices):
        NEW = "new", _("New at ORCID")
        INVESTIGATING = "investigating", _("Investigating")
        WAITING_ON_LEAD = "waiting_on_lead", _("Waiting on the lead")
        RESOLVED = "resolved", _("Resolved by ORCID")
        HANDED_BACK = "handed_back", _("Handed back to the lead")

    access_area = "support"
    consortium_path = "consortium"
    organisation_path = "organisation"

    consortium = models.ForeignKey("directory.Consortium", on_delete=models.PROTECT, related_name="tickets")
    organisation = models.ForeignKey("directory.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="tickets")
    reference = models.CharField(_("reference"), max_length=30, unique=True)
    subject = models.CharField(_("subject"), max_length=255)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices, default=Category.TECHNICAL)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    requester_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="requested_tickets")
    requester_email = models.EmailField(_("requester email"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_tickets", verbose_name=_("assigned to"))
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged")
    # Escalation to ORCID (Tier 2/3).
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices, default=Tier.TIER_1)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    escalation_summary = models.TextField(_("escalation summary"), blank=True)
    orcid_status = models.CharField(_("status at ORCID"), max_length=20, choices=OrcidStatus.choices, blank=True)
    orcid_assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="orcid_tickets")
    # SLA: deadlines and achieved figures are stored, and recalculated when the calendar or policy changes.
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    first_response_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    sla_warning_sent = models.BooleanField(default=False)
    sla_breached = models.BooleanField(default=False)
    # ORCID's own SLA on escalated tickets, on ORCID's calendar.
    orcid_first_response_due = models.DateTimeField(null=True, blank=True)
    orcid_resolution_due = models.DateTimeField(null=True, blank=True)
    orcid_first_responded_at = models.DateTimeField(null=True, blank=True)
    orcid_resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["consortium", "status", "resolution_due"]),
            models.Index(fields=["status", "resolution_due"]),
            models.Index(fields=["tier", "orcid_status"]),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @classmethod
    def access_q(cls, scope: Any, action: str) -> Q:
        """Lead staff and the member see their tickets; ORCID support sees what was escalated to it."""
        return any_of((Q(), scope.q_for_area(cls, action, "support")),
                      (Q(tier__gt=1), scope.q_for_area(cls, action, "orcid_support")))


class TicketMessage(DomainModel):
    """A public reply (the member sees it), an internal note (lead staff only), or a note shared with ORCID."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public reply")
        INTERNAL = "internal", _("Internal note (lead staff)")
        SHARED_WITH_ORCID = "shared", _("Note shared with ORCID")
        ORCID = "orcid", _("ORCID ↔ lead message")

    access_area = "support"
    consortium_path = "ticket__consortium"
    organisation_path = "ticket__organisation"
    audit_parent = "ticket"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility.choices,
                                  default=Visibility.PUBLIC)
    author_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    author_email = models.EmailField(_("from"), blank=True)
    body = models.TextField(_("message"))
    via = models.CharField(_("via"), max_length=10, default="web")  # web, email, api
    email_message_id = models.CharField(max_length=255, blank=True, db_index=True)

    class Meta:
        ordering = ["ticket", "created_at", "pk"]

    @classmethod
    def access_q(cls, scope: Any, action: str) -> Q:
        """Public replies go with the ticket; internal notes stay with lead staff; notes shared with
        ORCID (and ORCID's own messages) reach ORCID support once the ticket is escalated."""
        escalated = Q(ticket__tier__gt=1)
        orcid = scope.q_for_area(cls, action, "orcid_support")
        notes = scope.q_for_area(cls, action, "support_notes")
        public = Q(visibility=cls.Visibility.PUBLIC)
        shared = Q(visibility__in=[cls.Visibility.SHARED_WITH_ORCID, cls.Visibility.ORCID])
        return any_of((public, scope.q_for_area(cls, action, "support")), (public & escalated, orcid),
                      (Q(visibility=cls.Visibility.INTERNAL), notes), (shared, notes), (shared & escalated, orcid))


class TicketAttachment(DomainModel):
    access_area = "support"
    consortium_path = "message__ticket__consortium"
    organisation_path = "message__ticket__organisation"
    audit_parent = "message"

    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="support/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()


class TicketCC(DomainModel):
    access_area = "support"
    consortium_path = "ticket__consortium"
    organisation_path = "ticket__organisation"
    audit_parent = "ticket"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="ccs")
    email = models.EmailField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "email"], name="ticket_cc_unique")]


class TicketStatusChange(DomainModel):
    """Every status change, so paused time (waiting on member) can be measured on the calendar."""

    access_area = "support"
    consortium_path = "ticket__consortium"
    organisation_path = "ticket__organisation"
    audit_parent = "ticket"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=Ticket.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Ticket.Status.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")

    class Meta:
        ordering = ["ticket", "at", "pk"]


class SLAPolicy(DomainModel):
    """Targets per consortium and priority in business hours. consortium None: ORCID's Tier 2/3 targets."""

    access_area = "support"
    consortium_path = "consortium"
    shared_when_unscoped = True

    consortium = models.ForeignKey("directory.Consortium", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="sla_policies")
    priority = models.CharField(_("priority"), max_length=8, choices=Ticket.Priority.choices)
    first_response_hours = models.DecimalField(_("first response (business hours)"), max_digits=6,
                                               decimal_places=2)
    resolution_hours = models.DecimalField(_("resolution (business hours)"), max_digits=7, decimal_places=2)

    class Meta:
        ordering = ["consortium", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["consortium", "priority"], name="one_sla_per_priority"),
            models.UniqueConstraint(fields=["priority"], condition=Q(consortium__isnull=True),
                                    name="one_orcid_sla_per_priority"),
        ]


class Problem(DomainModel):
    """ORCID's problem record: incidents from any consortium linked to one root cause."""

    class State(models.TextChoices):
        NEW = "new", _("New")
        INVESTIGATING = "investigating", _("Investigating")
        ROOT_CAUSE_KNOWN = "root_cause_known", _("Root cause known")
        KNOWN_ERROR = "known_error", _("Known error")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    access_area = "problems"
    # Leads see the problems their tickets link to.
    consortium_path = "tickets__consortium"

    reference = models.CharField(_("reference"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=255)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.NEW)
    description = models.TextField(_("description"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    workaround = models.TextField(_("workaround"), blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    tickets = models.ManyToManyField(Ticket, blank=True, related_name="problems")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class SavedAnswer(DomainModel):
    """A reusable reply, or a known-error article; consortium None: ORCID's, for every lead."""

    access_area = "support"
    consortium_path = "consortium"
    shared_when_unscoped = True

    consortium = models.ForeignKey("directory.Consortium", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="saved_answers")
    title = models.CharField(_("title"), max_length=255)
    body = models.TextField(_("text"))
    problem = models.ForeignKey(Problem, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="articles", help_text=_("For a known-error article."))

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
