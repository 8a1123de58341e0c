"""The rules of an affiliation row: one set for ORCID Affiliation Manager CSV uploads and for form edits.

Pure Python (no database): a file's bytes become a `ValidationResult`, whose accepted rows carry
their kind (create, update, delete) and their fields normalised and keyed by `Affiliation` field
names, and whose problems say (spreadsheet row, column, reason). One bad row never rejects the
file; only a file that cannot be read or whose header is wrong is refused as a whole.

Speed matters (a member may upload 100,000 rows; `benchmarks/affiliation_csv.py` holds this to at
least 20,000 rows/s), so each rule is a precompiled regular expression or a set lookup, and no
Django validator object runs per row. Reasons are only translated for rows that have a problem.

Normal forms, as ORCID's member API expects them:
- email: lower-cased as a whole (one researcher however the address is capitalised);
- affiliation-section: ORCID's lower-case section name (`invited-position`);
- org-country: ISO 3166-1 alpha-2, upper-case;
- disambiguated-organization-identifier, by source: ROR as `https://ror.org/0xxxxxxNN` (checksum
  verified); RINGGOLD digits; GRID `grid.N.x` lower-case; LEI its 20 upper-case characters (ISO
  17442 check digits verified); FUNDREF (Crossref Funder ID) as `https://doi.org/10.13039/<digits>`,
  the DOI of the funder in Crossref's recommended resolver form. A FUNDREF identifier may be given
  as bare digits, `10.13039/<digits>` or any http(s) doi.org / dx.doi.org URL of it;
- dates: `yyyy`, `yyyy-MM` or `yyyy-MM-dd`, days that exist on the calendar, start <= end compared on
  the precision both have (2020 and 2020-05 do not contradict each other);
- external-id-type lower-case (ORCID's identifier types are lower-case names).
"""

from __future__ import annotations

import calendar
import contextlib
import gc
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_countries import countries

from consortium_hub.core.imports import Table, check_columns, missing_columns, read_table
from consortium_hub.directory import identifiers

CREATE, UPDATE, DELETE = "create", "update", "delete"

# ORCID's CSV column -> Affiliation field. The order is ORCID's, and the order of the content key.
COLUMN_FIELDS: dict[str, str] = {
    "email": "email",
    "affiliation-section": "section",
    "department-name": "department_name",
    "role-title": "role_title",
    "start-date": "start_date",
    "end-date": "end_date",
    "org-name": "org_name",
    "org-country": "org_country",
    "org-city": "org_city",
    "org-region": "org_region",
    "disambiguated-organization-identifier": "disambiguated_organization_identifier",
    "disambiguation-source": "disambiguation_source",
    "external-id": "external_id",
    "external-id-type": "external_id_type",
    "external-id-url": "external_id_url",
    "url": "url",
}
ID_COLUMN = "id"
COLUMNS: tuple[str, ...] = (*COLUMN_FIELDS, ID_COLUMN)
FIELD_COLUMNS: dict[str, str] = {name: column for column, name in COLUMN_FIELDS.items()}
CONTENT_FIELDS: tuple[str, ...] = tuple(COLUMN_FIELDS.values())
REQUIRED_FIELDS: tuple[str, ...] = ("email", "section", "org_name", "org_country", "org_city",
                                    "disambiguated_organization_identifier", "disambiguation_source")
REQUIRED_COLUMNS: tuple[str, ...] = tuple(FIELD_COLUMNS[name] for name in REQUIRED_FIELDS)

# Kept equal to registry.models (a test compares them) so this module needs no app registry.
SECTIONS: tuple[str, ...] = ("employment", "education", "qualification", "invited-position", "distinction",
                             "membership", "service")
SOURCES: tuple[str, ...] = ("ROR", "RINGGOLD", "GRID", "FUNDREF", "LEI")
MAX_LENGTHS: dict[str, int] = {
    "email": 254, "department_name": 1000, "role_title": 1000, "org_name": 1000, "org_city": 1000,
    "org_region": 1000, "disambiguated_organization_identifier": 255, "external_id": 255, "external_id_type": 64,
    "external_id_url": 1000, "url": 1000,
}
_FREE_TEXT = ("department_name", "role_title", "org_name", "org_city", "org_region", "external_id")
_SHORTEST_FREE_TEXT_LIMIT = min(MAX_LENGTHS[name] for name in _FREE_TEXT)
_EMAIL_MAX = MAX_LENGTHS["email"]

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9]{1,59})"
_EMAIL_RE = re.compile(rf"^({_ATOM}(?:\.{_ATOM})*)@((?:{_LABEL}\.)+{_TLD})\Z")
# A subset of what Django's URLValidator accepts (host names only: an IP address or localhost is no
# public page), so a form's full_clean never disagrees with a CSV check.
_URL_RE = re.compile(rf"^https?://(?:{_LABEL}\.)+{_TLD}\.?(?::[0-9]{{1,5}})?(?:[/?#]\S*)?\Z", re.IGNORECASE)
# ASCII digits only (\d would also take other scripts' digits, which int() reads) and \Z, not $ (which
# lets a trailing line break through).
_DATE_RE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?\Z")
_ID_RE = re.compile(r"^[0-9]{1,18}\Z")
_LEI_RE = re.compile(r"^[0-9A-Z]{18}[0-9]{2}\Z")
# Control characters (tab, line feed and carriage return aside) cannot travel in ORCID's XML or JSON.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DOI_RESOLVER_RE = re.compile(r"^https?://(?:dx\.)?doi\.org/", re.IGNORECASE)
# Case-insensitive, and forgiving of "invited position" / "invited_position".
_SECTION_LOOKUP: dict[str, str] = {
    variant: section for section in SECTIONS
    for variant in (section, section.replace("-", "_"), section.replace("-", " "))
}
_SOURCE_SET = frozenset(SOURCES)
FUNDREF_PREFIX = "https://doi.org/10.13039/"


@cache
def country_codes() -> frozenset[str]:
    """django_countries' codes, read once: a set lookup per row instead of building the list each time."""
    return frozenset(dict(countries))


# --- Results ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RowProblem:
    """One problem: a spreadsheet row (header = 1; None for the file as a whole), a column, plain words."""

    row: int | None
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass(slots=True)
class ValidRow:
    """An accepted row: what it asks for, with its fields normalised (empty for a delete)."""

    row: int
    kind: str  # CREATE, UPDATE or DELETE
    fields: dict[str, str]
    affiliation_id: int | None = None
    content_key: str = ""


@dataclass
class ValidationResult:
    rows_total: int = 0
    rows: list[ValidRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)  # row problems, in row order
    file_problems: list[RowProblem] = field(default_factory=list)
    # The rejected rows' cells (keyed by field name; the valid ones normalised), so a preview can say
    # whose row it was.
    rejected_values: dict[int, dict[str, str]] = field(default_factory=dict)

    @property
    def readable(self) -> bool:
        """False when the file as a whole is refused (unreadable, wrong header): then no row is accepted."""
        return not self.file_problems

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems if p.row is not None})

    def all_problems(self) -> list[RowProblem]:
        return [*self.file_problems, *self.problems]


# --- Field rules ---------------------------------------------------------------------------------------------

def content_key(fields: Mapping[str, str]) -> str:
    """sha256 of the normalised content (every field but the id): equal keys mean the same affiliation."""
    return _key_of([fields.get(name, "") for name in CONTENT_FIELDS])


def _key_of(values_in_field_order: Iterable[str]) -> str:
    return hashlib.sha256("\x1f".join(values_in_field_order).encode("utf-8")).hexdigest()


# Files repeat their dates and organisations on most rows: the pure checks are cached.
@lru_cache(maxsize=65536)
def parse_partial_date(text: str) -> tuple[int, ...] | None:
    """(year,), (year, month) or (year, month, day) for a date ORCID accepts; None when it is not one."""
    match = _DATE_RE.match(text)
    if match is None:
        return None
    year_text, month_text, day_text = match.groups()
    year = int(year_text)
    if year < 1:
        return None
    if month_text is None:
        return (year,)
    month = int(month_text)
    if not 1 <= month <= 12:
        return None
    if day_text is None:
        return (year, month)
    day = int(day_text)
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return (year, month, day)


def dates_in_order(start: tuple[int, ...], end: tuple[int, ...]) -> bool:
    """start <= end on the precision both dates have."""
    common = min(len(start), len(end))
    return start[:common] <= end[:common]


def is_valid_lei(value: str) -> bool:
    """ISO 17442 Legal Entity Identifier: 18 characters and 2 ISO 7064 Mod 97-10 check digits."""
    if not _LEI_RE.match(value):
        return False
    return int("".join(str(int(char, 36)) for char in value)) % 97 == 1


def normalise_email(value: str) -> str | None:
    """The address lower-cased, or None when it is not an address.

    The whole address, not only the domain: mail systems treat local parts case-insensitively in
    practice, grants are matched that way, and "Ann@uni.example" and "ann@uni.example" in one file must
    be one researcher (one item on their record), not two.
    """
    if len(value) > MAX_LENGTHS["email"]:
        return None
    match = _EMAIL_RE.match(value)
    if match is None:
        return None
    return f"{match.group(1)}@{match.group(2)}".lower()


def _passes(validator: Any, value: str) -> bool:
    try:
        validator(value)
    except ValidationError:
        return False
    return True


@lru_cache(maxsize=65536)
def stored_identifier(source: str, value: str) -> str:
    """The form ORCID is sent of a valid identifier of `source` (one of SOURCES); "" when it is not valid."""
    if not value.isascii():
        return ""  # identifiers.py's patterns use \d, which other scripts' digits would also match
    if source == "ROR":
        bare = identifiers.normalise_ror(value)
        return identifiers.ror_url(bare) if identifiers.is_valid_ror(bare) else ""
    if source == "RINGGOLD":
        return value if _passes(identifiers.validate_ringgold, value) else ""
    if source == "GRID":
        grid = identifiers.normalise_grid(value)
        return grid if _passes(identifiers.validate_grid, grid) else ""
    if source == "FUNDREF":
        digits = identifiers.normalise_funder_id(_DOI_RESOLVER_RE.sub("", value, count=1))
        return FUNDREF_PREFIX + digits if digits and _passes(identifiers.validate_funder_id, digits) else ""
    lei = value.upper()
    return lei if source == "LEI" and is_valid_lei(lei) else ""


def normalise_identifier(source: str, value: str) -> tuple[str, str]:
    """(stored form, "") for a valid identifier of `source`, or ("", reason)."""
    normal = stored_identifier(source, value)
    if normal:
        return normal, ""
    if not value.isascii():
        return "", _("%(value)s has characters a %(source)s identifier cannot have (it is written with plain "
                     "letters, digits and punctuation).") % {"value": value, "source": source}
    if source == "ROR":
        return "", _("%(value)s is not a valid ROR ID (https://ror.org/ + 0, six characters and a two-digit "
                     "checksum, e.g. https://ror.org/05dxps055).") % {"value": value}
    if source in ("RINGGOLD", "GRID"):
        # directory/identifiers.py keeps these rules and their wording.
        validator = identifiers.validate_ringgold if source == "RINGGOLD" else identifiers.validate_grid
        try:
            validator(value if source == "RINGGOLD" else identifiers.normalise_grid(value))
        except ValidationError as exc:
            return "", " ".join(exc.messages)
    if source == "FUNDREF":
        return "", _("%(value)s is not a valid Crossref Funder ID (e.g. https://doi.org/10.13039/501100000780 "
                     "or 501100000780).") % {"value": value}
    return "", _("%(value)s is not a valid LEI (20 letters and digits ending in two check digits).") % {
        "value": value}


# Our CSV exports put an apostrophe before a cell that a spreadsheet would run as a formula; a file
# exported for editing and uploaded again must mean what it meant before, so the apostrophe goes.
_GUARDED_STARTS = ("'=", "'+", "'-", "'@", "'\t", "'\r")


def unescape_formula_guard(cell: str) -> str:
    return cell[1:] if cell.startswith(_GUARDED_STARTS) else cell


def clean_content(values: Mapping[str, str], names: Mapping[str, str] = FIELD_COLUMNS
                  ) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Check and normalise one affiliation's content (values keyed by field name, already stripped).

    Returns the normalised fields and the problems as (field name, reason); `names` is how the
    reasons call other fields (CSV column names by default, form labels for forms).
    """
    out = {name: values.get(name, "") for name in CONTENT_FIELDS}
    return out, _check(out, names)


def _check(out: dict[str, str], names: Mapping[str, str]) -> list[tuple[str, str]]:
    """The rules, normalising `out` (every content field, in CONTENT_FIELDS order) in place.

    Written for speed: the common case (a good row) runs a handful of cached lookups and regexes.
    """
    errors: list[tuple[str, str]] = []
    email, section, country = out["email"], out["section"], out["org_country"]
    identifier, source = out["disambiguated_organization_identifier"], out["disambiguation_source"]
    if not (email and section and country and identifier and source and out["org_name"] and out["org_city"]):
        errors.extend((name, _("Required.")) for name in REQUIRED_FIELDS if not out[name])

    if email:
        match = _EMAIL_RE.match(email) if len(email) <= _EMAIL_MAX else None
        if match is None:
            errors.append(("email", _("“%(value)s” is not a valid email address.") % {"value": _shorten(email)}))
        else:
            out["email"] = email.lower()  # the whole address: see normalise_email

    if section:
        known = _SECTION_LOOKUP.get(section) or _SECTION_LOOKUP.get(section.lower())
        if known is None:
            errors.append(("section", _("“%(value)s” is not an affiliation section; use one of: %(sections)s.")
                           % {"value": _shorten(section), "sections": ", ".join(SECTIONS)}))
        else:
            out["section"] = known

    if country:
        codes = country_codes()
        if country not in codes:
            upper = country.upper()
            if upper in codes:
                out["org_country"] = upper
            else:
                errors.append(("org_country", _("“%(value)s” is not an ISO 3166-1 alpha-2 country code (e.g. GB, "
                                                "US, AU).") % {"value": _shorten(country)}))

    start_text, end_text = out["start_date"], out["end_date"]
    start = end = None
    if start_text:
        start = parse_partial_date(start_text)
        if start is None:
            errors.append(("start_date", _bad_date_reason(start_text)))
    if end_text:
        end = parse_partial_date(end_text)
        if end is None:
            errors.append(("end_date", _bad_date_reason(end_text)))
    if start is not None and end is not None and not dates_in_order(start, end):
        errors.append(("end_date", _("The end date %(end)s is before the start date %(start)s.")
                       % {"end": end_text, "start": start_text}))

    if source and source not in _SOURCE_SET:
        upper = source.upper()
        if upper in _SOURCE_SET:
            out["disambiguation_source"] = source = upper
        else:
            errors.append(("disambiguation_source", _("“%(value)s” is not a disambiguation source; use one of: "
                                                      "%(sources)s.") % {"value": _shorten(source),
                                                                         "sources": ", ".join(SOURCES)}))
            source = ""
    if identifier and source:
        normal = stored_identifier(source, identifier)
        if normal:
            out["disambiguated_organization_identifier"] = normal
        else:
            errors.append(("disambiguated_organization_identifier",
                           normalise_identifier(source, _shorten(identifier, 300))[1]))

    url, external_id_url = out["url"], out["external_id_url"]
    if url or external_id_url:
        for name, text in (("url", url), ("external_id_url", external_id_url)):
            if not text:
                continue
            if len(text) > MAX_LENGTHS[name]:
                errors.append((name, _too_long(text, MAX_LENGTHS[name])))
            elif _URL_RE.match(text) is None:
                errors.append((name, _("“%(value)s” is not a web address starting with http:// or https://.")
                               % {"value": _shorten(text)}))

    external_id, external_type = out["external_id"], out["external_id_type"]
    if external_id or external_type or external_id_url:
        if external_type:
            out["external_id_type"] = external_type = external_type.lower()
            if len(external_type) > MAX_LENGTHS["external_id_type"]:
                errors.append(("external_id_type", _too_long(external_type, MAX_LENGTHS["external_id_type"])))
            if not external_id:
                errors.append(("external_id", _("Required when %(other)s is given.") % {
                    "other": names["external_id_type"]}))
        if external_id and not external_type:
            errors.append(("external_id_type", _("Required when %(other)s is given.") % {
                "other": names["external_id"]}))
        if external_id_url and not external_id:
            errors.append(("external_id", _("Required when %(other)s is given.") % {
                "other": names["external_id_url"]}))

    free_text = (out["department_name"] + out["role_title"] + out["org_name"] + out["org_city"] + out["org_region"]
                 + out["external_id"])  # _FREE_TEXT, spelt out: this runs for every row
    # Only a long or odd text needs the field-by-field look (the shortest limit is 255).
    if len(free_text) > _SHORTEST_FREE_TEXT_LIMIT or _CONTROL_RE.search(free_text) is not None:
        for name in _FREE_TEXT:
            text = out[name]
            if len(text) > MAX_LENGTHS[name]:
                errors.append((name, _too_long(text, MAX_LENGTHS[name])))
            elif _CONTROL_RE.search(text):
                errors.append((name, _("Contains a control character (often pasted from another program); remove "
                                       "it.")))
    if len(out["disambiguated_organization_identifier"]) > MAX_LENGTHS["disambiguated_organization_identifier"]:
        errors.append(("disambiguated_organization_identifier",
                       _too_long(identifier, MAX_LENGTHS["disambiguated_organization_identifier"])))
    return errors


def _bad_date_reason(text: str) -> str:
    if _DATE_RE.match(text):
        return _("%(value)s is not a day on the calendar.") % {"value": text}
    return _("“%(value)s” is not a date; write yyyy, yyyy-MM or yyyy-MM-dd (e.g. 2021, 2021-09 or 2021-09-01).") % {
        "value": _shorten(text)}


def _too_long(text: str, limit: int) -> str:
    return _("Too long: %(length)d characters; at most %(limit)d.") % {"length": len(text), "limit": limit}


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def clean_affiliation(data: Mapping[str, Any], names: Mapping[str, str] | None = None) -> dict[str, str]:
    """For forms and the API: values keyed by field name -> normalised fields, or a ValidationError
    whose dict is keyed by field name (the same rules as a CSV row)."""
    values = {name: "" if data.get(name) is None else str(data.get(name)).strip() for name in CONTENT_FIELDS}
    fields, errors = clean_content(values, names or FIELD_COLUMNS)
    if errors:
        by_field: dict[str, list[str]] = {}
        for name, reason in errors:
            by_field.setdefault(name, []).append(reason)
        raise ValidationError(by_field)
    return fields


def parse_affiliation_id(text: str) -> int | None:
    """A positive integer id, or None."""
    if not _ID_RE.match(text):
        return None
    number = int(text)
    return number if number > 0 else None


# --- Files ----------------------------------------------------------------------------------------------------

def validate_file(content: bytes, filename: str = "", *, max_bytes: int | None = None) -> ValidationResult:
    """A file's bytes (CSV or XLSX, read by core.imports) -> every row checked."""
    with _without_gc_pauses():
        return validate_table(read_table(content, filename, max_bytes=max_bytes))


@contextlib.contextmanager
def _without_gc_pauses() -> Iterator[None]:
    """Reading a file allocates a few containers per row and frees none until the end, which makes the
    cyclic garbage collector run over and over for nothing (a third of the time on 100,000 rows).
    Nothing here makes reference cycles, so it is paused until the result is built."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate_table(table: Table) -> ValidationResult:
    result = ValidationResult(rows_total=len(table.rows))
    structural: dict[int, list[RowProblem]] = {}
    for problem in table.problems:
        if problem.row is None or problem.row == table.header_row:
            result.file_problems.append(RowProblem(None, problem.column, problem.message))
        else:
            structural.setdefault(problem.row, []).append(RowProblem(problem.row, problem.column, problem.message))
    if result.file_problems or not table.headers:
        return result
    result.file_problems.extend(RowProblem(None, p.column, p.message)
                                for p in check_columns(table, known=COLUMNS, required=REQUIRED_COLUMNS))
    if result.file_problems or missing_columns(table, REQUIRED_COLUMNS):
        return result

    present = [(column, name) for column, name in COLUMN_FIELDS.items() if column in table.headers]
    present_fields = [name for _column, name in present]
    cells_of = itemgetter(*[column for column, _name in present])  # >= 7 required columns: always a tuple
    blank = dict.fromkeys(CONTENT_FIELDS, "")
    has_id = ID_COLUMN in table.headers
    problems = result.problems
    accepted = result.rows
    seen_keys: dict[str, int] = {}
    seen_ids: dict[int, int] = {}
    for table_row in table.rows:
        number = table_row.number
        cells = table_row.values
        if structural and number in structural:
            problems.extend(structural[number])
            continue
        values = blank.copy()
        row_cells = cells_of(cells)
        if "'" in "".join(row_cells):
            row_cells = tuple(map(unescape_formula_guard, row_cells))
        values.update(zip(present_fields, row_cells))
        id_text = cells[ID_COLUMN] if has_id else ""
        affiliation_id = None
        if id_text:
            affiliation_id = parse_affiliation_id(id_text)
            if affiliation_id is None:
                problems.append(RowProblem(number, ID_COLUMN, _("“%(value)s” is not an id; ids are the positive "
                                                                "whole numbers of the hub's export.")
                                           % {"value": _shorten(id_text)}))
            elif affiliation_id in seen_ids:
                problems.append(RowProblem(number, ID_COLUMN, _("id %(id)d is already in row %(row)d; each "
                                                                "affiliation may appear once in a file.")
                                           % {"id": affiliation_id, "row": seen_ids[affiliation_id]}))
                affiliation_id = None
            else:
                seen_ids[affiliation_id] = number
            if not any(values.values()):
                if affiliation_id is not None:
                    accepted.append(ValidRow(number, DELETE, {}, affiliation_id))
                continue
        errors = _check(values, FIELD_COLUMNS)
        if errors:
            problems.extend(RowProblem(number, FIELD_COLUMNS[name], reason) for name, reason in errors)
            result.rejected_values[number] = values
            continue
        if id_text and affiliation_id is None:
            result.rejected_values[number] = values
            continue
        key = _key_of(values.values())  # `values` keeps CONTENT_FIELDS order: the same key as content_key()
        first = seen_keys.get(key)
        if first is not None:
            problems.append(RowProblem(number, "", _("Duplicate of row %(row)d: the same affiliation twice in one "
                                                     "file.") % {"row": first}))
            result.rejected_values[number] = values
            continue
        seen_keys[key] = number
        accepted.append(ValidRow(number, UPDATE if affiliation_id is not None else CREATE, values, affiliation_id,
                                 key))
    return result
