"""ORCID's API error bodies and the catalogue of codes the emulator answers with.

Every error under ``/v3.0/`` carries ``response-code``, ``developer-message``,
``user-message``, ``error-code`` and ``more-info`` (rendered as JSON or XML by
:mod:`orcid_emulator.api`).  The exception is a bad bearer token, which ORCID
answers from its OAuth layer with ``{"error": "invalid_token", ...}``.

The codes follow ORCID's own numbering; where ORCID's choice was not pinned
down (unknown put-code, put-code mismatch, search parameters) the closest
ORCID code is used and listed in :data:`ERROR_CODES` and the README.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MORE_INFO = "https://info.orcid.org/documentation/api-tutorials/troubleshooting-orcid-api-error-codes/"

# (status, error-code) -> when the emulator answers with it.  The README table is built from the same facts.
ERROR_CODES: dict[tuple[int, int], str] = {
    (400, 9001): "body is not valid JSON/XML, or the affiliation fails validation",
    (400, 9006): "expanded search: missing q, unsupported query, bad start or rows",
    (400, 9019): "PUT: put-code in the body differs from the one in the URL",
    (400, 9024): "POST: body carries a put-code",
    (400, 9031): "PUT: body has no put-code",
    (400, 9034): "put-code in the URL is not a positive integer",
    (403, 9010): "PUT/DELETE of an item another source added",
    (403, 9017): "token was granted for a different record",
    (403, 9038): "token lacks the scope (writes need /activities/update)",
    (404, 9016): "unknown record, unknown put-code (or one in another section), unknown endpoint",
    (405, 9001): "method not allowed on an existing endpoint",
    (406, 9001): "Accept names no JSON or XML media type ORCID serves",
    (409, 9018): "record is locked",
    (409, 9021): "same source, same section, a shared self external identifier",
    (409, 9036): "record is unclaimed (writes only; reads are allowed)",
    (409, 9044): "record is deactivated",
    (415, 9001): "request body Content-Type is neither JSON nor XML",
    (429, 9000): "rate limited (when configured for 429) or injected fault",
    (500, 9008): "injected fault",
    (502, 9000): "injected fault",
    (503, 9000): "rate limited (default) or injected fault",
}


class OrcidApiError(Exception):
    """An error rendered as ORCID's error body, in whichever format the client accepts."""

    def __init__(
        self,
        status: int,
        error_code: int,
        developer_message: str,
        user_message: str,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(f"{status}/{error_code}: {developer_message}")
        self.status = status
        self.error_code = error_code
        self.developer_message = developer_message
        self.user_message = user_message
        self.headers = list(headers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "response-code": self.status,
            "developer-message": self.developer_message,
            "user-message": self.user_message,
            "error-code": self.error_code,
            "more-info": MORE_INFO,
        }


class InvalidToken(Exception):
    """Missing, unknown, revoked or expired bearer token: ORCID's OAuth layer answers 401."""

    status = 401

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description

    def to_dict(self) -> dict[str, str]:
        return {"error": "invalid_token", "error_description": self.description}

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [("WWW-Authenticate", 'Bearer error="invalid_token"')]


def invalid_token(token: str | None) -> InvalidToken:
    if token is None:
        return InvalidToken("Invalid access token: no bearer token in the Authorization header")
    return InvalidToken(f"Invalid access token: {token}")


# -- records -------------------------------------------------------------------


def record_not_found(orcid: str) -> OrcidApiError:
    return OrcidApiError(404, 9016, f"ORCID iD {orcid} not found", "The resource was not found.")


def record_deactivated(orcid: str) -> OrcidApiError:
    return OrcidApiError(409, 9044, f"The record {orcid} has been deactivated", "This ORCID record is deactivated.")


def record_locked(orcid: str) -> OrcidApiError:
    return OrcidApiError(409, 9018, f"The record {orcid} is locked", "The ORCID record is locked.")


def record_unclaimed(orcid: str) -> OrcidApiError:
    return OrcidApiError(
        409, 9036, f"The record {orcid} has not been claimed, so it cannot be updated",
        "This record has not been claimed.",
    )  # fmt: skip


# -- tokens and scopes -----------------------------------------------------------


def insufficient_scope(required: Iterable[str]) -> OrcidApiError:
    return OrcidApiError(
        403, 9038, f"The access token does not have the required scope: {' or '.join(required)}",
        "The client application is forbidden to perform the action.",
    )  # fmt: skip


def wrong_record(orcid: str) -> OrcidApiError:
    return OrcidApiError(
        403, 9017, f"The access token was granted for a different record than {orcid}",
        "The client application is not authorized.",
    )  # fmt: skip


# -- media types -------------------------------------------------------------------


def not_acceptable(accept: str) -> OrcidApiError:
    return OrcidApiError(
        406, 9001, f"Cannot produce any of the media types in Accept: {accept}",
        "ORCID could not process the request.",
    )  # fmt: skip


def unsupported_media_type(content_type: str | None) -> OrcidApiError:
    shown = content_type or "(none)"
    return OrcidApiError(
        415, 9001, f"Unsupported Content-Type {shown}; send application/vnd.orcid+json or application/vnd.orcid+xml",
        "ORCID could not process the data, because they were invalid.",
    )  # fmt: skip


def invalid_body(detail: str) -> OrcidApiError:
    return OrcidApiError(
        400, 9001, f"Invalid incoming message: {detail}", "ORCID could not process the data, because they were invalid."
    )


# -- put-codes and items -----------------------------------------------------------


def put_code_invalid(value: str) -> OrcidApiError:
    return OrcidApiError(400, 9034, f"Invalid put-code {value!r}", "The put code provided is not valid.")


def put_code_missing() -> OrcidApiError:
    return OrcidApiError(
        400, 9031, "The body of a PUT must carry the put-code of the item being updated",
        "Put-code is required to update elements.",
    )  # fmt: skip


def put_code_mismatch(url_put_code: int, body_put_code: Any) -> OrcidApiError:
    return OrcidApiError(
        400, 9019, f"The put-code in the URL was {url_put_code} whereas the one in the body was {body_put_code}",
        "The put code in the URL did not match that in the body of the message.",
    )  # fmt: skip


def put_code_not_expected() -> OrcidApiError:
    return OrcidApiError(
        400, 9024, "A put-code was sent with a new item; omit it when POSTing",
        "There was an error when adding the activity.",
    )  # fmt: skip


def item_not_found(section: str, put_code: int) -> OrcidApiError:
    return OrcidApiError(
        404, 9016, f"No {section} with put-code {put_code} on this record", "The resource was not found."
    )


def not_source(section: str) -> OrcidApiError:
    return OrcidApiError(
        403, 9010, f"You are not the source of the {section}, so you are not allowed to update or delete it",
        "The client application is not the source of the resource it is trying to access.",
    )  # fmt: skip


def duplicate_activity(detail: str) -> OrcidApiError:
    return OrcidApiError(
        409, 9021, f"You have already added this activity (matched by external identifiers): {detail}",
        "There was an error when adding or updating the activity.",
    )  # fmt: skip


# -- routing, search, throttling and faults ---------------------------------------


def endpoint_not_found(path: str) -> OrcidApiError:
    return OrcidApiError(404, 9016, f"No such endpoint: {path}", "The resource was not found.")


def method_not_allowed(method: str, path: str, allowed: Iterable[str]) -> OrcidApiError:
    allow = ", ".join(sorted(set(allowed)))
    return OrcidApiError(
        405, 9001, f"{method} is not allowed on {path}", "ORCID could not process the request.", [("Allow", allow)]
    )


def bad_search_request(detail: str) -> OrcidApiError:
    return OrcidApiError(400, 9006, detail, "The client application sent a bad request to ORCID.")


def throttled(status: int, retry_after: int | None, reason: str) -> OrcidApiError:
    headers = [("Retry-After", str(retry_after))] if retry_after is not None else []
    if status == 500:
        return OrcidApiError(status, 9008, reason, "Something went wrong in ORCID.", headers)
    return OrcidApiError(status, 9000, reason, "There was an error connecting to ORCID.", headers)
