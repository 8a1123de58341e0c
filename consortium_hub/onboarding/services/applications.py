"""Membership applications: submitting (public or by lead staff), review, approval and decline.

Every write is atomic and access-checked. An anonymous applicant acts through a private link: a
random token whose SHA-256 hash is stored on the application (`edit_token_hash`). Approval turns
an application into directory records (organisation, onboarding membership, contacts) and an
onboarding plan, in one transaction, with the application row locked so it cannot happen twice.
Audit records are written by the audit receiver; nothing here writes them.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium_hub.accounts.services import hash_token
from consortium_hub.core.uploads import pdf_problem
from consortium_hub.core.access import access_scope, require
from consortium_hub.core.email import send_templated_email
from consortium_hub.core.roles import ADD, CHANGE, Role
from consortium_hub.directory import identifiers
from consortium_hub.directory import services as directory
from consortium_hub.directory.models import Consortium, Contact, ContactRole, Membership, Organisation
from consortium_hub.onboarding.models import Application, Plan, PlanKind
from consortium_hub.onboarding.selectors.applications import OPEN_CONSORTIUM_STATUSES
from consortium_hub.onboarding.services.plans import plan_start

# What the applicant fills in (the same for the public page, lead staff and the API).
APPLICATION_FIELDS = (
    "legal_name", "public_name", "type", "country", "region", "city", "website",
    "ror_id", "ringgold_id", "grid_id", "isni", "crossref_funder_id",
    "contact_name", "contact_email", "contact_phone", "contact_job_title",
    "voting_contact_name", "voting_contact_email",
    "tier", "size", "wished_start", "integration_plans",
)
# The organisation's fields copied on approval.
ORGANISATION_FIELDS = ("legal_name", "public_name", "type", "country", "region", "city", "website",
                       "ror_id", "ringgold_id", "grid_id", "isni", "crossref_funder_id")
# Supporting documents: PDF only, recognised by content, at most 5 MB.
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
# Memberships that make an organisation unsuitable to link a new membership to.
CURRENT_MEMBERSHIP_STATUSES = (Membership.Status.ONBOARDING, Membership.Status.ACTIVE)


@dataclass(frozen=True)
class Submission:
    """A stored application and the private link's token (shown once, never stored in clear)."""

    application: Application
    token: str

    @property
    def status_path(self) -> str:
        return reverse("onboarding:application_status", args=[self.token])


@dataclass
class Approval:
    """What approving created or linked, and what the reviewer should know about it."""

    application: Application
    organisation: Organisation
    membership: Membership
    plan: Plan
    organisation_created: bool
    contacts: list[Contact] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- Checks shared by forms, the API and the services --------------------------------------------

def attachment_problem(file: Any) -> str | None:
    """Why an uploaded supporting document is refused, or None: PDF content, at most 5 MB."""
    return pdf_problem(file, max_bytes=MAX_ATTACHMENT_BYTES, what=_("the supporting document"))


def validate_attachment(file: Any) -> None:
    problem = attachment_problem(file)
    if problem:
        raise ValidationError({"attachment": problem})


def earliest_start(today: dt.date | None = None) -> dt.date:
    """The earliest start a new application may wish for: today if it is the 1st, else next month's 1st."""
    today = today or timezone.localdate()
    if today.day == 1:
        return today
    return (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def wished_start_problem(day: dt.date | None, today: dt.date | None = None) -> str | None:
    if day is None:
        return _("Choose the month the membership should start.")
    if day.day != 1:
        return _("A membership starts on the 1st of a month: choose a month, not a day.")
    earliest = earliest_start(today)
    if day < earliest:
        return _("The start month cannot be in the past: choose %(month)s or later.") % {
            "month": earliest.strftime("%Y-%m")}
    return None


def normalise_identifiers(data: dict[str, Any]) -> dict[str, Any]:
    """Identifiers in the canonical forms the directory stores (so duplicate checks are exact)."""
    data = dict(data)
    normalisers = {"ror_id": identifiers.normalise_ror, "grid_id": identifiers.normalise_grid,
                   "isni": identifiers.normalise_isni, "crossref_funder_id": identifiers.normalise_funder_id,
                   "ringgold_id": lambda v: (v or "").strip()}
    for name, normalise in normalisers.items():
        if name in data:
            data[name] = normalise(data[name] or "")
    for name in ("contact_email", "voting_contact_email"):
        if name in data:
            data[name] = (data[name] or "").strip().lower()
    if "country" in data:
        data["country"] = str(data["country"] or "").upper()
    return data


def can_review(user: Any, consortium_id: int) -> bool:
    """Approving, declining and asking for changes: onboarding CHANGE and directory ADD (lead admins)."""
    scope = access_scope(user)
    return (scope.can_in(CHANGE, "onboarding", consortium_id=consortium_id)
            and scope.can_in(ADD, "directory", consortium_id=consortium_id))


def _require_reviewer(user: Any, consortium_id: int) -> None:
    require(user, CHANGE, "onboarding", consortium_id=consortium_id)
    require(user, ADD, "directory", consortium_id=consortium_id)


def _fill_and_check(application: Application, data: dict[str, Any], *, check_start: bool) -> None:
    data = normalise_identifiers({k: v for k, v in data.items() if k in APPLICATION_FIELDS})
    for name, value in data.items():
        setattr(application, name, "" if value is None and name != "wished_start" else value)
    errors: dict[str, list[str]] = {}
    if check_start:
        problem = wished_start_problem(application.wished_start)
        if problem:
            errors.setdefault("wished_start", []).append(problem)
    if bool(application.voting_contact_name.strip()) != bool(application.voting_contact_email.strip()):
        errors.setdefault("voting_contact_email" if application.voting_contact_name.strip()
                          else "voting_contact_name", []).append(
            _("Give both the voting contact's name and email, or neither (then you are the voting contact)."))
    try:
        application.full_clean(exclude=["consortium", "attachment", "edit_token_hash"])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            if name not in errors:  # our own message about a field says it better
                errors[name] = list(messages)
    if errors:
        raise ValidationError(errors)


def _store_attachment(application: Application, attachment: UploadedFile | None) -> None:
    if attachment is None:
        return
    validate_attachment(attachment)
    # Stored under a random name: the applicant's file name is neither trusted nor guessable.
    application.attachment.save(f"{uuid.uuid4().hex}.pdf", attachment, save=False)


def _new_token(application: Application) -> str:
    token = secrets.token_urlsafe(32)
    application.edit_token_hash = hash_token(token)
    return token


def token_matches(application: Application, token: str) -> bool:
    return bool(token) and bool(application.edit_token_hash) and hmac.compare_digest(
        hash_token(token), application.edit_token_hash)


# --- Submitting ------------------------------------------------------------------------------------

@transaction.atomic
def application_submit(*, consortium: Consortium, user: Any = None, attachment: UploadedFile | None = None,
                       **data: Any) -> Submission:
    """Record an application. `user=None` is the public page; a signed-in user needs onboarding ADD there.

    The applicant gets a confirmation with a private link; the consortium's lead admins are told.
    """
    staff = user is not None and getattr(user, "is_authenticated", False)
    if staff:
        require(user, ADD, "onboarding", consortium_id=consortium.pk)
    if consortium.status not in OPEN_CONSORTIUM_STATUSES:
        raise ValidationError(_("%(consortium)s does not accept applications at the moment.")
                              % {"consortium": consortium})
    application = Application(consortium=consortium, status=Application.Status.SUBMITTED,
                              submitted_by=user if staff else None)
    _fill_and_check(application, data, check_start=True)
    _store_attachment(application, attachment)
    token = _new_token(application)
    application.save()

    status_url = settings.SITE_URL + reverse("onboarding:application_status", args=[token])
    send_templated_email(to=[application.contact_email], template="onboarding/email/application_received",
                         context={"application": application, "consortium": consortium, "status_url": status_url,
                                  "entered_by_staff": staff})
    _tell_lead_admins(application, exclude=user if staff else None, resubmitted=False)
    return Submission(application=application, token=token)


@transaction.atomic
def application_resubmit(*, application: Application, token: str = "", user: Any = None,
                         attachment: UploadedFile | None = None, **data: Any) -> Application:
    """The applicant's corrected application (through the private link), back to "submitted"."""
    locked = Application.objects.select_for_update().select_related("consortium").get(pk=application.pk)
    if user is not None and getattr(user, "is_authenticated", False) and not token:
        require(user, CHANGE, "onboarding", consortium_id=locked.consortium_id)
    elif not token_matches(locked, token):
        raise PermissionDenied
    if locked.status != Application.Status.CHANGES_REQUESTED:
        raise ValidationError(_("This application is not waiting for changes (it is %(status)s).")
                              % {"status": locked.get_status_display().lower()})
    _fill_and_check(locked, data, check_start=True)
    _store_attachment(locked, attachment)
    locked.status = Application.Status.SUBMITTED
    locked.save()
    _tell_lead_admins(locked, exclude=None, resubmitted=True)
    return locked


# --- Review ------------------------------------------------------------------------------------------

def _lock_for_review(user: Any, application: Application, allowed: Iterable[str]) -> Application:
    _require_reviewer(user, application.consortium_id)
    locked = Application.objects.select_for_update().select_related("consortium").get(pk=application.pk)
    if locked.status == Application.Status.APPROVED:
        raise ValidationError(_("This application has already been approved."))
    if locked.status == Application.Status.DECLINED:
        raise ValidationError(_("This application has already been declined."))
    if locked.status not in allowed:
        raise ValidationError(_("This application is waiting for the applicant's changes; "
                                "it can be approved once they resubmit it."))
    return locked


def _mark_reviewed(application: Application, *, user: Any, status: str, note: str) -> None:
    application.status = status
    application.review_note = note
    application.reviewed_by = user
    application.reviewed_at = timezone.now()


@transaction.atomic
def application_request_changes(*, user: Any, application: Application, message: str) -> Application:
    """Send the application back to the applicant with `message` and a link to edit and resubmit it.

    The link carries a new token: the one from earlier emails stops working.
    """
    _require_reviewer(user, application.consortium_id)
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": _("Say what the applicant should change.")})
    locked = _lock_for_review(user, application, (Application.Status.SUBMITTED,
                                                  Application.Status.CHANGES_REQUESTED))
    _mark_reviewed(locked, user=user, status=Application.Status.CHANGES_REQUESTED, note=message)
    token = _new_token(locked)
    locked.save()
    send_templated_email(
        to=[locked.contact_email], template="onboarding/email/application_changes_requested",
        context={"application": locked, "consortium": locked.consortium, "message": message,
                 "edit_url": settings.SITE_URL + reverse("onboarding:application_resubmit", args=[token]),
                 "status_url": settings.SITE_URL + reverse("onboarding:application_status", args=[token])},
        reply_to=[user.email] if getattr(user, "email", "") else ())
    return locked


@transaction.atomic
def application_decline(*, user: Any, application: Application, reason: str) -> Application:
    """Decline with a reason the applicant is told. Nothing but the application changes."""
    _require_reviewer(user, application.consortium_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the applicant a reason.")})
    locked = _lock_for_review(user, application, (Application.Status.SUBMITTED,
                                                  Application.Status.CHANGES_REQUESTED))
    _mark_reviewed(locked, user=user, status=Application.Status.DECLINED, note=reason)
    locked.save()
    send_templated_email(to=[locked.contact_email], template="onboarding/email/application_declined",
                         context={"application": locked, "consortium": locked.consortium, "reason": reason},
                         reply_to=[user.email] if getattr(user, "email", "") else ())
    return locked


@transaction.atomic
def application_approve(*, user: Any, application: Application,
                        organisation: Organisation | None = None) -> Approval:
    """Approve: the organisation (new, or `organisation` linked), an onboarding membership from the
    wished month, the contacts, and the default member onboarding plan. Locked: approves once."""
    locked = _lock_for_review(user, application, (Application.Status.SUBMITTED,))
    consortium = locked.consortium
    notes: list[str] = []

    if organisation is None:
        _refuse_ror_clash(locked)
        organisation = directory.organisation_create(
            user=user, consortium=consortium, **{name: getattr(locked, name) for name in ORGANISATION_FIELDS})
        created = True
    else:
        _check_linkable(user, locked, organisation)
        created = False

    membership = directory.membership_create(
        user=user, organisation=organisation, start_date=locked.wished_start, tier=locked.tier, size=locked.size,
        status=Membership.Status.ONBOARDING,
        reason=_("Application approved") if created else _("Application approved (existing organisation)"))
    contacts = _contacts_for(user, locked, organisation, notes)
    plan = plan_start(user=user, consortium=consortium, kind=PlanKind.MEMBER, membership=membership,
                      start_date=membership.start_date)

    _mark_reviewed(locked, user=user, status=Application.Status.APPROVED, note=locked.review_note)
    locked.organisation = organisation
    locked.membership = membership
    locked.save()
    send_templated_email(to=[locked.contact_email], template="onboarding/email/application_approved",
                         context={"application": locked, "consortium": consortium, "membership": membership},
                         reply_to=[user.email] if getattr(user, "email", "") else ())
    return Approval(application=locked, organisation=organisation, membership=membership, plan=plan,
                    organisation_created=created, contacts=contacts, notes=notes)


def _refuse_ror_clash(application: Application) -> None:
    """ROR IDs are unique across the hub; say so plainly instead of failing on the constraint."""
    if application.ror_id and Organisation.objects.filter(ror_id=application.ror_id).exists():
        raise ValidationError({"organisation": _(
            "An organisation with ROR ID %(ror)s is already in the hub. Link that organisation instead of "
            "creating a new one; if it belongs to another consortium, ask ORCID to move it first.")
            % {"ror": application.ror_id}})
    if Organisation.objects.filter(consortium_id=application.consortium_id,
                                   legal_name__iexact=application.legal_name).exists():
        raise ValidationError({"organisation": _(
            "%(consortium)s already has an organisation called “%(name)s”. Link it instead of creating a new one.")
            % {"consortium": application.consortium, "name": application.legal_name}})


def _check_linkable(user: Any, application: Application, organisation: Organisation) -> None:
    if not Organisation.objects.visible_to(user, CHANGE, area="directory").filter(pk=organisation.pk).exists():
        raise ValidationError({"organisation": _("You cannot link that organisation.")})
    if organisation.consortium_id != application.consortium_id:
        raise ValidationError({"organisation": _(
            "%(org)s belongs to another consortium, so it cannot be linked to this application.")
            % {"org": organisation}})
    current = organisation.memberships.filter(status__in=CURRENT_MEMBERSHIP_STATUSES).first()
    if current is not None:
        raise ValidationError({"organisation": _(
            "%(org)s already has a membership that is %(status)s; it cannot get a second one.")
            % {"org": organisation, "status": current.get_status_display().lower()}})


def _contacts_for(user: Any, application: Application, organisation: Organisation,
                  notes: list[str]) -> list[Contact]:
    """The applicant as main relationship contact; the voting contact as named (or the applicant).

    An organisation that already has a voting contact keeps it; no second one is added.
    """
    voting_named = bool(application.voting_contact_email) and (
        application.voting_contact_email.lower() != application.contact_email.lower())
    existing_voter = (ContactRole.objects.select_related("contact")
                      .filter(organisation=organisation, role=ContactRole.Kind.VOTING).first())
    applicant_roles = {ContactRole.Kind.MAIN}
    if existing_voter is None and not voting_named:
        applicant_roles.add(ContactRole.Kind.VOTING)
    contacts = [_contact_with_roles(user, organisation, name=application.contact_name,
                                    email=application.contact_email, phone=application.contact_phone,
                                    job_title=application.contact_job_title, roles=applicant_roles)]
    if existing_voter is None and voting_named:
        contacts.append(_contact_with_roles(user, organisation, name=application.voting_contact_name,
                                            email=application.voting_contact_email, roles={ContactRole.Kind.VOTING}))
    if existing_voter is not None:
        named = application.voting_contact_email or application.contact_email
        if existing_voter.contact.email.lower() != named.lower():
            notes.append(_(
                "%(org)s already has a voting contact, %(name)s <%(email)s>. They stay the voting contact; "
                "%(named)s was not made a second one.") % {
                "org": organisation, "name": existing_voter.contact.name, "email": existing_voter.contact.email,
                "named": named})
    return contacts


def _contact_with_roles(user: Any, organisation: Organisation, *, name: str, email: str, roles: set[str],
                        phone: str = "", job_title: str = "") -> Contact:
    existing = Contact.objects.filter(organisation=organisation, email__iexact=email).first()
    if existing is None:
        return directory.contact_create(user=user, organisation=organisation, name=name, email=email, phone=phone,
                                        job_title=job_title, roles=sorted(roles))
    current = {r.role for r in existing.roles.all()}
    if not roles <= current:
        directory.contact_set_roles(user=user, contact=existing, roles=sorted(current | roles))
    return existing


# --- Email to the consortium's lead admins -------------------------------------------------------------

def lead_admin_emails(consortium: Consortium) -> list[str]:
    from consortium_hub.accounts.models import RoleAssignment

    return sorted(set(RoleAssignment.objects.filter(role=Role.LEAD_ADMIN, consortium=consortium,
                                                    user__is_active=True)
                      .values_list("user__email", flat=True)))


def _tell_lead_admins(application: Application, *, exclude: Any, resubmitted: bool) -> None:
    detail_url = settings.SITE_URL + reverse("onboarding:application_detail", args=[application.pk])
    skip = (getattr(exclude, "email", "") or "").lower()
    for email in lead_admin_emails(application.consortium):
        if email.lower() == skip:
            continue
        send_templated_email(to=[email], template="onboarding/email/application_arrived",
                             context={"application": application, "consortium": application.consortium,
                                      "detail_url": detail_url, "resubmitted": resubmitted},
                             reply_to=[application.contact_email])
