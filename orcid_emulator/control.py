"""Test-control endpoints under ``/_emulator/`` plus a couple of browsable pages.

Each endpoint mirrors a method on :class:`~orcid_emulator.state.EmulatorState`
so out-of-process tests (a Django live server, Playwright) can do what
in-process tests do directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import pages
from .affiliations import SECTIONS
from .errors import NotFound
from .faults import FaultPlan
from .member_api import render_item
from .ratelimit import RateLimitConfig
from .state import Affiliation, EmulatorState, Record
from .web import Request, Response, first_values, html_response, json_error, json_response

if TYPE_CHECKING:
    from .app import Router

_RECORD_FIELDS = frozenset({"given_name", "family_name", "email", "orcid", "credit_name", "claimed"})
_CLIENT_FIELDS = frozenset({"client_id", "client_secret", "redirect_uris", "name"})
_AFFILIATION_FIELDS = frozenset({"section", "client_id", "affiliation"})
_RECORD_ACTIONS: dict[str, Callable[[EmulatorState, str], Record]] = {
    "deactivate": EmulatorState.deactivate_record,
    "reactivate": EmulatorState.reactivate_record,
    "lock": EmulatorState.lock_record,
    "unlock": EmulatorState.unlock_record,
    "claim": EmulatorState.claim_record,
}


def register(router: Router) -> None:
    router.add("GET", "/", index)
    router.add("GET", "/{orcid:orcid}", record_page)
    router.add("GET", "/_emulator/records", list_records)
    router.add("POST", "/_emulator/records", create_record)
    router.add("GET", "/_emulator/records/{orcid}", get_record)
    router.add("DELETE", "/_emulator/records/{orcid}", delete_record)
    router.add("GET", "/_emulator/records/{orcid}/affiliations", list_affiliations)
    router.add("POST", "/_emulator/records/{orcid}/affiliations", seed_affiliation)
    # After the affiliations routes: the first matching route wins.
    router.add("POST", "/_emulator/records/{orcid}/{action}", change_record)
    router.add("GET", "/_emulator/calls", list_calls)
    router.add("DELETE", "/_emulator/calls", clear_calls)
    router.add("GET", "/_emulator/faults", get_faults)
    router.add("POST", "/_emulator/faults", set_faults)
    router.add("DELETE", "/_emulator/faults", clear_faults)
    router.add("GET", "/_emulator/rate-limit", get_rate_limit)
    router.add("POST", "/_emulator/rate-limit", set_rate_limit)
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
    claimed = data.get("claimed", True)
    if not isinstance(claimed, bool):
        raise json_error(400, "invalid_request", "claimed must be true or false")
    record = req.context.state.add_record(
        data["given_name"],
        data.get("family_name") or "",
        data.get("email"),
        orcid=data.get("orcid"),
        credit_name=data.get("credit_name"),
        claimed=claimed,
    )
    return json_response(record.to_dict(req.context.base_url), 201)


def get_record(req: Request) -> Response:
    orcid = req.path_params["orcid"]
    record = req.context.state.get_record(orcid)
    if record is None:
        raise NotFound(f"no record {orcid}")
    return json_response(record.to_dict(req.context.base_url))


def delete_record(req: Request) -> Response:
    orcid = req.path_params["orcid"]
    req.context.state.delete_record(orcid)
    return json_response({"orcid": orcid, "deleted": True})


def change_record(req: Request) -> Response:
    """``POST /_emulator/records/{orcid}/deactivate`` (or reactivate, lock, unlock, claim)."""
    action = _RECORD_ACTIONS.get(req.path_params["action"])
    if action is None:
        raise json_error(404, "not_found", f"Unknown record action; one of {', '.join(_RECORD_ACTIONS)}")
    record = action(req.context.state, req.path_params["orcid"])
    return json_response(record.to_dict(req.context.base_url))


def _affiliation_dict(req: Request, item: Affiliation) -> dict[str, Any]:
    return {**item.to_dict(), "item": render_item(req.context, item)}


def list_affiliations(req: Request) -> Response:
    orcid = req.path_params["orcid"]
    if req.context.state.get_record(orcid) is None:
        raise NotFound(f"no record {orcid}")
    section = first_values(req.query).get("section")
    items = req.context.state.affiliations(orcid, section)
    return json_response({"orcid": orcid, "affiliations": [_affiliation_dict(req, item) for item in items]})


def seed_affiliation(req: Request) -> Response:
    """Put an affiliation on a record without OAuth: ``{"section", "affiliation", "client_id"?}``.

    Without ``client_id`` the researcher is the source, as for items added on orcid.org.
    """
    data = _json_object(req, _AFFILIATION_FIELDS)
    section = data.get("section")
    if section not in SECTIONS:
        raise json_error(400, "invalid_request", f"section must be one of {', '.join(SECTIONS)}")
    client_id = data.get("client_id")
    if client_id is not None and not isinstance(client_id, str):
        raise json_error(400, "invalid_request", "client_id must be a string")
    item = req.context.state.add_affiliation(
        req.path_params["orcid"], section, data.get("affiliation"), client_id=client_id
    )
    return json_response(_affiliation_dict(req, item), 201)


def list_calls(req: Request) -> Response:
    params = first_values(req.query)
    include_rejected = params.get("include_rejected", "").lower() in ("1", "true", "yes")
    calls = req.context.state.calls(params.get("client_id") or None, include_rejected=include_rejected)
    return json_response({"calls": [call.to_dict() for call in calls]})


def clear_calls(req: Request) -> Response:
    req.context.state.clear_calls()
    return json_response({"calls": []})


def get_faults(req: Request) -> Response:
    plan = req.context.state.faults()
    return json_response({"faults": plan.to_dict() if plan is not None else None})


def set_faults(req: Request) -> Response:
    """``{"fail_next": 5, "status": 503, "retry_after": 1, "methods": ["POST"]}``; status may be "drop"."""
    data = req.json()
    if not isinstance(data, dict):
        raise json_error(400, "invalid_request", "Expected a JSON object")
    try:
        plan = FaultPlan.from_mapping(data)
    except (TypeError, ValueError) as exc:
        raise json_error(400, "invalid_request", str(exc)) from None
    state = req.context.state
    state.fail_next(plan.remaining, plan.status, retry_after=plan.retry_after, methods=plan.methods)
    return json_response({"faults": plan.to_dict() if plan.remaining else None})


def clear_faults(req: Request) -> Response:
    req.context.state.clear_faults()
    return json_response({"faults": None})


def get_rate_limit(req: Request) -> Response:
    config = req.context.state.rate_limit
    return json_response({"rate_limit": config.to_dict() if config is not None else None})


def set_rate_limit(req: Request) -> Response:
    """``{"enabled": false}`` switches limiting off; other fields change the current limits
    (or the defaults, when limiting was off)."""
    data = req.json()
    if not isinstance(data, dict):
        raise json_error(400, "invalid_request", "Expected a JSON object")
    settings = dict(data)
    enabled = settings.pop("enabled", True)
    if not isinstance(enabled, bool):
        raise json_error(400, "invalid_request", "enabled must be true or false")
    state = req.context.state
    if not enabled:
        state.set_rate_limit(None)
        return json_response({"rate_limit": None})
    try:
        config = RateLimitConfig.from_mapping(settings, state.rate_limit)
    except (TypeError, ValueError) as exc:
        raise json_error(400, "invalid_request", str(exc)) from None
    state.set_rate_limit(config)
    return json_response({"rate_limit": config.to_dict()})


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
