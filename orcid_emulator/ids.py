"""ORCID iD helpers.

An ORCID iD is 15 base digits plus one ISO 7064 MOD 11-2 check character,
written as four hyphen-separated groups of four (``0000-0002-1825-0097``).
"""

from __future__ import annotations

import re

BASE_DIGITS = 15
MAX_BASE = 10**BASE_DIGITS

# [0-9] rather than \d: \d also matches non-ASCII digits such as "٣".
ORCID_RE = re.compile(r"[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]")
_BASE_RE = re.compile(r"[0-9]{15}")


def orcid_check_digit(base_digits: str) -> str:
    """Return the MOD 11-2 check character for 15 base digits (``"X"`` means 10)."""
    if not _BASE_RE.fullmatch(base_digits):
        raise ValueError(f"expected {BASE_DIGITS} ASCII digits, got {base_digits!r}")
    total = 0
    for char in base_digits:
        total = (total + int(char)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def make_orcid_id(n: int) -> str:
    """Format ``n`` (0 <= n < 10**15) as a hyphenated ORCID iD with a valid check digit."""
    if not 0 <= n < MAX_BASE:
        raise ValueError(f"ORCID base number out of range: {n}")
    base = f"{n:0{BASE_DIGITS}d}"
    digits = base + orcid_check_digit(base)
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


def is_valid_orcid_id(value: object) -> bool:
    """True for a correctly formatted iD whose check character matches."""
    if not isinstance(value, str) or not ORCID_RE.fullmatch(value):
        return False
    digits = value.replace("-", "")
    return orcid_check_digit(digits[:BASE_DIGITS]) == digits[BASE_DIGITS]


def orcid_base_number(orcid: str) -> int:
    """Inverse of :func:`make_orcid_id`; raises ``ValueError`` for invalid iDs."""
    if not is_valid_orcid_id(orcid):
        raise ValueError(f"invalid ORCID iD: {orcid!r}")
    return int(orcid.replace("-", "")[:BASE_DIGITS])
