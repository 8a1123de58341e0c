"""Shared constants and an HTTP driver for the authorization code flow."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
