"""Public expanded search, for the organisation queries consortia run:

``GET /v3.0/expanded-search/?q=ror-org-id:"https://ror.org/0abcd1234"&start=0&rows=100``

Supported: ``ror-org-id`` (full URL or bare id), ``ringgold-org-id``,
``grid-org-id``, values quoted or bare, combined with ``OR`` and parentheses.
A record matches when any of its affiliations (any section) names that
disambiguated organisation.  Deactivated and locked records are not indexed,
as on ORCID.  Results are in ORCID iD order (ORCID orders by relevance, which
an exact identifier match does not have).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import orcid_errors as oe
from .affiliations import disambiguated_org, normalize_org_identifier
from .api import optional_token, respond
from .media import XmlShape
from .state import EmulatorState
from .web import Request, Response, first_values

if TYPE_CHECKING:
    from .app import Router

DEFAULT_ROWS = 1000
MAX_ROWS = 1000
# Solr's deep-paging ceiling as ORCID exposes it.
MAX_START = 10_000
FIELDS: dict[str, str] = {
    "ror-org-id": "ROR",
    "ringgold-org-id": "RINGGOLD",
    "grid-org-id": "GRID",
}
SEARCH_SHAPE = XmlShape(root="expanded-search", prefix="expanded-search", child_prefix="expanded-search")


def register(router: Router) -> None:
    router.add("GET", "/v3.0/expanded-search/", expanded_search)
    router.add("GET", "/v3.0/expanded-search", expanded_search)


# -- query language ----------------------------------------------------------------


class QueryError(ValueError):
    pass


@dataclass(frozen=True)
class OrgTerm:
    source: str  # ROR, RINGGOLD or GRID
    identifier: str  # normalised, see affiliations.normalize_org_identifier

    @classmethod
    def make(cls, field: str, value: str) -> OrgTerm:
        source = FIELDS.get(field)
        if source is None:
            raise QueryError(f"unsupported field {field!r}; the emulator searches {', '.join(FIELDS)}")
        if not value.strip():
            raise QueryError(f"{field} needs a value")
        return cls(source, normalize_org_identifier(source, value))


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\()
      | (?P<rparen>\))
      | (?P<field>[A-Za-z][\w-]*):(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s()"]+))
      | (?P<word>[^\s()]+)
    )""",
    re.VERBOSE,
)


def parse_query(query: str) -> tuple[OrgTerm, ...]:
    """Parse ``field:value (OR field:value)*`` with optional parentheses into the terms any of
    which a record must match.  Duplicates are dropped, order kept."""
    tokens: list[tuple[str, Any]] = []
    position = 0
    text = query.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise QueryError(f"cannot parse the query near {text[position:position + 20]!r}")
        position = match.end()
        if match.group("lparen"):
            tokens.append(("(", None))
        elif match.group("rparen"):
            tokens.append((")", None))
        elif match.group("field"):
            raw = match.group("quoted")
            value = re.sub(r"\\(.)", r"\1", raw) if raw is not None else match.group("bare")
            tokens.append(("term", OrgTerm.make(match.group("field"), value)))
        elif match.group("word") == "OR":
            tokens.append(("OR", None))
        else:
            raise QueryError(f"unsupported query syntax {match.group('word')!r}; join terms with OR")
    if not tokens:
        raise QueryError("the query is empty")
    terms, index = _parse_or(tokens, 0)
    if index != len(tokens):
        raise QueryError("unbalanced parentheses or a dangling term")
    return tuple(dict.fromkeys(terms))


def _parse_or(tokens: list[tuple[str, Any]], index: int) -> tuple[list[OrgTerm], int]:
    terms, index = _parse_operand(tokens, index)
    while index < len(tokens) and tokens[index][0] == "OR":
        more, index = _parse_operand(tokens, index + 1)
        terms.extend(more)
    return terms, index


def _parse_operand(tokens: list[tuple[str, Any]], index: int) -> tuple[list[OrgTerm], int]:
    if index >= len(tokens):
        raise QueryError("the query ends where a term was expected")
    kind, value = tokens[index]
    if kind == "term":
        return [value], index + 1
    if kind == "(":
        terms, index = _parse_or(tokens, index + 1)
        if index >= len(tokens) or tokens[index][0] != ")":
            raise QueryError("missing closing parenthesis")
        return terms, index + 1
    raise QueryError(f"expected a field:value term, found {kind!r}")


# -- search ----------------------------------------------------------------------


def search_records(state: EmulatorState, terms: tuple[OrgTerm, ...]) -> list[dict[str, Any]]:
    """Every indexed record with an affiliation at one of the organisations, as expanded results."""
    wanted = {(term.source, term.identifier) for term in terms}
    matched: set[str] = set()
    for item in state.affiliations():
        if disambiguated_org(item.fields) in wanted:
            matched.add(item.orcid)
    results = []
    for orcid in sorted(matched):
        record = state.get_record(orcid)
        if record is None or record.deactivated or record.locked:
            continue
        institutions = list(dict.fromkeys(item.fields["organization"]["name"] for item in state.affiliations(orcid)))
        results.append(
            {
                "orcid-id": record.orcid,
                "given-names": record.given_name,
                "family-names": record.family_name or None,
                "credit-name": record.credit_name,
                "other-name": [],
                # Emails are private on the emulator's records, as most researchers keep them.
                "email": [],
                "institution-name": institutions,
            }
        )
    return results


def expanded_search(req: Request) -> Response:
    optional_token(req)
    params = first_values(req.query)
    query = params.get("q", "")
    if not query.strip():
        raise oe.bad_search_request("The q parameter is required")
    start = _int_param(params, "start", 0, 0, MAX_START)
    rows = _int_param(params, "rows", DEFAULT_ROWS, 0, MAX_ROWS)
    try:
        terms = parse_query(query)
    except QueryError as exc:
        raise oe.bad_search_request(f"Unsupported query {query!r}: {exc}") from None
    results = search_records(req.context.state, terms)
    page = results[start : start + rows]
    # ORCID serialises an empty result list as null, rows=0 included.
    body = {"expanded-result": page or None, "num-found": len(results)}
    return respond(req, body, SEARCH_SHAPE)


def _int_param(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise oe.bad_search_request(f"The {name} parameter must be an integer between {low} and {high}")
    value = int(raw)
    if not low <= value <= high:
        raise oe.bad_search_request(f"The {name} parameter must be an integer between {low} and {high}")
    return value
