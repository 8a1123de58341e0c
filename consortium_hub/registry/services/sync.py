"""The affiliation writer: sends due rows to ORCID and records what ORCID answered.

Services that change rows call `schedule_writes(organisation_id=…)`; the job calls `run_writer`, which
works through the due rows of every organisation that writes with the same ORCID client (a consortium's
own credentials, or the hub's), oldest first, in batches, within a time budget.

Exactly once
------------
A POST that ORCID carried out but whose answer was never stored would, if simply retried, put the
affiliation on the record twice. So before a POST the row is claimed (`write_started_at` set by a
conditional UPDATE, committed before the request leaves), and the put-code is stored with the outcome.
A row found still claimed — its worker died, or the request timed out — is reconciled first: the
record's section is read, and an item from our client that matches the row lends its put-code instead
of a second POST. A row that holds a put-code is only ever updated or deleted.

One writer per client
---------------------
A lease (`WriterLease`, one database row per client id) lets one worker write for a client at a time,
which is what keeps the client's rate within ORCID's limit across processes (inside the process,
`client.RateLimiter` spaces the calls). The lease expires, so a worker killed outright does not stop its
client for good. Taking it is a single conditional UPDATE of an expired row, or an INSERT that the unique
client id refuses to a second worker: the database decides, so two workers can never both hold it.
Exactly-once does not depend on the lease: the claim above is a compare-and-set in the database.

Rows waiting for the researcher
-------------------------------
Without a granted grant the hub may not touch a record, so such rows keep their status — a pending
delete stays pending (the member's request is kept and carried out once access is granted again) — and
are not worked on. They are settled as far as the upload summary goes: they wait for the researcher,
not for the writer (`owed_rows`).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from consortium_hub.core.crypto import decrypt
from consortium_hub.directory.models import Organisation
from consortium_hub.jobs.queue import enqueue
from consortium_hub.registry.client import ErrorKind, OrcidApiError, OrcidClient, client_for_organisation
from consortium_hub.registry.models import Affiliation, OrcidGrant, WriterLease
from consortium_hub.registry.payload import affiliation_body, summary_matches_row

Status = Affiliation.Status

# Rows the writer has work for (once their researcher has granted access).
PENDING_STATES = (Status.PENDING, Status.PENDING_UPDATE, Status.PENDING_DELETE, Status.PENDING_RETRY)
# Rows whose ORCID item no longer concerns anyone: a revoked grant leaves them as they are.
NOT_LIVE_STATES = (Status.DELETED, Status.USER_DELETED, Status.RECORD_DEACTIVATED)

RETRY_BASE_SECONDS = 60
RETRY_MAX_SECONDS = 6 * 60 * 60
# After this many failed attempts (about 8½ hours of backoff) a row is reported as an error.
MAX_ATTEMPTS = 10
LEASE_MARGIN_SECONDS = 60

# What a row says when its grant's token was stored under an encryption key that is no longer configured.
UNREADABLE_TOKEN_MESSAGE = ("The stored ORCID token cannot be decrypted (its encryption key is no longer "
                            "configured): ask the researcher to grant access again.")

ADD, UPDATE, DELETE = "add", "update", "delete"
ERROR_STATUS = {ADD: Status.ERROR_ADDING, UPDATE: Status.ERROR_UPDATING, DELETE: Status.ERROR_DELETING}
# A failed add waits as "pending retry"; a failed update or delete keeps saying what it waits for
# (the row has no other field to remember it by).
RETRY_STATUS = {ADD: Status.PENDING_RETRY, UPDATE: Status.PENDING_UPDATE, DELETE: Status.PENDING_DELETE}


@dataclass
class WriterResult:
    client_id: str = ""
    locked: bool = False  # another worker holds this client's lease; nothing was done
    processed: int = 0
    outcomes: Counter = field(default_factory=Counter)  # resulting status → rows
    grants_revoked: int = 0
    more_due: bool = False  # stopped by the time budget with rows left
    uploads_finished: list[int] = field(default_factory=list)


def schedule_writes(*, organisation_id: int) -> None:
    """Run the writer for this organisation's client once the current transaction commits."""
    from consortium_hub.registry.tasks import write_affiliations

    enqueue(write_affiliations, organisation_id)


def stale_claim_seconds() -> float:
    """How old a claim must be before it is reconciled: by then its request was answered or given up."""
    return float(settings.ORCID_TIMEOUT_SECONDS) + 5


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff (1, 2, 4 … minutes, at most 6 hours), never sooner than ORCID's Retry-After."""
    delay = min(RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1), RETRY_MAX_SECONDS)
    return max(float(delay), retry_after or 0.0)


# --- Which rows, which client ---------------------------------------------------------------------------

def _sharing_client(client_id: str) -> Q:
    """Rows of every organisation that writes with `client_id`."""
    same = Q(organisation__consortium__registry_client__client_id=client_id)
    if client_id == settings.ORCID_MEMBER_CLIENT_ID:
        same |= Q(organisation__consortium__registry_client__isnull=True)
    return same


def _granted() -> QuerySet[OrcidGrant]:
    # A grant without an ORCID iD names no record to write to: its rows wait like rows without a grant.
    return OrcidGrant.objects.filter(organisation=OuterRef("organisation"), email__iexact=OuterRef("email"),
                                     status=OrcidGrant.Status.GRANTED).exclude(orcid_id="")


def owed_rows() -> QuerySet[Affiliation]:
    """Rows the writer still owes an outcome (now or after a backoff), annotated with their granted
    grant's id (`grant_id`).

    Pending rows of researchers who have not granted access (or revoked it) are not owed: they wait for
    the researcher. A pending delete of a row that never reached ORCID needs no grant: the writer simply
    marks it deleted.
    """
    return (Affiliation.objects.filter(status__in=PENDING_STATES)
            .annotate(grant_id=Subquery(_granted().values("pk")[:1]))
            .filter(Q(grant_id__isnull=False)
                    | Q(status=Status.PENDING_DELETE, put_code="", write_started_at__isnull=True)))


def due_rows(*, now: dt.datetime) -> QuerySet[Affiliation]:
    """Owed rows the writer can act on now (see `owed_rows`)."""
    stale_before = now - dt.timedelta(seconds=stale_claim_seconds())
    return (owed_rows()
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .filter(Q(write_started_at__isnull=True) | Q(write_started_at__lte=stale_before)))


# --- The lease ------------------------------------------------------------------------------------------

def acquire_lease(client_id: str, seconds: float) -> str | None:
    """Hold the writer's lease for `client_id` for `seconds`; returns the holder token, or None if taken.

    Each step is one statement the database carries out atomically: taking over an expired lease is an
    UPDATE conditional on its expiry (of two workers, the second finds it no longer expired: PostgreSQL
    re-checks the condition once the first one's row lock is released, SQLite runs one writer at a time),
    and a first lease is an INSERT that the unique client id refuses to all but one. Wall-clock time
    (not the writer's injectable clock): the lease is shared with other processes.
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    expires_at = now + dt.timedelta(seconds=seconds)
    if WriterLease.objects.filter(client_id=client_id, expires_at__lte=now).update(holder=token,
                                                                                   expires_at=expires_at):
        return token
    try:
        with transaction.atomic():
            WriterLease.objects.create(client_id=client_id, holder=token, expires_at=expires_at)
    except IntegrityError:
        return None  # held, and not expired when we looked
    return token


def release_lease(client_id: str, token: str) -> None:
    """Give the lease up, if `token` still holds it (a worker that outlived its lease frees nothing)."""
    WriterLease.objects.filter(client_id=client_id, holder=token).delete()


# --- The writer -----------------------------------------------------------------------------------------

# Rows are claimed a group at a time (one commit before their POSTs leave), and a crash costs at most one
# group a reconciling read per row. Outcomes are committed while the writer would otherwise wait for its
# next slot under the rate limit, and at the latest when the group ends: at full rate the database work
# hides in the waits; when the writer itself is the bottleneck, commits are shared by the group.
WRITE_GROUP = 10
COMMIT_WHEN_IDLE_SECONDS = 0.01


@dataclass
class _Outcome:
    row: Affiliation
    status: str
    fields: dict[str, Any]
    count: bool


@dataclass
class _Run:
    client: OrcidClient
    clock: Callable[[], dt.datetime]
    result: WriterResult
    revoked_grants: set[int] = field(default_factory=set)
    unreadable_grants: set[int] = field(default_factory=set)  # tokens that cannot be decrypted
    uploads: set[int] = field(default_factory=set)
    claims: dict[int, dt.datetime] = field(default_factory=dict)  # row → its claim in this group
    sent: set[int] = field(default_factory=set)  # rows whose POST left in this group
    outcomes: list[_Outcome] = field(default_factory=list)  # to commit at the end of the group


def run_writer(*, organisation_id: int, time_budget_seconds: float = 50, batch_size: int = 100,
               client: OrcidClient | None = None, clock: Callable[[], dt.datetime] = timezone.now,
               monotonic: Callable[[], float] = time.monotonic) -> WriterResult:
    """Write the due rows of every organisation sharing this organisation's ORCID client.

    At least one row is worked on per run, whatever the budget, so a run always makes progress. When the
    budget runs out with rows left, the writer enqueues itself again.
    """
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        return WriterResult()
    client = client or client_for_organisation(organisation)
    result = WriterResult(client_id=client.client_id)
    lease = acquire_lease(client.client_id, time_budget_seconds + 2 * client.timeout + LEASE_MARGIN_SECONDS)
    if lease is None:
        result.locked = True
        return result
    try:
        run = _Run(client=client, clock=clock, result=result)
        deadline = monotonic() + time_budget_seconds
        last_pk = 0
        with client.buffered_log():
            while not result.more_due:
                batch = list(due_rows(now=clock()).filter(_sharing_client(client.client_id), pk__gt=last_pk)
                             .select_related("organisation").order_by("pk")[:batch_size])
                if not batch:
                    break
                last_pk = batch[-1].pk
                grants = _load_grants({row.grant_id for row in batch if row.grant_id}, run)
                for start in range(0, len(batch), WRITE_GROUP):
                    _write_group(batch[start:start + WRITE_GROUP], grants, run, deadline, monotonic)
                    if result.more_due:
                        break
                _finish_uploads(run)
                if len(batch) < batch_size:
                    break
    finally:
        release_lease(client.client_id, lease)
    if result.more_due:
        _run_again(organisation_id, client.limiter.seconds_until_free())
    return result


def _write_group(rows: list[Affiliation], grants: dict[int, OrcidGrant], run: _Run, deadline: float,
                 monotonic: Callable[[], float]) -> None:
    _claim(rows, grants, run)
    try:
        for row in rows:
            if run.result.processed and _out_of_time(run, deadline, monotonic):
                run.result.more_due = True
                break
            if run.outcomes and run.client.limiter.seconds_until_free() > COMMIT_WHEN_IDLE_SECONDS:
                _commit_outcomes(run)
            _work_on(row, grants.get(row.grant_id), run)
            run.result.processed += 1
    finally:
        # Also on the way out of a crash: what ORCID answered so far is kept if the database can keep it.
        _commit_outcomes(run)
        _release_unused_claims(rows, run)


def _out_of_time(run: _Run, deadline: float, monotonic: Callable[[], float]) -> bool:
    left = deadline - monotonic()
    # ORCID's Retry-After (held in the limiter) may outlast the budget: stop rather than sleep through it.
    return left <= 0 or run.client.limiter.seconds_until_free() > left


def _run_again(organisation_id: int, delay: float) -> None:
    from consortium_hub.registry.tasks import write_affiliations

    if delay > 0:
        transaction.on_commit(lambda: write_affiliations.schedule((organisation_id,), delay=delay))
    else:
        enqueue(write_affiliations, organisation_id)


def _finish_uploads(run: _Run) -> None:
    from consortium_hub.registry.services.summary import send_upload_summary

    for upload_id in sorted(run.uploads):
        if send_upload_summary(upload_id=upload_id, now=run.clock()):
            run.result.uploads_finished.append(upload_id)
    run.uploads.clear()


def _load_grants(grant_ids: set[int], run: _Run) -> dict[int, OrcidGrant]:
    """The batch's grants by id, access tokens decrypted one grant at a time.

    The ORM would decrypt every token as the grants are read, and one token stored under a key that is
    no longer configured would then stop the whole run, for every organisation sharing the client.
    Read as ciphertext instead, such a grant is only noted (`run.unreadable_grants`) and its rows fail
    on their own. Refresh tokens are not needed here, and not read.
    """
    grants = (OrcidGrant.objects.filter(pk__in=grant_ids).defer("access_token", "refresh_token")
              .annotate(stored_access_token=Cast("access_token", output_field=TextField())))
    loaded: dict[int, OrcidGrant] = {}
    for grant in grants:
        try:
            grant.access_token = decrypt(grant.stored_access_token) if grant.stored_access_token else ""
        except ValueError:
            run.unreadable_grants.add(grant.pk)
            grant.access_token = ""
        loaded[grant.pk] = grant
    return loaded


def _will_add(row: Affiliation, grants: dict[int, OrcidGrant], run: _Run) -> bool:
    return (not row.put_code and row.status != Status.PENDING_DELETE and row.grant_id in grants
            and row.grant_id not in run.unreadable_grants)


def _claim(rows: list[Affiliation], grants: dict[int, OrcidGrant], run: _Run) -> None:
    """Claim the group's rows that may be added, committed before any POST leaves.

    A compare-and-set: a row changed since it was read (given a put-code, or claimed afresh by a worker
    that took over a lease) is not claimed, and not added by this run.
    """
    candidates = [row.pk for row in rows if _will_add(row, grants, run)]
    run.claims.clear()
    run.sent.clear()
    if not candidates:
        return
    now = run.clock()
    stale_before = now - dt.timedelta(seconds=stale_claim_seconds())
    claimable = (Affiliation.objects.filter(pk__in=candidates, put_code="")
                 .filter(Q(write_started_at__isnull=True) | Q(write_started_at__lte=stale_before)))
    if claimable.update(write_started_at=now):
        claimed = Affiliation.objects.filter(pk__in=candidates, write_started_at=now).values_list("pk", flat=True)
        run.claims.update({pk: now for pk in claimed})


def _release_unused_claims(rows: list[Affiliation], run: _Run) -> None:
    """Claims of rows this run did not get to send: cleared, unless an older claim still awaits its
    reconciliation (that row keeps a claim, and is reconciled once it is stale)."""
    unused = [row.pk for row in rows if row.pk in run.claims and row.pk not in run.sent
              and row.write_started_at is None]
    if unused:
        claimed_at = next(iter(run.claims.values()))
        Affiliation.objects.filter(pk__in=unused, write_started_at=claimed_at).update(write_started_at=None)
    run.claims.clear()
    run.sent.clear()


def _work_on(row: Affiliation, grant: OrcidGrant | None, run: _Run) -> None:
    if row.upload_id:
        run.uploads.add(row.upload_id)
    if row.status == Status.PENDING_DELETE and not row.put_code and row.write_started_at is None:
        _store(row, run, status=Status.DELETED, next_attempt_at=None, orcid_error="")
        return
    if grant is None or grant.pk in run.revoked_grants or not grant.orcid_id:
        return  # waits for the researcher's permission
    client = run.client.bound_to(consortium_id=row.organisation.consortium_id, organisation_id=row.organisation_id)
    if row.status == Status.PENDING_DELETE:
        operation = DELETE
    else:
        operation = UPDATE if row.put_code else ADD
    if grant.pk in run.unreadable_grants:
        # Nothing can be sent for this researcher; a claim stays for reconciling once access is regranted.
        _store(row, run, status=ERROR_STATUS[operation], orcid_error=UNREADABLE_TOKEN_MESSAGE, next_attempt_at=None)
        return
    if operation == ADD and row.pk not in run.claims:
        return  # someone changed the row since it was read; a later run sees it as it is now
    # A claim whose POST may or may not have reached ORCID; it stays until the record has been read.
    unresolved_claim = row.write_started_at if not row.put_code else None
    written = {"orcid_id": grant.orcid_id, "write_started_at": None, "orcid_error": "", "attempts": 0,
               "next_attempt_at": None}
    try:
        if unresolved_claim is not None:
            adopted = _reconcile(row, grant, client)
            unresolved_claim = None
            if adopted and operation == ADD:
                _store(row, run, status=Status.IN_ORCID, put_code=adopted, last_synced_at=run.clock(), **written)
                return
            if adopted:
                # Keep the put-code before going on: the update or delete below may fail.
                _store(row, run, status=row.status, put_code=adopted, orcid_id=grant.orcid_id,
                       write_started_at=None, count=False)
                row.put_code = adopted
                operation = DELETE if operation == DELETE else UPDATE
            elif operation == DELETE:
                _store(row, run, status=Status.DELETED, write_started_at=None, orcid_error="", next_attempt_at=None)
                return
        if operation == DELETE:
            client.delete_affiliation(grant.orcid_id, grant.access_token, row.section, row.put_code)
            _store(row, run, status=Status.DELETED, last_synced_at=run.clock(), **written)
        elif operation == UPDATE:
            client.update_affiliation(grant.orcid_id, grant.access_token, row.section, row.put_code,
                                      affiliation_body(row, put_code=row.put_code))
            _store(row, run, status=Status.IN_ORCID, last_synced_at=run.clock(), **written)
        else:
            row.write_started_at = run.claims[row.pk]
            run.sent.add(row.pk)
            put_code = client.add_affiliation(grant.orcid_id, grant.access_token, row.section,
                                              affiliation_body(row))
            _store(row, run, status=Status.IN_ORCID, put_code=put_code, last_synced_at=run.clock(), **written)
    except OrcidApiError as exc:
        if operation == ADD and exc.kind is ErrorKind.UNAVAILABLE and row.pk in run.sent:
            unresolved_claim = row.write_started_at  # the POST may have arrived without its answer
        if operation == UPDATE and exc.kind is ErrorKind.RECORD_NOT_FOUND:
            try:
                _item_gone(row, grant, client, exc, run)
                return
            except OrcidApiError as record_exc:
                exc = record_exc  # the record itself is gone (or could not be read now: as if the PUT failed)
        _record_failure(row, grant, exc, operation, run, keep_claim=unresolved_claim)


def _item_gone(row: Affiliation, grant: OrcidGrant, client: OrcidClient, exc: OrcidApiError, run: _Run) -> None:
    """A PUT answered 404: the put-code, or the whole record, is gone. ORCID says 9016 for both, so the
    record's section is read to tell them apart (raising if that read fails too).

    The record is still there, so the researcher removed the item: the row says so ("user deleted"), and
    its put-code is dropped, since it names nothing any more and a later edit by the member would only
    meet the same 404; without it, that edit adds the affiliation anew.
    """
    client.list_affiliations(grant.orcid_id, grant.access_token, row.section)
    _store(row, run, status=Status.USER_DELETED, put_code="", write_started_at=None,
           orcid_error=exc.developer_message, next_attempt_at=None)


def _reconcile(row: Affiliation, grant: OrcidGrant, client: OrcidClient) -> str:
    """The put-code of the item an interrupted POST left on the record, or "" if it never arrived."""
    summaries = client.list_affiliations(grant.orcid_id, grant.access_token, row.section)
    taken = set(Affiliation.objects.filter(orcid_id=grant.orcid_id, section=row.section)
                .exclude(pk=row.pk).exclude(put_code="").values_list("put_code", flat=True))
    source = grant.client_id or client.client_id
    for summary in summaries:
        if summary.put_code not in taken and summary_matches_row(summary, row, client_id=source):
            return summary.put_code
    return ""


def _record_failure(row: Affiliation, grant: OrcidGrant, exc: OrcidApiError, operation: str, run: _Run, *,
                    keep_claim: dt.datetime | None) -> None:
    now = run.clock()
    if exc.kind is ErrorKind.INVALID_TOKEN:
        _revoke_grant(grant, run)
        return
    if exc.kind is ErrorKind.RECORD_NOT_FOUND:
        status = Status.DELETED if operation == DELETE else Status.USER_DELETED
        _store(row, run, status=status, write_started_at=None, orcid_error=exc.developer_message,
               next_attempt_at=None)
    elif exc.kind is ErrorKind.RECORD_DEACTIVATED:
        _store(row, run, status=Status.RECORD_DEACTIVATED, write_started_at=None,
               orcid_error=exc.developer_message, next_attempt_at=None)
    elif exc.retryable and row.attempts + 1 < MAX_ATTEMPTS:
        attempts = row.attempts + 1
        _store(row, run, status=RETRY_STATUS[operation], attempts=attempts, write_started_at=keep_claim,
               next_attempt_at=now + dt.timedelta(seconds=retry_delay(attempts, exc.retry_after)),
               orcid_error=exc.developer_message)
    else:
        _store(row, run, status=ERROR_STATUS[operation], attempts=row.attempts + (1 if exc.retryable else 0),
               write_started_at=keep_claim, next_attempt_at=None, orcid_error=exc.developer_message)


def _revoke_grant(grant: OrcidGrant, run: _Run) -> None:
    """ORCID no longer honours the researcher's token: the grant is revoked and every live row says so.

    Except pending deletes: the member's request stands, and is carried out if the researcher grants
    access again (marked "revoked", it would be released as an update, putting the item back).
    """
    now = run.clock()
    run.revoked_grants.add(grant.pk)
    run.result.grants_revoked += 1
    with transaction.atomic():
        grant = OrcidGrant.objects.select_for_update().get(pk=grant.pk)
        grant.status = OrcidGrant.Status.REVOKED
        grant.revoked_at = now
        grant.save(update_fields=["status", "revoked_at", "updated_at"])
        rows = (Affiliation.objects.select_for_update(of=("self",)).select_related("organisation__consortium")
                .filter(organisation_id=grant.organisation_id, email__iexact=grant.email)
                .exclude(status__in=(*NOT_LIVE_STATES, Status.USER_REVOKED_ACCESS, Status.PENDING_DELETE))
                .order_by("pk"))
        for row in rows:
            # A claim stays: if the access comes back, the row is reconciled before it is added again.
            row.status = Status.USER_REVOKED_ACCESS
            row.next_attempt_at = None
            row.save(update_fields=["status", "next_attempt_at", "updated_at"])
            run.result.outcomes[Status.USER_REVOKED_ACCESS] += 1
            if row.upload_id:
                run.uploads.add(row.upload_id)


def _store(row: Affiliation, run: _Run, *, status: str, count: bool = True, **fields: Any) -> None:
    """Queue ORCID's outcome for this row, to be committed with the others (see WRITE_GROUP)."""
    run.outcomes.append(_Outcome(row, status, fields, count))


def _commit_outcomes(run: _Run) -> None:
    outcomes, run.outcomes = run.outcomes, []
    if outcomes:
        with transaction.atomic():
            for outcome in outcomes:
                _save_outcome(outcome, run)


def _save_outcome(outcome: _Outcome, run: _Run) -> None:
    """Save one outcome through `save()` (audited), unless someone changed the row meanwhile.

    An edit or delete request made while ORCID was answering wins the status (so it is sent next);
    what ORCID did — the put-code, the record — is stored either way.
    """
    row, status, fields = outcome.row, outcome.status, outcome.fields
    # With its organisation and consortium: the audit receiver scopes the change record by them.
    current = (Affiliation.objects.select_for_update(of=("self",)).select_related("organisation__consortium")
               .filter(pk=row.pk).first())
    if current is None:
        return
    if current.updated_at != row.updated_at:
        kept = {name: fields[name] for name in ("put_code", "orcid_id") if fields.get(name)}
        if "write_started_at" in fields and current.write_started_at == row.write_started_at:
            kept["write_started_at"] = fields["write_started_at"]
        if not kept:
            return
        fields, status = kept, current.status
    for name, value in fields.items():
        setattr(current, name, value)
    current.status = status
    current.save(update_fields=_changed_fields(fields))
    if outcome.count:
        run.result.outcomes[status] += 1
    for name, value in fields.items():
        setattr(row, name, value)
    row.status = status
    row.updated_at = current.updated_at


def _changed_fields(fields: Iterable[str]) -> list[str]:
    return sorted({"status", "updated_at", *fields})


# --- The periodic sweep ---------------------------------------------------------------------------------

def sweep_due_writes(*, now: dt.datetime | None = None) -> list[int]:
    """Enqueue the writer once per client that has due rows (retries whose time has come, rows a busy
    writer could not take). Returns the organisation ids it was enqueued for."""
    now = now or timezone.now()
    seen: dict[str, int] = {}
    for organisation_id, own_client_id in (due_rows(now=now)
                                           .values_list("organisation_id",
                                                        "organisation__consortium__registry_client__client_id")
                                           .order_by("organisation_id").distinct()):
        seen.setdefault(own_client_id or settings.ORCID_MEMBER_CLIENT_ID, organisation_id)
    for organisation_id in seen.values():
        schedule_writes(organisation_id=organisation_id)
    return list(seen.values())
