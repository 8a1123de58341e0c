"""Member API v3.0 affiliation sections: employment, education, qualification,
invited-position, distinction, membership and service.

``POST /v3.0/{orcid}/{section}`` creates (201 + ``Location``), ``GET``/``PUT``/
``DELETE /v3.0/{orcid}/{section}/{put-code}`` read, replace and remove one item,
and ``GET /v3.0/{orcid}/{section}s`` lists summaries in affiliation groups.

Checks run in ORCID's order: token (401), record state (404/409), token's
record and scope (403), then put-codes, body and source (400/403/404/409).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import orcid_errors as oe
from .affiliations import PLURALS, SECTION_BY_PLURAL
from .api import check_access, check_record, read_body, require_token, respond
from .context import EmulatorContext
from .errors import DuplicateActivity, InvalidAffiliation, NotFound, NotSource
from .media import XmlShape
from .state import Affiliation
from .web import Request, Response

if TYPE_CHECKING:
    from .app import Router


def register(router: Router) -> None:
    router.add("POST", "/v3.0/{orcid:orcid}/{section:section}", create_item)
    router.add("GET", "/v3.0/{orcid:orcid}/{section:section}/{put_code}", get_item)
    router.add("PUT", "/v3.0/{orcid:orcid}/{section:section}/{put_code}", update_item)
    router.add("DELETE", "/v3.0/{orcid:orcid}/{section:section}/{put_code}", delete_item)
    router.add("GET", "/v3.0/{orcid:orcid}/{sections:sections}", list_section)


# -- handlers ------------------------------------------------------------------------


def create_item(req: Request) -> Response:
    orcid, section = req.path_params["orcid"], req.path_params["section"]
    token = require_token(req)
    check_record(req, orcid, write=True)
    check_access(token, orcid, write=True)
    body = _affiliation_body(req, section)
    if body.get("put-code") is not None:
        raise oe.put_code_not_expected()
    try:
        item = req.context.state.add_affiliation(orcid, section, body, client_id=token.client_id)
    except InvalidAffiliation as exc:
        raise oe.invalid_body(str(exc)) from None
    except DuplicateActivity as exc:
        raise oe.duplicate_activity(str(exc)) from None
    except NotFound:
        raise oe.record_not_found(orcid) from None
    location = req.context.url(f"/v3.0/{orcid}/{section}/{item.put_code}")
    return Response(201, b"", [("Location", location)])


def get_item(req: Request) -> Response:
    orcid, section = req.path_params["orcid"], req.path_params["section"]
    token = require_token(req)
    check_record(req, orcid, write=False)
    check_access(token, orcid, write=False)
    put_code = _put_code(req.path_params["put_code"])
    item = req.context.state.get_affiliation(orcid, put_code, section)
    if item is None:
        raise oe.item_not_found(section, put_code)
    return respond(req, render_item(req.context, item), item_shape(section))


def update_item(req: Request) -> Response:
    orcid, section = req.path_params["orcid"], req.path_params["section"]
    token = require_token(req)
    check_record(req, orcid, write=True)
    check_access(token, orcid, write=True)
    put_code = _put_code(req.path_params["put_code"])
    body = _affiliation_body(req, section)
    body_put_code = body.get("put-code")
    if body_put_code is None:
        raise oe.put_code_missing()
    if _as_int(body_put_code) != put_code:
        raise oe.put_code_mismatch(put_code, body_put_code)
    try:
        item = req.context.state.update_affiliation(orcid, section, put_code, body, client_id=token.client_id)
    except NotFound:
        raise oe.item_not_found(section, put_code) from None
    except NotSource:
        raise oe.not_source(section) from None
    except InvalidAffiliation as exc:
        raise oe.invalid_body(str(exc)) from None
    except DuplicateActivity as exc:
        raise oe.duplicate_activity(str(exc)) from None
    return respond(req, render_item(req.context, item), item_shape(section))


def delete_item(req: Request) -> Response:
    orcid, section = req.path_params["orcid"], req.path_params["section"]
    token = require_token(req)
    check_record(req, orcid, write=True)
    check_access(token, orcid, write=True)
    put_code = _put_code(req.path_params["put_code"])
    try:
        req.context.state.delete_affiliation(orcid, section, put_code, client_id=token.client_id)
    except NotFound:
        raise oe.item_not_found(section, put_code) from None
    except NotSource:
        raise oe.not_source(section) from None
    return Response(204)


def list_section(req: Request) -> Response:
    orcid, plural = req.path_params["orcid"], req.path_params["sections"]
    section = SECTION_BY_PLURAL[plural]
    token = require_token(req)
    check_record(req, orcid, write=False)
    check_access(token, orcid, write=False)
    items = req.context.state.affiliations(orcid, section)
    return respond(req, render_section(req.context, orcid, section, items), list_shape(section))


def _affiliation_body(req: Request, section: str) -> dict[str, Any]:
    root, body = read_body(req)
    if root is not None and root != section:
        raise oe.invalid_body(f"expected a <{section}> element, got <{root}>")
    if not isinstance(body, dict):
        raise oe.invalid_body(f"the body must be a {section} object")
    return body


def _put_code(raw: str) -> int:
    value = _as_int(raw)
    if value is None or value < 1:
        raise oe.put_code_invalid(raw)
    return value


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


# -- rendering ---------------------------------------------------------------------


def item_shape(section: str) -> XmlShape:
    return XmlShape(root=section, prefix=section)


def list_shape(section: str) -> XmlShape:
    return XmlShape(
        root=PLURALS[section],
        prefix="activities",
        prefixes={"affiliation-group": "activities", f"{section}-summary": section},
    )


def _millis(seconds: float) -> int:
    return int(round(seconds * 1000))


def render_source(ctx: EmulatorContext, item: Affiliation) -> dict[str, Any]:
    """ORCID's ``source``: the client that wrote the item, or the researcher for items they added."""
    host = urlsplit(ctx.base_url).hostname or ""
    source: dict[str, Any] = {
        "source-orcid": None,
        "source-client-id": None,
        "source-name": None,
        "assertion-origin-orcid": None,
        "assertion-origin-client-id": None,
        "assertion-origin-name": None,
    }
    if item.source_client_id is not None:
        client = ctx.state.get_client(item.source_client_id)
        source["source-client-id"] = {
            "uri": ctx.url(f"/client/{item.source_client_id}"),
            "path": item.source_client_id,
            "host": host,
        }
        source["source-name"] = {"value": client.name if client is not None else item.source_client_id}
    else:
        record = ctx.state.get_record(item.orcid)
        source["source-orcid"] = {"uri": ctx.url(f"/{item.orcid}"), "path": item.orcid, "host": host}
        source["source-name"] = {"value": record.name if record is not None else item.orcid}
    return source


def render_item(ctx: EmulatorContext, item: Affiliation) -> dict[str, Any]:
    """One affiliation as ``GET /v3.0/{orcid}/{section}/{put-code}`` returns it.

    ORCID's v3.0 summaries carry the same fields, so this is also the summary.
    """
    fields = item.to_dict()["fields"]
    return {
        "created-date": {"value": _millis(item.created_at)},
        "last-modified-date": {"value": _millis(item.last_modified_at)},
        "source": render_source(ctx, item),
        "put-code": item.put_code,
        "department-name": fields["department-name"],
        "role-title": fields["role-title"],
        "start-date": fields["start-date"],
        "end-date": fields["end-date"],
        "organization": fields["organization"],
        "url": fields["url"],
        "external-ids": fields["external-ids"],
        "display-index": "0",
        "visibility": item.visibility,
        "path": f"/{item.orcid}/{item.section}/{item.put_code}",
    }


def group_items(items: Iterable[Affiliation]) -> list[list[Affiliation]]:
    """ORCID's grouping: items sharing a ``self`` external identifier form one group.

    Groups keep the order of their first item (put-code order).
    """
    groups: list[list[Affiliation]] = []
    group_ids: list[set[tuple[str, str]]] = []
    for item in items:
        ids = set(item.self_external_ids)
        joined = [index for index, known in enumerate(group_ids) if ids and known & ids]
        if not joined:
            groups.append([item])
            group_ids.append(ids)
            continue
        # The item may bridge several groups: merge them into the first.
        first = joined[0]
        groups[first].append(item)
        group_ids[first] |= ids
        for index in reversed(joined[1:]):
            groups[first].extend(groups.pop(index))
            group_ids[first] |= group_ids.pop(index)
        groups[first].sort(key=lambda a: a.put_code)
    return groups


def render_section(ctx: EmulatorContext, orcid: str, section: str, items: list[Affiliation]) -> dict[str, Any]:
    """``GET /v3.0/{orcid}/{section}s``: summaries in affiliation groups."""
    groups = []
    for group in group_items(items):
        external_ids: list[dict[str, Any]] = []
        for item in group:
            for external_id in item.to_dict()["fields"]["external-ids"]["external-id"]:
                if external_id["external-id-relationship"] == "self" and external_id not in external_ids:
                    external_ids.append(external_id)
        groups.append(
            {
                "last-modified-date": {"value": _millis(max(item.last_modified_at for item in group))},
                "external-ids": {"external-id": external_ids},
                "summaries": [{f"{section}-summary": render_item(ctx, item)} for item in group],
            }
        )
    latest = max((item.last_modified_at for item in items), default=None)
    return {
        "last-modified-date": {"value": _millis(latest)} if latest is not None else None,
        "affiliation-group": groups,
        "path": f"/{orcid}/{PLURALS[section]}",
    }
