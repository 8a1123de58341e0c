"""People: invitations, role assignments, linking an ORCID iD."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium_hub.accounts.models import Invitation, RoleAssignment, User
from consortium_hub.core.access import AccessScope
from consortium_hub.core.email import send_templated_email
from consortium_hub.core.roles import ADD, ORCID_ROLES, ROLE_SCOPE, Role, Scope
from consortium_hub.directory.models import Consortium, Organisation


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_can_grant(user: Any, role: str, consortium: Consortium | None, organisation: Organisation | None) -> None:
    """Lead admins invite into their own consortium only, and never to ORCID roles."""
    scope = AccessScope.for_user(user)
    if role in ORCID_ROLES:
        if not scope.has_role(Role.ORCID_ADMIN):
            raise PermissionDenied
        return
    consortium_id = consortium.pk if consortium else None
    if not scope.can_in(ADD, "people", consortium_id=consortium_id):
        raise PermissionDenied


def _scope_for(role: str, consortium: Consortium | None, organisation: Organisation | None
               ) -> tuple[Consortium | None, Organisation | None]:
    kind = ROLE_SCOPE.get(role)
    if kind is None:
        raise ValidationError({"role": _("Unknown role.")})
    if kind == Scope.ORCID:
        return None, None
    if kind == Scope.CONSORTIUM:
        if consortium is None:
            raise ValidationError({"consortium": _("This role needs a consortium.")})
        return consortium, None
    if organisation is None:
        raise ValidationError({"organisation": _("This role needs an organisation.")})
    return organisation.consortium, organisation


@transaction.atomic
def invitation_create(*, user: Any, email: str, role: str, name: str = "", consortium: Consortium | None = None,
                      organisation: Organisation | None = None) -> Invitation:
    consortium, organisation = _scope_for(role, consortium, organisation)
    _check_can_grant(user, role, consortium, organisation)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=email.strip().lower(), name=name, role=role, consortium=consortium, organisation=organisation,
        token_hash=hash_token(token), invited_by=user,
        expires_at=timezone.now() + dt.timedelta(days=settings.INVITATION_EXPIRY_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    send_templated_email(
        to=[invitation.email], template="accounts/email/invitation",
        context={"invitation": invitation, "inviter": user,
                 "accept_url": settings.SITE_URL + reverse("accounts:accept_invitation", args=[token])},
    )
    return invitation


def invitation_for_token(token: str) -> Invitation | None:
    return (Invitation.objects.select_related("consortium", "organisation")
            .filter(token_hash=hash_token(token)).first())


@transaction.atomic
def invitation_accept(*, token: str, name: str, password: str | None, existing_user: Any = None) -> User:
    """Turn an invitation into a user with its role. The link works once and only until it expires."""
    invitation = Invitation.objects.select_for_update().filter(token_hash=hash_token(token)).first()
    if invitation is None or invitation.accepted_at is not None:
        raise ValidationError(_("This invitation link is not valid or has already been used."))
    if invitation.is_expired:
        raise ValidationError(_("This invitation has expired. Ask for a new one."))
    if existing_user is not None and existing_user.is_authenticated:
        user = existing_user
    else:
        user = User.objects.filter(email__iexact=invitation.email).first()
        if user is None:
            user = User(email=invitation.email, name=name or invitation.name)
            if password is None:
                raise ValidationError({"password": _("Choose a password.")})
            validate_password(password, user)
            user.set_password(password)
            user.save()
        elif password is not None:
            raise ValidationError(_("An account with this email exists already: sign in first, then open the link."))
    RoleAssignment.objects.get_or_create(user=user, role=invitation.role, consortium=invitation.consortium,
                                         organisation=invitation.organisation)
    sync_admin_site_access(user)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    return user


@transaction.atomic
def role_assign(*, user: Any, target: User, role: str, consortium: Consortium | None = None,
                organisation: Organisation | None = None) -> RoleAssignment:
    consortium, organisation = _scope_for(role, consortium, organisation)
    _check_can_grant(user, role, consortium, organisation)
    assignment, _created = RoleAssignment.objects.get_or_create(user=target, role=role, consortium=consortium,
                                                                organisation=organisation)
    sync_admin_site_access(target)
    return assignment


@transaction.atomic
def role_revoke(*, user: Any, assignment: RoleAssignment) -> None:
    _check_can_grant(user, assignment.role, assignment.consortium, assignment.organisation)
    target = assignment.user
    assignment.delete()
    sync_admin_site_access(target)


def sync_admin_site_access(user: User) -> None:
    """The Django admin is for ORCID admins, with every model permission; nobody else gets in."""
    is_admin = user.role_assignments.filter(role=Role.ORCID_ADMIN).exists()
    if (user.is_staff, user.is_superuser) != (is_admin, is_admin):
        user.is_staff = user.is_superuser = is_admin
        user.save(update_fields=["is_staff", "is_superuser"])


def link_orcid_id(*, user: User, orcid_id: str) -> User:
    from consortium_hub.directory.identifiers import normalise_orcid_id

    bare = normalise_orcid_id(orcid_id)
    if user.orcid_id != bare:
        other = User.objects.filter(orcid_id=bare).exclude(pk=user.pk).first()
        if other is not None:
            raise ValidationError(_("This ORCID iD is already linked to another account."))
        user.orcid_id = bare
        user.save(update_fields=["orcid_id"])
    return user


def mfa_required(user: Any) -> bool:
    from consortium_hub.core.roles import MFA_REQUIRED_ROLES

    return AccessScope.for_user(user).has_role(*MFA_REQUIRED_ROLES)
