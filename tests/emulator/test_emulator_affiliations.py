"""Member API v3.0 affiliation sections: create, read, update, delete, list."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest

from orcid_emulator import SECTIONS

from .support import (
    CLIENT_ID,
    CLIENT_NAME,
    OTHER_CLIENT_ID,
    ROR_ID,
    Api,
    FakeClock,
    Flow,
    affiliation_body,
    assert_orcid_error,
    org,
)

PLURALS = {section: f"{section}s" for section in SECTIONS}


@pytest.mark.parametrize("section", SECTIONS)
def test_full_cycle_in_every_section(api: Api, clock: FakeClock, section: str) -> None:
    orcid = api.first_orcid
    token = api.token()
    created = api.request("POST", f"/v3.0/{orcid}/{section}", token, json_body=affiliation_body())
    assert created.status_code == 201
    assert created.content == b""
    location = created.headers["Location"]
    assert location.startswith(f"{api.server.base_url}/v3.0/{orcid}/{section}/")
    put_code = int(location.rsplit("/", 1)[1])

    item = api.request("GET", f"/v3.0/{orcid}/{section}/{put_code}", token).json()
    assert item["put-code"] == put_code
    assert item["path"] == f"/{orcid}/{section}/{put_code}"
    assert item["source"]["source-client-id"] == {
        "uri": f"{api.server.base_url}/client/{CLIENT_ID}",
        "path": CLIENT_ID,
        "host": "127.0.0.1",
    }
    assert item["source"]["source-name"] == {"value": CLIENT_NAME}
    assert item["created-date"] == item["last-modified-date"] == {"value": int(clock.now * 1000)}
    assert item["department-name"] == "Department of Physics"
    assert item["role-title"] == "Research Fellow"
    assert item["start-date"] == {"year": {"value": "2019"}, "month": {"value": "09"}, "day": {"value": "01"}}
    assert item["end-date"] == {"year": {"value": "2023"}, "month": {"value": "08"}, "day": None}
    assert item["organization"] == affiliation_body()["organization"]
    assert item["url"] == {"value": "https://www.physics.ox.ac.uk/"}
    assert item["external-ids"] == affiliation_body()["external-ids"]

    clock.advance(60)
    changed = {**item, "role-title": "Associate Professor", "end-date": None}
    updated = api.request("PUT", f"/v3.0/{orcid}/{section}/{put_code}", token, json_body=changed)
    assert updated.status_code == 200, updated.text
    assert updated.json()["role-title"] == "Associate Professor"
    assert updated.json()["end-date"] is None
    assert updated.json()["created-date"] == item["created-date"]
    assert updated.json()["last-modified-date"] == {"value": int(clock.now * 1000)}

    listing = api.request("GET", f"/v3.0/{orcid}/{PLURALS[section]}", token).json()
    assert listing["path"] == f"/{orcid}/{PLURALS[section]}"
    [group] = listing["affiliation-group"]
    [summary] = group["summaries"]
    assert summary[f"{section}-summary"] == updated.json()

    deleted = api.request("DELETE", f"/v3.0/{orcid}/{section}/{put_code}", token)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_orcid_error(api.request("GET", f"/v3.0/{orcid}/{section}/{put_code}", token), 404, 9016)
    empty = api.request("GET", f"/v3.0/{orcid}/{PLURALS[section]}", token).json()
    assert empty == {"last-modified-date": None, "affiliation-group": [], "path": f"/{orcid}/{PLURALS[section]}"}


def test_put_codes_are_increasing_integers_unique_across_records(api: Api) -> None:
    first, second = (record.orcid for record in api.state.records()[:2])
    codes = [
        api.create("employment", affiliation_body(external_ids=None), api.token(first), first),
        api.create("education", affiliation_body(external_ids=None), api.token(first), first),
        api.create("employment", affiliation_body(external_ids=None), api.token(second), second),
        api.create("service", affiliation_body(external_ids=None), api.token(first), first),
    ]
    assert codes == sorted(codes) and len(set(codes)) == 4


def test_written_through_a_real_oauth_grant(api: Api) -> None:
    """The hub's path: authorization code, token exchange, then the member API with that token."""
    flow = Flow(api.server, api.session)
    tokens = flow.tokens("/read-limited /activities/update")
    orcid = tokens["orcid"]
    put_code = api.create("employment", affiliation_body(), tokens["access_token"], orcid)
    listing = api.request("GET", f"/v3.0/{orcid}/employments", tokens["access_token"]).json()
    summary = listing["affiliation-group"][0]["summaries"][0]["employment-summary"]
    assert summary["put-code"] == put_code
    assert summary["source"]["source-client-id"]["path"] == CLIENT_ID


def test_summaries_carry_what_reconciliation_matches_on(api: Api) -> None:
    token = api.token()
    api.create("employment", affiliation_body(external_ids=None), token)
    summary = api.request("GET", f"/v3.0/{api.first_orcid}/employments", token).json()["affiliation-group"][0][
        "summaries"
    ][0]["employment-summary"]
    for key in ("put-code", "source", "organization", "department-name", "role-title", "start-date", "end-date",
                "external-ids", "url", "created-date", "last-modified-date"):  # fmt: skip
        assert key in summary
    assert summary["external-ids"] == {"external-id": []}


def test_groups_follow_shared_self_external_ids(api: Api) -> None:
    orcid = api.first_orcid

    def with_grant(value: str) -> dict[str, Any]:
        return affiliation_body(
            external_ids={
                "external-id": [
                    {"external-id-type": "grant_number", "external-id-value": value, "external-id-relationship": "self"}
                ]
            }
        )

    mine = api.create("employment", with_grant("G-1"), api.token())
    theirs = api.create("employment", with_grant("G-1"), api.token(client_id=OTHER_CLIENT_ID))
    alone = api.create("employment", with_grant("G-2"), api.token())
    listing = api.request("GET", f"/v3.0/{orcid}/employments", api.token()).json()
    groups = [[s["employment-summary"]["put-code"] for s in g["summaries"]] for g in listing["affiliation-group"]]
    assert groups == [[mine, theirs], [alone]]
    assert listing["affiliation-group"][0]["external-ids"]["external-id"][0]["external-id-value"] == "G-1"


def test_minimal_body_and_partial_dates(api: Api) -> None:
    body = {"organization": org(), "start-date": {"year": {"value": 2021}}}
    put_code = api.create("membership", body, api.token())
    item = api.request("GET", f"/v3.0/{api.first_orcid}/membership/{put_code}", api.token()).json()
    assert item["start-date"] == {"year": {"value": "2021"}, "month": None, "day": None}
    assert item["department-name"] is None and item["role-title"] is None and item["url"] is None
    assert item["organization"]["disambiguated-organization"] is None
    assert item["organization"]["address"] == {"city": "Santiago", "region": None, "country": "CL"}


def test_read_only_fields_from_a_get_are_accepted_back(api: Api) -> None:
    token = api.token()
    put_code = api.create("education", affiliation_body(), token)
    path = f"/v3.0/{api.first_orcid}/education/{put_code}"
    item = api.request("GET", path, token).json()
    assert api.request("PUT", path, token, json_body=item).status_code == 200


def test_client_visibility_is_ignored(api: Api) -> None:
    put_code = api.create("employment", affiliation_body(visibility="private"), api.token())
    assert api.state.get_affiliation(api.first_orcid, put_code).visibility == "public"
    bad = api.request(
        "POST", f"/v3.0/{api.first_orcid}/employment", api.token(), json_body=affiliation_body(visibility="secret")
    )
    assert_orcid_error(bad, 400, 9001)


# -- put-codes ----------------------------------------------------------------------


def test_put_requires_the_matching_put_code(api: Api) -> None:
    token = api.token()
    put_code = api.create("employment", affiliation_body(), token)
    path = f"/v3.0/{api.first_orcid}/employment/{put_code}"
    assert_orcid_error(api.request("PUT", path, token, json_body=affiliation_body()), 400, 9031)
    mismatch = api.request("PUT", path, token, json_body={**affiliation_body(), "put-code": put_code + 1})
    body = assert_orcid_error(mismatch, 400, 9019)
    assert str(put_code) in body["developer-message"]
    as_string = api.request("PUT", path, token, json_body={**affiliation_body(), "put-code": str(put_code)})
    assert as_string.status_code == 200


def test_post_with_a_put_code_is_refused(api: Api) -> None:
    response = api.request(
        "POST", f"/v3.0/{api.first_orcid}/employment", api.token(), json_body={**affiliation_body(), "put-code": 5}
    )
    assert_orcid_error(response, 400, 9024)


@pytest.mark.parametrize("bad", ["abc", "0", "-3", "1.5"])
def test_malformed_put_code_in_the_url(api: Api, bad: str) -> None:
    assert_orcid_error(api.request("GET", f"/v3.0/{api.first_orcid}/employment/{bad}", api.token()), 400, 9034)


def test_unknown_put_code_and_put_code_of_another_section_or_record(api: Api) -> None:
    token = api.token()
    orcid = api.first_orcid
    put_code = api.create("employment", affiliation_body(), token)
    assert_orcid_error(api.request("GET", f"/v3.0/{orcid}/employment/999999", token), 404, 9016)
    assert_orcid_error(api.request("GET", f"/v3.0/{orcid}/education/{put_code}", token), 404, 9016)
    other = api.state.records()[1].orcid
    assert_orcid_error(api.request("GET", f"/v3.0/{other}/employment/{put_code}", api.token(other)), 404, 9016)
    update = {**affiliation_body(), "put-code": 999999}
    assert_orcid_error(api.request("PUT", f"/v3.0/{orcid}/employment/999999", token, json_body=update), 404, 9016)
    assert_orcid_error(api.request("DELETE", f"/v3.0/{orcid}/employment/999999", token), 404, 9016)


# -- sources -----------------------------------------------------------------------


def test_only_the_source_may_update_or_delete(api: Api) -> None:
    orcid = api.first_orcid
    put_code = api.create("employment", affiliation_body(), api.token())
    other = api.token(client_id=OTHER_CLIENT_ID)
    path = f"/v3.0/{orcid}/employment/{put_code}"
    assert api.request("GET", path, other).status_code == 200
    update = {**affiliation_body(), "put-code": put_code}
    assert_orcid_error(api.request("PUT", path, other, json_body=update), 403, 9010)
    assert_orcid_error(api.request("DELETE", path, other), 403, 9010)
    assert api.state.get_affiliation(orcid, put_code) is not None


def test_items_the_researcher_added_belong_to_nobody_else(api: Api) -> None:
    orcid = api.first_orcid
    seeded = api.state.add_affiliation(orcid, "employment", affiliation_body())
    item = api.request("GET", f"/v3.0/{orcid}/employment/{seeded.put_code}", api.token()).json()
    assert item["source"]["source-client-id"] is None
    assert item["source"]["source-orcid"]["path"] == orcid
    assert item["source"]["source-name"] == {"value": api.state.get_record(orcid).name}
    assert_orcid_error(api.request("DELETE", f"/v3.0/{orcid}/employment/{seeded.put_code}", api.token()), 403, 9010)


def test_duplicate_self_external_id_from_the_same_source(api: Api) -> None:
    orcid = api.first_orcid
    token = api.token()
    first = api.create("employment", affiliation_body(), token)
    again = api.request("POST", f"/v3.0/{orcid}/employment", token, json_body=affiliation_body())
    assert_orcid_error(again, 409, 9021)
    # Another section, another source, or an update of the item itself are not duplicates.
    api.create("education", affiliation_body(), token)
    api.create("employment", affiliation_body(), api.token(client_id=OTHER_CLIENT_ID))
    same = {**affiliation_body(role_title="Lecturer"), "put-code": first}
    assert api.request("PUT", f"/v3.0/{orcid}/employment/{first}", token, json_body=same).status_code == 200
    second = api.create("employment", affiliation_body(external_ids=None), token)
    clash = {**affiliation_body(), "put-code": second}
    assert_orcid_error(api.request("PUT", f"/v3.0/{orcid}/employment/{second}", token, json_body=clash), 409, 9021)


# -- validation ---------------------------------------------------------------------


def _date(year: Any, month: Any = None, day: Any = None) -> dict[str, Any]:
    return {
        "year": {"value": year},
        "month": {"value": month} if month is not None else None,
        "day": {"value": day} if day is not None else None,
    }


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"organization": None}, "organization is required"),
        ({"organization": {"address": {"city": "Oxford", "country": "GB"}}}, "organization.name is required"),
        ({"organization": {"name": "X", "address": {"country": "GB"}}}, "city is required"),
        ({"organization": {"name": "X", "address": {"city": "Oxford"}}}, "country is required"),
        ({"organization": {"name": "X", "address": {"city": "Oxford", "country": "UK"}}}, "ISO 3166-1"),
        ({"organization": {"name": "X"}}, "organization.address is required"),
        ({"organization": org(identifier="12345", source="WIKIDATA")}, "disambiguation-source must be one of"),
        ({"organization": org(identifier="not-a-ror")}, "is not a ROR id"),
        ({"organization": org(identifier="grid.x", source="GRID")}, "is not a GRID id"),
        ({"organization": org(identifier="12a", source="RINGGOLD")}, "is not a Ringgold id"),
        ({"start_date": _date("2020", "13")}, "month 13 does not exist"),
        ({"start_date": _date("2021", "02", "29")}, "not a calendar date"),
        ({"start_date": _date("20")}, "four digits"),
        ({"start_date": _date("2020", "1")}, "two digits"),
        ({"start_date": {"year": {"value": "2020"}, "day": {"value": "01"}}}, "a day needs a month"),
        ({"start_date": {"month": {"value": "01"}}}, "start-date.year is required"),
        ({"start_date": _date("2024"), "end_date": _date("2023", "12")}, "is after end-date"),
        ({"start_date": _date("2024", "05", "02"), "end_date": _date("2024", "05", "01")}, "is after end-date"),
        ({"url": {"value": "javascript:alert(1)"}}, "not an http(s) URL"),
        ({"url": "https://example.org"}, "url must look like"),
        ({"department_name": 42}, "department-name must be a string"),
        ({"role_title": "x" * 1001}, "longer than 1000"),
        ({"organisation": {"name": "typo"}}, "unknown field(s): organisation"),
        ({"external_ids": {"external-id": [{"external-id-type": "doi", "external-id-relationship": "self"}]}},
         "external-id-value is required"),
        ({"external_ids": {"external-id": [{"external-id-type": "doi", "external-id-value": "10.1/x",
                                             "external-id-relationship": "sibling"}]}},
         "external-id-relationship must be one of"),
    ],
)  # fmt: skip
def test_invalid_bodies_are_400_9001(api: Api, changes: dict[str, Any], fragment: str) -> None:
    response = api.request(
        "POST", f"/v3.0/{api.first_orcid}/employment", api.token(), json_body=affiliation_body(**changes)
    )
    body = assert_orcid_error(response, 400, 9001)
    assert fragment in body["developer-message"]
    assert api.state.affiliations() == []


def test_every_problem_is_reported_at_once(api: Api) -> None:
    body = {"organization": {"name": "", "address": {"city": "", "country": "ZZ"}}, "start-date": _date("2020", "00")}
    message = assert_orcid_error(
        api.request("POST", f"/v3.0/{api.first_orcid}/employment", api.token(), json_body=body), 400, 9001
    )["developer-message"]
    for fragment in ("organization.name", "city", "ZZ", "month 00"):
        assert fragment in message


@pytest.mark.parametrize(
    ("payload", "content_type"),
    [
        ('{"organization": ', "application/vnd.orcid+json"),
        ("[1, 2]", "application/json"),
        ("", "application/vnd.orcid+json"),
        ("<employment><unclosed></employment>", "application/vnd.orcid+xml"),
        ("<education/>", "application/vnd.orcid+xml"),
    ],
)
def test_unreadable_bodies_are_400_9001(api: Api, payload: str, content_type: str) -> None:
    response = api.request(
        "POST", f"/v3.0/{api.first_orcid}/employment", api.token(), data=payload, content_type=content_type
    )
    assert_orcid_error(response, 400, 9001)


# -- XML ---------------------------------------------------------------------------

EMPLOYMENT_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<employment:employment xmlns:common="http://www.orcid.org/ns/common"
    xmlns:employment="http://www.orcid.org/ns/employment">
  <common:department-name>Chemistry</common:department-name>
  <common:role-title>Lecturer</common:role-title>
  <common:start-date><common:year>2018</common:year><common:month>02</common:month></common:start-date>
  <common:organization>
    <common:name>University of Oxford</common:name>
    <common:address><common:city>Oxford</common:city><common:country>GB</common:country></common:address>
    <common:disambiguated-organization>
      <common:disambiguated-organization-identifier>{ROR_ID}</common:disambiguated-organization-identifier>
      <common:disambiguation-source>ROR</common:disambiguation-source>
    </common:disambiguated-organization>
  </common:organization>
  <common:url>https://chem.ox.ac.uk/</common:url>
  <common:external-ids>
    <common:external-id>
      <common:external-id-type>grant_number</common:external-id-type>
      <common:external-id-value>G-1</common:external-id-value>
      <common:external-id-url>https://example.org/g/1</common:external-id-url>
      <common:external-id-relationship>self</common:external-id-relationship>
    </common:external-id>
    <common:external-id>
      <common:external-id-type>grant_number</common:external-id-type>
      <common:external-id-value>G-2</common:external-id-value>
      <common:external-id-relationship>part-of</common:external-id-relationship>
    </common:external-id>
  </common:external-ids>
</employment:employment>"""

NS = {
    "common": "http://www.orcid.org/ns/common",
    "employment": "http://www.orcid.org/ns/employment",
    "activities": "http://www.orcid.org/ns/activities",
}


def test_xml_body_in_and_xml_out(api: Api) -> None:
    token = api.token()
    orcid = api.first_orcid
    created = api.request(
        "POST", f"/v3.0/{orcid}/employment", token, data=EMPLOYMENT_XML, content_type="application/vnd.orcid+xml"
    )
    assert created.status_code == 201, created.text
    put_code = int(created.headers["Location"].rsplit("/", 1)[1])

    as_json = api.request("GET", f"/v3.0/{orcid}/employment/{put_code}", token).json()
    assert as_json["start-date"] == {"year": {"value": "2018"}, "month": {"value": "02"}, "day": None}
    assert as_json["url"] == {"value": "https://chem.ox.ac.uk/"}
    assert [e["external-id-value"] for e in as_json["external-ids"]["external-id"]] == ["G-1", "G-2"]

    response = api.request("GET", f"/v3.0/{orcid}/employment/{put_code}", token, accept="application/orcid+xml")
    assert response.headers["Content-Type"].startswith("application/orcid+xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "{http://www.orcid.org/ns/employment}employment"
    assert root.get("put-code") == str(put_code)
    assert root.get("path") == f"/{orcid}/employment/{put_code}"
    assert root.findtext("common:role-title", namespaces=NS) == "Lecturer"
    assert root.findtext("common:start-date/common:year", namespaces=NS) == "2018"
    assert root.find("common:start-date/common:day", NS) is None
    assert root.findtext("common:source/common:source-client-id/common:path", namespaces=NS) == CLIENT_ID
    assert root.findtext("common:organization/common:address/common:country", namespaces=NS) == "GB"
    assert len(root.findall("common:external-ids/common:external-id", NS)) == 2
    assert root.findtext("common:created-date", namespaces=NS).endswith("Z")

    # What came out as XML goes back in as an update.
    changed = response.content.replace(b"Lecturer", b"Reader")
    updated = api.request(
        "PUT", f"/v3.0/{orcid}/employment/{put_code}", token, data=changed,
        content_type="application/vnd.orcid+xml", accept="application/vnd.orcid+xml",
    )  # fmt: skip
    assert updated.status_code == 200, updated.text
    assert ElementTree.fromstring(updated.content).findtext("common:role-title", namespaces=NS) == "Reader"


def test_xml_listing(api: Api) -> None:
    token = api.token()
    put_code = api.create("employment", affiliation_body(), token)
    response = api.request("GET", f"/v3.0/{api.first_orcid}/employments", token, accept="application/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "{http://www.orcid.org/ns/activities}employments"
    summary = root.find("activities:affiliation-group/employment:employment-summary", NS)
    assert summary is not None and summary.get("put-code") == str(put_code)
    assert summary.findtext("common:organization/common:name", namespaces=NS) == "University of Oxford"


def test_xml_with_entities_is_refused(api: Api) -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><employment>&a;</employment>'
    response = api.request(
        "POST", f"/v3.0/{api.first_orcid}/employment", api.token(), data=bomb, content_type="application/xml"
    )
    assert_orcid_error(response, 400, 9001)
