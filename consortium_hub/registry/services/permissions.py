"""Asking researchers for permission to update their ORCID records, and recording their answer.

A member uploads affiliations for email addresses; each address without a grant gets a permission
link by email. The researcher opens it, picks a language, is sent to ORCID's consent page, and ORCID
redirects back with a code (granted) or `error=access_denied` (declined).

Link tokens
-----------
Members sometimes send the links from their own mail, so the hub must be able to show a link again
(the "permission links" export), yet a copy of the database alone must never yield a usable link.
So the raw token is derived, not stored:

    token = nonce + "." + base64url(HMAC-SHA256(key=SECRET_KEY, salt=LINK_SALT, msg=nonce))

`PermissionLink.token_hash` holds only the random nonce (it is the lookup key, unique, and left out of
the audit log). The HMAC half needs the server's secret, so the database holds half a token. Checking a
token finds the link by its nonce and compares the HMAC in constant time; the HMAC is also accepted
under `SECRET_KEY_FALLBACKS`, so rotating the secret does not break links already mailed (the export
then shows the links under the new secret, which work too).

Statuses follow ORCID's Affiliation Manager: rows waiting for permission are "notification
requested" until the email job reports "sent" or "failed" (registry/signals.py), then "pending" (or
"pending update") once the researcher grants access, or "user denied access". A link past its date is
marked "expired" by an hourly job (tasks_permissions.py); it is refused from `expires_at` on either way.

Single use
----------
Redeeming ORCID's code is a call to ORCID, and every call to ORCID stays in the call log, refused ones
included. So the code is redeemed outside any transaction (a rollback would take the log row with it,
and no lock is held while ORCID answers). Instead the request first claims the link with a conditional
update of `used_at` (status unchanged): a second click finds the link in use. A failed exchange gives
the claim back, so the researcher can simply try again; a claim older than CLAIM_SECONDS was left by a
request that died, and no longer counts.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import secrets
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

from consortium_hub.core.access import require
from consortium_hub.core.email import send_templated_email
from consortium_hub.core.roles import ADD
from consortium_hub.directory.models import Organisation
from consortium_hub.registry.client import ErrorKind, OrcidApiError, TokenGrant, client_for_organisation
from consortium_hub.registry.models import Affiliation, OrcidGrant, PermissionLink, Section
from consortium_hub.registry.services.sync import schedule_writes

LINK_SALT = "consortium_hub.registry.permission-link"
STATE_SALT = "consortium_hub.registry.permission-state"
# ORCID's consent step takes minutes; an hour leaves room for a researcher who has to create a record
# first, while a state captured from a log stays useless.
STATE_MAX_AGE_SECONDS = 60 * 60
SCOPE = "/read-limited /activities/update"
CALLBACK_URL_NAME = "registry:permission_callback"
START_URL_NAME = "registry:permission_start"

Status = Affiliation.Status
# Rows that cannot be written until this researcher grants access. "pending" rows are among them only
# while the researcher has no grant (a fresh upload for a new address).
NEEDS_PERMISSION = (Status.PENDING, Status.NOTIFICATION_REQUESTED, Status.NOTIFICATION_SENT,
                    Status.NOTIFICATION_FAILED, Status.USER_DENIED_ACCESS, Status.USER_REVOKED_ACCESS)
# Rows a refusal answers: the researcher was asked about them.
ASKED_ABOUT = (Status.NOTIFICATION_REQUESTED, Status.NOTIFICATION_SENT, Status.NOTIFICATION_FAILED)
# Links still on their way to the researcher. A link whose email failed is not reused: asking again
# must send a new email rather than silently return the undelivered one.
LIVE_LINK_STATUSES = (PermissionLink.Status.REQUESTED, PermissionLink.Status.SENT)
# Links that can still be opened (until `expires_at`): a link whose email failed may have been forwarded
# by the member from the export.
UNANSWERED_LINK_STATUSES = (*LIVE_LINK_STATUSES, PermissionLink.Status.FAILED)
# ORCID's token call is over within ORCID_TIMEOUT_SECONDS (20 s by default); a claim this old was left
# by a request that died before it could finish or give the link back.
CLAIM_SECONDS = 15 * 60
ROW_STATUS_FOR_LINK = {
    PermissionLink.Status.REQUESTED: Status.NOTIFICATION_REQUESTED,
    PermissionLink.Status.SENT: Status.NOTIFICATION_SENT,
}


class PermissionLinkError(Exception):
    """The link cannot be used; `status_code` is what a page should answer."""

    status_code = 404


class UnknownLink(PermissionLinkError):
    status_code = 404


class ExpiredLink(PermissionLinkError):
    status_code = 410


class UsedLink(PermissionLinkError):
    status_code = 410


class InvalidState(PermissionLinkError):
    """ORCID's redirect carried a state this server did not sign, or one too old to trust."""

    status_code = 400


def normalise_email(email: str) -> str:
    return email.strip().lower()


def django_language(language: str) -> str:
    """The Django language code for one of ORCID's (`zh_CN` is Django's `zh-hans`)."""
    if language == PermissionLink.Language.ZH_CN:
        return "zh-hans"
    return language.replace("_", "-").lower()


def _mac(nonce: str, secret: str) -> str:
    digest = salted_hmac(LINK_SALT, nonce, secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def link_token(link: PermissionLink) -> str:
    """The raw token of a link (derived from its nonce and the server's secret)."""
    return f"{link.token_hash}.{_mac(link.token_hash, settings.SECRET_KEY)}"


def link_url(link: PermissionLink) -> str:
    """The absolute URL of a link, as mailed to the researcher (and shown in the export)."""
    return settings.SITE_URL + reverse(START_URL_NAME, args=[link_token(link)])


def callback_url() -> str:
    """The one redirect URI registered with ORCID for permission links."""
    return settings.SITE_URL + reverse(CALLBACK_URL_NAME)


def _link_for_token(token: str) -> PermissionLink | None:
    nonce, dot, mac = token.partition(".")
    if not dot or not nonce or not mac:
        return None
    secrets_in_use = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if not any(hmac.compare_digest(mac, _mac(nonce, secret)) for secret in secrets_in_use):
        return None
    return PermissionLink.objects.select_related("organisation").filter(token_hash=nonce).first()


def _abandoned_before(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(seconds=CLAIM_SECONDS)


def _check_usable(link: PermissionLink, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    # `used_at` without the "used" status is a claim: a request is redeeming a code with ORCID right now.
    claimed = link.used_at is not None and link.used_at > _abandoned_before(now)
    if link.status == PermissionLink.Status.USED or claimed:
        raise UsedLink("This link has already been used.")
    if link.status == PermissionLink.Status.EXPIRED or link.expires_at <= now:
        raise ExpiredLink("This link has expired.")


def resolve_link(token: str) -> PermissionLink:
    """The link a token opens; raises UnknownLink, ExpiredLink or UsedLink."""
    link = _link_for_token(token)
    if link is None:
        raise UnknownLink("There is no such permission link.")
    _check_usable(link)
    return link


def _move_rows(rows: Any, to_status: str, **fields: Any) -> int:
    """Save each row (so the audit log records each change) with `to_status` and `fields`."""
    moved = 0
    for row in rows:
        row.status = to_status
        for name, value in fields.items():
            setattr(row, name, value)
        row.save(update_fields=["status", *fields, "updated_at"])
        moved += 1
    return moved


def _rows_of(organisation_id: int, email: str, statuses: tuple[str, ...]) -> Any:
    return (Affiliation.objects.select_for_update()
            .filter(organisation_id=organisation_id, email__iexact=email, status__in=statuses).order_by("pk"))


@transaction.atomic
def request_permission(*, organisation: Organisation, email: str, language: str = PermissionLink.Language.EN,
                       created_by: Any = None) -> PermissionLink | None:
    """Ask the researcher at `email` for permission, unless a link on its way to them exists already.

    Returns the live link (existing or new). Rows of this address waiting for permission follow the
    link's notification status.

    Returns None, sending nothing, when the researcher has granted this member access: a new link could
    only be answered with a refusal, which would undo a working grant for rows that need none. Their
    rows still waiting for an answer (asked about before the grant was stored) go to the writer instead.
    """
    if created_by is not None:
        require(created_by, ADD, "affiliations", consortium_id=organisation.consortium_id,
                organisation_id=organisation.pk)
    email = normalise_email(email)
    if language not in PermissionLink.Language.values:
        language = PermissionLink.Language.EN
    now = timezone.now()
    # Locking the waiting rows first serialises two uploads asking for the same address at once.
    waiting = list(_rows_of(organisation.pk, email, NEEDS_PERMISSION))
    grant = _granted(organisation.pk, email)
    if grant is not None:
        # With a grant, pending rows wait for the writer, not for the researcher.
        _hand_to_writer([row for row in waiting if row.status != Status.PENDING], grant)
        return None
    link = (PermissionLink.objects.select_for_update()
            .filter(organisation=organisation, email=email, status__in=LIVE_LINK_STATUSES, used_at__isnull=True,
                    expires_at__gt=now)
            .order_by("-created_at", "-pk").first())
    if link is None:
        link = PermissionLink(organisation=organisation, email=email, language=language,
                              token_hash=secrets.token_urlsafe(24), created_by=_person(created_by),
                              expires_at=now + dt.timedelta(days=settings.ORCID_PERMISSION_LINK_DAYS))
        link.full_clean(exclude=["email_log", "created_by"])
        link.email_log = _send_request_email(link, waiting)
        link.save()
    row_status = ROW_STATUS_FOR_LINK[link.status]
    _move_rows([row for row in waiting if row.status != row_status], row_status)
    return link


def _granted(organisation_id: int, email: str) -> OrcidGrant | None:
    return OrcidGrant.objects.filter(organisation_id=organisation_id, email=email,
                                     status=OrcidGrant.Status.GRANTED).first()


def _hand_to_writer(rows: list[Affiliation], grant: OrcidGrant) -> None:
    """Rows asked about although the researcher has a working grant: written under it, not left waiting."""
    for row in rows:
        _release_row(row, orcid_id=grant.orcid_id)
    if rows:
        schedule_writes(organisation_id=grant.organisation_id)


def _person(user: Any) -> Any:
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _send_request_email(link: PermissionLink, waiting: list[Affiliation]) -> Any:
    organisation = link.organisation
    with translation.override(django_language(link.language)):
        return send_templated_email(
            to=[link.email], template="registry/email/permission_request",
            context={"organisation": organisation, "organisation_name": organisation.display_name,
                     "affiliations": waiting, "link_url": link_url(link), "expires_at": link.expires_at,
                     "email": link.email},
        )


def sign_state(*, link: PermissionLink, language: str) -> str:
    return signing.dumps({"link": link.pk, "lang": language}, salt=STATE_SALT, compress=True)


def read_state(state: str) -> tuple[int, str]:
    """(link id, language) from ORCID's redirect; raises InvalidState for anything not signed here."""
    try:
        value = signing.loads(state, salt=STATE_SALT, max_age=STATE_MAX_AGE_SECONDS)
        link_id, language = int(value["link"]), str(value["lang"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidState("The answer from ORCID could not be matched to a permission link.") from exc
    if language not in PermissionLink.Language.values:
        language = PermissionLink.Language.EN
    return link_id, language


def authorize_url(*, link: PermissionLink, redirect_uri: str, language: str) -> str:
    """ORCID's consent page for this link: our client, the scopes we write with, the researcher's language."""
    if language not in PermissionLink.Language.values:
        language = link.language
    query = {
        "client_id": client_for_organisation(link.organisation).client_id,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": redirect_uri,
        "state": sign_state(link=link, language=language),
        "lang": language,
        "email": link.email,
    }
    return settings.ORCID_BASE_URL.rstrip("/") + "/oauth/authorize?" + urlencode(query)


def _lock_usable_link(link: PermissionLink) -> PermissionLink:
    # Single use even when the researcher double-clicks: the second request waits here, then finds it used.
    locked = PermissionLink.objects.select_for_update().select_related("organisation").get(pk=link.pk)
    _check_usable(locked)
    return locked


def _claim_link(link: PermissionLink) -> tuple[PermissionLink, dt.datetime]:
    """Claim the link for one exchange with ORCID; returns it with the claim's time.

    A conditional update, not a lock: it holds nothing while ORCID answers, and of two requests for
    the same link exactly one changes the row. The claim is bookkeeping rather than a change of the
    link (it is given back or becomes "used"), so it bypasses the change log.
    """
    now = timezone.now()
    claimed = (PermissionLink.objects.filter(pk=link.pk, status__in=UNANSWERED_LINK_STATUSES, expires_at__gt=now)
               .filter(Q(used_at__isnull=True) | Q(used_at__lte=_abandoned_before(now)))
               .update(used_at=now))
    if claimed != 1:
        current = PermissionLink.objects.filter(pk=link.pk).first()
        if current is None:
            raise UnknownLink("There is no such permission link.")
        _check_usable(current, now)
        raise UsedLink("This link has already been used.")
    return PermissionLink.objects.select_related("organisation").get(pk=link.pk), now


def _give_back(link: PermissionLink, claimed_at: dt.datetime) -> None:
    # Only our own claim: after CLAIM_SECONDS another request may have taken the link over.
    (PermissionLink.objects.filter(pk=link.pk, used_at=claimed_at).exclude(status=PermissionLink.Status.USED)
     .update(used_at=None))


def _mark_used(link: PermissionLink, now: dt.datetime) -> None:
    link.status = PermissionLink.Status.USED
    link.used_at = now
    link.save(update_fields=["status", "used_at", "updated_at"])


def complete_grant(*, link: PermissionLink, code: str, redirect_uri: str) -> OrcidGrant:
    """The researcher granted access: redeem the code, store the grant and release their rows to the writer.

    The link is claimed first and the code redeemed outside any transaction (see "Single use" above),
    so ORCID's answer, a refusal included, stays in the call log. If anything fails the claim is given
    back: nothing is written and the link still works.
    """
    link, claimed_at = _claim_link(link)
    try:
        client = client_for_organisation(link.organisation)
        token = client.exchange_code(code, redirect_uri)
        if not token.orcid:
            raise OrcidApiError(ErrorKind.INVALID, developer_message="ORCID's token answer named no ORCID iD")
        return _store_grant(link=link, claimed_at=claimed_at, token=token, client_id=client.client_id)
    except Exception:
        _give_back(link, claimed_at)
        raise


@transaction.atomic
def _store_grant(*, link: PermissionLink, claimed_at: dt.datetime, token: TokenGrant, client_id: str) -> OrcidGrant:
    locked = PermissionLink.objects.select_for_update().get(pk=link.pk)
    if locked.status == PermissionLink.Status.USED or locked.used_at != claimed_at:
        # Our claim outlived CLAIM_SECONDS and another request took the link over: its answer stands.
        raise UsedLink("This link has already been used.")
    organisation = link.organisation
    now = timezone.now()

    grant = (OrcidGrant.objects.select_for_update()
             .filter(organisation=organisation, email=link.email).first()
             or OrcidGrant(organisation=organisation, email=link.email))
    grant.status = OrcidGrant.Status.GRANTED
    grant.orcid_id = token.orcid
    grant.access_token = token.access_token
    grant.refresh_token = token.refresh_token or ""
    grant.scope = token.scope or ""
    grant.client_id = client_id
    grant.granted_at = now
    grant.revoked_at = None
    grant.full_clean(exclude=["organisation"], validate_unique=False)
    grant.save()

    # Rows the member asked to delete while the hub had no access wait for a grant too; only those on
    # the record now granted can be deleted with it (another record's put-code means nothing here).
    released = (Affiliation.objects.select_for_update()
                .filter(organisation_id=organisation.pk, email__iexact=link.email)
                .filter(Q(status__in=NEEDS_PERMISSION)
                        | Q(status=Status.PENDING_DELETE, orcid_id=grant.orcid_id) & ~Q(put_code=""))
                .order_by("pk"))
    for row in released:
        _release_row(row, orcid_id=grant.orcid_id)
    _mark_used(locked, now)
    schedule_writes(organisation_id=organisation.pk)
    return grant


def _release_row(row: Affiliation, *, orcid_id: str) -> None:
    # A row the member asked to delete stays "pending delete": it leaves the record it is on and is
    # never written again.
    if row.status != Status.PENDING_DELETE:
        if row.put_code and row.orcid_id == orcid_id:
            # Already on this record (written under an earlier, revoked grant): updated in place.
            row.status = Status.PENDING_UPDATE
        else:
            # On another record that put-code means nothing, so the row is added anew.
            row.status = Status.PENDING
            row.put_code = ""
            row.orcid_id = orcid_id
    row.orcid_error = ""
    row.attempts = 0
    row.next_attempt_at = None
    row.save(update_fields=["status", "put_code", "orcid_id", "orcid_error", "attempts", "next_attempt_at",
                            "updated_at"])


@transaction.atomic
def deny_grant(*, link: PermissionLink) -> None:
    """The researcher declined on ORCID's page: record it, and stop asking through this link.

    A working grant stays. Declining on ORCID's page does not revoke a token ORCID issued before (the
    researcher does that on their ORCID account, and the writer then finds it revoked), so this is an
    older link answered after a newer one was granted. Wiping the grant would leave the member's rows
    with no way forward; rows of that researcher still asking are written under the grant instead.
    """
    link = _lock_usable_link(link)
    organisation = link.organisation
    grant = (OrcidGrant.objects.select_for_update()
             .filter(organisation=organisation, email=link.email).first()
             or OrcidGrant(organisation=organisation, email=link.email))
    if grant.status == OrcidGrant.Status.GRANTED:
        waiting = [row for row in _rows_of(organisation.pk, link.email, NEEDS_PERMISSION)
                   if row.status != Status.PENDING]
        _hand_to_writer(waiting, grant)
    else:
        grant.status = OrcidGrant.Status.DENIED
        # The researcher said no: the hub keeps no credential from an earlier answer either.
        grant.access_token = ""
        grant.refresh_token = ""
        grant.save()
        _move_rows(_rows_of(organisation.pk, link.email, ASKED_ABOUT), Status.USER_DENIED_ACCESS)
    _mark_used(link, timezone.now())


@transaction.atomic
def expire_permission_links(*, now: dt.datetime) -> int:
    """Mark the links past their date that nobody used as expired; returns how many.

    Such a link is refused from `expires_at` on anyway; the status makes the link list and the API say
    so (the list then offers a new link). The researcher's rows keep their status: the email did go
    (or fail), and they are asked again once a new link is sent.
    """
    due = (PermissionLink.objects.select_for_update()
           .filter(status__in=UNANSWERED_LINK_STATUSES, expires_at__lte=now)
           .filter(Q(used_at__isnull=True) | Q(used_at__lte=_abandoned_before(now)))
           .order_by("pk"))
    expired = 0
    for link in due:
        link.status = PermissionLink.Status.EXPIRED
        # An abandoned claim is no use: the link was never used.
        link.used_at = None
        link.save(update_fields=["status", "used_at", "updated_at"])
        expired += 1
    return expired


def waiting_affiliations(link: PermissionLink) -> list[dict[str, Any]]:
    """What the researcher is asked to allow: this address's rows, only the fields that describe them."""
    rows = (Affiliation.objects.filter(organisation_id=link.organisation_id, email__iexact=link.email,
                                       status__in=NEEDS_PERMISSION)
            .order_by("section", "start_date", "pk")
            .values("section", "org_name", "org_city", "org_country", "department_name", "role_title",
                    "start_date", "end_date"))
    return [{**row, "section_label": Section(row["section"]).label} for row in rows]
