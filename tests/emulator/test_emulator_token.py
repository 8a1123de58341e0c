from __future__ import annotations

import time

import jwt
import pytest
import requests

from orcid_emulator import ACCESS_TOKEN_LIFETIME, AUTH_CODE_LIFETIME, Client, EmulatorServer, EmulatorState

from .support import CLIENT_ID, CLIENT_SECRET, REDIRECT_PREFIX, REDIRECT_URI, Flow


def test_full_code_flow(flow: Flow) -> None:
    server = flow.server
    record = server.state.records()[0]
    code = flow.code("openid", state="s", nonce="nonce-123")

    response = flow.exchange(code)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == ACCESS_TOKEN_LIFETIME == 631138518
    assert body["scope"] == "openid"
    assert body["orcid"] == record.orcid
    assert body["name"] == record.name
    assert body["access_token"] and body["refresh_token"] and body["access_token"] != body["refresh_token"]

    # Verify the ID token exactly as a relying party would: keys from jwks_uri.
    discovery = requests.get(server.discovery_url).json()
    jwk_client = jwt.PyJWKClient(discovery["jwks_uri"])
    signing_key = jwk_client.get_signing_key_from_jwt(body["id_token"])
    claims = jwt.decode(
        body["id_token"],
        signing_key.key,
        algorithms=discovery["id_token_signing_alg_values_supported"],
        audience=CLIENT_ID,
        issuer=discovery["issuer"],
    )
    assert claims["sub"] == record.orcid
    assert claims["nonce"] == "nonce-123"
    assert claims["given_name"] == record.given_name
    assert claims["family_name"] == record.family_name
    assert claims["iss"] == server.base_url
    assert claims["iat"] <= time.time() < claims["exp"]
    assert abs(claims["auth_time"] - time.time()) < 60
    assert claims["jti"]

    info = flow.userinfo(body["access_token"])
    assert info.status_code == 200
    assert info.json() == {
        "id": f"{server.base_url}/{record.orcid}",
        "sub": record.orcid,
        "name": record.name,
        "given_name": record.given_name,
        "family_name": record.family_name,
    }


def test_id_token_jti_is_unique_and_nonce_optional(flow: Flow) -> None:
    first = jwt.decode(flow.tokens("openid")["id_token"], options={"verify_signature": False})
    second = jwt.decode(flow.tokens("openid")["id_token"], options={"verify_signature": False})
    assert first["jti"] != second["jti"]
    assert "nonce" not in first


def test_no_id_token_without_openid_scope(flow: Flow) -> None:
    body = flow.tokens("/authenticate /read-limited")
    assert "id_token" not in body
    assert body["scope"] == "/authenticate /read-limited"
    assert body["orcid"] == flow.first_orcid
    assert flow.userinfo(body["access_token"]).status_code == 200


def test_code_is_single_use_and_replay_revokes_token(flow: Flow) -> None:
    code = flow.code()
    first = flow.exchange(code)
    assert first.status_code == 200
    again = flow.exchange(code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    # RFC 6749 §4.1.2: tokens minted from a replayed code are revoked.
    assert flow.userinfo(first.json()["access_token"]).status_code == 401


def test_unknown_code(flow: Flow) -> None:
    response = flow.exchange("NOPE00")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "Invalid authorization code: NOPE00"}


def test_wrong_redirect_uri_rejected(flow: Flow) -> None:
    code = flow.code()
    for redirect in (REDIRECT_PREFIX, REDIRECT_URI + "x", ""):
        response = flow.exchange(code, redirect_uri=redirect)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"
    # A mismatch does not burn the code.
    assert flow.exchange(code).status_code == 200


def test_code_bound_to_client(flow: Flow) -> None:
    flow.server.state.register_client("APP-OTHER", "other-secret", [REDIRECT_URI])
    code = flow.code()
    response = requests.post(
        flow.server.url("/oauth/token"),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=("APP-OTHER", "other-secret"),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("basic", [True, False], ids=["client_secret_basic", "client_secret_post"])
def test_client_auth_methods(flow: Flow, basic: bool) -> None:
    response = flow.exchange(flow.code(), basic=basic)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("basic", [True, False], ids=["client_secret_basic", "client_secret_post"])
def test_wrong_secret_is_invalid_client(flow: Flow, basic: bool) -> None:
    response = flow.exchange(flow.code(), basic=basic, secret="wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    if basic:
        assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_unknown_and_missing_client(orcid_emulator: EmulatorServer) -> None:
    url = orcid_emulator.url("/oauth/token")
    unknown = requests.post(url, data={"grant_type": "client_credentials", "scope": "/read-public"}, auth=("APP-X", "y"))
    assert unknown.status_code == 401
    assert unknown.json() == {"error": "invalid_client", "error_description": "Client not found: APP-X"}
    anonymous = requests.post(url, data={"grant_type": "client_credentials", "scope": "/read-public"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"


def test_both_auth_methods_at_once_rejected(orcid_emulator: EmulatorServer) -> None:
    response = requests.post(
        orcid_emulator.url("/oauth/token"),
        data={"grant_type": "client_credentials", "scope": "/read-public", "client_secret": CLIENT_SECRET},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_basic_credentials_may_be_form_encoded(orcid_emulator: EmulatorServer) -> None:
    orcid_emulator.state.register_client("APP-ENC", "a b+c%", [REDIRECT_URI])
    url = orcid_emulator.url("/oauth/token")
    data = {"grant_type": "client_credentials", "scope": "/read-public"}
    assert requests.post(url, data=data, auth=("APP-ENC", "a b+c%")).status_code == 200
    assert requests.post(url, data=data, auth=("APP-ENC", "a+b%2Bc%25")).status_code == 200


def test_unsupported_and_missing_grant_type(flow: Flow) -> None:
    response = flow.token_request({"grant_type": "password"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert flow.token_request({}).json()["error"] == "invalid_request"


def test_repeated_parameters_rejected(orcid_emulator: EmulatorServer) -> None:
    response = requests.post(
        orcid_emulator.url("/oauth/token"),
        data=[("grant_type", "client_credentials"), ("scope", "/read-public"), ("scope", "/webhook")],
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_refresh_with_revoke_old(flow: Flow) -> None:
    original = flow.tokens("openid /read-limited")
    refreshed = flow.token_request(
        {"grant_type": "refresh_token", "refresh_token": original["refresh_token"], "revoke_old": "true"}
    )
    assert refreshed.status_code == 200, refreshed.text
    body = refreshed.json()
    assert body["access_token"] != original["access_token"]
    assert body["refresh_token"] != original["refresh_token"]
    assert body["scope"] == "openid /read-limited"
    assert body["orcid"] == original["orcid"] and body["name"] == original["name"]
    assert flow.userinfo(original["access_token"]).status_code == 401
    assert flow.userinfo(body["access_token"]).status_code == 200


def test_refresh_keeps_old_token_by_default_and_can_narrow(flow: Flow) -> None:
    original = flow.tokens("/read-limited /activities/update")
    narrowed = flow.token_request(
        {"grant_type": "refresh_token", "refresh_token": original["refresh_token"], "scope": "/read-limited"},
        basic=True,
    )
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scope"] == "/read-limited"
    assert flow.server.state.active_token(original["access_token"]) is not None

    widened = flow.token_request(
        {"grant_type": "refresh_token", "refresh_token": original["refresh_token"], "scope": "/person/update"}
    )
    assert widened.status_code == 400
    assert widened.json()["error"] == "invalid_scope"


def test_refresh_errors(flow: Flow) -> None:
    bad = flow.token_request({"grant_type": "refresh_token", "refresh_token": "nope"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    missing = flow.token_request({"grant_type": "refresh_token"})
    assert missing.json()["error"] == "invalid_request"
    original = flow.tokens()
    flow.server.state.register_client("APP-OTHER", "other", [REDIRECT_URI])
    foreign = requests.post(
        flow.server.url("/oauth/token"),
        data={"grant_type": "refresh_token", "refresh_token": original["refresh_token"]},
        auth=("APP-OTHER", "other"),
    )
    assert foreign.status_code == 400 and foreign.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("scope", ["/read-public", "/webhook", "/read-public /webhook"])
def test_client_credentials_allowed_scopes(flow: Flow, scope: str) -> None:
    response = flow.token_request({"grant_type": "client_credentials", "scope": scope})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == scope
    assert body["orcid"] is None
    assert body["expires_in"] == ACCESS_TOKEN_LIFETIME
    assert "id_token" not in body
    # A two-legged token identifies no user.
    assert flow.userinfo(body["access_token"]).status_code == 403


@pytest.mark.parametrize("scope", ["/read-limited", "/read-public /activities/update", "openid"])
def test_client_credentials_user_scopes_refused(flow: Flow, scope: str) -> None:
    response = flow.token_request({"grant_type": "client_credentials", "scope": scope})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_scope"


def test_client_credentials_bad_scope(flow: Flow) -> None:
    for data in ({"scope": "/bogus"}, {}):
        response = flow.token_request({"grant_type": "client_credentials", **data})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_scope"


def test_code_expires_after_ten_minutes() -> None:
    now = [1_700_000_000.0]
    state = EmulatorState(clients=[Client("APP-C", "s", [REDIRECT_URI])], clock=lambda: now[0])
    orcid = state.records()[0].orcid
    fresh = state.issue_code(client_id="APP-C", redirect_uri=REDIRECT_URI, orcid=orcid, scopes=["openid"])
    stale = state.issue_code(client_id="APP-C", redirect_uri=REDIRECT_URI, orcid=orcid, scopes=["openid"])
    now[0] += AUTH_CODE_LIFETIME - 1
    _, token = state.exchange_code(fresh.code, client_id="APP-C", redirect_uri=REDIRECT_URI)
    assert token.orcid == orcid and token.auth_time == fresh.auth_time
    now[0] += 1
    with pytest.raises(Exception) as excinfo:
        state.exchange_code(stale.code, client_id="APP-C", redirect_uri=REDIRECT_URI)
    assert getattr(excinfo.value, "error", None) == "invalid_grant"
    assert "expired" in str(excinfo.value)
