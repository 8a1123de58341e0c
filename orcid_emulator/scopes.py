"""ORCID OAuth scopes."""

from __future__ import annotations

from collections.abc import Iterable

OPENID = "openid"
AUTHENTICATE = "/authenticate"
READ_LIMITED = "/read-limited"
ACTIVITIES_UPDATE = "/activities/update"
PERSON_UPDATE = "/person/update"
READ_PUBLIC = "/read-public"
WEBHOOK = "/webhook"

ALL_SCOPES: frozenset[str] = frozenset(
    {OPENID, AUTHENTICATE, READ_LIMITED, ACTIVITIES_UPDATE, PERSON_UPDATE, READ_PUBLIC, WEBHOOK}
)

# ORCID only lets a client act on its own behalf (two-legged) for public data and webhooks.
CLIENT_CREDENTIALS_SCOPES: frozenset[str] = frozenset({READ_PUBLIC, WEBHOOK})

DESCRIPTIONS: dict[str, str] = {
    OPENID: "Get your ORCID iD and name (OpenID Connect sign-in)",
    AUTHENTICATE: "Get your ORCID iD",
    READ_LIMITED: "Read your information with visibility set to Trusted Organizations",
    ACTIVITIES_UPDATE: "Add/update your research activities (works, affiliations, etc.)",
    PERSON_UPDATE: "Add/update other information about you (country, keywords, etc.)",
    READ_PUBLIC: "Read public information on ORCID records",
    WEBHOOK: "Register a webhook for changes to your record",
}


def parse_scope(value: str | None) -> tuple[str, ...]:
    """Split a space-separated scope string, keeping first-seen order and dropping repeats."""
    if not value:
        return ()
    return tuple(dict.fromkeys(value.split()))


def format_scope(scopes: Iterable[str]) -> str:
    return " ".join(scopes)


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    return [scope for scope in scopes if scope not in ALL_SCOPES]
