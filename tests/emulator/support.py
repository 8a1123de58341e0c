"""Shared constants and an HTTP driver for the authorization code flow."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import requests

from orcid_emulator import EmulatorServer
from orcid_emulator.testing import parse_consent_form

CLIENT_ID = "APP-TESTCLIENT0001"
CLIENT_SECRET = "test-secret-0001"
CLIENT_NAME = "Emulator Test App"
REDIRECT_URI = "http://localhost:8000/accounts/oidc/orcid/login/callback/"
# Registered as a prefix, the way ORCID lets clients register a base URL.
REDIRECT_PREFIX = "http://127.0.0.1:8000/"


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


@dataclass
class Flow:
    """Drives the authorization code flow over HTTP with ``requests``."""

    server: EmulatorServer
    session: requests.Session

    @property
    def first_orcid(self) -> str:
        return self.server.state.records()[0].orcid

    def consent_page(self, scope: str = "openid", redirect_uri: str = REDIRECT_URI, **extra: str) -> requests.Response:
        url = self.server.authorize_url(CLIENT_ID, redirect_uri, scope=scope, **extra)
        return self.session.get(url, allow_redirects=False)

    def decide(
        self,
        scope: str = "openid",
        *,
        action: str = "authorize",
        orcid: str | None = None,
        email: str | None = None,
        redirect_uri: str = REDIRECT_URI,
        **extra: str,
    ) -> requests.Response:
        page = self.consent_page(scope, redirect_uri, **extra)
        assert page.status_code == 200, page.text
        form = parse_consent_form(page.text, page.url)
        data = form.submission(orcid=orcid, email=email, action=action)
        return self.session.post(form.action, data=data, allow_redirects=False)

    def code(self, scope: str = "openid", **kwargs: Any) -> str:
        kwargs.setdefault("state", secrets.token_urlsafe(8))
        response = self.decide(scope, **kwargs)
        assert response.status_code == 302, response.text
        params = query_of(response.headers["Location"])
        assert params["state"] == kwargs["state"]
        return params["code"]

    def exchange(
        self,
        code: str,
        *,
        redirect_uri: str = REDIRECT_URI,
        basic: bool = False,
        secret: str = CLIENT_SECRET,
        **extra: str,
    ) -> requests.Response:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, **extra}
        return self.token_request(data, basic=basic, secret=secret)

    def token_request(
        self, data: dict[str, str], *, basic: bool = False, secret: str = CLIENT_SECRET
    ) -> requests.Response:
        if basic:
            return self.session.post(self.server.url("/oauth/token"), data=data, auth=(CLIENT_ID, secret))
        body = {**data, "client_id": CLIENT_ID, "client_secret": secret}
        return self.session.post(self.server.url("/oauth/token"), data=body)

    def tokens(self, scope: str = "openid", **kwargs: Any) -> dict[str, Any]:
        response = self.exchange(self.code(scope, **kwargs))
        assert response.status_code == 200, response.text
        return dict(response.json())

    def userinfo(self, access_token: str) -> requests.Response:
        return self.session.get(
            self.server.url("/oauth/userinfo"), headers={"Authorization": f"Bearer {access_token}"}
        )


# -- member and public API -------------------------------------------------------

OTHER_CLIENT_ID = "APP-OTHERMEMBER02"
OTHER_CLIENT_SECRET = "other-secret-0002"
OTHER_CLIENT_NAME = "Another Member"
ORCID_JSON = "application/vnd.orcid+json"
ORCID_XML = "application/vnd.orcid+xml"
ERROR_KEYS = {"response-code", "developer-message", "user-message", "error-code", "more-info"}
ROR_ID = "https://ror.org/052gg0110"


class FakeClock:
    """The emulator's clock in tests: time stands still until a test moves it."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def affiliation_body(**changes: Any) -> dict[str, Any]:
    """A valid body in ORCID's JSON; keyword arguments replace top-level fields
    (underscores for hyphens), ``None`` removes one."""
    body: dict[str, Any] = {
        "department-name": "Department of Physics",
        "role-title": "Research Fellow",
        "start-date": {"year": {"value": "2019"}, "month": {"value": "09"}, "day": {"value": "01"}},
        "end-date": {"year": {"value": "2023"}, "month": {"value": "08"}},
        "organization": {
            "name": "University of Oxford",
            "address": {"city": "Oxford", "region": "Oxfordshire", "country": "GB"},
            "disambiguated-organization": {
                "disambiguated-organization-identifier": ROR_ID,
                "disambiguation-source": "ROR",
            },
        },
        "url": {"value": "https://www.physics.ox.ac.uk/"},
        "external-ids": {
            "external-id": [
                {
                    "external-id-type": "grant_number",
                    "external-id-value": "EP/X000001/1",
                    "external-id-url": {"value": "https://gtr.ukri.org/projects?ref=EP/X000001/1"},
                    "external-id-relationship": "self",
                }
            ]
        },
    }
    for key, value in changes.items():
        name = key.replace("_", "-")
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def org(
    name: str = "Universidad de Chile",
    *,
    city: str = "Santiago",
    country: str = "CL",
    identifier: str | None = None,
    source: str = "ROR",
) -> dict[str, Any]:
    organization: dict[str, Any] = {"name": name, "address": {"city": city, "country": country}}
    if identifier is not None:
        organization["disambiguated-organization"] = {
            "disambiguated-organization-identifier": identifier,
            "disambiguation-source": source,
        }
    return organization


@dataclass
class Api:
    """Calls the v3.0 API the way the hub's client does (ORCID JSON unless told otherwise)."""

    server: EmulatorServer
    session: requests.Session

    @property
    def state(self) -> Any:
        return self.server.state

    @property
    def first_orcid(self) -> str:
        return str(self.server.state.records()[0].orcid)

    def token(
        self, orcid: str | None = None, scopes: tuple[str, ...] = ("/activities/update",), client_id: str = CLIENT_ID
    ) -> str:
        orcid = self.first_orcid if orcid is None else orcid
        return str(self.server.state.issue_token(client_id, orcid, list(scopes)).access_token)

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        *,
        json_body: Any = None,
        data: bytes | str | None = None,
        accept: str | None = ORCID_JSON,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        headers: dict[str, str] = dict(kwargs.pop("headers", {}))
        if accept is not None:
            headers["Accept"] = accept
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            data = json.dumps(json_body)
            content_type = content_type or ORCID_JSON
        if content_type is not None:
            headers["Content-Type"] = content_type
        return self.session.request(method, self.server.url(path), data=data, headers=headers, **kwargs)

    def create(self, section: str, body: Any, token: str, orcid: str | None = None) -> int:
        orcid = self.first_orcid if orcid is None else orcid
        response = self.request("POST", f"/v3.0/{orcid}/{section}", token, json_body=body)
        assert response.status_code == 201, response.text
        return int(response.headers["Location"].rsplit("/", 1)[1])


def assert_orcid_error(response: requests.Response, status: int, error_code: int) -> dict[str, Any]:
    """ORCID's error body, in JSON, with exactly its five keys."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["response-code"] == status
    assert body["error-code"] == error_code, body
    assert body["developer-message"] and body["user-message"] and body["more-info"].startswith("https://")
    return dict(body)


def xml_fields(response: requests.Response) -> tuple[str, dict[str, str]]:
    """``(root tag, {child local name: text})`` of a flat XML document such as an error."""
    root = ElementTree.fromstring(response.content)
    return root.tag, {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in root}
