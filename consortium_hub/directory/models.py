from __future__ import annotations

import calendar
import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from django_countries.fields import CountryField

from consortium_hub.core.models import DomainModel
from consortium_hub.directory import identifiers


class Consortium(DomainModel):
    class Status(models.TextChoices):
        FORMING = "forming", _("Forming")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    consortium_path = "pk"
    shared_with_members = True

    name = models.CharField(_("name"), max_length=200, unique=True)
    country = CountryField(_("country"))
    lead_organisation = models.ForeignKey(
        "directory.Organisation", verbose_name=_("lead organisation"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    billing_currency = models.CharField(_("billing currency"), max_length=3,
                                        validators=[identifiers.validate_currency])
    timezone = models.CharField(_("timezone"), max_length=64, validators=[identifiers.validate_timezone])
    engagement_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("ORCID engagement lead"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="engaged_consortia",
    )
    formed_on = models.DateField(_("formed on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        ordering = ["name"]
        verbose_name = _("consortium")
        verbose_name_plural = _("consortia")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("directory:consortium_detail", args=[self.pk])


class Organisation(DomainModel):
    class Type(models.TextChoices):
        RESEARCH = "research", _("Research institution")
        FUNDER = "funder", _("Funder")
        PUBLISHER = "publisher", _("Publisher")
        GOVERNMENT = "government", _("Government")
        OTHER = "other", _("Other")

    organisation_path = "pk"

    consortium = models.ForeignKey(Consortium, verbose_name=_("consortium"), on_delete=models.PROTECT,
                                   related_name="organisations")
    legal_name = models.CharField(_("legal name"), max_length=255)
    public_name = models.CharField(_("public name"), max_length=255, blank=True)
    country = CountryField(_("country"))
    region = models.CharField(_("region"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    website = models.URLField(_("website"), blank=True)
    type = models.CharField(_("type"), max_length=20, choices=Type.choices, default=Type.RESEARCH)
    ror_id = models.CharField(_("ROR ID"), max_length=40, blank=True, validators=[identifiers.validate_ror])
    ringgold_id = models.CharField(_("Ringgold ID"), max_length=20, blank=True,
                                   validators=[identifiers.validate_ringgold])
    grid_id = models.CharField(_("GRID ID"), max_length=40, blank=True, validators=[identifiers.validate_grid])
    isni = models.CharField(_("ISNI"), max_length=19, blank=True, validators=[identifiers.validate_isni])
    crossref_funder_id = models.CharField(_("Crossref Funder ID"), max_length=60, blank=True,
                                          validators=[identifiers.validate_funder_id])

    class Meta:
        ordering = ["legal_name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(fields=["ror_id"], condition=~Q(ror_id=""), name="organisation_ror_unique"),
            models.UniqueConstraint(fields=["consortium", "legal_name"], name="organisation_name_unique"),
        ]
        indexes = [models.Index(fields=["consortium", "legal_name"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.public_name or self.legal_name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("directory:organisation_detail", args=[self.pk])

    def save(self, *args, **kwargs) -> None:
        # Identifiers are kept in one canonical form so search and duplicate checks are exact.
        self.ror_id = identifiers.normalise_ror(self.ror_id)
        self.grid_id = identifiers.normalise_grid(self.grid_id)
        self.isni = identifiers.normalise_isni(self.isni)
        self.ringgold_id = self.ringgold_id.strip()
        self.crossref_funder_id = identifiers.normalise_funder_id(self.crossref_funder_id)
        super().save(*args, **kwargs)


class Membership(DomainModel):
    class Tier(models.TextChoices):
        BASIC = "basic", _("Basic")
        PREMIUM = "premium", _("Premium")

    class Size(models.TextChoices):
        SMALL = "small", _("Small")
        STANDARD = "standard", _("Standard")
        LARGE = "large", _("Large")

    class Status(models.TextChoices):
        APPLICANT = "applicant", _("Applicant")
        ONBOARDING = "onboarding", _("Onboarding")
        ACTIVE = "active", _("Active")
        LAPSED = "lapsed", _("Lapsed")
        TERMINATED = "terminated", _("Terminated")

    organisation_path = "organisation"

    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="memberships")
    consortium = models.ForeignKey(Consortium, verbose_name=_("consortium"), on_delete=models.PROTECT,
                                   related_name="memberships")
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.BASIC)
    size = models.CharField(_("size"), max_length=10, choices=Size.choices, default=Size.STANDARD)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.APPLICANT)
    start_date = models.DateField(_("start date"), help_text=_("Memberships start on the first day of a month."))
    end_date = models.DateField(_("end date"), null=True, blank=True,
                                help_text=_("Memberships end on the last day of a month."))
    # A termination decided at renewal ends the membership as "terminated" instead of "lapsed".
    ends_by_termination = models.BooleanField(_("terminated at the end date"), default=False)
    # A pinned status is left alone by the daily roll-forward until someone unpins it.
    status_pinned = models.BooleanField(_("status pinned"), default=False)
    pinned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("pinned by"))
    pinned_at = models.DateTimeField(_("pinned at"), null=True, blank=True)
    pin_reason = models.CharField(_("why pinned"), max_length=255, blank=True)

    class Meta:
        ordering = ["organisation__legal_name", "-start_date"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "start_date"], name="membership_start_unique"),
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gt=models.F("start_date")),
                                   name="membership_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return self.organisation.get_absolute_url()

    def clean(self) -> None:
        errors = {}
        if self.start_date and self.start_date.day != 1:
            errors["start_date"] = _("A membership starts on the first day of a month.")
        if self.end_date and self.end_date != last_day_of_month(self.end_date):
            errors["end_date"] = _("A membership ends on the last day of a month.")
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            errors["end_date"] = _("The end date must be after the start date.")
        if self.organisation_id and self.consortium_id and self.organisation.consortium_id != self.consortium_id:
            errors["organisation"] = _("The organisation belongs to another consortium.")
        if errors:
            raise ValidationError(errors)


def last_day_of_month(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


class MembershipStatusChange(DomainModel):
    """Dated history of a membership's status; written only by directory.services."""

    consortium_path = "membership__consortium"
    organisation_path = "membership__organisation"

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=Membership.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Membership.Status.choices)
    effective_on = models.DateField(_("effective on"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        ordering = ["membership", "pk"]  # in the order they were recorded


class Contact(DomainModel):
    access_area = "contacts"
    consortium_path = "organisation__consortium"
    organisation_path = "organisation"

    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE,
                                     related_name="contacts")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    orcid_id = models.CharField(_("ORCID iD"), max_length=19, blank=True, validators=[identifiers.validate_orcid_id])

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "email"], name="contact_email_unique_per_org"),
        ]
        indexes = [models.Index(fields=["email"]), models.Index(fields=["organisation", "name"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("directory:contact_detail", args=[self.pk])

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        self.orcid_id = identifiers.normalise_orcid_id(self.orcid_id)
        super().save(*args, **kwargs)

    @property
    def role_names(self) -> list[str]:
        return [ContactRole.Kind(r.role).label for r in self.roles.all()]


class ContactRole(DomainModel):
    """A contact's role at its organisation (ORCID's member-portal role names).

    The organisation is repeated here so the database itself can keep the one-voting-contact rule.
    """

    class Kind(models.TextChoices):
        AGREEMENT_SIGNATORY = "signatory", _("Agreement signatory")
        MAIN = "main", _("Main relationship contact")
        VOTING = "voting", _("Voting contact")
        TECHNICAL = "technical", _("Technical contact")
        INVOICE = "invoice", _("Invoice contact")
        COMMS = "comms", _("Comms contact")
        PRODUCT = "product", _("Product contact")
        OTHER = "other", _("Other contact")

    access_area = "contacts"
    consortium_path = "organisation__consortium"
    organisation_path = "organisation"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="roles")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="contact_roles")
    role = models.CharField(_("role"), max_length=20, choices=Kind.choices)

    class Meta:
        ordering = ["contact", "role"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "role"], name="contact_role_unique"),
            models.UniqueConstraint(fields=["organisation"], condition=Q(role="voting"),
                                    name="one_voting_contact_per_organisation"),
        ]

    def __str__(self) -> str:
        return f"{self.contact}: {self.get_role_display()}"


# History of these shows on their parent's History tab.
ContactRole.audit_parent = "contact"
MembershipStatusChange.audit_parent = "membership"
Membership.audit_parent = "organisation"
Contact.audit_parent = "organisation"


class ChangeAcknowledgement(models.Model):
    """ORCID staff have seen a directory change in their feed. Not audited: it is itself a record."""

    change = models.OneToOneField("audit.ChangeRecord", on_delete=models.CASCADE, related_name="acknowledgement")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)


from consortium_hub.directory.models_import import ImportBatch  # noqa: E402,F401  (registered with the app)
