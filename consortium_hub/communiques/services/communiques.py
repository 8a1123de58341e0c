"""Sending communiqués to consortium leads and recording their responses.

The response clock
------------------
Each recipient consortium's copy must be answered by `respond_by`: the moment the communiqué was sent,
seen on the consortium's own business calendar (its timezone, working days, public holidays and
closures), moved forward by `RESPONSE_BUSINESS_DAYS` (3) business days with `add_business_days`,
keeping the local time of day. Sent on a Thursday at 14:30 in Brisbane, a copy is due the next Tuesday
at 14:30 (Friday, Monday, Tuesday), or Wednesday at 14:30 if that Monday is a Queensland holiday.
A communiqué sent outside business days counts from that calendar day (sent Saturday 10:00 → due
Wednesday 10:00). A local time that does not exist on the due date (a DST gap) is read with the
offset before the change. We count days rather than 3 × the daily hours because a lead's promise is
"within three working days", whatever time of day the message arrived.

Rules
-----
- Sending needs the `communiques` add grant for every chosen consortium: ORCID admins may send to any
  consortium, engagement leads to the consortia they lead.
- Responding is the lead's: a consortium-scoped role with `communiques` change in the copy's
  consortium (lead admin or lead support). ORCID staff read responses but never answer for a lead.
- A copy is answered once; "on time" means responded_at <= respond_by.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium_hub.accounts.models import RoleAssignment
from consortium_hub.calendars.business_time import add_business_days, spec_for
from consortium_hub.calendars.selectors import calendar_for_consortium
from consortium_hub.communiques.models import RESPONSE_BUSINESS_DAYS, Communique, CommuniqueRecipient
from consortium_hub.core.access import access_scope, require
from consortium_hub.core.email import send_templated_email
from consortium_hub.core.roles import ADD, CHANGE, ROLE_SCOPE, Role, Scope, role_grants
from consortium_hub.directory.models import Consortium

AREA = "communiques"
LEAD_ROLES = (Role.LEAD_ADMIN, Role.LEAD_SUPPORT)
EMAIL_SENT = "communiques/email/communique_sent"
EMAIL_RESPONSE = "communiques/email/communique_response"


def response_due(*, consortium: Consortium, sent_at: dt.datetime) -> dt.datetime:
    """When the consortium's copy of a communiqué sent at `sent_at` must be answered (see module doc)."""
    spec = spec_for(calendar_for_consortium(consortium))
    local = sent_at.astimezone(spec.tz)
    due_day = add_business_days(spec, local.date(), RESPONSE_BUSINESS_DAYS)
    return dt.datetime.combine(due_day, local.time(), tzinfo=spec.tz)


def lead_emails(consortium_ids: Iterable[int]) -> dict[int, list[str]]:
    """Per consortium: the addresses of its lead admins and lead support staff."""
    emails: dict[int, set[str]] = {}
    rows = (RoleAssignment.objects.filter(consortium_id__in=set(consortium_ids), role__in=LEAD_ROLES,
                                          user__is_active=True)
            .values_list("consortium_id", "user__email"))
    for consortium_id, email in rows:
        if email:
            emails.setdefault(consortium_id, set()).add(email)
    return {cid: sorted(addresses) for cid, addresses in emails.items()}


def can_respond(user: Any, recipient: CommuniqueRecipient) -> bool:
    """Lead staff of the copy's consortium (a consortium-scoped role with the change grant)."""
    return any(g.consortium_id == recipient.consortium_id and ROLE_SCOPE.get(g.role) == Scope.CONSORTIUM
               and role_grants(g.role, AREA, CHANGE) for g in access_scope(user).grants)


def sendable_consortia(user: Any) -> Any:
    """The consortia the user may send a communiqué to."""
    return Consortium.objects.visible_to(user, ADD, area=AREA).order_by("name")


@transaction.atomic
def communique_send(*, user: Any, subject: str, body: str, consortia: Iterable[Consortium],
                    now: dt.datetime | None = None) -> Communique:
    """Send to one, several or all consortia: one copy each, with its own response clock; each
    consortium's lead admins and lead support staff get an email."""
    chosen = sorted({c.pk: c for c in consortia}.values(), key=lambda c: c.name)
    if not chosen:
        raise ValidationError({"consortia": _("Choose at least one consortium.")})
    for consortium in chosen:
        require(user, ADD, AREA, consortium_id=consortium.pk)
    now = now or timezone.now()
    communique = Communique(subject=(subject or "").strip(), body=(body or "").strip(), sent_by=user, sent_at=now)
    communique.full_clean()
    communique.save()
    copies = []
    for consortium in chosen:
        copy = CommuniqueRecipient(communique=communique, consortium=consortium,
                                   respond_by=response_due(consortium=consortium, sent_at=now))
        copy.full_clean()
        copy.save()
        copies.append(copy)
    to_by_consortium = lead_emails(c.pk for c in chosen)
    for copy in copies:
        to = to_by_consortium.get(copy.consortium_id)
        if to:
            send_templated_email(to=to, template=EMAIL_SENT, context={
                "communique": communique, "copy": copy, "consortium": copy.consortium,
                "url": settings.SITE_URL + reverse("communiques:respond", args=[copy.pk])})
    return communique


@transaction.atomic
def communique_respond(*, user: Any, recipient: CommuniqueRecipient, response: str,
                       now: dt.datetime | None = None) -> CommuniqueRecipient:
    """The lead answers its copy (once). The sender hears of it."""
    if not can_respond(user, recipient):
        raise PermissionDenied(_("Only the consortium's lead staff respond to its communiqués."))
    response = (response or "").strip()
    if not response:
        raise ValidationError({"response": _("Write your response.")})
    CommuniqueRecipient.objects.select_for_update().filter(pk=recipient.pk).exists()
    recipient.refresh_from_db()
    if recipient.responded_at is not None:
        raise ValidationError(_("This communiqué was already answered on %(when)s.")
                              % {"when": timezone.localtime(recipient.responded_at).strftime("%Y-%m-%d %H:%M")})
    recipient.response = response
    recipient.responded_at = now or timezone.now()
    recipient.responded_by = user
    recipient.full_clean()
    recipient.save()
    sender = recipient.communique.sent_by
    if sender is not None and sender.is_active and sender.email:
        send_templated_email(to=[sender.email], template=EMAIL_RESPONSE, context={
            "communique": recipient.communique, "copy": recipient, "consortium": recipient.consortium,
            "on_time": recipient.responded_at <= recipient.respond_by,
            "url": settings.SITE_URL + reverse("communiques:detail", args=[recipient.communique_id])})
    return recipient
