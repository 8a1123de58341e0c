"""Writes of agreements: the consortium lead agreement (ORCID ↔ lead) and member agreements.

Every write is atomic, access-checked first and validated with clear, field-level messages. The
lead agreement is ORCID's: only ORCID-wide agreement writers (ORCID admins) create or change it,
although a lead admin's consortium-wide grant would otherwise cover it. Audit records are written
by the audit receiver; nothing here writes them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from consortium_hub.agreements import terms
from consortium_hub.agreements.models import Agreement
from consortium_hub.core.uploads import pdf_problem
from consortium_hub.core.access import access_scope, require, require_area
from consortium_hub.core.roles import ADD, CHANGE
from consortium_hub.directory.models import Consortium, Membership

# What can be changed after an agreement is recorded (its kind, consortium and member cannot).
AGREEMENT_FIELDS = ("tier", "signed_on", "start_date", "end_date", "term_months", "auto_renew", "notice_days",
                    "status")
FIXED_FIELDS = ("kind", "consortium", "membership", "organisation")
# Signed agreements: PDF only, recognised by content, at most 10 MB.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
AREA = "agreements"


# --- Access ----------------------------------------------------------------------------------------

def require_write(user: Any, action: str, *, kind: str, consortium_id: int | None) -> None:
    """Lead agreements: ORCID-wide writers only. Member agreements: writers in the agreement's consortium."""
    if kind == Agreement.Kind.LEAD:
        require(user, action, AREA)  # no consortium: only an ORCID-wide grant passes
    else:
        require(user, action, AREA, consortium_id=consortium_id)


def can_write(user: Any, agreement: Agreement, action: str = CHANGE) -> bool:
    consortium_id = None if agreement.kind == Agreement.Kind.LEAD else agreement.consortium_id
    return access_scope(user).can_in(action, AREA, consortium_id=consortium_id)


def can_create_lead_agreements(user: Any) -> bool:
    return access_scope(user).can_in(ADD, AREA)


# --- Checks shared by forms, the API and the services --------------------------------------------

def document_problem(file: Any) -> str | None:
    """Why an uploaded signed agreement is refused, or None: PDF content, not empty, at most 10 MB."""
    return pdf_problem(file, max_bytes=MAX_DOCUMENT_BYTES, what=_("a signed agreement"))


def validate_agreement(agreement: Agreement) -> None:
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if agreement.start_date and agreement.end_date and agreement.end_date <= agreement.start_date:
        add("end_date", _("The end date must be after the start date."))
    if agreement.term_months is not None and agreement.term_months < 1:
        add("term_months", _("The term is at least one month."))
    if agreement.kind == Agreement.Kind.MEMBER:
        for field, message in terms.month_rule_problems(start_date=agreement.start_date,
                                                        end_date=agreement.end_date).items():
            add(field, message)
    elif agreement.tier:
        add("tier", _("Only member agreements have a tier."))
    try:
        # The database's check constraints are the conditions above, said more clearly there.
        agreement.full_clean(exclude=["document"], validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            if field not in errors:
                errors[field] = list(messages)
    if not errors:
        overlap = _overlapping(agreement)
        if overlap is not None:
            add("start_date", _("%(who)s already has an agreement from %(start)s to %(end)s (%(status)s) that "
                                "overlaps these dates. Change its dates or status first.")
                % {"who": agreement.organisation or agreement.consortium, "start": overlap.start_date.isoformat(),
                   "end": overlap.end_date.isoformat(), "status": overlap.get_status_display().lower()})
    if errors:
        raise ValidationError(errors)


def _overlapping(agreement: Agreement) -> Agreement | None:
    """Another agreement of the same parties in force over some of the same days (drafts do not count)."""
    if agreement.status == Agreement.Status.DRAFT:
        return None
    others = (Agreement.objects.filter(agreements_of_parties(agreement), start_date__lte=agreement.end_date,
                                       end_date__gte=agreement.start_date).exclude(status=Agreement.Status.DRAFT))
    if agreement.pk:
        others = others.exclude(pk=agreement.pk)
    return others.order_by("start_date").first()


def _store_document(agreement: Agreement, document: Any) -> None:
    if document is None:
        return
    problem = document_problem(document)
    if problem:
        raise ValidationError({"document": problem})
    # Stored under a random name: the uploader's file name is neither trusted nor guessable.
    agreement.document.save(f"{uuid.uuid4().hex}.pdf", document, save=False)


# --- Writes ------------------------------------------------------------------------------------------

@transaction.atomic
def agreement_create(*, user: Any, kind: str, consortium: Consortium | None = None,
                     membership: Membership | None = None, start_date: dt.date, end_date: dt.date,
                     signed_on: dt.date | None = None, term_months: int = 12, auto_renew: bool = True,
                     notice_days: int = 90, tier: str = "", status: str = Agreement.Status.ACTIVE,
                     document: Any = None) -> Agreement:
    """Record an agreement. Member agreements are with a membership (its organisation and consortium);
    the lead agreement is with a consortium and only ORCID admins record it."""
    require_area(user, AREA, ADD)
    if kind == Agreement.Kind.MEMBER:
        if membership is None:
            raise ValidationError({"membership": _("Choose the membership this agreement is with.")})
        if consortium is not None and consortium.pk != membership.consortium_id:
            raise ValidationError({"consortium": _("The membership belongs to another consortium.")})
        consortium_id, organisation_id = membership.consortium_id, membership.organisation_id
    elif kind == Agreement.Kind.LEAD:
        if consortium is None:
            raise ValidationError({"consortium": _("Choose the consortium whose lead signs this agreement.")})
        if membership is not None:
            raise ValidationError({"membership": _("A consortium lead agreement is not with a member.")})
        consortium_id, organisation_id = consortium.pk, None
    else:
        raise ValidationError({"kind": _("Choose the kind of agreement.")})
    require_write(user, ADD, kind=kind, consortium_id=consortium_id)
    agreement = Agreement(kind=kind, consortium_id=consortium_id, organisation_id=organisation_id,
                          membership=membership, signed_on=signed_on, start_date=start_date, end_date=end_date,
                          term_months=term_months, auto_renew=auto_renew, notice_days=notice_days, status=status,
                          tier=(tier or membership.tier) if membership is not None else (tier or ""))
    validate_agreement(agreement)
    _store_document(agreement, document)
    agreement.save()
    return agreement


@transaction.atomic
def agreement_update(*, user: Any, agreement: Agreement, document: Any = None, **data: Any) -> Agreement:
    """Change an agreement's terms, status or signed document; who it is between stays fixed."""
    require_write(user, CHANGE, kind=agreement.kind, consortium_id=agreement.consortium_id)
    locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
    for name in FIXED_FIELDS:
        if name in data and _pk(data[name]) != getattr(locked, f"{name}_id" if name != "kind" else name):
            raise ValidationError({name: _("Who an agreement is between and its kind cannot change; record a "
                                           "new agreement instead.")})
    for name in AGREEMENT_FIELDS:
        if name in data:
            value = data[name]
            setattr(locked, name, "" if value is None and name == "tier" else value)
    validate_agreement(locked)
    _store_document(locked, document)
    locked.save()
    return locked


def _pk(value: Any) -> Any:
    return getattr(value, "pk", value)


def agreements_of_parties(agreement: Agreement) -> Q:
    """The filter selecting the agreements between the same parties as `agreement`."""
    if agreement.kind == Agreement.Kind.MEMBER:
        return Q(kind=agreement.kind, organisation_id=agreement.organisation_id)
    return Q(kind=agreement.kind, consortium_id=agreement.consortium_id)
