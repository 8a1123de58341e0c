"""A local stand-in for ORCID's OAuth 2.0 / OpenID Connect server.

Start one in a test::

    with EmulatorServer(clients=[Client("APP-TEST", "secret", ["http://localhost:8000/"])]) as orcid:
        orcid.base_url  # issuer; discovery at /.well-known/openid-configuration
"""

from __future__ import annotations

from .errors import OAuthError
from .ids import is_valid_orcid_id, make_orcid_id, orcid_base_number, orcid_check_digit
from .keys import SigningKey
from .scopes import ALL_SCOPES, CLIENT_CREDENTIALS_SCOPES
from .server import EmulatorServer
from .state import (
    ACCESS_TOKEN_LIFETIME,
    AUTH_CODE_LIFETIME,
    DEMO_RECORDS,
    AuthCode,
    Client,
    EmulatorState,
    Record,
    Token,
    redirect_uri_matches,
)

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "ALL_SCOPES",
    "AUTH_CODE_LIFETIME",
    "CLIENT_CREDENTIALS_SCOPES",
    "DEMO_RECORDS",
    "AuthCode",
    "Client",
    "EmulatorServer",
    "EmulatorState",
    "OAuthError",
    "Record",
    "SigningKey",
    "Token",
    "is_valid_orcid_id",
    "make_orcid_id",
    "orcid_base_number",
    "orcid_check_digit",
    "redirect_uri_matches",
]
