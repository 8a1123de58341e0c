"""Test-control endpoints under ``/_emulator/`` plus a couple of browsable pages.

Each endpoint mirrors a method on :class:`~orcid_emulator.state.EmulatorState`
so out-of-process tests (a Django live server, Playwright) can do what
in-process tests do directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import pages
from .errors import NotFound
from .web import Request, Response, first_values, html_response, json_error, json_response

if TYPE_CHECKING:
    from .app import Router

_RECORD_FIELDS = frozenset({"given_name", "family_name", "email", "orcid", "credit_name"})
_CLIENT_FIELDS = frozenset({"client_id", "client_secret", "redirect_uris", "name"})


def register(router: Router) -> None:
    router.add("GET", "/", index)
    router.add("GET", "/{orcid:orcid}", record_page)
    router.add("GET", "/_emulator/records", list_records)
    router.add("POST", "/_emulator/records", create_record)
    router.add("GET", "/_emulator/records/{orcid}", get_record)
    router.add("GET", "/_emulator/clients", list_clients)
    router.add("POST", "/_emulator/clients", create_client)
    router.add("GET", "/_emulator/tokens", list_tokens)
    router.add("POST", "/_emulator/grants/revoke", revoke_grants)
    router.add("POST", "/_emulator/reset", reset)


def index(req: Request) -> Response:
    state = req.context.state
    return html_response(pages.index_page(req.context.base_url, state.records(), state.clients()))


def record_page(req: Request) -> Response:
    record = req.context.state.get_record(req.path_params["orcid"])
    if record is None:
        return html_response(pages.error_page("Not found", "No such ORCID record."), 404)
    return html_response(pages.record_page(req.context.base_url, record))


def list_records(req: Request) -> Response:
    base = req.context.base_url
    return json_response({"records": [r.to_dict(base) for r in req.context.state.records()]})


def create_record(req: Request) -> Response:
    data = _json_object(req, _RECORD_FIELDS)
    if not isinstance(data.get("given_name"), str):
        raise json_error(400, "invalid_request", "given_name is required")
    record = req.context.state.add_record(
        data["given_name"],
        data.get("family_name") or "",
        data.get("email"),
        orcid=data.get("orcid"),
        credit_name=data.get("credit_name"),
    )
    return json_response(record.to_dict(req.context.base_url), 201)


def get_record(req: Request) -> Response:
    orcid = req.path_params["orcid"]
    record = req.context.state.get_record(orcid)
    if record is None:
        raise NotFound(f"no record {orcid}")
    return json_response(record.to_dict(req.context.base_url))


def list_clients(req: Request) -> Response:
    return json_response({"clients": [c.to_dict() for c in req.context.state.clients()]})


def create_client(req: Request) -> Response:
    data = _json_object(req, _CLIENT_FIELDS)
    redirect_uris = data.get("redirect_uris", [])
    if not isinstance(redirect_uris, list) or not all(isinstance(u, str) for u in redirect_uris):
        raise json_error(400, "invalid_request", "redirect_uris must be a list of strings")
    client = req.context.state.register_client(
        str(data.get("client_id") or ""),
        str(data.get("client_secret") or ""),
        redirect_uris,
        str(data.get("name") or ""),
    )
    return json_response(client.to_dict(), 201)


def list_tokens(req: Request) -> Response:
    orcid = first_values(req.query).get("orcid")
    return json_response({"tokens": [t.to_dict() for t in req.context.state.tokens(orcid)]})


def revoke_grants(req: Request) -> Response:
    data = _json_object(req, frozenset({"orcid"}))
    orcid = data.get("orcid")
    if not isinstance(orcid, str) or not orcid:
        raise json_error(400, "invalid_request", "orcid is required")
    revoked = req.context.state.revoke_grants(orcid)
    return json_response({"orcid": orcid, "revoked_tokens": revoked})


def reset(req: Request) -> Response:
    req.context.state.reset()
    return json_response({"status": "reset", "records": len(req.context.state.records())})


def _json_object(req: Request, allowed: frozenset[str]) -> dict[str, Any]:
    data = req.json()
    if not isinstance(data, dict):
        raise json_error(400, "invalid_request", "Expected a JSON object")
    # Rejecting unknown keys turns a typo in a test fixture into a clear 400.
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise json_error(400, "invalid_request", f"Unknown field(s): {', '.join(unknown)}")
    return data
