from __future__ import annotations

import base64
import hashlib
from html import unescape

import pytest
import requests

from orcid_emulator import EmulatorServer
from orcid_emulator.testing import parse_consent_form, submit_consent

from .support import CLIENT_ID, CLIENT_NAME, REDIRECT_PREFIX, REDIRECT_URI, Flow, query_of


def test_consent_page_is_drivable(flow: Flow) -> None:
    page = flow.consent_page("openid /read-limited", state="xyz", nonce="n-1")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert CLIENT_NAME in html
    assert 'data-scope="openid"' in html and 'data-scope="/read-limited"' in html
    # What a browser-driving test (Playwright) relies on.
    for marker in ('id="orcid"', 'id="email"', 'id="authorize"', 'id="deny"', 'for="orcid"', 'for="email"'):
        assert marker in html
    form = parse_consent_form(html, page.url)
    assert form.action == flow.server.url("/oauth/authorize")
    assert form.hidden == {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid /read-limited",
        "state": "xyz",
        "nonce": "n-1",
    }
    assert form.orcid_options == [r.orcid for r in flow.server.state.records()]
    assert form.buttons == {"authorize": "authorize", "deny": "deny"}


def test_authorize_redirects_with_code_and_state(flow: Flow) -> None:
    response = flow.decide("openid", state="st@te with spaces&more")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    params = query_of(location)
    assert params["state"] == "st@te with spaces&more"
    assert len(params["code"]) == 6
    code = flow.server.state._data.codes[params["code"]]
    assert code.orcid == flow.first_orcid
    assert code.client_id == CLIENT_ID


def test_deny_redirects_with_access_denied(flow: Flow) -> None:
    response = flow.decide("openid", action="deny", state="abc")
    assert response.status_code == 302
    params = query_of(response.headers["Location"])
    assert params == {"error": "access_denied", "error_description": "User denied access", "state": "abc"}


def test_redirect_keeps_existing_query(flow: Flow) -> None:
    redirect = REDIRECT_PREFIX + "cb?next=%2Fhome"
    response = flow.decide("openid", redirect_uri=redirect, state="s")
    params = query_of(response.headers["Location"])
    assert params["next"] == "/home" and params["state"] == "s" and "code" in params


def test_pick_record_by_email(flow: Flow) -> None:
    target = flow.server.state.records()[2]
    assert target.email
    response = flow.decide("openid", email=target.email.upper(), state="s")
    code = query_of(response.headers["Location"])["code"]
    assert flow.server.state._data.codes[code].orcid == target.orcid


def test_unknown_email_rerenders_form(flow: Flow) -> None:
    response = flow.decide("openid", email="nobody@example.org")
    assert response.status_code == 400
    assert "nobody@example.org" in unescape(response.text)
    assert 'id="authorize"' in response.text


def test_email_query_param_prefills_field(flow: Flow) -> None:
    page = flow.consent_page("openid", email="someone@example.org")
    assert 'value="someone@example.org"' in page.text
    assert "email" not in parse_consent_form(page.text, page.url).hidden


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"client_id": "APP-NOPE"}, "Unknown client_id"),
        ({"client_id": ""}, "Missing client_id"),
        ({"redirect_uri": "https://evil.example/cb"}, "not registered"),
        ({"redirect_uri": "http://127.0.0.1:8000.evil.example/"}, "not registered"),
        ({"redirect_uri": ""}, "Missing redirect_uri"),
    ],
)
def test_bad_client_or_redirect_is_a_400_page_never_a_redirect(
    orcid_emulator: EmulatorServer, change: dict[str, str], fragment: str
) -> None:
    params = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "code", "scope": "openid"}
    params.update(change)
    url = orcid_emulator.url("/oauth/authorize")
    for response in (
        requests.get(url, params=params, allow_redirects=False),
        requests.post(url, data={**params, "action": "authorize"}, allow_redirects=False),
    ):
        assert response.status_code == 400
        assert "Location" not in response.headers
        assert response.headers["Content-Type"].startswith("text/html")
        assert fragment in response.text


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": ""}, "invalid_request"),
        ({"scope": "openid profile email"}, "invalid_scope"),
        ({"scope": ""}, "invalid_scope"),
        ({"code_challenge": "abc", "code_challenge_method": "S512"}, "invalid_request"),
    ],
)
def test_other_errors_redirect_back(orcid_emulator: EmulatorServer, change: dict[str, str], error: str) -> None:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid",
        "state": "s1",
        **change,
    }
    response = requests.get(orcid_emulator.url("/oauth/authorize"), params=params, allow_redirects=False)
    assert response.status_code == 302
    result = query_of(response.headers["Location"])
    assert result["error"] == error
    assert result["state"] == "s1"
    assert result["error_description"]


def test_all_orcid_scopes_accepted(flow: Flow) -> None:
    scope = "openid /authenticate /read-limited /activities/update /person/update /read-public /webhook"
    assert flow.consent_page(scope).status_code == 200


def test_submit_without_action_or_record(flow: Flow, orcid_emulator: EmulatorServer) -> None:
    params = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "code", "scope": "openid"}
    url = orcid_emulator.url("/oauth/authorize")
    assert requests.post(url, data=params, allow_redirects=False).status_code == 400
    no_record = requests.post(url, data={**params, "action": "authorize"}, allow_redirects=False)
    assert no_record.status_code == 400
    assert "Choose a record" in no_record.text


def test_post_with_query_params_only(orcid_emulator: EmulatorServer) -> None:
    """Scripted clients may POST straight to the authorize URL they were given."""
    url = orcid_emulator.authorize_url(CLIENT_ID, REDIRECT_URI, state="q")
    orcid = orcid_emulator.state.records()[1].orcid
    response = requests.post(url, data={"orcid": orcid, "action": "authorize"}, allow_redirects=False)
    assert response.status_code == 302
    assert query_of(response.headers["Location"])["state"] == "q"


def test_submit_consent_helper(orcid_emulator: EmulatorServer) -> None:
    url = orcid_emulator.authorize_url(CLIENT_ID, REDIRECT_URI, state="helper")
    location = submit_consent(url)
    assert query_of(location)["state"] == "helper"
    denied = submit_consent(url, action="deny")
    assert query_of(denied)["error"] == "access_denied"
    with pytest.raises(RuntimeError):
        submit_consent(url, email="nobody@example.org")
    with pytest.raises(RuntimeError, match="invalid_scope"):
        # django-allauth's default OIDC scope; ORCID only knows "openid".
        submit_consent(orcid_emulator.authorize_url(CLIENT_ID, REDIRECT_URI, scope="openid profile email"))


def test_html_is_escaped(orcid_emulator: EmulatorServer) -> None:
    orcid_emulator.state.register_client("APP-XSS", "s", [REDIRECT_URI], name="<script>alert(1)</script>")
    url = orcid_emulator.authorize_url("APP-XSS", REDIRECT_URI, state='"><b>x</b>')
    html = requests.get(url).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert '"><b>x</b>' not in html


def test_pkce_s256(flow: Flow) -> None:
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    code = flow.code("openid", code_challenge=challenge, code_challenge_method="S256")
    assert flow.exchange(code, code_verifier="wrong").json()["error"] == "invalid_grant"
    assert flow.exchange(code).json()["error"] == "invalid_grant"
    ok = flow.exchange(code, code_verifier=verifier)
    assert ok.status_code == 200, ok.text
