"""Writes of the affiliation manager: CSV uploads (preview, then apply) and single-row edits.

One set of rules: every row, from a file or a form, is checked and normalised by
`registry/validation.py`. A preview writes only the `AffiliationUpload` (with the file's bytes);
applying re-validates those stored bytes, so what is written is what was previewed, against the
database as it is at that moment.

Where each new or changed row goes (ORCID Affiliation Manager statuses):
- the researcher has granted this member access (an `OrcidGrant` for the organisation and email):
  "pending" (a new row, or an edit of a row not yet in ORCID), "pending update" (an edit of a row
  in ORCID), "pending delete" (a delete of a row in ORCID);
- otherwise "notification requested", and the researcher is asked for permission, once per email
  (`services/permissions.request_permission`, idempotent while a link is live);
- a delete of a row never written to ORCID is "deleted" at once; so is one whose ORCID record is gone
  (user deleted, deactivated). A delete of a row in ORCID becomes "pending delete" even without a
  grant: asking a researcher for permission only to remove something makes no sense, and the writer
  records what ORCID answers.
Then the writer is scheduled (`services/sync.schedule_writes`, on commit).
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from consortium_hub.audit.receivers import record_created_in_bulk
from consortium_hub.core.access import require
from consortium_hub.core.imports import size_problem
from consortium_hub.core.roles import ADD, CHANGE, DELETE
from consortium_hub.directory.models import Organisation
from consortium_hub.registry import validation
from consortium_hub.registry.models import Affiliation, AffiliationUpload, OrcidGrant, PermissionLink
from consortium_hub.registry.validation import RowProblem, ValidationResult, ValidRow

AREA = "affiliations"
COLUMNS = validation.COLUMNS
Status = Affiliation.Status
CREATE, UPDATE, DELETE_ROW = validation.CREATE, validation.UPDATE, validation.DELETE
UNCHANGED, REJECTED = "unchanged", "rejected"
# Rows per IN (...) lookup and per INSERT: well under SQLite's limit on query parameters.
BATCH = 1000
# Rows whose ORCID record no longer exists: deleting them there is neither possible nor needed.
RECORD_GONE = frozenset({Status.USER_DELETED, Status.RECORD_DEACTIVATED})
RETRY_TO = {
    Status.ERROR_ADDING: Status.PENDING,
    Status.ERROR_UPDATING: Status.PENDING_UPDATE,
    Status.ERROR_DELETING: Status.PENDING_DELETE,
}

T = TypeVar("T")


# --- Collaborators (other modules of this app, looked up when called so tests can patch them) -------------

def _permissions() -> ModuleType:
    return importlib.import_module("consortium_hub.registry.services.permissions")


def _sync() -> ModuleType:
    return importlib.import_module("consortium_hub.registry.services.sync")


# --- Per-row preview ---------------------------------------------------------------------------------------

@dataclass
class RowPreview:
    """What applying the upload would do with one row of the file."""

    row: int  # spreadsheet row number (the header is row 1)
    action: str  # create, update, delete, unchanged or rejected
    affiliation_id: int | None = None
    email: str = ""
    section: str = ""
    org_name: str = ""
    problems: list[dict[str, Any]] = field(default_factory=list)  # [{"row", "column", "reason"}]


@dataclass
class _Plan:
    """A validated file matched against this organisation's rows."""

    result: ValidationResult
    creates: list[ValidRow] = field(default_factory=list)
    updates: list[tuple[ValidRow, Affiliation]] = field(default_factory=list)
    deletes: list[tuple[ValidRow, Affiliation]] = field(default_factory=list)
    unchanged: list[tuple[ValidRow, int]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)  # the file's and the database's, in row order

    @property
    def rows_accepted(self) -> int:
        return len(self.creates) + len(self.updates) + len(self.deletes)

    @property
    def rows_rejected(self) -> int:
        return len({p.row for p in self.problems if p.row is not None})

    def problem_dicts(self) -> list[dict[str, Any]]:
        return [p.as_dict() for p in (*self.result.file_problems, *self.problems)]


def _chunks(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _plan(organisation: Organisation, result: ValidationResult, *, lock: bool) -> _Plan:
    """Classify every accepted row against the organisation's rows. `lock` locks the rows to be changed."""
    plan = _Plan(result=result)
    ids = sorted({r.affiliation_id for r in result.rows if r.affiliation_id is not None})
    # Only this organisation's rows: another member's id is indistinguishable from no id.
    own = Affiliation.objects.filter(organisation=organisation)
    if lock:
        own = own.select_for_update()
    targets: dict[int, Affiliation] = {}
    for chunk in _chunks(ids):
        targets.update((a.pk, a) for a in own.filter(pk__in=chunk))
    keys = sorted({r.content_key for r in result.rows if r.content_key})
    live: dict[str, int] = {}
    for chunk in _chunks(keys):
        live.update(Affiliation.objects.filter(organisation=organisation, content_key__in=chunk)
                    .exclude(status=Status.DELETED).values_list("content_key", "pk"))

    found: list[RowProblem] = []
    for row in result.rows:
        if row.kind == CREATE:
            existing = live.get(row.content_key)
            if existing is not None:
                plan.unchanged.append((row, existing))
            else:
                plan.creates.append(row)
            continue
        target = targets.get(row.affiliation_id)  # type: ignore[arg-type]
        if target is None:
            found.append(RowProblem(row.row, validation.ID_COLUMN,
                                    _("id %(id)d is not one of this organisation's affiliations.")
                                    % {"id": row.affiliation_id}))
        elif row.kind == DELETE_ROW:
            if target.status in (Status.DELETED, Status.PENDING_DELETE):
                plan.unchanged.append((row, target.pk))
            else:
                plan.deletes.append((row, target))
        else:
            problem = _update_problem(row.fields, row.content_key, target, live.get(row.content_key))
            if problem is not None:
                column = validation.FIELD_COLUMNS.get(problem[0], "")
                found.append(RowProblem(row.row, column, problem[1]))
            elif row.content_key == target.content_key:
                plan.unchanged.append((row, target.pk))
            else:
                plan.updates.append((row, target))
    plan.problems = sorted([*result.problems, *found], key=lambda p: p.row or 0)
    return plan


def _update_problem(fields: Mapping[str, str], key: str, target: Affiliation,
                    holder_of_key: int | None) -> tuple[str, str] | None:
    """Why `target` cannot take this content, as (field name or "", reason); None when it can."""
    if target.status == Status.DELETED:
        return "", _("Affiliation %(id)d has been deleted; to add it again, leave id empty.") % {"id": target.pk}
    if holder_of_key is not None and holder_of_key != target.pk:
        return NON_FIELD_ERRORS, _("This organisation already has this affiliation (id %(id)d): the same email, "
                                   "section, dates and organisation.") % {"id": holder_of_key}
    # A claimed row (write_started_at) may be on that record already: ORCID's answer is still on its way.
    if (target.put_code or target.write_started_at) and fields["email"].lower() != target.email.lower():
        return "email", _("Affiliation %(id)d is on %(email)s's ORCID record, so its email cannot change; delete "
                          "it and add the new one as a new row.") % {"id": target.pk, "email": target.email}
    return None


# --- Uploads -----------------------------------------------------------------------------------------------

@transaction.atomic
def preview_upload(*, user: Any, organisation: Organisation, uploaded_file: UploadedFile) -> AffiliationUpload:
    """Store the file and what applying it would do (counts and every row's problems). Writes no affiliation."""
    require(user, ADD, AREA, organisation_id=organisation.pk, consortium_id=organisation.consortium_id)
    upload = AffiliationUpload(organisation=organisation, filename=(uploaded_file.name or "")[-255:],
                               uploaded_by=_person(user))
    # The size is checked before the file is read into memory.
    too_large = size_problem(uploaded_file.size or 0)
    if too_large is None:
        uploaded_file.seek(0)  # whatever looked at the upload before (a form's checks) may have read it
    content = b"" if too_large is not None else uploaded_file.read()
    too_large = too_large or size_problem(len(content))
    if too_large is not None:
        upload.problems = [RowProblem(None, "", too_large.message).as_dict()]
        upload.save()
        return upload
    upload.content = content
    upload.content_sha256 = hashlib.sha256(content).hexdigest()
    plan = _plan(organisation, validation.validate_file(content, upload.filename), lock=False)
    _store_counts(upload, plan)
    earlier = applied_earlier(upload)
    if earlier is not None:
        upload.problems.insert(0, RowProblem(None, "", _already_applied(earlier)).as_dict())
    upload.save()
    return upload


def applied_earlier(upload: AffiliationUpload) -> AffiliationUpload | None:
    """The other upload of this same file that was applied for this organisation, if any."""
    if not upload.content_sha256:
        return None
    return (AffiliationUpload.objects.filter(organisation_id=upload.organisation_id,
                                             content_sha256=upload.content_sha256, applied_at__isnull=False)
            .exclude(pk=upload.pk).defer("content").first())


def _already_applied(earlier: AffiliationUpload) -> str:
    return _("This file was already applied on %(date)s (upload %(id)d); it cannot be applied again.") % {
        "date": formats.date_format(timezone.localtime(earlier.applied_at), "DATETIME_FORMAT"), "id": earlier.pk}


def _store_counts(upload: AffiliationUpload, plan: _Plan) -> None:
    upload.rows_total = plan.result.rows_total
    upload.rows_accepted = plan.rows_accepted
    upload.rows_rejected = plan.rows_rejected
    upload.rows_unchanged = len(plan.unchanged)
    upload.problems = plan.problem_dicts()


def preview_rows(upload: AffiliationUpload) -> list[RowPreview]:
    """Every row of the stored file and what applying it would do now, in file order."""
    if not upload.content:
        return []
    organisation = upload.organisation
    plan = _plan(organisation, validation.validate_file(bytes(upload.content), upload.filename), lock=False)
    rows: dict[int, RowPreview] = {}

    def add(valid: ValidRow, action: str, affiliation_id: int | None, source: Mapping[str, str]) -> None:
        rows[valid.row] = RowPreview(valid.row, action, affiliation_id, source.get("email", ""),
                                     source.get("section", ""), source.get("org_name", ""))

    for valid in plan.creates:
        add(valid, CREATE, None, valid.fields)
    for valid, target in plan.updates:
        add(valid, UPDATE, target.pk, valid.fields)
    for valid, target in plan.deletes:
        add(valid, DELETE_ROW, target.pk, {"email": target.email, "section": target.section,
                                           "org_name": target.org_name})
    for valid, affiliation_id in plan.unchanged:
        add(valid, UNCHANGED, affiliation_id, valid.fields)
    written = {**plan.result.rejected_values, **{r.row: r.fields for r in plan.result.rows}}
    for problem in plan.problems:
        if problem.row is None:
            continue
        preview = rows.get(problem.row)
        if preview is None or preview.action != REJECTED:
            source = written.get(problem.row, {})
            preview = rows[problem.row] = RowPreview(problem.row, REJECTED, None, source.get("email", ""),
                                                     source.get("section", ""), source.get("org_name", ""))
        preview.problems.append(problem.as_dict())
    return [rows[number] for number in sorted(rows)]


@transaction.atomic
def apply_upload(*, user: Any, upload: AffiliationUpload, language: str) -> AffiliationUpload:
    """Write the previewed file's accepted rows, once. Rejected rows are reported, never written."""
    organisation = upload.organisation
    require(user, ADD, AREA, organisation_id=organisation.pk, consortium_id=organisation.consortium_id)
    if language not in PermissionLink.Language.values:
        raise ValidationError({"language": _("Choose one of the languages offered.")})
    # Locked: two clicks on "apply" (or two workers) run one after the other, and the second stops here.
    locked = AffiliationUpload.objects.select_for_update().get(pk=upload.pk)
    if locked.applied_at is not None:
        raise ValidationError(_("This upload was already applied on %(date)s.") % {
            "date": formats.date_format(timezone.localtime(locked.applied_at), "DATETIME_FORMAT")})
    earlier = applied_earlier(locked)
    if earlier is not None:
        raise ValidationError(_already_applied(earlier))
    if not locked.content:
        raise ValidationError(_("This upload has no file that could be applied; upload the file again."))
    result = validation.validate_file(bytes(locked.content), locked.filename)
    if not result.readable:
        raise ValidationError([p.reason for p in result.file_problems])
    plan = _plan(organisation, result, lock=True)
    if plan.updates:
        require(user, CHANGE, AREA, organisation_id=organisation.pk, consortium_id=organisation.consortium_id)
    if plan.deletes:
        require(user, DELETE, AREA, organisation_id=organisation.pk, consortium_id=organisation.consortium_id)
    if not plan.rows_accepted:
        raise ValidationError(_("Nothing to apply: no row of this file adds, changes or deletes an affiliation."))

    granted = _granted_emails(organisation.pk,
                              [r.fields["email"] for r in plan.creates] + [r.fields["email"] for r, _a in plan.updates])
    to_ask: dict[str, str] = {}
    created: list[Affiliation] = []
    for row in plan.creates:
        affiliation = Affiliation(organisation=organisation, upload=locked, content_key=row.content_key, **row.fields)
        affiliation.status = _status_for_write(affiliation, granted, to_ask)
        created.append(affiliation)
    for row, affiliation in plan.updates:
        _set_content(affiliation, row.fields, row.content_key)
        affiliation.upload = locked
        affiliation.status = _status_for_write(affiliation, granted, to_ask)
        _save(affiliation)
    for _row, affiliation in plan.deletes:
        affiliation.upload = locked
        _mark_for_delete(affiliation)
        _save(affiliation)
    try:
        with transaction.atomic():
            Affiliation.objects.bulk_create(created, batch_size=BATCH)
    except IntegrityError as exc:
        raise ValidationError(_("Some of these affiliations were added by someone else while the file was being "
                                "applied; nothing was written. Preview the file again.")) from exc
    # bulk_create sends no signals: the change log gets its records here, in the same transaction.
    record_created_in_bulk(created)

    locked.applied_at = timezone.now()
    locked.language = language
    _store_counts(locked, plan)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:  # one_applied_upload_per_file_per_member: the same file, applied meanwhile
        raise ValidationError(_("This file was already applied for this organisation; it cannot be applied "
                                "again.")) from exc

    for email in to_ask.values():
        _permissions().request_permission(organisation=organisation, email=email, language=language,
                                          created_by=user)
    _sync().schedule_writes(organisation_id=organisation.pk)
    return locked


def _granted_emails(organisation_id: int, emails: Iterable[str]) -> set[str]:
    """The (lower-cased) emails among `emails` whose researchers granted this organisation access."""
    wanted = sorted({email.lower() for email in emails})
    granted: set[str] = set()
    grants = (OrcidGrant.objects.filter(organisation_id=organisation_id, status=OrcidGrant.Status.GRANTED)
              .annotate(email_lower=Lower("email")))
    for chunk in _chunks(wanted):
        granted.update(grants.filter(email_lower__in=chunk).values_list("email_lower", flat=True))
    return granted


def _status_for_write(affiliation: Affiliation, granted: set[str], to_ask: dict[str, str]) -> str:
    """The status of a new or edited row; emails without a grant are collected in `to_ask` (once each)."""
    lowered = affiliation.email.lower()
    if lowered in granted:
        return Status.PENDING_UPDATE if affiliation.put_code else Status.PENDING
    to_ask.setdefault(lowered, affiliation.email)
    return Status.NOTIFICATION_REQUESTED


def _set_content(affiliation: Affiliation, fields: Mapping[str, str], key: str) -> None:
    for name, value in fields.items():
        setattr(affiliation, name, value)
    affiliation.content_key = key
    _reset_attempts(affiliation)


def _reset_attempts(affiliation: Affiliation) -> None:
    affiliation.attempts = 0
    affiliation.next_attempt_at = None
    affiliation.orcid_error = ""


def _mark_for_delete(affiliation: Affiliation) -> None:
    # A write may have reached ORCID without its answer being stored (write_started_at): only the writer
    # can tell, so that row is deleted through it too.
    never_written = not affiliation.put_code and affiliation.write_started_at is None
    affiliation.status = Status.DELETED if never_written or affiliation.status in RECORD_GONE else Status.PENDING_DELETE
    _reset_attempts(affiliation)


def _save(affiliation: Affiliation) -> None:
    try:
        with transaction.atomic():
            affiliation.save()
    except IntegrityError as exc:
        raise ValidationError({NON_FIELD_ERRORS: _("This organisation already has this affiliation (the same email, "
                                                   "section, dates and organisation).")}) from exc


def _person(user: Any) -> Any:
    return user if user is not None and getattr(user, "is_authenticated", False) else None


# --- Single rows (forms and the API) -------------------------------------------------------------------------

def _field_labels() -> dict[str, str]:
    return {name: str(Affiliation._meta.get_field(name).verbose_name) for name in validation.CONTENT_FIELDS}


def _clean(data: Mapping[str, Any]) -> tuple[dict[str, str], str]:
    fields = validation.clean_affiliation(data, _field_labels())
    return fields, validation.content_key(fields)


def _live_holder(organisation_id: int, key: str, *, other_than: int | None = None) -> int | None:
    rows = Affiliation.objects.filter(organisation_id=organisation_id, content_key=key).exclude(status=Status.DELETED)
    if other_than is not None:
        rows = rows.exclude(pk=other_than)
    return rows.values_list("pk", flat=True).first()


def _duplicate(holder: int) -> ValidationError:
    return ValidationError({NON_FIELD_ERRORS: _("This organisation already has this affiliation (id %(id)d): the same "
                                                "email, section, dates and organisation.") % {"id": holder}})


def _request_language(language: str | None) -> str:
    """The permission email's language: the one given, else the user's own if ORCID offers it, else English."""
    for candidate in (language, (translation.get_language() or "").split("-")[0]):
        if candidate in PermissionLink.Language.values:
            return candidate
    return PermissionLink.Language.EN


def _after_write(*, user: Any, affiliation: Affiliation, to_ask: dict[str, str], language: str | None) -> None:
    for email in to_ask.values():
        _permissions().request_permission(organisation=affiliation.organisation, email=email,
                                          language=_request_language(language), created_by=user)
    if affiliation.status in (Status.PENDING, Status.PENDING_UPDATE, Status.PENDING_DELETE):
        _sync().schedule_writes(organisation_id=affiliation.organisation_id)


def _lock(affiliation: Affiliation) -> Affiliation:
    return Affiliation.objects.select_for_update().select_related("organisation").get(pk=affiliation.pk)


@transaction.atomic
def affiliation_create(*, user: Any, organisation: Organisation, data: Mapping[str, Any],
                       language: str | None = None) -> Affiliation:
    """One new row (fields keyed by Affiliation field names); ValidationError keyed by field name."""
    require(user, ADD, AREA, organisation_id=organisation.pk, consortium_id=organisation.consortium_id)
    fields, key = _clean(data)
    holder = _live_holder(organisation.pk, key)
    if holder is not None:
        raise _duplicate(holder)
    affiliation = Affiliation(organisation=organisation, content_key=key, **fields)
    to_ask: dict[str, str] = {}
    affiliation.status = _status_for_write(affiliation, _granted_emails(organisation.pk, [affiliation.email]), to_ask)
    affiliation.full_clean(exclude=["organisation", "upload"], validate_unique=False, validate_constraints=False)
    _save(affiliation)
    _after_write(user=user, affiliation=affiliation, to_ask=to_ask, language=language)
    return affiliation


@transaction.atomic
def affiliation_update(*, user: Any, affiliation: Affiliation, data: Mapping[str, Any],
                       language: str | None = None) -> Affiliation:
    """Edit a row; a row in ORCID goes to "pending update". Unchanged content changes nothing."""
    organisation = affiliation.organisation
    require(user, CHANGE, AREA, organisation_id=organisation.pk, consortium_id=organisation.consortium_id)
    locked = _lock(affiliation)
    fields, key = _clean(data)
    if key == locked.content_key and locked.status != Status.DELETED:
        return locked
    problem = _update_problem(fields, key, locked, _live_holder(organisation.pk, key, other_than=locked.pk))
    if problem is not None:
        raise ValidationError({problem[0] or NON_FIELD_ERRORS: problem[1]})
    _set_content(locked, fields, key)
    to_ask: dict[str, str] = {}
    locked.status = _status_for_write(locked, _granted_emails(organisation.pk, [locked.email]), to_ask)
    locked.full_clean(exclude=["organisation", "upload"], validate_unique=False, validate_constraints=False)
    _save(locked)
    _after_write(user=user, affiliation=locked, to_ask=to_ask, language=language)
    return locked


@transaction.atomic
def affiliation_delete(*, user: Any, affiliation: Affiliation) -> Affiliation:
    """Delete a row: from ORCID through the writer ("pending delete"), or at once if it never got there."""
    organisation = affiliation.organisation
    require(user, DELETE, AREA, organisation_id=organisation.pk, consortium_id=organisation.consortium_id)
    locked = _lock(affiliation)
    if locked.status in (Status.DELETED, Status.PENDING_DELETE):
        return locked
    _mark_for_delete(locked)
    _save(locked)
    _after_write(user=user, affiliation=locked, to_ask={}, language=None)
    return locked


@transaction.atomic
def affiliation_retry(*, user: Any, affiliation: Affiliation) -> Affiliation:
    """Send a failed row to ORCID again: back to the pending status it failed in, attempts reset."""
    organisation = affiliation.organisation
    require(user, CHANGE, AREA, organisation_id=organisation.pk, consortium_id=organisation.consortium_id)
    locked = _lock(affiliation)
    if locked.status in RETRY_TO:
        locked.status = RETRY_TO[locked.status]
    elif locked.status == Status.PENDING_RETRY:
        locked.status = Status.PENDING_UPDATE if locked.put_code else Status.PENDING
    else:
        raise ValidationError({"status": _("Only a row that failed to reach ORCID can be retried; this one is "
                                           "“%(status)s”.") % {"status": locked.get_status_display()}})
    _reset_attempts(locked)
    _save(locked)
    _after_write(user=user, affiliation=locked, to_ask={}, language=None)
    return locked
