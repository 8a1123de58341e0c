"""Organisation and person identifiers: validation and the canonical form each is stored in.

Pure functions (no database) so they are property-tested and shared by forms, the API and imports.
"""

from __future__ import annotations

import re
import zoneinfo

from babel.core import get_global
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_countries import countries

CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
# [0-9] and \Z rather than \d and $: \d also matches other scripts' digits and $ a trailing newline.
_ROR_RE = re.compile(r"^0[0-9a-hjkmnp-tv-z]{6}[0-9]{2}\Z")
_ROR_PREFIXES = ("https://ror.org/", "http://ror.org/", "ror.org/")
_ORCID_RE = re.compile(r"^[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]\Z")
_ORCID_PREFIXES = ("https://orcid.org/", "http://orcid.org/", "orcid.org/",
                   "https://sandbox.orcid.org/", "http://sandbox.orcid.org/")
_GRID_RE = re.compile(r"^grid\.[0-9]+\.[0-9a-f]{1,4}\Z")
_RINGGOLD_RE = re.compile(r"^[0-9]{1,10}\Z")
_FUNDER_RE = re.compile(r"^[0-9]{6,12}\Z")
_CURRENCIES = frozenset(get_global("all_currencies").keys()) if get_global("all_currencies") else frozenset()


def _strip_prefix(value: str, prefixes: tuple[str, ...]) -> str:
    lowered = value.lower()
    for prefix in prefixes:
        if lowered.startswith(prefix):
            return value[len(prefix):]
    return value


# --- ROR -----------------------------------------------------------------------------------------

def ror_checksum(body: str) -> int:
    """ISO 7064 Mod 97-10 check of the number the six Crockford base32 characters encode."""
    number = 0
    for char in body:
        number = number * 32 + CROCKFORD.index(char)
    return 98 - (number * 100) % 97


def normalise_ror(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    return _strip_prefix(value, _ROR_PREFIXES).lower()


def is_valid_ror(value: str) -> bool:
    bare = normalise_ror(value)
    if not _ROR_RE.match(bare):
        return False
    return ror_checksum(bare[1:7]) == int(bare[7:])


def validate_ror(value: str) -> None:
    if value and not is_valid_ror(value):
        raise ValidationError(
            _("%(value)s is not a valid ROR ID (0 + six characters + a two-digit checksum, e.g. 05dxps055)."),
            params={"value": value}, code="invalid_ror",
        )


def ror_url(bare: str) -> str:
    return f"https://ror.org/{bare}" if bare else ""


# --- ORCID iD (and ISNI, which uses the same check digit) -------------------------------------------

def mod11_2_check_digit(digits: str) -> str:
    total = 0
    for char in digits:
        total = (total + int(char)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalise_orcid_id(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    bare = _strip_prefix(value, _ORCID_PREFIXES).upper()
    if re.fullmatch(r"[0-9]{15}[0-9X]", bare):
        bare = "-".join(bare[i:i + 4] for i in range(0, 16, 4))
    return bare


def is_valid_orcid_id(value: str) -> bool:
    bare = normalise_orcid_id(value)
    if not _ORCID_RE.match(bare):
        return False
    digits = bare.replace("-", "")
    return mod11_2_check_digit(digits[:15]) == digits[15]


def validate_orcid_id(value: str) -> None:
    if value and not is_valid_orcid_id(value):
        raise ValidationError(
            _("%(value)s is not a valid ORCID iD (four groups of four characters with a correct check digit)."),
            params={"value": value}, code="invalid_orcid",
        )


def normalise_isni(value: str) -> str:
    value = re.sub(r"[\s-]", "", (value or "").strip()).upper()
    value = _strip_prefix(value, ("HTTPS://ISNI.ORG/ISNI/", "HTTP://ISNI.ORG/ISNI/", "ISNI:"))
    if re.fullmatch(r"[0-9]{15}[0-9X]", value):
        return " ".join(value[i:i + 4] for i in range(0, 16, 4))
    return value


def validate_isni(value: str) -> None:
    if not value:
        return
    digits = normalise_isni(value).replace(" ", "")
    if not re.fullmatch(r"[0-9]{15}[0-9X]", digits) or mod11_2_check_digit(digits[:15]) != digits[15]:
        raise ValidationError(_("%(value)s is not a valid ISNI (16 characters with a correct check digit)."),
                              params={"value": value}, code="invalid_isni")


# --- GRID, Ringgold, Crossref Funder ID -------------------------------------------------------------

def normalise_grid(value: str) -> str:
    return (value or "").strip().lower()


def validate_grid(value: str) -> None:
    if value and not _GRID_RE.match(normalise_grid(value)):
        raise ValidationError(_("%(value)s is not a valid GRID ID (e.g. grid.1234.5)."), params={"value": value},
                              code="invalid_grid")


def validate_ringgold(value: str) -> None:
    if value and not _RINGGOLD_RE.match(value.strip()):
        raise ValidationError(_("%(value)s is not a valid Ringgold ID (digits only)."), params={"value": value},
                              code="invalid_ringgold")


def normalise_funder_id(value: str) -> str:
    value = (value or "").strip()
    return _strip_prefix(value, ("https://doi.org/10.13039/", "http://dx.doi.org/10.13039/", "10.13039/"))


def validate_funder_id(value: str) -> None:
    if value and not _FUNDER_RE.match(normalise_funder_id(value)):
        raise ValidationError(_("%(value)s is not a valid Crossref Funder ID (e.g. 10.13039/501100000780)."),
                              params={"value": value}, code="invalid_funder_id")


# --- Country, currency, timezone --------------------------------------------------------------------

def validate_country(value: str) -> None:
    if (value or "").upper() not in dict(countries):
        raise ValidationError(_("%(value)s is not an ISO 3166-1 alpha-2 country code."), params={"value": value},
                              code="invalid_country")


def validate_currency(value: str) -> None:
    if value not in _CURRENCIES:
        raise ValidationError(_("%(value)s is not an ISO 4217 currency code."), params={"value": value},
                              code="invalid_currency")


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known timezone (e.g. Europe/London)."), params={"value": value},
                              code="invalid_timezone")


def currency_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in sorted(_CURRENCIES)]


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]
