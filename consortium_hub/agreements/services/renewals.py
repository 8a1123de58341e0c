"""Renewal decisions and what they do, and agreement statuses at the end of a term.

A decision is recorded once per agreement term (a second is refused), by whom and when:
- renew: a new agreement for the next term (the day after the end, for `term_months` months, ending
  on a month's last day for member agreements), linked as the decision's `next_agreement`;
- change tier: the same, with the new tier on the new agreement, and the membership's tier changed
  through `directory.services.membership_update` (so the membership's history shows the change; the
  old agreement keeps the old tier);
- terminate: no new agreement; the membership ends with the agreement (its last day) and is marked
  to end by termination, so the daily membership roll-forward makes it "terminated", not "lapsed".

The daily roll-forward (`roll_agreements_forward`) then closes decided agreements after their end:
terminated ones become "terminated", renewed ones "expired" (their next agreement carries on).
Agreements without a decision stay active after their end, so they stay in the renewal reminders
(the reminder after the end) and on the renewal pipeline's "ended without a decision" tab.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext as _

from consortium_hub.agreements import terms
from consortium_hub.agreements.models import Agreement, RenewalDecision
from consortium_hub.agreements.services.agreements import require_write, validate_agreement
from consortium_hub.core.roles import CHANGE
from consortium_hub.directory import services as directory
from consortium_hub.directory.models import Membership
from consortium_hub.jobs.queue import days_to_catch_up

STATUS_SCHEDULE = "agreement-status"
Decision = RenewalDecision.Decision


@transaction.atomic
def renewal_decide(*, user: Any, agreement: Agreement, decision: str, new_tier: str = "",
                   note: str = "") -> RenewalDecision:
    """Record what happens after `agreement`'s term and carry it out (see the module's docstring)."""
    require_write(user, CHANGE, kind=agreement.kind, consortium_id=agreement.consortium_id)
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer joins select_related makes.
    locked = (Agreement.objects.select_for_update(of=("self",))
              .select_related("membership", "organisation", "consortium").get(pk=agreement.pk))
    earlier = locked.decisions.select_related("decided_by").first()
    if earlier is not None:
        raise ValidationError(_("A decision for this term is already recorded: %(decision)s, by %(who)s on "
                                "%(when)s. Only one decision is recorded per term.")
                              % {"decision": earlier.get_decision_display().lower(),
                                 "who": earlier.decided_by or _("the system"),
                                 "when": earlier.created_at.date().isoformat()})
    if locked.status != Agreement.Status.ACTIVE:
        raise ValidationError(_("Only an active agreement can be renewed or terminated; this one is %(status)s.")
                              % {"status": locked.get_status_display().lower()})
    if decision not in Decision.values:
        raise ValidationError({"decision": _("Choose renew, renew with a tier change, or terminate.")})
    new_tier = (new_tier or "").strip()
    membership = locked.membership
    _check_decision(locked, membership, decision, new_tier)

    row = RenewalDecision(agreement=locked, decision=decision, new_tier=new_tier, note=(note or "").strip(),
                          decided_by=user if getattr(user, "is_authenticated", False) else None)
    if decision == Decision.TERMINATE:
        row.effective_on = locked.end_date
        if membership is not None:
            _end_membership_by_termination(user, membership, locked.end_date)
    else:
        following = _next_agreement(locked, tier=new_tier or locked.tier)
        row.next_agreement = following
        row.effective_on = following.start_date
        if decision == Decision.CHANGE_TIER:
            directory.membership_update(user=user, membership=membership, tier=new_tier)
    row.full_clean()
    row.save()
    return row


def _check_decision(agreement: Agreement, membership: Membership | None, decision: str, new_tier: str) -> None:
    if decision == Decision.CHANGE_TIER:
        if agreement.kind != Agreement.Kind.MEMBER:
            raise ValidationError({"decision": _("Only member agreements have a tier to change.")})
        if new_tier not in Membership.Tier.values:
            raise ValidationError({"new_tier": _("Choose the tier for the next term.")})
        current = agreement.tier or (membership.tier if membership else "")
        if new_tier == current:
            raise ValidationError({"new_tier": _("The member is already on the %(tier)s tier: choose “Renew” "
                                                 "instead, or another tier.")
                                   % {"tier": Membership.Tier(new_tier).label}})
    elif new_tier:
        raise ValidationError({"new_tier": _("A new tier is only given when renewing with a tier change.")})
    if (agreement.kind == Agreement.Kind.MEMBER and membership is None
            and decision in (Decision.CHANGE_TIER, Decision.TERMINATE)):
        raise ValidationError(_("This agreement is not linked to a membership, so the membership cannot be "
                                "changed. Record the membership's change in the directory, then renew."))


def _next_agreement(agreement: Agreement, *, tier: str) -> Agreement:
    start, end = terms.next_term(end_date=agreement.end_date, term_months=agreement.term_months,
                                 month_aligned=agreement.kind == Agreement.Kind.MEMBER)
    following = Agreement(kind=agreement.kind, consortium_id=agreement.consortium_id,
                          organisation_id=agreement.organisation_id, membership_id=agreement.membership_id,
                          tier=tier if agreement.kind == Agreement.Kind.MEMBER else "", start_date=start,
                          end_date=end, term_months=agreement.term_months, auto_renew=agreement.auto_renew,
                          notice_days=agreement.notice_days, status=Agreement.Status.ACTIVE)
    try:
        validate_agreement(following)
    except ValidationError as exc:
        raise ValidationError(_("The next term (%(start)s to %(end)s) cannot be recorded: %(problems)s")
                              % {"start": start.isoformat(), "end": end.isoformat(),
                                 "problems": " ".join(exc.messages)}) from exc
    following.save()
    return following


def _end_membership_by_termination(user: Any, membership: Membership, end_date: dt.date) -> None:
    membership = directory.membership_update(user=user, membership=membership, end_date=end_date,
                                             ends_by_termination=True)
    if not membership.ends_by_termination:
        # Until directory.services.membership_update accepts `ends_by_termination` (requested), the
        # flag is set here, through save() so the change is audited like any other.
        membership.ends_by_termination = True
        membership.save(update_fields=["ends_by_termination", "updated_at"])


# --- The daily roll-forward of agreement statuses ---------------------------------------------------

def roll_agreements_forward(*, day: dt.date) -> list[tuple[int, str]]:
    """Close decided agreements whose end is before `day`; returns (agreement id, new status) per change."""
    decided = RenewalDecision.objects.filter(agreement=OuterRef("pk"))
    ended = (Agreement.objects.filter(status=Agreement.Status.ACTIVE, end_date__lt=day)
             .filter(Exists(decided)).prefetch_related(Prefetch("decisions")))
    changes = []
    for agreement in ended:
        decision = agreement.decisions.all()[0]
        status = (Agreement.Status.TERMINATED if decision.decision == Decision.TERMINATE
                  else Agreement.Status.EXPIRED)
        agreement.status = status
        agreement.save(update_fields=["status", "updated_at"])
        changes.append((agreement.pk, status))
    return changes


def catch_up_agreement_statuses(*, today: dt.date) -> list[tuple[int, str]]:
    """Every day the schedule missed, in order, each once."""
    changes: list[tuple[int, str]] = []
    for day in days_to_catch_up(STATUS_SCHEDULE, today):
        changes.extend(roll_agreements_forward(day=day))
    return changes
