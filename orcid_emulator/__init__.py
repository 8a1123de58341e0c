"""A local stand-in for ORCID: OAuth 2.0 / OpenID Connect, the member API v3.0
affiliation sections and the public expanded search, with ORCID's error bodies,
media types and rate limits, plus fault injection for tests.

Start one in a test::

    with EmulatorServer(clients=[Client("APP-TEST", "secret", ["http://localhost:8000/"])]) as orcid:
        orcid.base_url  # issuer and API base; discovery at /.well-known/openid-configuration
"""

from __future__ import annotations

from .affiliations import SECTIONS, PartialDate, normalize_affiliation
from .errors import OAuthError
from .faults import FaultPlan
from .ids import is_valid_orcid_id, make_orcid_id, orcid_base_number, orcid_check_digit
from .keys import SigningKey
from .orcid_errors import ERROR_CODES, OrcidApiError
from .ratelimit import DEFAULT_RATE_LIMIT, RateLimitConfig
from .scopes import ALL_SCOPES, CLIENT_CREDENTIALS_SCOPES
from .server import EmulatorServer
from .state import (
    ACCESS_TOKEN_LIFETIME,
    AUTH_CODE_LIFETIME,
    DEMO_RECORDS,
    Affiliation,
    ApiCall,
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
    "DEFAULT_RATE_LIMIT",
    "DEMO_RECORDS",
    "ERROR_CODES",
    "SECTIONS",
    "Affiliation",
    "ApiCall",
    "AuthCode",
    "Client",
    "EmulatorServer",
    "EmulatorState",
    "FaultPlan",
    "OAuthError",
    "OrcidApiError",
    "PartialDate",
    "RateLimitConfig",
    "Record",
    "SigningKey",
    "Token",
    "is_valid_orcid_id",
    "make_orcid_id",
    "normalize_affiliation",
    "orcid_base_number",
    "orcid_check_digit",
    "redirect_uri_matches",
]
