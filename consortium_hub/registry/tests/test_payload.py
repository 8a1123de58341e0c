"""ORCID v3.0 bodies built from rows, summaries read back, and the crash-reconciliation matcher."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consortium_hub.registry.payload import (
    affiliation_body,
    fuzzy_date,
    normalise_date,
    partial_date,
    summaries_from_group_list,
    summary_from_json,
    summary_matches_row,
)

CLIENT_ID = "APP-HUB0000000000001"


def row(**overrides: Any) -> dict[str, Any]:
    fields = {
        "section": "employment", "department_name": "Chemistry", "role_title": "Lecturer",
        "start_date": "2021-09", "end_date": "", "org_name": "University of Testing", "org_country": "GB",
        "org_city": "Leeds", "org_region": "", "disambiguated_organization_identifier": "024mrxd33",
        "disambiguation_source": "ROR", "external_id": "", "external_id_type": "", "external_id_url": "",
        "url": "",
    }
    fields.update(overrides)
    return fields


def as_listed(body: dict[str, Any], *, put_code: int = 77, client_id: str = CLIENT_ID) -> dict[str, Any]:
    """What ORCID lists for an item it stored from `body`: the same fields, its put-code and source."""
    return {**body, "put-code": put_code,
            "source": {"source-client-id": {"path": client_id, "host": "orcid.org"}, "source-name": {"value": "Hub"}}}


def test_body_has_orcids_shape_for_a_post():
    body = affiliation_body(row(end_date="2024-06-30", org_region="West Yorkshire", url="https://example.org/p",
                                external_id="E-1", external_id_type="employee-id",
                                external_id_url="https://example.org/e/1"))
    assert body == {
        "department-name": "Chemistry",
        "role-title": "Lecturer",
        "start-date": {"year": {"value": "2021"}, "month": {"value": "09"}, "day": None},
        "end-date": {"year": {"value": "2024"}, "month": {"value": "06"}, "day": {"value": "30"}},
        "organization": {
            "name": "University of Testing",
            "address": {"city": "Leeds", "country": "GB", "region": "West Yorkshire"},
            "disambiguated-organization": {"disambiguated-organization-identifier": "https://ror.org/024mrxd33",
                                           "disambiguation-source": "ROR"},
        },
        "url": {"value": "https://example.org/p"},
        "external-ids": {"external-id": [{"external-id-type": "employee-id", "external-id-value": "E-1",
                                          "external-id-relationship": "self",
                                          "external-id-url": {"value": "https://example.org/e/1"}}]},
    }
    assert "put-code" not in body


def test_body_for_a_put_carries_the_put_code_and_leaves_empty_fields_null():
    body = affiliation_body(row(department_name="", role_title="", start_date=""), put_code="123")
    assert body["put-code"] == 123
    assert body["department-name"] is None and body["role-title"] is None and body["start-date"] is None
    assert body["end-date"] is None and body["url"] is None and "external-ids" not in body


def test_other_identifiers_are_sent_as_given():
    body = affiliation_body(row(disambiguated_organization_identifier="385488", disambiguation_source="RINGGOLD"))
    assert body["organization"]["disambiguated-organization"] == {
        "disambiguated-organization-identifier": "385488", "disambiguation-source": "RINGGOLD"}


def test_bad_dates_are_refused():
    with pytest.raises(ValueError):
        fuzzy_date("2021/09")


def test_group_list_is_read_per_section():
    body = affiliation_body(row(section="invited-position"))
    data = {"affiliation-group": [
        {"summaries": [{"invited-position-summary": as_listed(body, put_code=5)}]},
        {"summaries": [{"invited-position-summary": as_listed(body, put_code=6, client_id="APP-OTHER")}]},
    ]}
    summaries = summaries_from_group_list("invited-position", data)
    assert [(s.put_code, s.source_client_id) for s in summaries] == [("5", CLIENT_ID), ("6", "APP-OTHER")]
    assert summaries[0].organization_name == "University of Testing"
    assert summaries[0].start_date == "2021-09"
    assert summaries_from_group_list("invited-position", {}) == []


def test_the_item_a_row_wrote_matches_it_and_nothing_else_does():
    mine = row()
    listed = summary_from_json("employment", as_listed(affiliation_body(mine)))
    assert summary_matches_row(listed, mine, client_id=CLIENT_ID)
    # Case and spacing of names, and the bare or URL form of a ROR iD, are not differences.
    assert summary_matches_row(listed, row(org_name="  university of  TESTING", role_title="lecturer",
                                           disambiguated_organization_identifier="https://ror.org/024mrxd33"),
                               client_id=CLIENT_ID)
    assert not summary_matches_row(listed, mine, client_id="APP-SOMEONE-ELSE")
    for change in ({"section": "education"}, {"org_name": "Another University"}, {"start_date": "2021-10"},
                   {"role_title": "Professor"}, {"disambiguated_organization_identifier": "05f82e368"},
                   {"disambiguation_source": "GRID"}):
        assert not summary_matches_row(listed, row(**change), client_id=CLIENT_ID), change


dates = st.builds(
    lambda y, m, d, parts: "-".join([f"{y:04d}", f"{m:02d}", f"{d:02d}"][:parts]),
    st.integers(1900, 2100), st.integers(1, 12), st.integers(1, 28), st.integers(1, 3),
)
text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda s: s.strip())


@given(dates)
def test_partial_dates_survive_the_round_trip(value):
    assert partial_date(fuzzy_date(value)) == value
    assert normalise_date(value) == value


@given(org_name=text, role_title=st.one_of(st.just(""), text), start=st.one_of(st.just(""), dates),
       section=st.sampled_from(["employment", "education", "qualification", "invited-position", "distinction",
                                "membership", "service"]),
       identifier=st.sampled_from([("024mrxd33", "ROR"), ("385488", "RINGGOLD"), ("grid.9909.9", "GRID")]))
def test_whatever_a_row_holds_its_own_item_matches_it(org_name, role_title, start, section, identifier):
    mine = row(org_name=org_name, role_title=role_title, start_date=start, section=section,
               disambiguated_organization_identifier=identifier[0], disambiguation_source=identifier[1])
    listed = summary_from_json(section, as_listed(affiliation_body(mine)))
    assert summary_matches_row(listed, mine, client_id=CLIENT_ID)


@given(first=dates, second=dates)
def test_rows_that_start_on_different_dates_never_match(first, second):
    listed = summary_from_json("employment", as_listed(affiliation_body(row(start_date=first))))
    assert summary_matches_row(listed, row(start_date=second), client_id=CLIENT_ID) == (first == second)
