"""Public expanded search by organisation identifier."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from orcid_emulator.search import OrgTerm, QueryError, parse_query

from .support import OTHER_CLIENT_ID, ROR_ID, Api, affiliation_body, assert_orcid_error, org

SEARCH = "/v3.0/expanded-search/"
OTHER_ROR = "https://ror.org/02jx3x895"
NS = {"es": "http://www.orcid.org/ns/expanded-search"}


def _seed(api: Api, orcid: str, section: str, organization: dict[str, Any]) -> None:
    api.state.add_affiliation(orcid, section, affiliation_body(organization=organization, external_ids=None))


def _search(
    api: Api, q: str, *, accept: str = "application/vnd.orcid+json", token: str | None = None, **params: int
) -> requests.Response:
    return api.request("GET", SEARCH, token, accept=accept, params={"q": q, **params})


@pytest.fixture
def seeded(api: Api) -> list[str]:
    """Three records at Oxford (ROR) through different sections, one at UCL, one at a Ringgold/GRID org."""
    records = api.state.records()
    extra = [api.state.add_record(f"Person{i}", f"Number{i}") for i in range(2)]
    oxford = org("University of Oxford", city="Oxford", country="GB", identifier=ROR_ID)
    _seed(api, records[0].orcid, "employment", oxford)
    _seed(api, records[1].orcid, "education", oxford)
    _seed(api, extra[0].orcid, "service", org("University of Oxford", city="Oxford", country="GB",
                                                identifier="052gg0110"))  # fmt: skip
    _seed(api, records[2].orcid, "employment", org("UCL", city="London", country="GB", identifier=OTHER_ROR))
    _seed(api, records[2].orcid, "membership", org("Royal Society", city="London", country="GB"))
    _seed(api, extra[1].orcid, "employment", org("Ringgold Org", city="Leeds", country="GB", identifier="4616",
                                                 source="RINGGOLD"))  # fmt: skip
    _seed(api, extra[1].orcid, "distinction", org("Grid Org", city="York", country="GB", identifier="grid.4991.5",
                                                  source="GRID"))  # fmt: skip
    return sorted([records[0].orcid, records[1].orcid, extra[0].orcid])


def test_ror_search_anonymous(api: Api, seeded: list[str]) -> None:
    response = _search(api, f'ror-org-id:"{ROR_ID}"')
    assert response.status_code == 200
    body = response.json()
    assert body["num-found"] == 3
    assert [r["orcid-id"] for r in body["expanded-result"]] == seeded
    first = body["expanded-result"][0]
    record = api.state.get_record(first["orcid-id"])
    assert first == {
        "orcid-id": record.orcid,
        "given-names": record.given_name,
        "family-names": record.family_name,
        "credit-name": record.credit_name,
        "other-name": [],
        "email": [],
        "institution-name": ["University of Oxford"],
    }


@pytest.mark.parametrize(
    "query",
    [
        f'ror-org-id:"{ROR_ID}"',
        "ror-org-id:052gg0110",
        'ror-org-id:"052GG0110"',
        "ror-org-id:http://ror.org/052gg0110",
        f"(ror-org-id:{ROR_ID})",
    ],
)
def test_ror_id_spellings(api: Api, seeded: list[str], query: str) -> None:
    assert _search(api, query).json()["num-found"] == 3


def test_ringgold_grid_and_or(api: Api, seeded: list[str]) -> None:
    assert _search(api, 'ringgold-org-id:"4616"').json()["num-found"] == 1
    assert _search(api, "ringgold-org-id:4616").json()["num-found"] == 1
    assert _search(api, 'grid-org-id:"GRID.4991.5"').json()["num-found"] == 1
    both = _search(api, f'ror-org-id:"{ROR_ID}" OR ror-org-id:"{OTHER_ROR}"').json()
    assert both["num-found"] == 4
    mixed = _search(api, f'(ror-org-id:"{OTHER_ROR}" OR ringgold-org-id:4616) OR grid-org-id:grid.4991.5').json()
    assert mixed["num-found"] == 2
    ucl = _search(api, f"ror-org-id:{OTHER_ROR}").json()["expanded-result"][0]
    assert ucl["institution-name"] == ["UCL", "Royal Society"]
    assert ucl["credit-name"] == "N. Haddad-Whitlock"


def test_nothing_found_is_null_results(api: Api, seeded: list[str]) -> None:
    body = _search(api, "ror-org-id:https://ror.org/00aaaaa00").json()
    assert body == {"expanded-result": None, "num-found": 0}


def test_paging(api: Api, seeded: list[str]) -> None:
    query = f"ror-org-id:{ROR_ID}"
    pages = [_search(api, query, start=start, rows=2).json() for start in (0, 2, 4)]
    assert [page["num-found"] for page in pages] == [3, 3, 3]
    assert [r["orcid-id"] for r in pages[0]["expanded-result"]] == seeded[:2]
    assert [r["orcid-id"] for r in pages[1]["expanded-result"]] == seeded[2:]
    assert pages[2]["expanded-result"] is None
    assert _search(api, query, rows=0).json() == {"expanded-result": None, "num-found": 3}
    assert len(_search(api, query, rows=1000).json()["expanded-result"]) == 3


@pytest.mark.parametrize(
    "params",
    [
        {"q": ""},
        {"q": "ror-org-id:x", "rows": "1001"},
        {"q": "ror-org-id:x", "rows": "-1"},
        {"q": "ror-org-id:x", "rows": "ten"},
        {"q": "ror-org-id:x", "start": "-5"},
        {"q": "ror-org-id:x", "start": "10001"},
        {"q": "affiliation-org-name:Oxford"},
        {"q": "ror-org-id:a AND ror-org-id:b"},
        {"q": "ror-org-id:a or ror-org-id:b"},
        {"q": "(ror-org-id:a OR ror-org-id:b"},
        {"q": "ror-org-id:a OR"},
        {"q": "Oxford"},
    ],
)
def test_bad_search_requests_are_400(api: Api, params: dict[str, str]) -> None:
    response = api.request("GET", SEARCH, params=params)
    assert_orcid_error(response, 400, 9006)


def test_missing_q(api: Api) -> None:
    assert_orcid_error(api.request("GET", SEARCH), 400, 9006)


def test_tokens_on_search(api: Api, seeded: list[str]) -> None:
    two_legged = api.state.issue_token(OTHER_CLIENT_ID, None, ["/read-public"]).access_token
    assert _search(api, f"ror-org-id:{ROR_ID}", token=two_legged).json()["num-found"] == 3
    unknown = _search(api, f"ror-org-id:{ROR_ID}", token="bogus")
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_token"
    # No trailing slash works too.
    assert api.request("GET", "/v3.0/expanded-search", params={"q": f"ror-org-id:{ROR_ID}"}).json()["num-found"] == 3


def test_deactivated_locked_and_deleted_records_are_not_found(api: Api, seeded: list[str]) -> None:
    api.state.deactivate_record(seeded[0])
    api.state.lock_record(seeded[1])
    api.state.delete_record(seeded[2])
    assert _search(api, f"ror-org-id:{ROR_ID}").json()["num-found"] == 0
    api.state.reactivate_record(seeded[0])
    assert _search(api, f"ror-org-id:{ROR_ID}").json()["num-found"] == 1


def test_search_in_xml(api: Api, seeded: list[str]) -> None:
    response = _search(api, f"ror-org-id:{ROR_ID}", accept="application/vnd.orcid+xml", rows=2)
    assert response.headers["Content-Type"].startswith("application/vnd.orcid+xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "{http://www.orcid.org/ns/expanded-search}expanded-search"
    assert root.get("num-found") == "3"
    results = root.findall("es:expanded-result", NS)
    assert [r.findtext("es:orcid-id", namespaces=NS) for r in results] == seeded[:2]
    assert results[0].findtext("es:institution-name", namespaces=NS) == "University of Oxford"
    empty = ElementTree.fromstring(_search(api, f"ror-org-id:{ROR_ID}", accept="application/xml", rows=0).content)
    assert empty.get("num-found") == "3" and empty.findall("es:expanded-result", NS) == []


def test_written_affiliations_are_searchable(api: Api) -> None:
    api.create("invited-position", affiliation_body(), api.token())
    assert [r["orcid-id"] for r in _search(api, f"ror-org-id:{ROR_ID}").json()["expanded-result"]] == [
        api.first_orcid
    ]


# -- the query parser --------------------------------------------------------------


def test_parse_query_terms() -> None:
    assert parse_query(f'ror-org-id:"{ROR_ID}" OR ringgold-org-id:1234 OR grid-org-id:"grid.1.a"') == (
        OrgTerm("ROR", "052gg0110"),
        OrgTerm("RINGGOLD", "1234"),
        OrgTerm("GRID", "grid.1.a"),
    )
    assert parse_query("ror-org-id:052gg0110 OR ror-org-id:https://ror.org/052gg0110") == (
        OrgTerm("ROR", "052gg0110"),
    )
    assert parse_query('((ringgold-org-id:"1"))  OR  (ringgold-org-id:2 OR ringgold-org-id:3)') == tuple(
        OrgTerm("RINGGOLD", str(n)) for n in (1, 2, 3)
    )


ror_ids = st.text(alphabet="0123456789abcdefghjkmnpqrstvwxyz", min_size=6, max_size=6).map(lambda s: f"0{s}42")
ringgold_ids = st.integers(min_value=1, max_value=10**7).map(str)
terms = st.one_of(
    ror_ids.map(lambda v: ("ror-org-id", v, OrgTerm("ROR", v))),
    ror_ids.map(lambda v: ("ror-org-id", f"https://ror.org/{v}", OrgTerm("ROR", v))),
    ringgold_ids.map(lambda v: ("ringgold-org-id", v, OrgTerm("RINGGOLD", v))),
)


@given(st.lists(terms, min_size=1, max_size=6), st.booleans(), st.booleans())
def test_any_or_of_terms_parses_to_its_terms(chosen: list[tuple[str, str, OrgTerm]], quote: bool, wrap: bool) -> None:
    parts = [f'{field}:"{value}"' if quote else f"{field}:{value}" for field, value, _ in chosen]
    query = " OR ".join(f"({part})" if wrap else part for part in parts)
    assert parse_query(query) == tuple(dict.fromkeys(term for _, _, term in chosen))


@given(st.text(max_size=40))
def test_parser_never_crashes(query: str) -> None:
    try:
        result = parse_query(query)
    except QueryError:
        return
    assert result and all(isinstance(term, OrgTerm) for term in result)
