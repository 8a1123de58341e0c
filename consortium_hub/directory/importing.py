"""Bulk import of organisations and contacts from the spreadsheets export writes.

    parse(content, filename)      -> Table      (core.imports: CSV/XLSX, size and encoding checks)
    validate(table, kind, user)   -> Preview    (every row: create or update, and its problems)
    rehearse(preview, user)       -> Preview    (the writes run and rolled back: rules only services know)
    apply(batch, user)            -> Preview    (re-validates, then writes every row or none)

Validation reads the database but writes nothing; the rehearsal's writes are always rolled back.
Writing goes through directory.services, so access is checked again row by row and every change is
audited. `create_batch`, `confirm_batch` and `run_batch` are what the pages, the API and the job call.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from consortium_hub.core.access import access_scope
from consortium_hub.core.imports import Problem, Table, check_columns, missing_columns, read_table, size_problem
from consortium_hub.core.roles import ADD, CHANGE
from consortium_hub.directory import identifiers, services, tabular
from consortium_hub.directory.models import Consortium, Contact, ContactRole, Organisation
from consortium_hub.directory.models_import import ImportBatch

ORGANISATIONS, CONTACTS = ImportBatch.Kind.ORGANISATIONS.value, ImportBatch.Kind.CONTACTS.value
KIND_AREAS = {ORGANISATIONS: "directory", CONTACTS: "contacts"}
CREATE, UPDATE = "create", "update"

COLUMNS = {ORGANISATIONS: tabular.ORGANISATION_COLUMNS, CONTACTS: tabular.CONTACT_COLUMNS}
REQUIRED_COLUMNS: dict[str, tuple[str | tuple[str, ...], ...]] = {
    ORGANISATIONS: ("consortium", "legal_name", "country"),
    CONTACTS: (("organisation", "organisation_ror_id"), "name", "email"),
}
# Columns that are model fields of the same name (the rest are looked up: consortium, organisation, roles).
ORGANISATION_FIELD_COLUMNS = tuple(c for c in tabular.ORGANISATION_COLUMNS if c != "consortium")
CONTACT_FIELD_COLUMNS = ("name", "email", "phone", "job_title", "orcid_id")


# --- Results ----------------------------------------------------------------------------------------

@dataclass
class RowPreview:
    row: int
    action: str = ""  # CREATE or UPDATE ("" when the row cannot be placed)
    label: str = ""
    problems: list[Problem] = field(default_factory=list)
    # What apply() hands to the service; not part of the stored preview.
    target: Any = None
    parent: Any = None  # the consortium (organisations) or organisation (contacts)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, column: str, message: str) -> None:
        self.problems.append(Problem(message, row=self.row, column=column))

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "action": self.action, "label": self.label,
                "problems": [p.as_dict() for p in self.problems]}


@dataclass
class Preview:
    kind: str
    format: str = ""
    columns: list[str] = field(default_factory=list)
    file_problems: list[Problem] = field(default_factory=list)
    rows: list[RowPreview] = field(default_factory=list)

    @property
    def problem_count(self) -> int:
        return len(self.file_problems) + sum(len(r.problems) for r in self.rows)

    @property
    def create_count(self) -> int:
        return sum(1 for r in self.rows if r.action == CREATE)

    @property
    def update_count(self) -> int:
        return sum(1 for r in self.rows if r.action == UPDATE)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0 and bool(self.rows)

    def all_problems(self) -> list[Problem]:
        return [*self.file_problems, *(p for r in self.rows for p in r.problems)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "format": self.format, "columns": self.columns,
            "counts": {"rows": len(self.rows), "create": self.create_count, "update": self.update_count,
                       "problems": self.problem_count},
            "file_problems": [p.as_dict() for p in self.file_problems],
            "rows": [r.as_dict() for r in self.rows],
        }


class ImportFailed(Exception):
    def __init__(self, problems: list[Problem], preview: Preview | None = None) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems
        self.preview = preview


# --- Parse and validate -------------------------------------------------------------------------------

def parse(content: bytes, filename: str = "") -> Table:
    return read_table(content, filename)


def validate(table: Table, kind: str, user: Any) -> Preview:
    """What importing `table` would do, row by row, and everything wrong with it. Writes nothing."""
    preview = Preview(kind=kind, format=table.format if table.headers else "", columns=list(table.headers))
    structural: dict[int, list[Problem]] = defaultdict(list)
    for problem in table.problems:
        if problem.row is None or problem.row == table.header_row:
            preview.file_problems.append(problem)
        else:
            structural[problem.row].append(problem)
    if any(p.row is None for p in preview.file_problems) or not table.headers:
        return preview  # nothing readable: the rows cannot be checked
    preview.file_problems.extend(check_columns(table, known=COLUMNS[kind], required=REQUIRED_COLUMNS[kind]))
    if missing_columns(table, REQUIRED_COLUMNS[kind]):
        return preview  # every row would repeat the same complaint
    rows = _validate_organisations(table, user) if kind == ORGANISATIONS else _validate_contacts(table, user)
    for row in rows:
        row.problems[:0] = structural.get(row.row, [])
    preview.rows = rows
    return preview


def _blank_required(row: RowPreview, values: dict[str, str], columns: Iterable[str]) -> set[str]:
    blank = set()
    for column in columns:
        if not values.get(column, ""):
            row.add(column, _("%(column)s is required.") % {"column": column})
            blank.add(column)
    return blank


def _check(row: RowPreview, column: str, validator: Any, value: str) -> bool:
    try:
        validator(value)
    except ValidationError as exc:
        for message in exc.messages:
            row.add(column, message)
        return False
    return True


def _full_clean(row: RowPreview, instance: Any, exclude: set[str]) -> None:
    """The model's own field validation, for every column not already reported."""
    try:
        instance.full_clean(exclude=sorted(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            for message in messages:
                row.add("" if name == NON_FIELD_ERRORS else name, message)


def _type_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    with translation.override("en"):
        english = {value: str(label) for value, label in Organisation.Type.choices}
    for value, label in Organisation.Type.choices:
        for name in (value, str(label), english[value]):
            lookup[name.casefold()] = value
    return lookup


def _role_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    with translation.override("en"):
        english = {value: str(label) for value, label in ContactRole.Kind.choices}
    for value, label in ContactRole.Kind.choices:
        for name in (value, str(label), english[value]):
            lookup[name.casefold()] = value
    return lookup


def parse_roles(text: str) -> tuple[list[str], list[str]]:
    """Role keys (or their labels) separated by `;` -> (role keys, names not recognised)."""
    lookup = _role_lookup()
    roles: list[str] = []
    unknown: list[str] = []
    for part in text.split(tabular.ROLE_SEPARATOR):
        name = part.strip()
        if not name:
            continue
        key = lookup.get(name.casefold())
        if key is None:
            unknown.append(name)
        elif key not in roles:
            roles.append(key)
    return roles, unknown


def _validate_organisations(table: Table, user: Any) -> list[RowPreview]:
    consortia = {c.name.casefold(): c for c in Consortium.objects.visible_to(user, ADD, area="directory")}
    present = set(table.headers)
    types = _type_lookup()
    rors = {identifiers.normalise_ror(r.values.get("ror_id", "")) for r in table.rows} - {""}
    names = {r.values.get("legal_name", "") for r in table.rows} - {""}
    by_ror = {o.ror_id: o for o in Organisation.objects.filter(ror_id__in=rors).select_related("consortium")}
    by_name = {(o.consortium_id, o.legal_name): o for o in Organisation.objects.filter(
        legal_name__in=names, consortium__in=list(consortia.values())).select_related("consortium")}
    candidates = {o.pk for o in [*by_ror.values(), *by_name.values()]}
    changeable = set(Organisation.objects.visible_to(user, CHANGE).filter(pk__in=candidates)
                     .values_list("pk", flat=True))
    seen_ror: dict[str, int] = {}
    seen_name: dict[tuple[int, str], int] = {}
    seen_target: dict[int, int] = {}
    results: list[RowPreview] = []
    for table_row in table.rows:
        values = table_row.values
        row = RowPreview(row=table_row.number, label=values.get("legal_name", ""))
        results.append(row)
        flagged = _blank_required(row, values, REQUIRED_COLUMNS[ORGANISATIONS])  # type: ignore[arg-type]
        consortium = None
        if values.get("consortium"):
            consortium = consortia.get(values["consortium"].casefold())
            if consortium is None:
                # The same words whether it does not exist or is another lead's: never reveal other consortia.
                row.add("consortium", _("Unknown consortium “%(name)s”.") % {"name": values["consortium"]})
        data: dict[str, Any] = {c: values[c] for c in ORGANISATION_FIELD_COLUMNS if c in present}
        if data.get("country"):
            data["country"] = data["country"].upper()
            if not _check(row, "country", identifiers.validate_country, data["country"]):
                flagged.add("country")
        if "type" in data:
            if not data["type"]:
                del data["type"]  # blank: the default for a new organisation, unchanged for an existing one
            elif data["type"].casefold() in types:
                data["type"] = types[data["type"].casefold()]
            else:
                row.add("type", _("“%(value)s” is not an organisation type; use one of: %(types)s.")
                        % {"value": data["type"], "types": ", ".join(Organisation.Type.values)})
                flagged.add("type")
        ror = ""
        if data.get("ror_id"):
            if _check(row, "ror_id", identifiers.validate_ror, data["ror_id"]):
                ror = data["ror_id"] = identifiers.normalise_ror(data["ror_id"])
            else:
                flagged.add("ror_id")

        # Which record the row is about: the same ROR ID, else the same consortium and legal name.
        target = None
        if ror and ror in by_ror:
            if by_ror[ror].pk in changeable:
                target = by_ror[ror]
            else:
                row.add("ror_id", _("ROR ID %(ror)s already belongs to an organisation you cannot change.")
                        % {"ror": ror})
        legal_name = values.get("legal_name", "")
        if consortium is not None and legal_name:
            named = by_name.get((consortium.pk, legal_name))
            if named is not None and target is not None and named.pk != target.pk:
                row.add("legal_name", _("%(consortium)s already has another organisation called “%(name)s” "
                                        "(ROR ID %(ror)s); this row's ROR ID belongs to %(other)s.")
                        % {"consortium": consortium, "name": legal_name, "ror": named.ror_id or "—",
                           "other": target.legal_name})
            elif named is not None and target is None and not (ror and ror in by_ror):
                if named.pk in changeable:
                    target = named
                else:
                    row.add("legal_name", _("You may not change %(name)s.") % {"name": legal_name})

        # The same organisation twice in the file.
        if ror:
            if ror in seen_ror:
                row.add("ror_id", _("Row %(first)d has the same ROR ID; each organisation may appear only once.")
                        % {"first": seen_ror[ror]})
            else:
                seen_ror[ror] = row.row
        if consortium is not None and legal_name:
            key = (consortium.pk, legal_name)
            if key in seen_name:
                row.add("legal_name", _("Row %(first)d has the same consortium and legal name; each organisation "
                                        "may appear only once.") % {"first": seen_name[key]})
            else:
                seen_name[key] = row.row
        if target is not None:
            if target.pk in seen_target and not row.problems:
                row.add("", _("Row %(first)d already updates %(name)s; each organisation may appear only once.")
                        % {"first": seen_target[target.pk], "name": target.legal_name})
            seen_target.setdefault(target.pk, row.row)

        instance = copy.copy(target) if target is not None else Organisation()
        for name, value in data.items():
            setattr(instance, name, value)
        _full_clean(row, instance, flagged | {"consortium"})
        row.action = UPDATE if target is not None else CREATE
        if consortium is not None and legal_name:
            row.label = f"{legal_name} ({consortium.name})"
        row.target, row.parent, row.data = target, consortium, data
    return results


def _validate_contacts(table: Table, user: Any) -> list[RowPreview]:
    reachable = Organisation.objects.visible_to(user, ADD, area="contacts")
    present = set(table.headers)
    rors = {identifiers.normalise_ror(r.values.get("organisation_ror_id", "")) for r in table.rows} - {""}
    names = {r.values.get("organisation", "") for r in table.rows if not r.values.get("organisation_ror_id")} - {""}
    orgs_by_ror = {o.ror_id: o for o in reachable.filter(ror_id__in=rors)}
    orgs_by_name: dict[str, list[Organisation]] = defaultdict(list)
    for o in reachable.filter(legal_name__in=names).select_related("consortium"):
        orgs_by_name[o.legal_name].append(o)

    # First pass: which organisation each row belongs to.
    results: list[RowPreview] = []
    for table_row in table.rows:
        values = table_row.values
        row = RowPreview(row=table_row.number, label=values.get("name", ""))
        results.append(row)
        ror_text, org_name = values.get("organisation_ror_id", ""), values.get("organisation", "")
        if ror_text:
            if _check(row, "organisation_ror_id", identifiers.validate_ror, ror_text):
                row.parent = orgs_by_ror.get(identifiers.normalise_ror(ror_text))
                if row.parent is None:
                    row.add("organisation_ror_id", _("Unknown organisation with ROR ID %(ror)s.") % {"ror": ror_text})
        elif org_name:
            matches = orgs_by_name.get(org_name, [])
            if len(matches) == 1:
                row.parent = matches[0]
            elif not matches:
                row.add("organisation", _("Unknown organisation “%(name)s”.") % {"name": org_name})
            else:
                row.add("organisation", _("More than one organisation is called “%(name)s” (in %(consortia)s); "
                                          "give its ROR ID in organisation_ror_id.")
                        % {"name": org_name, "consortia": ", ".join(sorted(o.consortium.name for o in matches))})
        else:
            row.add("organisation", _("organisation or organisation_ror_id is required."))

    org_ids = {r.parent.pk for r in results if r.parent is not None}
    emails = {r.values.get("email", "").lower() for r in table.rows} - {""}
    existing = {(c.organisation_id, c.email): c for c in Contact.objects.filter(
        organisation_id__in=org_ids, email__in=emails).select_related("organisation")}
    changeable = set(Contact.objects.visible_to(user, CHANGE).filter(pk__in=[c.pk for c in existing.values()])
                     .values_list("pk", flat=True))
    voting_holders = {r.organisation_id: r.contact for r in ContactRole.objects.filter(
        organisation_id__in=org_ids, role=ContactRole.Kind.VOTING).select_related("contact")}
    email_validator = EmailValidator()
    seen: dict[tuple[int, str], int] = {}
    voting_rows: dict[int, tuple[int, str]] = {}  # organisation -> (row, name) of the first voting row

    # Second pass: the row itself.
    for table_row, row in zip(table.rows, results, strict=True):
        values = table_row.values
        organisation: Organisation | None = row.parent
        flagged = _blank_required(row, values, ("name", "email"))
        data: dict[str, Any] = {c: values[c] for c in CONTACT_FIELD_COLUMNS if c in present}
        email = data.get("email", "")
        if email:
            try:
                email_validator(email)
            except ValidationError:
                row.add("email", _("“%(value)s” is not a valid email address.") % {"value": email})
                flagged.add("email")
            email = data["email"] = email.lower()
        if data.get("orcid_id"):
            if _check(row, "orcid_id", identifiers.validate_orcid_id, data["orcid_id"]):
                data["orcid_id"] = identifiers.normalise_orcid_id(data["orcid_id"])
            else:
                flagged.add("orcid_id")
        roles: list[str] | None = None
        if "roles" in present:
            roles, unknown = parse_roles(values.get("roles", ""))
            if unknown:
                row.add("roles", _("Unknown role(s): %(names)s. Use these, separated by “;”: %(known)s.")
                        % {"names": ", ".join(unknown), "known": ", ".join(ContactRole.Kind.values)})

        target = None
        if organisation is not None and email and "email" not in flagged:
            key = (organisation.pk, email)
            target = existing.get(key)
            if target is not None and target.pk not in changeable:
                row.add("email", _("You may not change the contact %(email)s.") % {"email": email})
            if key in seen:
                row.add("email", _("Row %(first)d has the same organisation and email; each contact may appear "
                                   "only once.") % {"first": seen[key]})
            else:
                seen[key] = row.row

        if organisation is not None and roles and ContactRole.Kind.VOTING in roles:
            first = voting_rows.get(organisation.pk)
            holder = voting_holders.get(organisation.pk)
            if first is not None:
                row.add("roles", _("Row %(first)d already makes %(name)s the voting contact of %(org)s; an "
                                   "organisation has exactly one voting contact.")
                        % {"first": first[0], "name": first[1], "org": organisation.legal_name})
            else:
                voting_rows[organisation.pk] = (row.row, values.get("name", ""))
            if holder is not None and (target is None or holder.pk != target.pk):
                row.add("roles", _("%(org)s already has a voting contact, %(name)s <%(email)s>. An organisation has "
                                   "exactly one: remove the voting role from %(name)s first, then import again.")
                        % {"org": organisation.legal_name, "name": holder.name, "email": holder.email})

        instance = copy.copy(target) if target is not None else Contact()
        for name, value in data.items():
            setattr(instance, name, value)
        _full_clean(row, instance, flagged | {"organisation"})
        row.action = UPDATE if target is not None else CREATE
        if organisation is not None:
            row.label = _("%(name)s <%(email)s> at %(org)s") % {"name": values.get("name", ""), "email": email,
                                                                "org": organisation.legal_name}
        row.target = target
        row.data = {**data, "roles": roles}
    return results


# --- Rehearse and apply -----------------------------------------------------------------------------------

class _Rollback(Exception):
    pass


def rehearse(preview: Preview, user: Any) -> Preview:
    """Run the rows through the services and roll everything back, so the preview also shows what only
    the services check (e.g. the contact rules of active members). Persists nothing.

    Each row runs in its own savepoint, so every failing row is reported, not just the first. Only
    done for a preview that passed every other check.
    """
    if not preview.ok:
        return preview
    try:
        with transaction.atomic():
            for row in preview.rows:
                try:
                    with transaction.atomic():
                        _apply_row(preview.kind, row, user)
                except (ValidationError, PermissionDenied, IntegrityError) as exc:
                    row.problems.extend(_problems_from_exception(row.row, exc))
            raise _Rollback
    except _Rollback:
        pass
    return preview


# --- Apply ---------------------------------------------------------------------------------------------

def apply(batch: ImportBatch, user: Any) -> Preview:
    """Re-validate the batch's file as `user` and write every row, or nothing (raises ImportFailed)."""
    with transaction.atomic():
        preview = validate(parse(bytes(batch.content), batch.original_filename), batch.kind, user)
        if not preview.ok:
            raise ImportFailed([Problem(_("The file no longer passes the checks (the directory has changed since "
                                          "the preview); nothing was imported. Correct the problems and upload "
                                          "it again."))], preview)
        for row in preview.rows:
            try:
                _apply_row(batch.kind, row, user)
            except (ValidationError, PermissionDenied, IntegrityError) as exc:
                raise ImportFailed(_problems_from_exception(row.row, exc)) from exc
    return preview


def _apply_row(kind: str, row: RowPreview, user: Any) -> None:
    data = dict(row.data)
    if kind == ORGANISATIONS:
        if row.target is None:
            services.organisation_create(user=user, consortium=row.parent, **data)
        else:
            services.organisation_update(user=user, organisation=row.target, consortium=row.parent, **data)
        return
    roles = data.pop("roles")
    if row.target is None:
        services.contact_create(user=user, organisation=row.parent, roles=roles or (), **data)
    else:
        services.contact_update(user=user, contact=row.target, roles=roles, **data)


def _problems_from_exception(row_number: int, exc: Exception) -> list[Problem]:
    if isinstance(exc, PermissionDenied):
        return [Problem(_("You may not make this change."), row=row_number)]
    if isinstance(exc, IntegrityError):
        return [Problem(_("This would duplicate an existing record: %(detail)s") % {"detail": exc}, row=row_number)]
    assert isinstance(exc, ValidationError)
    if hasattr(exc, "error_dict"):
        return [Problem(message, row=row_number, column="" if name == NON_FIELD_ERRORS else name)
                for name, messages in exc.message_dict.items() for message in messages]
    return [Problem(message, row=row_number) for message in exc.messages]


# --- Batches: what the pages, the API and the job call -------------------------------------------------

def batches_for(user: Any) -> QuerySet[ImportBatch]:
    """The import batches `user` may see: only their own (see models_import for why)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ImportBatch.objects.none()
    return ImportBatch.objects.filter(created_by_id=user.pk)


def allowed_kinds(user: Any) -> list[str]:
    scope = access_scope(user)
    return [kind for kind, area in KIND_AREAS.items() if scope.allows_anything(area, ADD)]


def create_batch(*, user: Any, kind: str, filename: str, content: bytes | None, size: int | None = None
                 ) -> ImportBatch:
    """Store an upload and its preview. `content` may be None when `size` is already over the limit."""
    if kind not in KIND_AREAS:
        raise ValidationError({"kind": _("Choose organisations or contacts.")})
    if kind not in allowed_kinds(user):
        raise PermissionDenied
    size = len(content or b"") if size is None else size
    too_large = size_problem(size)
    if too_large is not None:
        preview = Preview(kind=kind, file_problems=[too_large])
        content = b""  # not kept: it could never be imported
    else:
        preview = rehearse(validate(parse(content or b"", filename), kind, user), user)
    batch = ImportBatch(kind=kind, content=content or b"", original_filename=(filename or "")[:255],
                        format=preview.format, size=size, created_by=user)
    _store_preview(batch, preview)
    batch.save()
    return batch


def _store_preview(batch: ImportBatch, preview: Preview, failure: list[Problem] | None = None) -> None:
    batch.preview = {**preview.as_dict(), "failure": [p.as_dict() for p in failure or []]}
    batch.row_count = len(preview.rows)
    batch.create_count = preview.create_count
    batch.update_count = preview.update_count
    batch.problem_count = preview.problem_count


def confirm_batch(*, batch: ImportBatch, user: Any) -> bool:
    """Queue the batch to be applied. False (and nothing happens) unless it is a clean, unconfirmed preview."""
    from consortium_hub.directory.tasks import apply_import
    from consortium_hub.jobs.queue import enqueue

    if batch.created_by_id != getattr(user, "pk", None) or not batch.can_confirm:
        return False
    with transaction.atomic():
        # One confirm wins, however many are sent at once.
        claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PREVIEWED, problem_count=0).update(
            status=ImportBatch.Status.QUEUED, confirmed_at=timezone.now())
        if not claimed:
            return False
        enqueue(apply_import, batch.pk)
    batch.refresh_from_db()
    return True


def run_batch(batch_id: int) -> ImportBatch | None:
    """Apply a queued batch as its uploader (the job's body). Applies at most once."""
    from consortium_hub.audit.context import acting_as

    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().select_related("created_by").filter(pk=batch_id).first()
        if batch is None or batch.status != ImportBatch.Status.QUEUED:
            return batch
        with acting_as(batch.created_by, via="job:import"):
            try:
                preview = apply(batch, batch.created_by)
            except ImportFailed as failed:
                old = batch.preview
                _store_preview(batch, failed.preview or _preview_from_dict(old), failed.problems)
                batch.status = ImportBatch.Status.FAILED
            else:
                _store_preview(batch, preview)
                batch.status = ImportBatch.Status.APPLIED
                batch.applied_at = timezone.now()
        batch.save()
    return batch


def mark_failed(batch_id: int, message: str) -> None:
    """For the job when something unexpected broke: the batch must not stay queued for ever."""
    batch = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.QUEUED).first()
    if batch is None:
        return
    batch.preview = {**batch.preview, "failure": [Problem(message).as_dict()]}
    batch.status = ImportBatch.Status.FAILED
    batch.save(update_fields=["preview", "status"])


def _preview_from_dict(data: dict[str, Any]) -> Preview:
    preview = Preview(kind=data.get("kind", ""), format=data.get("format", ""), columns=data.get("columns", []),
                      file_problems=[Problem.from_dict(p) for p in data.get("file_problems", [])])
    for r in data.get("rows", []):
        preview.rows.append(RowPreview(row=r["row"], action=r.get("action", ""), label=r.get("label", ""),
                                       problems=[Problem.from_dict(p) for p in r.get("problems", [])]))
    return preview
