"""Minimal request/response types on top of WSGI.

Kept framework-free on purpose: the emulator must be importable from any test
suite (Django or not) without dragging a web framework's settings along.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from .context import EmulatorContext

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"
NO_STORE_HEADERS: tuple[tuple[str, str], ...] = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    # Close the connection instead of answering (a fault injection); the server
    # sends this response only when it cannot drop the connection.
    drop_connection: bool = False

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


class HTTPError(Exception):
    """Short-circuits a handler with a ready-made response."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response


def json_response(data: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> Response:
    body = json.dumps(data, indent=None, separators=(",", ":")).encode()
    return Response(status, body, [("Content-Type", JSON_CONTENT_TYPE), *headers])


def html_response(markup: str, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(status, markup.encode(), [("Content-Type", HTML_CONTENT_TYPE), *headers])


def redirect_response(location: str, status: int = 302) -> Response:
    return Response(status, b"", [("Location", location), *NO_STORE_HEADERS])


def json_error(status: int, error: str, description: str, headers: Iterable[tuple[str, str]] = ()) -> HTTPError:
    return HTTPError(json_response({"error": error, "error_description": description}, status, headers))


@dataclass
class Request:
    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]  # keys lower-cased
    body: bytes
    context: EmulatorContext
    path_params: dict[str, str] = field(default_factory=dict)
    remote_addr: str = ""
    # Per-request values that middleware hands to handlers (e.g. the negotiated media type).
    attributes: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @cached_property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.query_string, keep_blank_values=True)

    @cached_property
    def form(self) -> dict[str, list[str]]:
        try:
            text = self.body.decode()
        except UnicodeDecodeError as exc:
            raise json_error(400, "invalid_request", "Request body is not valid UTF-8") from exc
        return parse_qs(text, keep_blank_values=True)

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise json_error(400, "invalid_request", f"Request body is not valid JSON: {exc}") from exc


def first_values(params: Mapping[str, list[str]]) -> dict[str, str]:
    return {key: values[0] for key, values in params.items() if values}


def repeated_keys(params: Mapping[str, list[str]]) -> list[str]:
    return [key for key, values in params.items() if len(values) > 1]
