"""The front door of ``/v3.0/``: what every member and public API call goes through.

In order, as ORCID's own stack does it:

1. the rate limiter (ORCID's nginx): per member client, or per address for
   anonymous calls; over the limit -> 503 (or 429) with ``Retry-After``;
2. injected faults (``fail_next``), which stand in for an unhealthy ORCID;
3. ``Accept`` negotiation (406/9001), routing (404/405 as ORCID errors);
4. the handler, whose :class:`~orcid_emulator.orcid_errors.OrcidApiError` and
   :class:`~orcid_emulator.orcid_errors.InvalidToken` become ORCID error bodies
   in the negotiated format.

Every call that gets past step 1 is written to the call log with its final
status; refused calls are logged as not accepted.
"""

from __future__ import annotations

import json
import sys
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import orcid_errors as oe
from . import scopes as sc
from .faults import FaultPlan
from .media import DEFAULT_MEDIA, JSON, MediaError, MediaType, XmlShape, body_format, negotiate, parse_body, to_xml
from .state import Record, Token
from .web import HTTPError, Request, Response

if TYPE_CHECKING:
    from .app import Router

API_ROOT = "/v3.0"
_MEDIA_ATTRIBUTE = "orcid_emulator.media"
_ERROR_SHAPE = XmlShape(root="error", prefix="error", child_prefix="error")

READ_SCOPES: tuple[str, ...] = (sc.READ_LIMITED, sc.ACTIVITIES_UPDATE, sc.READ_PUBLIC)
WRITE_SCOPES: tuple[str, ...] = (sc.ACTIVITIES_UPDATE,)


def is_api_path(path: str) -> bool:
    return path == API_ROOT or path.startswith(API_ROOT + "/")


def handle(req: Request, router: Router, method: str) -> Response:
    state = req.context.state
    media = negotiate(req.header("accept"))
    req.attributes[_MEDIA_ATTRIBUTE] = media or DEFAULT_MEDIA
    bearer = bearer_token(req)
    token = state.active_token(bearer) if bearer else None
    client_id = token.client_id if token is not None else None

    retry_after = state.admit_request(client_id, req.remote_addr)
    if retry_after is not None:
        limits = state.rate_limit
        status = limits.status if limits is not None else 503
        response = error_response(req, oe.throttled(status, retry_after, "Rate limit exceeded; slow down"))
        state.record_call(
            client_id=client_id, method=method, path=req.path, status=status, accepted=False,
            remote_addr=req.remote_addr,
        )  # fmt: skip
        return response

    started = state.now()
    response = _dispatch(req, router, method, media)
    state.record_call(
        client_id=client_id, method=method, path=req.path, status=response.status, timestamp=started,
        remote_addr=req.remote_addr,
    )  # fmt: skip
    return response


def _dispatch(req: Request, router: Router, method: str, media: MediaType | None) -> Response:
    try:
        fault = req.context.state.take_fault(method)
        if fault is not None:
            return _fault_response(req, fault)
        if media is None:
            raise oe.not_acceptable(req.header("accept") or "")
        handler, params, allowed = router.lookup(method, req.path)
        if handler is None:
            if allowed:
                raise oe.method_not_allowed(method, req.path, allowed)
            raise oe.endpoint_not_found(req.path)
        req.path_params = params
        return handler(req)
    except oe.OrcidApiError as exc:
        return error_response(req, exc)
    except oe.InvalidToken as exc:
        return invalid_token_response(req, exc)
    except HTTPError as exc:
        return exc.response
    except Exception as exc:  # noqa: BLE001 - answer like ORCID would, and keep the call in the log
        traceback.print_exc(file=sys.stderr)
        return error_response(req, oe.OrcidApiError(500, 9008, repr(exc), "Something went wrong in ORCID."))


def _fault_response(req: Request, fault: FaultPlan) -> Response:
    if fault.drops_connection:
        # Seen only when the app runs without the emulator's server, which is what drops connections.
        response = error_response(req, oe.throttled(502, None, "Injected fault: connection dropped"))
        response.drop_connection = True
        return response
    return error_response(req, oe.throttled(fault.status, fault.retry_after, f"Injected fault: HTTP {fault.status}"))


# -- rendering -------------------------------------------------------------------


def media_of(req: Request) -> MediaType:
    media = req.attributes.get(_MEDIA_ATTRIBUTE)
    return media if isinstance(media, MediaType) else DEFAULT_MEDIA


def respond(
    req: Request,
    data: Mapping[str, Any],
    shape: XmlShape,
    status: int = 200,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    """Serialise ``data`` (ORCID's JSON shape) in the negotiated media type."""
    media = media_of(req)
    if media.format == JSON:
        body = json.dumps(data, separators=(",", ":")).encode()
    else:
        body = to_xml(data, shape)
    return Response(status, body, [("Content-Type", media.header), *headers])


def error_response(req: Request, error: oe.OrcidApiError) -> Response:
    return respond(req, error.to_dict(), _ERROR_SHAPE, error.status, error.headers)


def invalid_token_response(req: Request, error: oe.InvalidToken) -> Response:
    media = media_of(req)
    if media.format == JSON:
        body = json.dumps(error.to_dict(), separators=(",", ":")).encode()
    else:
        # Spring Security OAuth's XML rendering, which ORCID's OAuth layer uses.
        root = ET.Element("oauth")
        ET.SubElement(root, "error_description").text = error.description
        ET.SubElement(root, "error").text = "invalid_token"
        body = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return Response(error.status, body, [("Content-Type", media.header), *error.headers])


# -- authentication and authorisation --------------------------------------------


def bearer_token(req: Request) -> str | None:
    scheme, _, value = (req.header("authorization") or "").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def require_token(req: Request) -> Token:
    """The request's live token, or 401 invalid_token."""
    value = bearer_token(req)
    token = req.context.state.active_token(value) if value else None
    if token is None:
        raise oe.invalid_token(value)
    return token


def optional_token(req: Request) -> Token | None:
    """Anonymous calls are fine; a token that is sent must be valid."""
    if not (req.header("authorization") or "").strip():
        return None
    return require_token(req)


def check_record(req: Request, orcid: str, *, write: bool) -> Record:
    """ORCID's record guard: 404/9016 unknown, 409/9044 deactivated, 409/9018 locked,
    409/9036 unclaimed (writes only)."""
    record = req.context.state.get_record(orcid)
    if record is None:
        raise oe.record_not_found(orcid)
    if record.deactivated:
        raise oe.record_deactivated(orcid)
    if record.locked:
        raise oe.record_locked(orcid)
    if write and not record.claimed:
        raise oe.record_unclaimed(orcid)
    return record


def check_access(token: Token, orcid: str, *, write: bool) -> None:
    """403/9017 for a token bound to another record, 403/9038 for a missing scope.

    A client-credentials token (no record) may read with ``/read-public`` but never write.
    """
    required = WRITE_SCOPES if write else READ_SCOPES
    if token.orcid is not None and token.orcid != orcid:
        raise oe.wrong_record(orcid)
    if token.orcid is None and write:
        raise oe.insufficient_scope(required)
    if not set(token.scopes) & set(required):
        raise oe.insufficient_scope(required)


def read_body(req: Request) -> tuple[str | None, Any]:
    """Decode a JSON or XML body (415 for other Content-Types, 400/9001 when unreadable)."""
    content_type = req.header("content-type")
    fmt = body_format(content_type)
    if fmt is None:
        raise oe.unsupported_media_type(content_type)
    try:
        return parse_body(req.body, fmt)
    except MediaError as exc:
        raise oe.invalid_body(str(exc)) from None
