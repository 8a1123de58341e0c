"""Errors that handlers raise and the app turns into responses."""

from __future__ import annotations

from collections.abc import Iterable


class OAuthError(Exception):
    """An RFC 6749-style error rendered as ``{"error", "error_description"}`` JSON."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int = 400,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.headers = list(headers)

    def to_dict(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def invalid_scope(description: str, status: int = 400) -> OAuthError:
    return OAuthError("invalid_scope", description, status)


class StateError(ValueError):
    """Base for validation failures raised by the in-memory store."""


class NotFound(StateError):
    pass


class Conflict(StateError):
    pass


class InvalidAffiliation(StateError):
    """An affiliation body that ORCID would refuse (missing organisation, bad dates, ...)."""


class NotSource(StateError):
    """Only the client that added an item may change or remove it."""


class DuplicateActivity(Conflict):
    """The same source already asserted an item with one of these ``self`` external identifiers."""
