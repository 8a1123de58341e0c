"""WSGI application: a tiny method + path router and error-to-response mapping.

Feature modules (``oauth``, ``control``, and later the member API) each expose
``register(router)``; :func:`build_router` wires them together.
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from . import api, control, member_api, oauth, search
from .affiliations import PLURALS, SECTIONS
from .context import EmulatorContext
from .errors import Conflict, NotFound, OAuthError, StateError
from .ids import ORCID_RE
from .web import NO_STORE_HEADERS, HTTPError, Request, Response, json_error, json_response

Handler = Callable[[Request], Response]
StartResponse = Callable[..., Any]

MAX_BODY_BYTES = 1024 * 1024

# Named placeholder types: "{orcid:orcid}" matches only a well-formed iD.
CONVERTERS: dict[str, str] = {
    "str": r"[^/]+",
    "orcid": ORCID_RE.pattern,
    "section": "|".join(re.escape(section) for section in SECTIONS),
    "sections": "|".join(re.escape(plural) for plural in PLURALS.values()),
}
# The server puts a callable here that makes it close the connection without answering.
DROP_CONNECTION_KEY = "orcid_emulator.drop_connection"
_PLACEHOLDER = re.compile(r"\{(?P<name>[A-Za-z_]\w*)(?::(?P<kind>\w+))?\}")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append(Route(method.upper(), pattern, _compile(pattern), handler))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self.add(method, pattern, handler)
            return handler

        return decorator

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(self._routes)

    def lookup(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], list[str]]:
        """``(handler, params, [])`` on a match, else ``(None, {}, methods the path does allow)``."""
        allowed: list[str] = []
        for route in self._routes:
            match = route.regex.fullmatch(path)
            if match is None:
                continue
            if route.method == method:
                return route.handler, match.groupdict(), []
            allowed.append(route.method)
        return None, {}, allowed

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        """Find the handler, or raise 404 / 405 (with ``Allow``) as JSON."""
        handler, params, allowed = self.lookup(method, path)
        if handler is not None:
            return handler, params
        if allowed:
            raise json_error(
                405, "method_not_allowed", f"{method} not allowed on {path}", [("Allow", ", ".join(sorted(set(allowed))))]
            )
        raise json_error(404, "not_found", f"No such endpoint: {path}")


def _compile(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(pattern):
        parts.append(re.escape(pattern[position : match.start()]))
        kind = match.group("kind") or "str"
        if kind not in CONVERTERS:
            raise ValueError(f"unknown placeholder type {kind!r} in {pattern!r}")
        parts.append(f"(?P<{match.group('name')}>{CONVERTERS[kind]})")
        position = match.end()
    parts.append(re.escape(pattern[position:]))
    return re.compile("".join(parts))


def build_router() -> Router:
    router = Router()
    oauth.register(router)
    control.register(router)
    member_api.register(router)
    search.register(router)
    return router


class EmulatorApp:
    """The WSGI callable served by :class:`~orcid_emulator.server.EmulatorServer`."""

    def __init__(self, context: EmulatorContext, router: Router | None = None) -> None:
        self.context = context
        self.router = router or build_router()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        response = self.handle(environ)
        if response.drop_connection:
            drop = environ.get(DROP_CONNECTION_KEY)
            if drop is not None:
                drop()
        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = "Unknown"
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(f"{response.status} {phrase}", headers)
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [response.body]

    def handle(self, environ: dict[str, Any]) -> Response:
        try:
            request = self._build_request(environ)
            # HEAD is answered like GET, minus the body (stripped in __call__).
            method = "GET" if request.method == "HEAD" else request.method
            if api.is_api_path(request.path):
                # Rate limits, faults, content negotiation and ORCID error bodies.
                return api.handle(request, self.router, method)
            handler, params = self.router.resolve(method, request.path)
            request.path_params = params
            return handler(request)
        except HTTPError as exc:
            return exc.response
        except OAuthError as exc:
            return json_response(exc.to_dict(), exc.status, [*exc.headers, *NO_STORE_HEADERS])
        except NotFound as exc:
            return json_response({"error": "not_found", "error_description": str(exc)}, 404)
        except Conflict as exc:
            return json_response({"error": "conflict", "error_description": str(exc)}, 409)
        except StateError as exc:
            return json_response({"error": "invalid_request", "error_description": str(exc)}, 400)
        except Exception as exc:  # noqa: BLE001 - a dev server should answer, not hang up
            traceback.print_exc(file=sys.stderr)
            return json_response({"error": "server_error", "error_description": repr(exc)}, 500)

    def _build_request(self, environ: dict[str, Any]) -> Request:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise json_error(400, "invalid_request", "Bad Content-Length") from None
        if length > MAX_BODY_BYTES:
            raise json_error(413, "invalid_request", "Request body too large")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        # PEP 3333 hands over the path as latin-1-decoded bytes.
        path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace") or "/"
        return Request(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=path,
            query_string=environ.get("QUERY_STRING", ""),
            headers=headers,
            body=body,
            context=self.context,
            remote_addr=environ.get("REMOTE_ADDR", ""),
        )
