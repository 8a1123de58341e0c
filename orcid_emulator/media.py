"""Media types of the v3.0 API: ``Accept`` negotiation, request bodies and XML.

JSON is ORCID's JSON as is.  XML uses ORCID's namespaces and element names and
a mechanical mapping from the JSON shape, so a client reading either sees the
same structure:

* an object becomes an element with one child per key, in order;
* ``{"value": x}`` becomes an element whose text is ``x`` (``created-date`` and
  ``last-modified-date`` turn epoch milliseconds into an ISO timestamp, as
  ORCID's XML does);
* a list becomes one element per item, named after the key
  (``"external-id": [...]`` -> ``<common:external-id>`` repeated); under
  ``summaries`` each ``{"employment-summary": {...}}`` item contributes its
  inner element directly, as in ORCID's ``affiliation-group``;
* ``put-code``, ``path``, ``visibility``, ``display-index`` and ``num-found``
  become attributes (except inside a source's identifier, where ``path`` is
  an element);
* ``null`` is left out.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .affiliations import SECTIONS

JSON = "json"
XML = "xml"

JSON_TYPES: tuple[str, ...] = ("application/vnd.orcid+json", "application/orcid+json", "application/json")
XML_TYPES: tuple[str, ...] = ("application/vnd.orcid+xml", "application/orcid+xml", "application/xml")


@dataclass(frozen=True)
class MediaType:
    format: str  # JSON or XML
    content_type: str

    @property
    def header(self) -> str:
        return f"{self.content_type};charset=UTF-8"


# ORCID's own default is XML; the emulator answers JSON to */* and to a missing Accept
# because every client it serves speaks JSON, and says so in the README.
DEFAULT_MEDIA = MediaType(JSON, JSON_TYPES[0])
_BY_NAME: dict[str, MediaType] = {
    **{name: MediaType(JSON, name) for name in JSON_TYPES},
    **{name: MediaType(XML, name) for name in XML_TYPES},
}
_WILDCARDS = ("*/*", "application/*")


class MediaError(ValueError):
    """A request body that cannot be read as the format its Content-Type names."""


def negotiate(accept: str | None) -> MediaType | None:
    """The media type to answer in, or ``None`` when ``Accept`` allows none we serve (406)."""
    if accept is None or not accept.strip():
        return DEFAULT_MEDIA
    candidates: list[tuple[float, int, int, MediaType]] = []
    for index, part in enumerate(accept.split(",")):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        quality = _quality(params)
        if quality <= 0:
            continue
        if name in _BY_NAME:
            candidates.append((-quality, 0, index, _BY_NAME[name]))
        elif name in _WILDCARDS:
            candidates.append((-quality, _WILDCARDS.index(name) + 1, index, DEFAULT_MEDIA))
    if not candidates:
        return None
    return min(candidates, key=lambda candidate: candidate[:3])[3]


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def body_format(content_type: str | None) -> str | None:
    """JSON, XML or ``None`` (415) for a request's Content-Type."""
    if not content_type:
        return None
    name = content_type.split(";", 1)[0].strip().lower()
    media = _BY_NAME.get(name)
    return media.format if media else None


def parse_body(body: bytes, fmt: str) -> tuple[str | None, Any]:
    """Decode a request body: ``(xml root element name or None, data in ORCID's JSON shape)``."""
    if not body.strip():
        raise MediaError("the request body is empty")
    if fmt == JSON:
        try:
            return None, json.loads(body)
        except ValueError as exc:
            raise MediaError(f"not valid JSON: {exc}") from None
    return from_xml(body)


# -- XML ---------------------------------------------------------------------------

NAMESPACES: dict[str, str] = {
    "common": "http://www.orcid.org/ns/common",
    "activities": "http://www.orcid.org/ns/activities",
    "error": "http://www.orcid.org/ns/error",
    "expanded-search": "http://www.orcid.org/ns/expanded-search",
    **{section: f"http://www.orcid.org/ns/{section}" for section in SECTIONS},
}
for _prefix, _uri in NAMESPACES.items():
    ET.register_namespace(_prefix, _uri)

ATTRIBUTES = frozenset({"put-code", "path", "visibility", "display-index", "num-found"})
# Identifier blocks whose "path" is a child element, not an attribute.
_PLAIN_ELEMENTS = frozenset(
    {"source-client-id", "source-orcid", "assertion-origin-client-id", "assertion-origin-orcid"}
)
_TIMESTAMPS = frozenset({"created-date", "last-modified-date"})
# Reading XML back needs to know what JSON wrapped in {"value": ...} and what is a list.
_VALUE_ELEMENTS = frozenset({"year", "month", "day", "url", "external-id-url", "source-name", *_TIMESTAMPS})
_LIST_ELEMENTS = frozenset({"external-id"})
_CONTAINER_ELEMENTS = frozenset(
    {"organization", "address", "disambiguated-organization", "external-ids", "start-date", "end-date", "source"}
)


@dataclass(frozen=True)
class XmlShape:
    """Where the elements of one document live: the root's namespace, the default for
    everything below it, and per-element exceptions."""

    root: str
    prefix: str
    child_prefix: str = "common"
    prefixes: Mapping[str, str] = field(default_factory=dict)


def to_xml(data: Mapping[str, Any], shape: XmlShape) -> bytes:
    root = ET.Element(_qname(shape.prefix, shape.root))
    _fill(root, shape.root, data, shape)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def _qname(prefix: str, name: str) -> str:
    return f"{{{NAMESPACES[prefix]}}}{name}"


def _child(parent: ET.Element, name: str, value: Any, shape: XmlShape) -> None:
    if value is None:
        return
    element = ET.SubElement(parent, _qname(shape.prefixes.get(name, shape.child_prefix), name))
    _fill(element, name, value, shape)


def _fill(element: ET.Element, name: str, value: Any, shape: XmlShape) -> None:
    if isinstance(value, Mapping):
        if set(value) == {"value"}:
            element.text = _timestamp(value["value"]) if name in _TIMESTAMPS else _scalar(value["value"])
            return
        for key, item in value.items():
            if key in ATTRIBUTES and name not in _PLAIN_ELEMENTS and not isinstance(item, Mapping | list):
                if item is not None:
                    element.set(key, _scalar(item))
            elif isinstance(item, list):
                for entry in item:
                    if key == "summaries" and isinstance(entry, Mapping):
                        for inner_key, inner in entry.items():
                            _child(element, inner_key, inner, shape)
                    else:
                        _child(element, key, entry, shape)
            else:
                _child(element, key, item, shape)
    else:
        element.text = _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _timestamp(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value / 1000, tz=UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return _scalar(value)


def from_xml(body: bytes) -> tuple[str, dict[str, Any]]:
    """Read an XML request body into ORCID's JSON shape; returns ``(root name, data)``."""
    # Entity declarations are the classic XML bombs, and ORCID's bodies never need them.
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise MediaError("DOCTYPE and ENTITY declarations are not accepted")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise MediaError(f"not well-formed XML: {exc}") from None
    name = _local(root.tag)
    data = _read(root)
    if not isinstance(data, dict):
        data = {}
    return name, data


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _read(element: ET.Element) -> Any:
    name = _local(element.tag)
    children = list(element)
    if not children and not element.attrib:
        text = (element.text or "").strip()
        if name in _VALUE_ELEMENTS:
            return {"value": text}
        if name in _CONTAINER_ELEMENTS:
            return {}
        return text
    data: dict[str, Any] = {}
    for key, raw in element.attrib.items():
        local = _local(key)
        data[local] = int(raw) if local == "put-code" and raw.isdigit() else raw
    for child in children:
        key = _local(child.tag)
        value = _read(child)
        if key in _LIST_ELEMENTS:
            data.setdefault(key, []).append(value)
        elif key in data:
            raise MediaError(f"element {key} appears more than once")
        else:
            data[key] = value
    return data
