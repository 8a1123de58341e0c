from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consortium_hub.core.models import DomainModel
from consortium_hub.core.roles import ROLE_SCOPE, Role, Scope
from consortium_hub.directory import identifiers


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        # A superuser is an ORCID admin: the role is what the rest of the hub checks.
        fields.update(is_staff=True, is_superuser=True)
        user = self.create_user(email, password, **fields)
        RoleAssignment.objects.get_or_create(user=user, role=Role.ORCID_ADMIN)
        return user


class User(AbstractBaseUser, PermissionsMixin):
    audited = True
    audit_exclude = ("password", "last_login")

    email = models.EmailField(_("email"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    orcid_id = models.CharField(_("ORCID iD"), max_length=19, blank=True, null=True, unique=True,
                                validators=[identifiers.validate_orcid_id])
    is_active = models.BooleanField(_("active"), default=True)
    # Only ORCID admins reach the Django admin; kept in step with their role by accounts.services.
    is_staff = models.BooleanField(_("admin site access"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        verbose_name = _("user")

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


class RoleAssignment(DomainModel):
    """A role held by a user in one scope. See core.roles for what each role may do."""

    access_area = "people"
    consortium_path = "consortium"
    organisation_path = "organisation"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    consortium = models.ForeignKey("directory.Consortium", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="role_assignments")
    organisation = models.ForeignKey("directory.Organisation", null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="role_assignments")

    class Meta:
        ordering = ["user", "role"]
        constraints = [
            # One row per (user, role, scope); NULL scope columns need their own partial constraints.
            models.UniqueConstraint(fields=["user", "role"], condition=Q(consortium__isnull=True),
                                    name="role_assignment_unique_orcid"),
            models.UniqueConstraint(fields=["user", "role", "consortium"],
                                    condition=Q(consortium__isnull=False, organisation__isnull=True),
                                    name="role_assignment_unique_consortium"),
            models.UniqueConstraint(fields=["user", "role", "organisation"], condition=Q(organisation__isnull=False),
                                    name="role_assignment_unique_organisation"),
            # The scope columns must match the role's scope, so no grant is ever ambiguous.
            models.CheckConstraint(
                name="role_assignment_scope_matches_role",
                condition=(
                    Q(role__in=[r for r, s in ROLE_SCOPE.items() if s == Scope.ORCID],
                      consortium__isnull=True, organisation__isnull=True)
                    | Q(role__in=[r for r, s in ROLE_SCOPE.items() if s == Scope.CONSORTIUM],
                        consortium__isnull=False, organisation__isnull=True)
                    | Q(role__in=[r for r, s in ROLE_SCOPE.items() if s == Scope.ORGANISATION],
                        consortium__isnull=False, organisation__isnull=False)
                ),
            ),
        ]

    def __str__(self) -> str:
        where = self.organisation or self.consortium or _("ORCID")
        return f"{self.user}: {self.get_role_display()} ({where})"


class Invitation(DomainModel):
    """An emailed, expiring, single-use invitation to join with one role."""

    access_area = "people"
    consortium_path = "consortium"
    organisation_path = "organisation"
    audit_exclude = ("token_hash",)

    email = models.EmailField(_("email"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    consortium = models.ForeignKey("directory.Consortium", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="invitations")
    organisation = models.ForeignKey("directory.Organisation", null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()})"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def status(self) -> str:
        if self.accepted_at:
            return _("accepted")
        return _("expired") if self.is_expired else _("pending")
