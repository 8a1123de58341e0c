from __future__ import annotations

import jwt
import requests

from orcid_emulator import EmulatorServer


def test_discovery_document(orcid_emulator: EmulatorServer) -> None:
    response = requests.get(orcid_emulator.discovery_url)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    doc = response.json()
    base = orcid_emulator.base_url
    assert doc["issuer"] == base
    assert doc["authorization_endpoint"] == f"{base}/oauth/authorize"
    assert doc["token_endpoint"] == f"{base}/oauth/token"
    assert doc["userinfo_endpoint"] == f"{base}/oauth/userinfo"
    assert doc["jwks_uri"] == f"{base}/oauth/jwks"
    assert doc["revocation_endpoint"] == f"{base}/oauth/revoke"
    assert doc["scopes_supported"] == ["openid"]
    assert doc["response_types_supported"] == ["code"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["subject_types_supported"] == ["public"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_post", "client_secret_basic"}
    assert {"sub", "iss", "given_name", "family_name", "auth_time"} <= set(doc["claims_supported"])


def test_base_url_shape(orcid_emulator: EmulatorServer) -> None:
    assert orcid_emulator.base_url.startswith("http://127.0.0.1:")
    assert int(orcid_emulator.base_url.rsplit(":", 1)[1]) == orcid_emulator.port > 0


def test_jwks_matches_signing_key(orcid_emulator: EmulatorServer) -> None:
    keys = requests.get(f"{orcid_emulator.base_url}/oauth/jwks").json()["keys"]
    assert len(keys) == 1
    jwk = keys[0]
    assert jwk["kty"] == "RSA" and jwk["alg"] == "RS256" and jwk["use"] == "sig"
    assert jwk["kid"] == orcid_emulator.signing_key.kid
    assert "d" not in jwk  # never publish the private exponent
    public_key = jwt.PyJWK(jwk).key
    token = orcid_emulator.signing_key.sign({"hello": "world"})
    assert jwt.get_unverified_header(token)["kid"] == jwk["kid"]
    assert jwt.decode(token, public_key, algorithms=["RS256"]) == {"hello": "world"}


def test_unknown_path_and_wrong_method(orcid_emulator: EmulatorServer) -> None:
    missing = requests.get(orcid_emulator.url("/nope"))
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    wrong = requests.delete(orcid_emulator.url("/oauth/token"))
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "POST"


def test_index_and_record_pages(orcid_emulator: EmulatorServer) -> None:
    index = requests.get(orcid_emulator.base_url + "/")
    assert index.status_code == 200
    record = orcid_emulator.state.records()[0]
    assert record.orcid in index.text
    page = requests.get(orcid_emulator.url(f"/{record.orcid}"))
    assert page.status_code == 200
    assert record.name in page.text
    assert requests.get(orcid_emulator.url("/0000-0002-1825-0097")).status_code == 404
