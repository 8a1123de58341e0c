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
