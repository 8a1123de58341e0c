from __future__ import annotations

import requests

from orcid_emulator import EmulatorServer

from .support import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, Flow


def _revoke(server: EmulatorServer, token: str, auth: tuple[str, str] = (CLIENT_ID, CLIENT_SECRET)) -> requests.Response:
    return requests.post(server.url("/oauth/revoke"), data={"token": token}, auth=auth)


def test_revoke_access_token_then_userinfo_is_invalid_token(flow: Flow) -> None:
    tokens = flow.tokens()
    assert flow.userinfo(tokens["access_token"]).status_code == 200
    assert _revoke(flow.server, tokens["access_token"]).status_code == 200

    response = flow.userinfo(tokens["access_token"])
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {
        "error": "invalid_token",
        "error_description": f"Invalid access token: {tokens['access_token']}",
    }
    # Revoking only the access token leaves the refresh token usable (RFC 7009).
    refreshed = flow.token_request({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200


def test_revoke_refresh_token_kills_the_pair(flow: Flow) -> None:
    tokens = flow.tokens()
    response = requests.post(
        flow.server.url("/oauth/revoke"),
        data={
            "token": tokens["refresh_token"],
            "token_type_hint": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code == 200
    assert flow.userinfo(tokens["access_token"]).status_code == 401
    refreshed = flow.token_request({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.json()["error"] == "invalid_grant"


def test_revoke_unknown_or_foreign_token_is_still_200(flow: Flow) -> None:
    assert _revoke(flow.server, "not-a-token").status_code == 200
    tokens = flow.tokens()
    flow.server.state.register_client("APP-OTHER", "other", [REDIRECT_URI])
    assert _revoke(flow.server, tokens["access_token"], ("APP-OTHER", "other")).status_code == 200
    # Another client cannot revoke our token.
    assert flow.userinfo(tokens["access_token"]).status_code == 200


def test_revoke_requires_client_auth(flow: Flow) -> None:
    tokens = flow.tokens()
    response = _revoke(flow.server, tokens["access_token"], (CLIENT_ID, "wrong"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert flow.userinfo(tokens["access_token"]).status_code == 200
    missing = requests.post(flow.server.url("/oauth/revoke"), data={}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert missing.status_code == 400


def test_userinfo_without_or_with_unknown_token(orcid_emulator: EmulatorServer) -> None:
    url = orcid_emulator.url("/oauth/userinfo")
    missing = requests.get(url)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    unknown = requests.get(url, headers={"Authorization": "Bearer 3f1e0a6c-0000-0000-0000-000000000000"})
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_token"


def test_control_endpoint_revokes_every_grant_for_a_record(flow: Flow) -> None:
    orcid = flow.first_orcid
    first, second = flow.tokens(), flow.tokens("/read-limited")
    other_record = flow.server.state.records()[1].orcid
    other = flow.tokens(orcid=other_record)
    pending_code = flow.code()

    response = requests.post(flow.server.url("/_emulator/grants/revoke"), json={"orcid": orcid})
    assert response.status_code == 200
    assert response.json() == {"orcid": orcid, "revoked_tokens": 2}

    for tokens in (first, second):
        assert flow.userinfo(tokens["access_token"]).status_code == 401
        refreshed = flow.token_request({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
        assert refreshed.json()["error"] == "invalid_grant"
    assert flow.exchange(pending_code).json()["error"] == "invalid_grant"
    assert flow.userinfo(other["access_token"]).status_code == 200


def test_revoke_grants_in_process(flow: Flow) -> None:
    tokens = flow.tokens()
    assert flow.server.state.revoke_grants(flow.first_orcid) == 1
    assert flow.userinfo(tokens["access_token"]).status_code == 401
    assert flow.server.state.revoke_grants(flow.first_orcid) == 0


def test_revoke_grants_errors(orcid_emulator: EmulatorServer) -> None:
    url = orcid_emulator.url("/_emulator/grants/revoke")
    assert requests.post(url, json={"orcid": "0000-0002-1825-0097"}).status_code == 404
    assert requests.post(url, json={}).status_code == 400
    assert requests.post(url, data="not json").status_code == 400
