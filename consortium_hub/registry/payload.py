"""ORCID v3.0 affiliation JSON: built from a hub row, read back from a record, and matched. Pure functions.

`affiliation_body` turns an `Affiliation` (or a dict of its fields) into the body of a POST or PUT.
`summaries_from_group_list` reads the answer of `GET /v3.0/{orcid}/{section}s`. `summary_matches_row`
is what crash reconciliation asks: is this item on the record the one this row would have written?
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_PARTIAL_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_SPACES_RE = re.compile(r"\s+")
ROR_PREFIX = "https://ror.org/"


@dataclass(frozen=True)
class AffiliationSummary:
    """One item of a record's section, as ORCID lists it."""

    section: str
    put_code: str
    source_client_id: str
    organization_name: str
    disambiguated_identifier: str
    disambiguation_source: str
    department_name: str
    role_title: str
    start_date: str  # yyyy, yyyy-MM or yyyy-MM-dd ("" when none)
    end_date: str
    city: str = ""
    country: str = ""


def _field(row: Any, name: str) -> str:
    value = row.get(name, "") if isinstance(row, Mapping) else getattr(row, name, "")
    return "" if value is None else str(value)


# --- Dates ----------------------------------------------------------------------------------------------

def fuzzy_date(value: str) -> dict[str, Any] | None:
    """`2024`, `2024-03` or `2024-03-01` → ORCID's {year, month, day} (each `{"value": "…"}` or null)."""
    value = (value or "").strip()
    if not value:
        return None
    match = _PARTIAL_DATE_RE.match(value)
    if match is None:
        raise ValueError(f"not a partial date: {value!r}")
    year, month, day = match.groups()
    return {
        "year": {"value": year},
        "month": {"value": f"{int(month):02d}"} if month else None,
        "day": {"value": f"{int(day):02d}"} if day else None,
    }


def _date_part(part: Any) -> str:
    # ORCID wraps each part as {"value": "03"}; accept a bare value too.
    if isinstance(part, Mapping):
        part = part.get("value")
    return "" if part in (None, "") else str(part)


def partial_date(data: Any) -> str:
    """ORCID's {year, month, day} → `yyyy`, `yyyy-MM` or `yyyy-MM-dd` ("" for none)."""
    if not isinstance(data, Mapping):
        return ""
    year, month, day = (_date_part(data.get(key)) for key in ("year", "month", "day"))
    if not year:
        return ""
    text = f"{int(year):04d}"
    if month:
        text += f"-{int(month):02d}"
        if day:
            text += f"-{int(day):02d}"
    return text


def normalise_date(value: str) -> str:
    """The canonical spelling of a partial date (`2024-3` and `2024-03` are the same month)."""
    return partial_date(fuzzy_date(value)) if value and value.strip() else ""


# --- Organisation identifiers ---------------------------------------------------------------------------

def orcid_identifier(source: str, identifier: str) -> str:
    """The identifier as ORCID stores it: ROR as a full https://ror.org/ URL, others unchanged."""
    identifier = identifier.strip()
    if source == "ROR" and identifier and not identifier.lower().startswith(("http://", "https://")):
        return ROR_PREFIX + identifier
    return identifier


def _identifier_key(source: str, identifier: str) -> tuple[str, str]:
    value = identifier.strip()
    if source.upper() == "ROR":
        value = value.rsplit("/", 1)[-1]
    return source.upper(), value.casefold()


# --- Building bodies ------------------------------------------------------------------------------------

def affiliation_body(row: Any, *, put_code: str | int | None = None) -> dict[str, Any]:
    """The JSON body ORCID's member API takes for a POST (no put-code) or a PUT (with it)."""
    source = _field(row, "disambiguation_source")
    address: dict[str, Any] = {"city": _field(row, "org_city"), "country": _field(row, "org_country").upper()}
    address["region"] = _field(row, "org_region") or None
    organization: dict[str, Any] = {"name": _field(row, "org_name"), "address": address}
    identifier = _field(row, "disambiguated_organization_identifier")
    if identifier:
        organization["disambiguated-organization"] = {
            "disambiguated-organization-identifier": orcid_identifier(source, identifier),
            "disambiguation-source": source,
        }
    body: dict[str, Any] = {
        "department-name": _field(row, "department_name") or None,
        "role-title": _field(row, "role_title") or None,
        "start-date": fuzzy_date(_field(row, "start_date")),
        "end-date": fuzzy_date(_field(row, "end_date")),
        "organization": organization,
        "url": {"value": _field(row, "url")} if _field(row, "url") else None,
    }
    external_id = _field(row, "external_id")
    if external_id:
        entry: dict[str, Any] = {
            "external-id-type": _field(row, "external_id_type"),
            "external-id-value": external_id,
            "external-id-relationship": "self",
        }
        if _field(row, "external_id_url"):
            entry["external-id-url"] = {"value": _field(row, "external_id_url")}
        body["external-ids"] = {"external-id": [entry]}
    if put_code not in (None, ""):
        body["put-code"] = int(put_code)
    return body


# --- Reading summaries ----------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("value")
    return "" if value is None else str(value)


def summary_from_json(section: str, data: Mapping[str, Any]) -> AffiliationSummary:
    """One `<section>-summary` object (or a full item) → AffiliationSummary."""
    source = data.get("source") or {}
    client = (source.get("source-client-id") or {}) if isinstance(source, Mapping) else {}
    organization = data.get("organization") or {}
    address = organization.get("address") or {}
    disambiguated = organization.get("disambiguated-organization") or {}
    put_code = data.get("put-code")
    return AffiliationSummary(
        section=section,
        put_code="" if put_code is None else str(put_code),
        source_client_id=_text(client.get("path")) if isinstance(client, Mapping) else "",
        organization_name=_text(organization.get("name")),
        disambiguated_identifier=_text(disambiguated.get("disambiguated-organization-identifier")),
        disambiguation_source=_text(disambiguated.get("disambiguation-source")),
        department_name=_text(data.get("department-name")),
        role_title=_text(data.get("role-title")),
        start_date=partial_date(data.get("start-date")),
        end_date=partial_date(data.get("end-date")),
        city=_text(address.get("city")),
        country=_text(address.get("country")),
    )


def summaries_from_group_list(section: str, data: Mapping[str, Any]) -> list[AffiliationSummary]:
    """The answer of `GET /v3.0/{orcid}/{section}s`: {"affiliation-group": [{"summaries": [...]}]}."""
    key = f"{section}-summary"
    found: list[AffiliationSummary] = []
    for group in data.get("affiliation-group") or []:
        for entry in (group or {}).get("summaries") or []:
            summary = (entry or {}).get(key)
            if isinstance(summary, Mapping):
                found.append(summary_from_json(section, summary))
    return found


# --- Matching -------------------------------------------------------------------------------------------

def _same_text(a: str, b: str) -> bool:
    return _SPACES_RE.sub(" ", a).strip().casefold() == _SPACES_RE.sub(" ", b).strip().casefold()


def summary_matches_row(summary: AffiliationSummary, row: Any, *, client_id: str) -> bool:
    """Whether `summary` is the item this row writes: our client's, same section, organisation (name and
    identifier), start date and role title. Used after a crash to adopt a put-code instead of adding twice.
    """
    if summary.source_client_id != client_id or summary.section != _field(row, "section"):
        return False
    if not _same_text(summary.organization_name, _field(row, "org_name")):
        return False
    row_identifier = _field(row, "disambiguated_organization_identifier")
    if row_identifier or summary.disambiguated_identifier:
        row_key = _identifier_key(_field(row, "disambiguation_source"), row_identifier)
        summary_key = _identifier_key(summary.disambiguation_source, summary.disambiguated_identifier)
        if row_key != summary_key:
            return False
    if normalise_date(summary.start_date) != normalise_date(_field(row, "start_date")):
        return False
    return _same_text(summary.role_title, _field(row, "role_title"))
