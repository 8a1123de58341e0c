"""ORCID's error bodies, tokens and scopes, record states and media types under /v3.0/."""

from __future__ import annotations

from collections.abc import Callable
from xml.etree import ElementTree

import pytest
import requests

from orcid_emulator import ACCESS_TOKEN_LIFETIME, ERROR_CODES

from .support import (
    CLIENT_ID,
    CLIENT_SECRET,
    OTHER_CLIENT_ID,
    Api,
    FakeClock,
    Flow,
    affiliation_body,
    assert_orcid_error,
    xml_fields,
)

ERROR_NS = "{http://www.orcid.org/ns/error}"


def _write(api: Api, token: str, orcid: str | None = None) -> requests.Response:
    orcid = api.first_orcid if orcid is None else orcid
    return api.request("POST", f"/v3.0/{orcid}/employment", token, json_body=affiliation_body())


def _read(
    api: Api, token: str, orcid: str | None = None, accept: str | None = "application/vnd.orcid+json"
) -> requests.Response:
    orcid = api.first_orcid if orcid is None else orcid
    return api.request("GET", f"/v3.0/{orcid}/employments", token, accept=accept)


# -- 401 -----------------------------------------------------------------------------


def _assert_invalid_token(response: requests.Response, token_fragment: str = "") -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    body = response.json()
    assert body["error"] == "invalid_token"
    assert body["error_description"].startswith("Invalid access token: ")
    assert token_fragment in body["error_description"]


def test_missing_and_unknown_tokens(api: Api) -> None:
    orcid = api.first_orcid
    _assert_invalid_token(api.request("GET", f"/v3.0/{orcid}/employments"))
    _assert_invalid_token(api.request("GET", f"/v3.0/{orcid}/employments", headers={"Authorization": "Bearer "}))
    _assert_invalid_token(api.request("GET", f"/v3.0/{orcid}/employments", headers={"Authorization": "Basic eDp5"}))
    _assert_invalid_token(_read(api, "00000000-0000-0000-0000-000000000000"), "00000000-0000-0000-0000-000000000000")
    _assert_invalid_token(_write(api, "not-a-token"), "not-a-token")


def test_revoked_grant_gives_401(api: Api) -> None:
    """The researcher removes the member from their trusted parties."""
    token = api.token()
    put_code = api.create("employment", affiliation_body(), token)
    response = api.session.post(api.server.url("/_emulator/grants/revoke"), json={"orcid": api.first_orcid})
    assert response.json()["revoked_tokens"] == 1
    _assert_invalid_token(_read(api, token), token)
    _assert_invalid_token(api.request("DELETE", f"/v3.0/{api.first_orcid}/employment/{put_code}", token), token)


def test_token_revoked_by_the_client_and_refresh_with_revoke_old(api: Api) -> None:
    flow = Flow(api.server, api.session)
    tokens = flow.tokens("/read-limited /activities/update")
    assert _read(api, tokens["access_token"], tokens["orcid"]).status_code == 200
    refreshed = flow.token_request(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "revoke_old": "true"}
    ).json()
    _assert_invalid_token(_read(api, tokens["access_token"], tokens["orcid"]))
    assert _read(api, refreshed["access_token"], tokens["orcid"]).status_code == 200
    api.session.post(
        api.server.url("/oauth/revoke"),
        data={"token": refreshed["access_token"], "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    _assert_invalid_token(_read(api, refreshed["access_token"], tokens["orcid"]))


def test_expired_token(api: Api, clock: FakeClock) -> None:
    token = api.token()
    clock.advance(ACCESS_TOKEN_LIFETIME - 1)
    assert _read(api, token).status_code == 200
    clock.advance(1)
    _assert_invalid_token(_read(api, token), token)


def test_401_in_xml(api: Api) -> None:
    response = _read(api, "nope", accept="application/vnd.orcid+xml")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    root = ElementTree.fromstring(response.content)
    assert root.tag == "oauth"
    assert root.findtext("error") == "invalid_token"
    assert root.findtext("error_description") == "Invalid access token: nope"


# -- 403 -----------------------------------------------------------------------------


def test_token_for_another_record_is_403_9017(api: Api) -> None:
    other = api.state.records()[1].orcid
    token = api.token(other)
    assert_orcid_error(_write(api, token), 403, 9017)
    assert_orcid_error(_read(api, token), 403, 9017)
    assert_orcid_error(api.request("GET", f"/v3.0/{api.first_orcid}/employment/1", token), 403, 9017)


@pytest.mark.parametrize("scopes", [("/read-limited",), ("openid",), ("/authenticate",), ("/person/update",)])
def test_writes_need_activities_update(api: Api, scopes: tuple[str, ...]) -> None:
    body = assert_orcid_error(_write(api, api.token(scopes=scopes)), 403, 9038)
    assert "/activities/update" in body["developer-message"]


def test_reads_need_a_read_scope(api: Api) -> None:
    assert_orcid_error(_read(api, api.token(scopes=("openid",))), 403, 9038)
    assert _read(api, api.token(scopes=("/read-limited",))).status_code == 200
    assert _read(api, api.token(scopes=("/activities/update",))).status_code == 200


def test_client_credentials_token_reads_but_never_writes(api: Api) -> None:
    two_legged = api.session.post(
        api.server.url("/oauth/token"),
        data={"grant_type": "client_credentials", "scope": "/read-public"},
        auth=(CLIENT_ID, CLIENT_SECRET),
    ).json()["access_token"]
    put_code = api.create("employment", affiliation_body(), api.token())
    assert _read(api, two_legged).status_code == 200
    assert api.request("GET", f"/v3.0/{api.first_orcid}/employment/{put_code}", two_legged).status_code == 200
    assert_orcid_error(_write(api, two_legged), 403, 9038)
    webhook_only = api.state.issue_token(CLIENT_ID, None, ["/webhook"]).access_token
    assert_orcid_error(_read(api, webhook_only), 403, 9038)


# -- record states ---------------------------------------------------------------------


def test_unknown_record_is_404_9016(api: Api) -> None:
    token = api.token()
    missing = "0000-0002-1825-0097"
    assert_orcid_error(_read(api, token, missing), 404, 9016)
    assert_orcid_error(_write(api, token, missing), 404, 9016)


def test_deleted_record_is_404_9016(api: Api) -> None:
    orcid = api.first_orcid
    token = api.token()
    api.create("employment", affiliation_body(), token)
    assert api.session.delete(api.server.url(f"/_emulator/records/{orcid}")).status_code == 200
    assert_orcid_error(_read(api, token, orcid), 404, 9016)
    assert_orcid_error(_write(api, token, orcid), 404, 9016)
    assert api.state.affiliations() == []
    assert api.session.delete(api.server.url(f"/_emulator/records/{orcid}")).status_code == 404


def test_deactivated_record_is_409_9044_for_reads_and_writes(api: Api) -> None:
    orcid = api.first_orcid
    token = api.token()
    put_code = api.create("employment", affiliation_body(), token)
    changed = api.session.post(api.server.url(f"/_emulator/records/{orcid}/deactivate"))
    assert changed.json()["deactivated"] is True
    assert_orcid_error(_read(api, token), 409, 9044)
    assert_orcid_error(_write(api, token), 409, 9044)
    assert_orcid_error(api.request("DELETE", f"/v3.0/{orcid}/employment/{put_code}", token), 409, 9044)
    api.state.reactivate_record(orcid)
    assert _read(api, token).status_code == 200


def test_locked_record_is_409_9018(api: Api) -> None:
    orcid = api.first_orcid
    token = api.token()
    api.session.post(api.server.url(f"/_emulator/records/{orcid}/lock"))
    assert_orcid_error(_read(api, token), 409, 9018)
    assert_orcid_error(_write(api, token), 409, 9018)
    api.session.post(api.server.url(f"/_emulator/records/{orcid}/unlock"))
    assert _write(api, token).status_code == 201


def test_unclaimed_record_reads_but_refuses_writes_409_9036(api: Api) -> None:
    created = api.session.post(
        api.server.url("/_emulator/records"), json={"given_name": "Unclaimed", "claimed": False}
    ).json()
    orcid = created["orcid"]
    assert created["claimed"] is False
    api.state.add_affiliation(orcid, "employment", affiliation_body())
    token = api.token(orcid)
    listing = _read(api, token, orcid)
    assert listing.status_code == 200 and len(listing.json()["affiliation-group"]) == 1
    assert_orcid_error(_write(api, token, orcid), 409, 9036)
    api.session.post(api.server.url(f"/_emulator/records/{orcid}/claim"))
    assert _write(api, token, orcid).status_code == 201


def test_record_checks_come_before_token_checks(api: Api) -> None:
    """ORCID guards the record first: a deactivated record says so even to a token for another record."""
    first, second = (r.orcid for r in api.state.records()[:2])
    api.state.deactivate_record(first)
    assert_orcid_error(_read(api, api.token(second), first), 409, 9044)


# -- media types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("application/vnd.orcid+json", "application/vnd.orcid+json"),
        ("application/orcid+json", "application/orcid+json"),
        ("application/json", "application/json"),
        ("*/*", "application/vnd.orcid+json"),
        (None, "application/vnd.orcid+json"),
        ("application/*", "application/vnd.orcid+json"),
        ("text/html, application/json;q=0.5", "application/json"),
        ("application/vnd.orcid+xml;q=0.4, application/vnd.orcid+json;q=0.9", "application/vnd.orcid+json"),
        ("application/vnd.orcid+xml", "application/vnd.orcid+xml"),
        ("application/orcid+xml", "application/orcid+xml"),
        ("application/xml", "application/xml"),
        ("*/*;q=0.1, application/xml", "application/xml"),
    ],
)
def test_accept_negotiation(api: Api, accept: str | None, content_type: str) -> None:
    response = _read(api, api.token(), accept=accept)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{content_type};charset=UTF-8"
    if content_type.endswith("xml"):
        assert ElementTree.fromstring(response.content).tag.endswith("employments")
    else:
        assert response.json()["affiliation-group"] == []


@pytest.mark.parametrize("accept", ["text/html", "text/plain", "application/pdf", "application/json;q=0"])
def test_unacceptable_accept_is_406_9001(api: Api, accept: str) -> None:
    response = _read(api, api.token(), accept=accept)
    assert_orcid_error(response, 406, 9001)
    assert response.headers["Content-Type"].startswith("application/vnd.orcid+json")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "text/csv"])
def test_wrong_content_type_is_415(api: Api, content_type: str | None) -> None:
    response = api.request(
        "POST", f"/v3.0/{api.first_orcid}/employment", api.token(), data=b'{"a": 1}', content_type=content_type
    )
    assert_orcid_error(response, 415, 9001)


def test_content_type_parameters_are_fine(api: Api) -> None:
    response = api.request(
        "POST", f"/v3.0/{api.first_orcid}/employment", api.token(),
        data=b'{"organization": {"name": "X", "address": {"city": "Y", "country": "FR"}}}',
        content_type="application/vnd.orcid+json; charset=UTF-8",
    )  # fmt: skip
    assert response.status_code == 201


XML = "application/vnd.orcid+xml"


@pytest.mark.parametrize(
    ("make_error", "status", "code"),
    [
        (lambda api: _read(api, api.token(), "0000-0002-1825-0097", accept=XML), 404, "9016"),
        (lambda api: _read(api, api.token(api.state.records()[1].orcid), accept=XML), 403, "9017"),
        (lambda api: api.request("GET", f"/v3.0/{api.first_orcid}/employment/x", api.token(), accept=XML), 400, "9034"),
        (lambda api: api.request("POST", f"/v3.0/{api.first_orcid}/employment", api.token(), accept=XML,
                                 data="<employment/>", content_type="application/xml"), 400, "9001"),
    ],
)  # fmt: skip
def test_error_bodies_in_xml(
    api: Api, make_error: Callable[[Api], requests.Response], status: int, code: str
) -> None:
    response = make_error(api)
    assert response.status_code == status
    assert response.headers["Content-Type"] == f"{XML};charset=UTF-8"
    tag, fields = xml_fields(response)
    assert tag == f"{ERROR_NS}error"
    assert list(fields) == ["response-code", "developer-message", "user-message", "error-code", "more-info"]
    assert fields["response-code"] == str(status) and fields["error-code"] == code


# -- routing -----------------------------------------------------------------------


def test_unknown_endpoint_and_wrong_method_are_orcid_errors(api: Api) -> None:
    token = api.token()
    assert_orcid_error(api.request("GET", "/v3.0/nothing-here", token), 404, 9016)
    assert_orcid_error(api.request("GET", f"/v3.0/{api.first_orcid}/works-of-art", token), 404, 9016)
    wrong = api.request("GET", f"/v3.0/{api.first_orcid}/employment", token)
    assert_orcid_error(wrong, 405, 9001)
    assert wrong.headers["Allow"] == "POST"
    assert_orcid_error(api.request("DELETE", f"/v3.0/{api.first_orcid}/employments", token), 405, 9001)


def test_head_is_answered_like_get_without_a_body(api: Api) -> None:
    response = api.request("HEAD", f"/v3.0/{api.first_orcid}/employments", api.token())
    assert response.status_code == 200 and response.content == b""


def test_error_catalogue_covers_every_code_the_tests_see() -> None:
    for status, code in [(404, 9016), (409, 9044), (409, 9018), (409, 9036), (403, 9038), (403, 9017),
                         (406, 9001), (403, 9010), (400, 9019), (400, 9031), (400, 9034), (409, 9021)]:  # fmt: skip
        assert (status, code) in ERROR_CODES


def test_another_client_reads_the_record_it_was_granted(api: Api) -> None:
    """Two members with grants on one record each see all of its affiliations."""
    put_code = api.create("employment", affiliation_body(), api.token())
    other = api.token(client_id=OTHER_CLIENT_ID, scopes=("/read-limited",))
    listing = _read(api, other).json()
    assert listing["affiliation-group"][0]["summaries"][0]["employment-summary"]["put-code"] == put_code
