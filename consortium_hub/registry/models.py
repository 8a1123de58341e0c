"""The ORCID Registry link: member API credentials, researchers' grants, affiliations written to their
records, permission links, the log of every call to ORCID, and adoption figures per member.

Affiliation rows follow ORCID's Affiliation Manager (its CSV columns and statuses), so a member who
used ORCID's tool finds the same vocabulary here.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consortium_hub.core.access import AccessControlledModel
from consortium_hub.core.crypto import EncryptedTextField
from consortium_hub.core.models import DomainModel


# ORCID's burst allowance: a client paced faster than this would only collect 503s.
MAX_RATE_PER_SECOND = 40


class Section(models.TextChoices):
    """ORCID's affiliation sections, named as in the API path and the CSV."""

    EMPLOYMENT = "employment", _("Employment")
    EDUCATION = "education", _("Education")
    QUALIFICATION = "qualification", _("Qualification")
    INVITED_POSITION = "invited-position", _("Invited position")
    DISTINCTION = "distinction", _("Distinction")
    MEMBERSHIP = "membership", _("Membership")
    SERVICE = "service", _("Service")


class DisambiguationSource(models.TextChoices):
    ROR = "ROR", "ROR"
    RINGGOLD = "RINGGOLD", "Ringgold"
    GRID = "GRID", "GRID"
    FUNDREF = "FUNDREF", "Crossref Funder ID"
    LEI = "LEI", "LEI"


class RegistryClient(DomainModel):
    """A consortium's ORCID member API credentials; without one the hub's configured client is used.

    The secret is encrypted at rest (core/crypto.py) and never leaves the server: forms and the API
    accept it but never show it.
    """

    access_area = "registry_settings"
    consortium_path = "consortium"
    audit_exclude = ("client_secret",)

    consortium = models.OneToOneField("directory.Consortium", on_delete=models.CASCADE, related_name="registry_client")
    # Unique: the writer paces and locks per client id, so two consortia naming the same client would
    # share (and could set) each other's pace.
    client_id = models.CharField(_("client id"), max_length=64, unique=True)
    client_secret = EncryptedTextField(_("client secret"))
    rate_per_second = models.PositiveSmallIntegerField(
        _("requests per second"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RATE_PER_SECOND)],
        help_text=_("Leave empty for the hub's setting. ORCID allows about 24 per second per member client."),
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(rate_per_second__isnull=True) | Q(rate_per_second__gte=1,
                                                                                rate_per_second__lte=MAX_RATE_PER_SECOND),
                                   name="registry_client_rate_within_orcid_burst"),
        ]

    def clean(self) -> None:
        if self.client_id and self.client_id == settings.ORCID_MEMBER_CLIENT_ID:
            raise ValidationError({"client_id": _("This is the hub's own ORCID client; leave the credentials "
                                                  "empty to use it.")})

    def __str__(self) -> str:
        return self.client_id


class OrcidGrant(DomainModel):
    """A researcher's permission for one member organisation to update their ORCID record.

    One row per (organisation, email): the email is what the permission link was sent to, and the
    grant is bound to it. Tokens are encrypted at rest.
    """

    access_area = "affiliations"
    consortium_path = "organisation__consortium"
    organisation_path = "organisation"
    audit_exclude = ("access_token", "refresh_token")

    class Status(models.TextChoices):
        GRANTED = "granted", _("User granted access")
        DENIED = "denied", _("User denied access")
        REVOKED = "revoked", _("User revoked access")

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE, related_name="orcid_grants")
    email = models.EmailField(_("email"))
    orcid_id = models.CharField(_("ORCID iD"), max_length=19, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    access_token = EncryptedTextField(_("access token"), blank=True)
    refresh_token = EncryptedTextField(_("refresh token"), blank=True)
    scope = models.CharField(_("scope"), max_length=255, blank=True)
    client_id = models.CharField(_("client id"), max_length=64, blank=True)
    granted_at = models.DateTimeField(_("granted at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["email", "pk"]
        constraints = [
            # The writer looks a grant up by (organisation, email); two would make it guess.
            models.UniqueConstraint(fields=["organisation", "email"], name="one_grant_per_member_email"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_status_display()})"


class PermissionLink(DomainModel):
    """A single-use, expiring link asking a researcher to connect their ORCID iD to a member.

    Only a hash of the token is stored; the link is bound to the email it was sent to.
    """

    access_area = "affiliations"
    consortium_path = "organisation__consortium"
    organisation_path = "organisation"
    audit_exclude = ("token_hash",)

    class Language(models.TextChoices):
        # Languages ORCID's sign-in and consent pages are offered in.
        EN = "en", "English"
        ES = "es", "Español"
        FR = "fr", "Français"
        DE = "de", "Deutsch"
        IT = "it", "Italiano"
        PT = "pt", "Português"
        JA = "ja", "日本語"
        KO = "ko", "한국어"
        ZH_CN = "zh_CN", "简体中文"

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Notification requested")
        SENT = "sent", _("Notification sent")
        FAILED = "failed", _("Notification failed")
        USED = "used", _("Used")
        EXPIRED = "expired", _("Expired")

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE,
                                     related_name="permission_links")
    email = models.EmailField(_("email"))
    token_hash = models.CharField(max_length=64, unique=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.EN)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    email_log = models.ForeignKey("core.EmailLog", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "email"])]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_status_display()})"


class AffiliationUpload(DomainModel):
    """One CSV upload (or a batch of form edits): what was accepted, and its summary when finished."""

    access_area = "affiliations"
    consortium_path = "organisation__consortium"
    organisation_path = "organisation"
    # The file is every researcher's email: it stays out of the change log (rows are logged one by one).
    audit_exclude = ("content",)

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE,
                                     related_name="affiliation_uploads")
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    # sha256 of the file's bytes: the same file uploaded twice is recognised and not applied again.
    content_sha256 = models.CharField(max_length=64, blank=True)
    # The file as previewed: what is applied is what was shown, and the upload page lists each row's
    # result from it. Kept out of the change log (audit_exclude).
    content = models.BinaryField(blank=True, default=b"")
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    language = models.CharField(_("language of permission emails"), max_length=8,
                                choices=PermissionLink.Language.choices, default=PermissionLink.Language.EN)
    rows_total = models.PositiveIntegerField(default=0)
    rows_accepted = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    # [{"row": 7, "column": "start-date", "reason": "..."}] for the rows that were not accepted.
    problems = models.JSONField(default=list, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    summary_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Previews of the same file may pile up; only one of them can ever be applied.
            models.UniqueConstraint(fields=["organisation", "content_sha256"],
                                    condition=~Q(content_sha256="") & Q(applied_at__isnull=False),
                                    name="one_applied_upload_per_file_per_member"),
        ]

    def __str__(self) -> str:
        return self.filename or f"Upload {self.pk}"


class Affiliation(DomainModel):
    """One affiliation a member asserts on a researcher's ORCID record, and where it stands."""

    access_area = "affiliations"
    consortium_path = "organisation__consortium"
    organisation_path = "organisation"

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_ORCID = "in_orcid", _("In ORCID")
        PENDING_UPDATE = "pending_update", _("Pending update")
        PENDING_DELETE = "pending_delete", _("Pending delete")
        PENDING_RETRY = "pending_retry", _("Pending retry")
        NOTIFICATION_REQUESTED = "notification_requested", _("Notification requested")
        NOTIFICATION_SENT = "notification_sent", _("Notification sent")
        NOTIFICATION_FAILED = "notification_failed", _("Notification failed")
        USER_GRANTED_ACCESS = "user_granted_access", _("User granted access")
        USER_DENIED_ACCESS = "user_denied_access", _("User denied access")
        USER_REVOKED_ACCESS = "user_revoked_access", _("User revoked access")
        USER_DELETED = "user_deleted", _("User deleted from ORCID")
        RECORD_DEACTIVATED = "record_deactivated", _("Record deactivated or deprecated")
        ERROR_ADDING = "error_adding", _("Error adding to ORCID")
        ERROR_UPDATING = "error_updating", _("Error updating in ORCID")
        ERROR_DELETING = "error_deleting", _("Error deleting in ORCID")
        DELETED = "deleted", _("Deleted from ORCID")

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE, related_name="affiliations")
    upload = models.ForeignKey(AffiliationUpload, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="affiliations")
    email = models.EmailField(_("email"))
    section = models.CharField(_("affiliation section"), max_length=20, choices=Section.choices)
    department_name = models.CharField(_("department name"), max_length=1000, blank=True)
    role_title = models.CharField(_("role title"), max_length=1000, blank=True)
    # Partial dates as ORCID takes them: yyyy, yyyy-MM or yyyy-MM-dd.
    start_date = models.CharField(_("start date"), max_length=10, blank=True)
    end_date = models.CharField(_("end date"), max_length=10, blank=True)
    org_name = models.CharField(_("organisation name"), max_length=1000)
    org_country = models.CharField(_("organisation country"), max_length=2)
    org_city = models.CharField(_("organisation city"), max_length=1000)
    org_region = models.CharField(_("organisation region"), max_length=1000, blank=True)
    disambiguated_organization_identifier = models.CharField(_("disambiguated organisation identifier"),
                                                             max_length=255)
    disambiguation_source = models.CharField(_("disambiguation source"), max_length=10,
                                             choices=DisambiguationSource.choices)
    external_id = models.CharField(_("external id"), max_length=255, blank=True)
    external_id_type = models.CharField(_("external id type"), max_length=64, blank=True)
    external_id_url = models.URLField(_("external id URL"), max_length=1000, blank=True)
    url = models.URLField(_("URL"), max_length=1000, blank=True)

    # Hash of the normalised content: uploading the same row twice finds this row instead of
    # creating another (and re-uploading an edited row updates it only through its id).
    content_key = models.CharField(max_length=64)
    status = models.CharField(_("status"), max_length=32, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    orcid_id = models.CharField(_("ORCID iD"), max_length=19, blank=True)
    put_code = models.CharField(_("put-code"), max_length=32, blank=True)
    orcid_error = models.TextField(_("ORCID's error"), blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set just before a write is sent: a worker that dies after ORCID answered but before the answer
    # was stored leaves this behind, and the next worker reconciles instead of writing twice.
    write_started_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(_("last written to ORCID"), null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "content_key"], condition=~Q(status="deleted"),
                                    name="one_live_affiliation_per_content"),
        ]
        indexes = [
            models.Index(fields=["organisation", "email"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.email}: {self.get_section_display()} at {self.org_name}"


class OrcidApiCall(AccessControlledModel):
    """Every call the hub makes to ORCID: method, path, status, duration. Never a token or a body."""

    access_area = "registry_calls"
    consortium_path = "consortium"
    organisation_path = "organisation"

    consortium = models.ForeignKey("directory.Consortium", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    organisation = models.ForeignKey("directory.Organisation", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=16, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status_code}"


class AdoptionSnapshot(DomainModel):
    """How many ORCID records carry an affiliation to a member, on one day."""

    access_area = "adoption"
    consortium_path = "organisation__consortium"
    organisation_path = "organisation"

    class IdentifierType(models.TextChoices):
        ROR = "ror", "ROR"
        RINGGOLD = "ringgold", "Ringgold"
        GRID = "grid", "GRID"

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE,
                                     related_name="adoption_snapshots")
    taken_on = models.DateField(_("date"))
    identifier_type = models.CharField(max_length=10, choices=IdentifierType.choices)
    identifier = models.CharField(max_length=255)
    records_total = models.PositiveIntegerField(_("ORCID records affiliated"))
    records_from_hub = models.PositiveIntegerField(_("of those, written by the affiliation manager"))

    class Meta:
        ordering = ["-taken_on", "organisation_id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "taken_on"], name="one_adoption_snapshot_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.taken_on}: {self.records_total}"


class WriterLease(models.Model):
    """Which worker writes for an ORCID client id, until when (one row per client id; see services/sync.py).

    A plain model, not a `DomainModel`: it is coordination, not data anyone edits or answers for. It is
    rewritten by conditional UPDATEs at the start and end of every writer run, which the audit receiver
    (it hooks `save()`) would not see, and whose change records would only bury the log in noise.
    """

    client_id = models.CharField(max_length=64, unique=True)
    # A random token naming the run that holds the lease: only that run can release it.
    holder = models.CharField(max_length=64)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.client_id} held by {self.holder} until {self.expires_at:%Y-%m-%d %H:%M:%S}"
