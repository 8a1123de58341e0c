"""Affiliation bodies as the member API v3.0 accepts them: sections, partial dates, validation.

Pure functions over plain dicts in ORCID's JSON naming, so the same rules serve
the HTTP handlers, the ``/_emulator`` seeding endpoint and property-based tests.
:func:`normalize_affiliation` turns an incoming body into the canonical stored
form (every field present, ``None`` when absent) or raises
:class:`~orcid_emulator.errors.InvalidAffiliation` listing every problem found.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .errors import InvalidAffiliation

SECTIONS: tuple[str, ...] = (
    "employment",
    "education",
    "qualification",
    "invited-position",
    "distinction",
    "membership",
    "service",
)
PLURALS: dict[str, str] = {section: f"{section}s" for section in SECTIONS}
SECTION_BY_PLURAL: dict[str, str] = {plural: section for section, plural in PLURALS.items()}

DISAMBIGUATION_SOURCES: tuple[str, ...] = ("ROR", "RINGGOLD", "GRID", "FUNDREF", "LEI")
RELATIONSHIPS: tuple[str, ...] = ("self", "part-of", "version-of", "funded-by")
VISIBILITIES: tuple[str, ...] = ("public", "limited", "registered-only", "private")
MAX_TEXT_LENGTH = 1000

# ISO 3166-1 alpha-2, plus XK (Kosovo), which ORCID's country list also offers.
COUNTRY_CODES: frozenset[str] = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
    BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
    FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
    IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
    YT ZA ZM ZW XK
    """.split()
)

# Fields ORCID sets itself; clients often echo them back from a GET, so they are accepted and ignored.
READ_ONLY_FIELDS: frozenset[str] = frozenset(
    {"created-date", "last-modified-date", "source", "path", "put-code", "display-index", "visibility"}
)
WRITABLE_FIELDS: tuple[str, ...] = (
    "department-name",
    "role-title",
    "start-date",
    "end-date",
    "organization",
    "url",
    "external-ids",
)

_YEAR = re.compile(r"\d{4}")
_TWO_DIGITS = re.compile(r"\d{2}")
_ISO_DATE = re.compile(r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?")
# ROR ids: a leading 0, six Crockford base32 characters (no i, l, o, u), two check digits.
_ROR_ID = re.compile(r"0[0-9a-hjkmnp-tv-z]{6}[0-9]{2}")
_ROR_PREFIXES = ("https://ror.org/", "http://ror.org/", "ror.org/")
_GRID_ID = re.compile(r"grid\.\d+\.[0-9a-f]+")
_LEI = re.compile(r"[0-9A-Z]{18}[0-9]{2}")


# -- partial dates -------------------------------------------------------------


@dataclass(frozen=True)
class PartialDate:
    """ORCID's fuzzy date: a year, optionally a month, optionally a day (only with a month)."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise InvalidAffiliation(f"year {self.year:04d} is outside 0001-9999")
        if self.month is None:
            if self.day is not None:
                raise InvalidAffiliation("a day needs a month")
            return
        if not 1 <= self.month <= 12:
            raise InvalidAffiliation(f"month {self.month:02d} does not exist")
        if self.day is not None and not 1 <= self.day <= calendar.monthrange(self.year, self.month)[1]:
            raise InvalidAffiliation(f"{self.year:04d}-{self.month:02d}-{self.day:02d} is not a calendar date")

    @property
    def precision(self) -> int:
        """1 for a year, 2 for year and month, 3 for a full date."""
        return 1 + (self.month is not None) + (self.day is not None)

    @classmethod
    def from_orcid(cls, value: Any, label: str = "date") -> PartialDate:
        """Parse ``{"year": {"value": "2020"}, "month": {"value": "01"}, "day": null}``."""
        if not isinstance(value, Mapping):
            raise InvalidAffiliation(f"{label} must be an object with year, month and day")
        unknown = sorted(set(value) - {"year", "month", "day"})
        if unknown:
            raise InvalidAffiliation(f"{label} has unknown field(s): {', '.join(unknown)}")
        year = _date_part(value.get("year"), f"{label}.year", _YEAR, "four digits")
        if year is None:
            raise InvalidAffiliation(f"{label}.year is required")
        month = _date_part(value.get("month"), f"{label}.month", _TWO_DIGITS, "two digits")
        day = _date_part(value.get("day"), f"{label}.day", _TWO_DIGITS, "two digits")
        try:
            return cls(year, month, day)
        except InvalidAffiliation as exc:
            raise InvalidAffiliation(f"{label}: {exc}") from None

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """``yyyy``, ``yyyy-MM`` or ``yyyy-MM-dd``, as ORCID's Affiliation Manager CSV writes dates."""
        match = _ISO_DATE.fullmatch(text.strip())
        if match is None:
            raise InvalidAffiliation(f"{text!r} is not yyyy, yyyy-MM or yyyy-MM-dd")
        month, day = match.group("month"), match.group("day")
        return cls(int(match.group("year")), int(month) if month else None, int(day) if day else None)

    def to_orcid(self) -> dict[str, Any]:
        return {
            "year": {"value": f"{self.year:04d}"},
            "month": {"value": f"{self.month:02d}"} if self.month is not None else None,
            "day": {"value": f"{self.day:02d}"} if self.day is not None else None,
        }

    def __str__(self) -> str:
        parts = [f"{self.year:04d}"]
        if self.month is not None:
            parts.append(f"{self.month:02d}")
        if self.day is not None:
            parts.append(f"{self.day:02d}")
        return "-".join(parts)


def dates_in_order(start: PartialDate, end: PartialDate) -> bool:
    """``start <= end``, compared only as precisely as the vaguer of the two.

    2020-05 to 2020 is fine: nothing says the year ended before May.
    """
    depth = min(start.precision, end.precision)
    return (start.year, start.month, start.day)[:depth] <= (end.year, end.month, end.day)[:depth]


def _date_part(value: Any, label: str, pattern: re.Pattern[str], shape: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) != {"value"}:
        raise InvalidAffiliation(f'{label} must look like {{"value": "..."}}')
    raw = value["value"]
    if raw is None:
        return None
    # ORCID's JSON binding turns numbers into strings, so 2020 is as good as "2020".
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise InvalidAffiliation(f"{label} must be a string of {shape}")
    text = str(raw)
    if not pattern.fullmatch(text):
        raise InvalidAffiliation(f"{label} must be {shape}, got {text!r}")
    return int(text)


# -- organisation identifiers --------------------------------------------------


def normalize_org_identifier(source: str, identifier: str) -> str:
    """The comparable form of a disambiguated organisation id: bare lower-case ROR id, GRID in lower case."""
    value = identifier.strip()
    if source == "ROR":
        lowered = value.lower()
        for prefix in _ROR_PREFIXES:
            if lowered.startswith(prefix):
                return lowered[len(prefix) :]
        return lowered
    if source == "GRID":
        return value.lower()
    return value


def _identifier_problem(source: str, identifier: str) -> str | None:
    normalized = normalize_org_identifier(source, identifier)
    if source == "ROR" and not _ROR_ID.fullmatch(normalized):
        return f"{identifier!r} is not a ROR id (https://ror.org/0xxxxxxNN)"
    if source == "RINGGOLD" and not normalized.isdigit():
        return f"{identifier!r} is not a Ringgold id (digits only)"
    if source == "GRID" and not _GRID_ID.fullmatch(normalized):
        return f"{identifier!r} is not a GRID id (grid.NNNN.x)"
    if source == "LEI" and not _LEI.fullmatch(normalized):
        return f"{identifier!r} is not an LEI (20 characters)"
    return None


# -- the whole body ------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def text(self, label: str, value: Any, *, required: bool = False) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(f"{label} is required")
            return None
        if not isinstance(value, str):
            self.add(f"{label} must be a string")
            return None
        if len(value) > MAX_TEXT_LENGTH:
            self.add(f"{label} is longer than {MAX_TEXT_LENGTH} characters")
            return None
        return value

    def mapping(self, label: str, value: Any, allowed: frozenset[str]) -> Mapping[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.add(f"{label} must be an object")
            return None
        unknown = sorted(set(value) - allowed)
        if unknown:
            self.add(f"{label} has unknown field(s): {', '.join(unknown)}")
        return value


def normalize_affiliation(body: Any) -> dict[str, Any]:
    """Validate an affiliation body and return its canonical stored form.

    Raises :class:`InvalidAffiliation` naming every problem, so a client fixing
    its payload sees them all at once.
    """
    problems = _Problems()
    if not isinstance(body, Mapping):
        raise InvalidAffiliation("the body must be an affiliation object")
    unknown = sorted(set(body) - READ_ONLY_FIELDS - set(WRITABLE_FIELDS))
    if unknown:
        problems.add(f"unknown field(s): {', '.join(unknown)}")
    visibility = body.get("visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        problems.add(f"visibility must be one of {', '.join(VISIBILITIES)}")

    start = _optional_date(problems, body.get("start-date"), "start-date")
    end = _optional_date(problems, body.get("end-date"), "end-date")
    if start is not None and end is not None and not dates_in_order(start, end):
        problems.add(f"start-date {start} is after end-date {end}")

    fields: dict[str, Any] = {
        "department-name": problems.text("department-name", body.get("department-name")),
        "role-title": problems.text("role-title", body.get("role-title")),
        "start-date": start.to_orcid() if start is not None else None,
        "end-date": end.to_orcid() if end is not None else None,
        "organization": _organization(problems, body.get("organization")),
        "url": _url(problems, body.get("url"), "url"),
        "external-ids": _external_ids(problems, body.get("external-ids")),
    }
    if problems.messages:
        raise InvalidAffiliation("; ".join(problems.messages))
    return fields


def _optional_date(problems: _Problems, value: Any, label: str) -> PartialDate | None:
    if value is None:
        return None
    try:
        return PartialDate.from_orcid(value, label)
    except InvalidAffiliation as exc:
        problems.add(str(exc))
        return None


def _organization(problems: _Problems, value: Any) -> dict[str, Any] | None:
    if value is None:
        problems.add("organization is required")
        return None
    org = problems.mapping("organization", value, frozenset({"name", "address", "disambiguated-organization"}))
    if org is None:
        return None
    name = problems.text("organization.name", org.get("name"), required=True)
    address = problems.mapping("organization.address", org.get("address"), frozenset({"city", "region", "country"}))
    if org.get("address") is None:
        problems.add("organization.address is required")
    city = region = country = None
    if address is not None:
        city = problems.text("organization.address.city", address.get("city"), required=True)
        region = problems.text("organization.address.region", address.get("region"))
        raw_country = address.get("country")
        if raw_country is None or raw_country == "":
            problems.add("organization.address.country is required")
        elif not isinstance(raw_country, str) or raw_country not in COUNTRY_CODES:
            problems.add(f"organization.address.country {raw_country!r} is not an ISO 3166-1 alpha-2 code")
        else:
            country = raw_country
    return {
        "name": name,
        "address": {"city": city, "region": region, "country": country},
        "disambiguated-organization": _disambiguated(problems, org.get("disambiguated-organization")),
    }


def _disambiguated(problems: _Problems, value: Any) -> dict[str, str] | None:
    label = "organization.disambiguated-organization"
    block = problems.mapping(
        label, value, frozenset({"disambiguated-organization-identifier", "disambiguation-source"})
    )
    if block is None:
        return None
    identifier = problems.text(
        f"{label}.disambiguated-organization-identifier", block.get("disambiguated-organization-identifier"),
        required=True,
    )
    source = block.get("disambiguation-source")
    if source not in DISAMBIGUATION_SOURCES:
        problems.add(f"{label}.disambiguation-source must be one of {', '.join(DISAMBIGUATION_SOURCES)}")
        return None
    if identifier is None:
        return None
    problem = _identifier_problem(source, identifier)
    if problem:
        problems.add(f"{label}: {problem}")
        return None
    return {"disambiguated-organization-identifier": identifier, "disambiguation-source": source}


def _url(problems: _Problems, value: Any, label: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) != {"value"}:
        problems.add(f'{label} must look like {{"value": "https://..."}}')
        return None
    text = value["value"]
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        problems.add(f"{label}.value must be a string")
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.add(f"{label}.value {text!r} is not an http(s) URL")
        return None
    return {"value": text}


def _external_ids(problems: _Problems, value: Any) -> dict[str, list[dict[str, Any]]]:
    block = problems.mapping("external-ids", value, frozenset({"external-id"}))
    if block is None:
        return {"external-id": []}
    items = block.get("external-id") or []
    if not isinstance(items, list):
        problems.add("external-ids.external-id must be a list")
        return {"external-id": []}
    allowed = frozenset(
        {"external-id-type", "external-id-value", "external-id-url", "external-id-relationship",
         "external-id-normalized", "external-id-normalized-error"}
    )  # fmt: skip
    normalized: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        label = f"external-ids.external-id[{index}]"
        entry = problems.mapping(label, item, allowed)
        if entry is None:
            if item is None:
                problems.add(f"{label} must be an object")
            continue
        id_type = problems.text(f"{label}.external-id-type", entry.get("external-id-type"), required=True)
        id_value = problems.text(f"{label}.external-id-value", entry.get("external-id-value"), required=True)
        relationship = entry.get("external-id-relationship")
        if relationship not in RELATIONSHIPS:
            problems.add(f"{label}.external-id-relationship must be one of {', '.join(RELATIONSHIPS)}")
        normalized.append(
            {
                "external-id-type": id_type,
                "external-id-value": id_value,
                "external-id-url": _url(problems, entry.get("external-id-url"), f"{label}.external-id-url"),
                "external-id-relationship": relationship,
            }
        )
    return {"external-id": normalized}


def self_external_ids(fields: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
    """``(type, value)`` of the ``self`` identifiers: what ORCID uses to spot duplicates and to group."""
    items = (fields.get("external-ids") or {}).get("external-id") or []
    return frozenset(
        (item["external-id-type"], item["external-id-value"])
        for item in items
        if item.get("external-id-relationship") == "self"
    )


def disambiguated_org(fields: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(source, normalised identifier)`` of the organisation, if it is disambiguated."""
    block = (fields.get("organization") or {}).get("disambiguated-organization")
    if not block:
        return None
    source = block["disambiguation-source"]
    return source, normalize_org_identifier(source, block["disambiguated-organization-identifier"])
