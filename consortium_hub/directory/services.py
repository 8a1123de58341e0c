"""Writes to the directory. Every write is atomic, validated by the model, and checked for access.

Views, the API and imports all call these; none of them saves directory models directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium_hub.core.access import require
from consortium_hub.core.roles import ADD, CHANGE, DELETE
from consortium_hub.directory.models import (
    Consortium,
    Contact,
    ContactRole,
    Membership,
    MembershipStatusChange,
    Organisation,
)

ORGANISATION_FIELDS = ("consortium", "legal_name", "public_name", "country", "region", "city", "website", "type",
                       "ror_id", "ringgold_id", "grid_id", "isni", "crossref_funder_id")
CONTACT_FIELDS = ("organisation", "name", "email", "phone", "job_title", "orcid_id")
CONSORTIUM_FIELDS = ("name", "country", "lead_organisation", "billing_currency", "timezone", "engagement_lead",
                     "formed_on", "status")


def _apply(instance: Any, fields: Iterable[str], data: dict[str, Any]) -> None:
    for name in fields:
        if name in data:
            setattr(instance, name, data[name])


def _save_validated(instance: Any) -> Any:
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise ValidationError(_("This would duplicate an existing record: %(detail)s") % {"detail": exc}) from exc
    return instance


# --- Consortia ------------------------------------------------------------------------------------

@transaction.atomic
def consortium_create(*, user: Any, **data: Any) -> Consortium:
    require(user, ADD, "consortia")
    consortium = Consortium()
    _apply(consortium, CONSORTIUM_FIELDS, data)
    return _save_validated(consortium)


@transaction.atomic
def consortium_update(*, user: Any, consortium: Consortium, **data: Any) -> Consortium:
    require(user, CHANGE, "directory", consortium_id=consortium.pk)
    if "engagement_lead" in data and data["engagement_lead"] != consortium.engagement_lead:
        # Who oversees a consortium for ORCID is ORCID's decision, not the lead's.
        require(user, CHANGE, "consortia")
    _apply(consortium, CONSORTIUM_FIELDS, data)
    return _save_validated(consortium)


# --- Organisations --------------------------------------------------------------------------------

@transaction.atomic
def organisation_create(*, user: Any, consortium: Consortium, **data: Any) -> Organisation:
    require(user, ADD, "directory", consortium_id=consortium.pk)
    organisation = Organisation(consortium=consortium)
    _apply(organisation, [f for f in ORGANISATION_FIELDS if f != "consortium"], data)
    return _save_validated(organisation)


@transaction.atomic
def organisation_update(*, user: Any, organisation: Organisation, **data: Any) -> Organisation:
    require(user, CHANGE, "directory", consortium_id=organisation.consortium_id)
    if "consortium" in data and data["consortium"] != organisation.consortium:
        require(user, ADD, "directory", consortium_id=data["consortium"].pk)
    _apply(organisation, ORGANISATION_FIELDS, data)
    return _save_validated(organisation)


@transaction.atomic
def organisation_delete(*, user: Any, organisation: Organisation) -> None:
    require(user, DELETE, "directory", consortium_id=organisation.consortium_id)
    if organisation.memberships.exists():
        raise ValidationError(_("%(org)s has memberships; terminate them instead of deleting the organisation.")
                              % {"org": organisation})
    organisation.delete()


# --- Memberships ----------------------------------------------------------------------------------

@transaction.atomic
def membership_create(*, user: Any, organisation: Organisation, start_date: dt.date, tier: str, size: str,
                      status: str = Membership.Status.APPLICANT, end_date: dt.date | None = None,
                      reason: str = "") -> Membership:
    require(user, ADD, "directory", consortium_id=organisation.consortium_id)
    membership = Membership(organisation=organisation, consortium_id=organisation.consortium_id, tier=tier,
                            size=size, status=status, start_date=start_date, end_date=end_date)
    _save_validated(membership)
    MembershipStatusChange.objects.create(membership=membership, from_status="", to_status=status,
                                          effective_on=timezone.localdate(), changed_by=_user_or_none(user),
                                          reason=reason or _("Membership recorded"))
    return membership


@transaction.atomic
def membership_update(*, user: Any, membership: Membership, **data: Any) -> Membership:
    require(user, CHANGE, "directory", consortium_id=membership.consortium_id)
    new_status = data.pop("status", None)
    reason = data.pop("reason", "")
    _apply(membership, ("tier", "size", "start_date", "end_date", "ends_by_termination"), data)
    _save_validated(membership)
    if new_status and new_status != membership.status:
        membership_change_status(user=user, membership=membership, to_status=new_status, reason=reason)
    return membership


@transaction.atomic
def membership_change_status(*, user: Any, membership: Membership, to_status: str,
                             effective_on: dt.date | None = None, reason: str = "") -> Membership:
    if user is not None:
        require(user, CHANGE, "directory", consortium_id=membership.consortium_id)
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.status == to_status:
        return locked
    if to_status not in Membership.Status.values:
        raise ValidationError({"status": _("Unknown status %(s)s.") % {"s": to_status}})
    if to_status == Membership.Status.ACTIVE:
        problems = contact_rule_problems(organisation_id=locked.organisation_id)
        if problems:
            raise ValidationError({"status": _("%(org)s cannot become an active member yet: %(problems)s")
                                   % {"org": locked.organisation, "problems": "; ".join(problems)}})
    MembershipStatusChange.objects.create(membership=locked, from_status=locked.status, to_status=to_status,
                                          effective_on=effective_on or timezone.localdate(),
                                          changed_by=_user_or_none(user), reason=reason)
    locked.status = to_status
    locked.save(update_fields=["status", "updated_at"])
    membership.status = to_status
    return locked


@transaction.atomic
def membership_pin_status(*, user: Any, membership: Membership, status: str, reason: str) -> Membership:
    """Set a status by hand and keep it: the daily roll-forward leaves pinned memberships alone."""
    require(user, CHANGE, "directory", consortium_id=membership.consortium_id)
    if not reason.strip():
        raise ValidationError({"pin_reason": _("Say why the status is pinned.")})
    locked = membership_change_status(user=user, membership=membership, to_status=status,
                                      reason=_("Pinned: %(reason)s") % {"reason": reason})
    locked.status_pinned = True
    locked.pinned_by = _user_or_none(user)
    locked.pinned_at = timezone.now()
    locked.pin_reason = reason.strip()
    locked.save(update_fields=["status_pinned", "pinned_by", "pinned_at", "pin_reason", "updated_at"])
    return locked


@transaction.atomic
def membership_unpin_status(*, user: Any, membership: Membership) -> Membership:
    require(user, CHANGE, "directory", consortium_id=membership.consortium_id)
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    locked.status_pinned = False
    locked.pinned_by = None
    locked.pinned_at = None
    locked.pin_reason = ""
    locked.save(update_fields=["status_pinned", "pinned_by", "pinned_at", "pin_reason", "updated_at"])
    return locked


# --- Contacts -------------------------------------------------------------------------------------

@transaction.atomic
def contact_create(*, user: Any, organisation: Organisation, roles: Iterable[str] = (), take_voting: bool = False,
                   **data: Any) -> Contact:
    require(user, ADD, "contacts", consortium_id=organisation.consortium_id, organisation_id=organisation.pk)
    contact = Contact(organisation=organisation)
    _apply(contact, [f for f in CONTACT_FIELDS if f != "organisation"], data)
    _save_validated(contact)
    contact_set_roles(user=user, contact=contact, roles=roles, take_voting=take_voting)
    return contact


@transaction.atomic
def contact_update(*, user: Any, contact: Contact, roles: Iterable[str] | None = None, take_voting: bool = False,
                   **data: Any) -> Contact:
    require(user, CHANGE, "contacts", consortium_id=contact.organisation.consortium_id,
            organisation_id=contact.organisation_id)
    if "organisation" in data and data["organisation"] != contact.organisation:
        raise ValidationError({"organisation": _("A contact cannot move to another organisation; "
                                                 "add them there and remove them here.")})
    _apply(contact, [f for f in CONTACT_FIELDS if f != "organisation"], data)
    _save_validated(contact)
    if roles is not None:
        contact_set_roles(user=user, contact=contact, roles=roles, take_voting=take_voting)
    return contact


@transaction.atomic
def contact_delete(*, user: Any, contact: Contact) -> None:
    require(user, DELETE, "contacts", consortium_id=contact.organisation.consortium_id,
            organisation_id=contact.organisation_id)
    rules_held = not contact_rule_problems(organisation_id=contact.organisation_id)
    organisation = contact.organisation
    contact.delete()
    _keep_contact_rules(organisation, rules_held)


@transaction.atomic
def contact_set_roles(*, user: Any, contact: Contact, roles: Iterable[str], take_voting: bool = False) -> None:
    """Give `contact` exactly `roles`.

    The database allows one voting contact per organisation. If another contact holds it, this
    fails with a message naming them, unless `take_voting` moves the role to this contact.
    """
    wanted = set(roles)
    unknown = wanted - set(ContactRole.Kind.values)
    if unknown:
        raise ValidationError({"roles": _("Unknown contact role(s): %(r)s.") % {"r": ", ".join(sorted(unknown))}})
    current = {r.role: r for r in contact.roles.all()}
    rules_held = not contact_rule_problems(organisation_id=contact.organisation_id)
    if ContactRole.Kind.VOTING in wanted and ContactRole.Kind.VOTING not in current:
        holder = (ContactRole.objects.select_for_update().select_related("contact")
                  .filter(organisation_id=contact.organisation_id, role=ContactRole.Kind.VOTING)
                  .exclude(contact=contact).first())
        if holder is not None:
            if not take_voting:
                raise ValidationError({"roles": _(
                    "%(org)s already has a voting contact, %(name)s <%(email)s>. Each member has exactly one: "
                    "remove the role from %(name)s first, or choose to make this contact the voting contact "
                    "instead.") % {"org": contact.organisation, "name": holder.contact.name,
                                   "email": holder.contact.email}})
            holder.delete()
    for role, row in current.items():
        if role not in wanted:
            row.delete()
    for role in sorted(wanted - set(current)):
        ContactRole.objects.create(contact=contact, organisation_id=contact.organisation_id, role=role)
    _keep_contact_rules(contact.organisation, rules_held)


def contact_rule_problems(*, organisation_id: int) -> list[str]:
    """What an active member lacks: exactly one voting contact, at least one main relationship contact."""
    roles = list(ContactRole.objects.filter(organisation_id=organisation_id,
                                            role__in=[ContactRole.Kind.VOTING, ContactRole.Kind.MAIN])
                 .values_list("role", flat=True))
    problems = []
    if roles.count(ContactRole.Kind.VOTING) != 1:
        problems.append(_("it needs exactly one voting contact (it has %(n)d)")
                        % {"n": roles.count(ContactRole.Kind.VOTING)})
    if ContactRole.Kind.MAIN not in roles:
        problems.append(_("it needs a main relationship contact"))
    return problems


def _keep_contact_rules(organisation: Organisation, rules_held: bool) -> None:
    """An active member that met the contact rules must still meet them after a change.

    Members that did not meet them yet (being set up) may be changed freely; they show in the
    directory's list of rule breaches until fixed.
    """
    if not rules_held or not organisation.memberships.filter(status=Membership.Status.ACTIVE).exists():
        return
    problems = contact_rule_problems(organisation_id=organisation.pk)
    if problems:
        raise ValidationError({"roles": _("%(org)s is an active member and %(problems)s. Give the role to another "
                                          "contact first.") % {"org": organisation, "problems": "; ".join(problems)}})


def _user_or_none(user: Any) -> Any:
    return user if user is not None and getattr(user, "is_authenticated", False) else None
