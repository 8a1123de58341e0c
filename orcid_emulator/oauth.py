"""ORCID's OAuth 2.0 / OpenID Connect endpoints."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode, urlsplit, urlunsplit

from . import pages, scopes as sc
from .context import EmulatorContext
from .errors import OAuthError, invalid_request, invalid_scope
from .keys import ALGORITHM, at_hash
from .state import Client, Record, Token
from .web import (
    NO_STORE_HEADERS,
    HTTPError,
    Request,
    Response,
    first_values,
    html_response,
    json_response,
    redirect_response,
    repeated_keys,
)

if TYPE_CHECKING:
    from .app import Router

ID_TOKEN_LIFETIME = 24 * 60 * 60
_CONSENT_FIELDS = frozenset({"orcid", "email", "action"})
_PKCE_METHODS = ("S256", "plain")
_BASIC_REALM = 'Basic realm="orcid-emulator"'
_BEARER_REALM = 'Bearer realm="orcid-emulator"'


def register(router: Router) -> None:
    router.add("GET", "/.well-known/openid-configuration", discovery)
    router.add("GET", "/oauth/jwks", jwks)
    router.add("GET", "/oauth/authorize", authorize)
    router.add("POST", "/oauth/authorize", authorize_decision)
    router.add("POST", "/oauth/token", token)
    router.add("GET", "/oauth/userinfo", userinfo)
    router.add("POST", "/oauth/userinfo", userinfo)
    router.add("POST", "/oauth/revoke", revoke)


# -- discovery ---------------------------------------------------------------


def discovery_document(ctx: EmulatorContext) -> dict[str, Any]:
    auth_methods = ["client_secret_post", "client_secret_basic"]
    return {
        "issuer": ctx.issuer,
        "authorization_endpoint": ctx.url("/oauth/authorize"),
        "token_endpoint": ctx.url("/oauth/token"),
        "userinfo_endpoint": ctx.url("/oauth/userinfo"),
        "jwks_uri": ctx.url("/oauth/jwks"),
        "revocation_endpoint": ctx.url("/oauth/revoke"),
        "scopes_supported": [sc.OPENID],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": list(_PKCE_METHODS),
        "claims_supported": [
            "family_name",
            "given_name",
            "name",
            "auth_time",
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "nonce",
            "jti",
            "at_hash",
            "amr",
        ],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
    }


def discovery(req: Request) -> Response:
    return json_response(discovery_document(req.context))


def jwks(req: Request) -> Response:
    return json_response(req.context.signing_key.jwks())


# -- authorization endpoint ----------------------------------------------------


@dataclass(frozen=True)
class AuthorizeParams:
    client: Client
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    # Everything the client sent, re-posted by the consent form as hidden fields.
    passthrough: dict[str, str]


def authorize(req: Request) -> Response:
    # ORCID's prefill parameters (email, given_names, family_names) and lang are
    # accepted; an email that belongs to a record also preselects that record.
    params = parse_authorize(req.context, req.query)
    query = first_values(req.query)
    email = query.get("email", "")
    selected = query.get("orcid")
    if selected is None and email:
        known = req.context.state.find_record_by_email(email)
        selected = known.orcid if known is not None else None
    return _render_consent(req, params, selected_orcid=selected, email=email)


def authorize_decision(req: Request) -> Response:
    # Hidden fields normally carry the parameters, but accept them on the query
    # string too so scripted clients can simply POST to the authorize URL.
    merged = {**req.query, **req.form}
    params = parse_authorize(req.context, merged)
    fields = first_values(merged)
    action = fields.get("action")
    if action == "deny":
        return _redirect_to_client(
            params.redirect_uri,
            {"error": "access_denied", "error_description": "User denied access"},
            params.state,
        )
    if action != "authorize":
        return _render_consent(req, params, error="Choose Authorize or Deny.", status=400)

    email = fields.get("email", "").strip()
    orcid = fields.get("orcid", "").strip()
    state = req.context.state
    # A browser always submits the <select>, so a typed email has to win.
    if email:
        record = state.find_record_by_email(email)
        if record is None:
            return _render_consent(req, params, email=email, error=f"No record has the email {email}.", status=400)
    elif orcid:
        record = state.get_record(orcid)
        if record is None:
            return _render_consent(req, params, error=f"No record {orcid}.", status=400)
    else:
        return _render_consent(req, params, error="Choose a record to sign in as.", status=400)
    if record.deactivated or record.locked:
        condition = "deactivated" if record.deactivated else "locked"
        return _render_consent(req, params, error=f"The record {record.orcid} is {condition}.", status=400)

    code = state.issue_code(
        client_id=params.client.client_id,
        redirect_uri=params.redirect_uri,
        orcid=record.orcid,
        scopes=params.scopes,
        nonce=params.nonce,
        code_challenge=params.code_challenge,
        code_challenge_method=params.code_challenge_method,
    )
    return _redirect_to_client(params.redirect_uri, {"code": code.code}, params.state)


def parse_authorize(ctx: EmulatorContext, raw: Mapping[str, list[str]]) -> AuthorizeParams:
    """Validate an authorization request.

    Problems with the client or redirect URI produce an HTML 400 page: the
    redirect URI cannot be trusted, so redirecting would make the emulator an
    open redirector.  Everything else is reported back to the client by
    redirect, as RFC 6749 §4.1.2.1 requires.
    """
    params = first_values(raw)
    client_id = params.get("client_id")
    if not client_id:
        raise _bad_authorize_request("Missing client_id.")
    client = ctx.state.get_client(client_id)
    if client is None:
        raise _bad_authorize_request(f"Unknown client_id: {client_id}")
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise _bad_authorize_request("Missing redirect_uri.")
    if not client.allows_redirect(redirect_uri):
        raise _bad_authorize_request(f"The redirect_uri {redirect_uri} is not registered for client {client_id}.")

    state = params.get("state")

    def fail(error: str, description: str) -> HTTPError:
        return HTTPError(_redirect_to_client(redirect_uri, {"error": error, "error_description": description}, state))

    repeated = [key for key in repeated_keys(raw) if key not in _CONSENT_FIELDS]
    if repeated:
        raise fail("invalid_request", f"Repeated parameter: {', '.join(sorted(repeated))}")
    response_type = params.get("response_type")
    if not response_type:
        raise fail("invalid_request", "Missing response_type.")
    if response_type != "code":
        raise fail("unsupported_response_type", f"Unsupported response type: {response_type}")
    requested = sc.parse_scope(params.get("scope"))
    if not requested:
        raise fail("invalid_scope", "A scope is required.")
    unknown = sc.unknown_scopes(requested)
    if unknown:
        raise fail("invalid_scope", f"Invalid scope: {' '.join(unknown)}")
    challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or None
    if method and not challenge:
        raise fail("invalid_request", "code_challenge_method without code_challenge.")
    if challenge:
        method = method or "plain"  # RFC 7636 §4.3 default
        if method not in _PKCE_METHODS:
            raise fail("invalid_request", f"Unsupported code_challenge_method: {method}")

    return AuthorizeParams(
        client=client,
        redirect_uri=redirect_uri,
        scopes=requested,
        state=state,
        nonce=params.get("nonce") or None,
        code_challenge=challenge,
        code_challenge_method=method,
        passthrough={key: value for key, value in params.items() if key not in _CONSENT_FIELDS},
    )


def _render_consent(
    req: Request,
    params: AuthorizeParams,
    *,
    selected_orcid: str | None = None,
    email: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    markup = pages.consent_page(
        action_url="/oauth/authorize",
        lang=params.passthrough.get("lang", ""),
        client=params.client,
        scopes=params.scopes,
        hidden=params.passthrough,
        records=req.context.state.records(),
        selected_orcid=selected_orcid,
        email=email,
        error=error,
    )
    # Cheap clickjacking/caching hygiene, and it keeps consent pages out of bfcache.
    return html_response(markup, status, [*NO_STORE_HEADERS, ("X-Frame-Options", "DENY")])


def _bad_authorize_request(message: str) -> HTTPError:
    return HTTPError(html_response(pages.error_page("Invalid authorization request", message), 400))


def _redirect_to_client(redirect_uri: str, params: dict[str, str], state: str | None) -> Response:
    if state is not None:
        params = {**params, "state": state}
    scheme, netloc, path, query, fragment = urlsplit(redirect_uri)
    pairs = [*parse_qsl(query, keep_blank_values=True), *params.items()]
    return redirect_response(urlunsplit((scheme, netloc, path, urlencode(pairs, quote_via=quote), fragment)))


# -- token endpoint --------------------------------------------------------------


def token(req: Request) -> Response:
    params = _form_params(req)
    client = authenticate_client(req, params)
    grant_type = params.get("grant_type")
    if not grant_type:
        raise invalid_request("Missing grant_type.")
    if grant_type == "authorization_code":
        body = _authorization_code_grant(req.context, client, params)
    elif grant_type == "refresh_token":
        body = _refresh_token_grant(req.context, client, params)
    elif grant_type == "client_credentials":
        body = _client_credentials_grant(req.context, client, params)
    else:
        raise OAuthError("unsupported_grant_type", f"Unsupported grant type: {grant_type}")
    return json_response(body, 200, NO_STORE_HEADERS)


def _authorization_code_grant(ctx: EmulatorContext, client: Client, params: dict[str, str]) -> dict[str, Any]:
    code = params.get("code")
    if not code:
        raise invalid_request("Missing code.")
    auth, tok = ctx.state.exchange_code(
        code,
        client_id=client.client_id,
        redirect_uri=params.get("redirect_uri"),
        code_verifier=params.get("code_verifier"),
    )
    record = _record_for(ctx, tok)
    body = _token_body(tok, record)
    if sc.OPENID in tok.scopes and record is not None:
        body["id_token"] = make_id_token(ctx, client, record, tok, auth.nonce)
    return body


def _refresh_token_grant(ctx: EmulatorContext, client: Client, params: dict[str, str]) -> dict[str, Any]:
    refresh_token = params.get("refresh_token")
    if not refresh_token:
        raise invalid_request("Missing refresh_token.")
    requested = sc.parse_scope(params.get("scope"))
    unknown = sc.unknown_scopes(requested)
    if unknown:
        raise invalid_scope(f"Invalid scope: {' '.join(unknown)}")
    revoke_old = params.get("revoke_old", "false").strip().lower() == "true"
    tok = ctx.state.refresh(refresh_token, client_id=client.client_id, scopes=requested or None, revoke_old=revoke_old)
    return _token_body(tok, _record_for(ctx, tok))


def _client_credentials_grant(ctx: EmulatorContext, client: Client, params: dict[str, str]) -> dict[str, Any]:
    requested = sc.parse_scope(params.get("scope"))
    if not requested:
        raise invalid_scope("A scope is required.")
    unknown = sc.unknown_scopes(requested)
    if unknown:
        raise invalid_scope(f"Invalid scope: {' '.join(unknown)}")
    # ORCID answers 401 (not 400) when a two-legged token asks for a user scope.
    forbidden = [scope for scope in requested if scope not in sc.CLIENT_CREDENTIALS_SCOPES]
    if forbidden:
        raise invalid_scope(f"Invalid scope: {' '.join(forbidden)}", status=401)
    tok = ctx.state.issue_token(client.client_id, None, requested)
    return _token_body(tok, None)


def _record_for(ctx: EmulatorContext, tok: Token) -> Record | None:
    return ctx.state.get_record(tok.orcid) if tok.orcid else None


def _token_body(tok: Token, record: Record | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": tok.access_token,
        "token_type": "bearer",
        "refresh_token": tok.refresh_token,
        "expires_in": tok.expires_in,
        "scope": sc.format_scope(tok.scopes),
    }
    if record is not None:
        body["name"] = record.name
    body["orcid"] = record.orcid if record is not None else None
    return body


def make_id_token(ctx: EmulatorContext, client: Client, record: Record, tok: Token, nonce: str | None) -> str:
    now = int(ctx.state.now())
    claims: dict[str, Any] = {
        "iss": ctx.issuer,
        "aud": client.client_id,
        "sub": record.orcid,
        "iat": now,
        "exp": now + ID_TOKEN_LIFETIME,
        "auth_time": int(tok.auth_time if tok.auth_time is not None else now),
        # Unique per token: django-allauth blacklists seen jti values.
        "jti": str(uuid.uuid4()),
        "at_hash": at_hash(tok.access_token),
        "amr": ["pwd"],
        "given_name": record.given_name,
        "family_name": record.family_name or None,
    }
    if nonce is not None:
        claims["nonce"] = nonce
    return ctx.signing_key.sign(claims)


# -- client authentication -----------------------------------------------------


def authenticate_client(req: Request, params: dict[str, str]) -> Client:
    """client_secret_basic or client_secret_post, never both (RFC 6749 §2.3)."""
    header = req.header("authorization") or ""
    scheme, _, encoded = header.partition(" ")
    used_basic = scheme.lower() == "basic"
    if used_basic:
        if params.get("client_secret") is not None:
            raise invalid_request("Use one client authentication method, not both.")
        candidates = _basic_credentials(encoded)
        form_id = params.get("client_id")
        if form_id is not None and form_id not in {cid for cid, _ in candidates}:
            raise _invalid_client("client_id does not match the Basic credentials", used_basic)
    else:
        client_id, secret = params.get("client_id"), params.get("client_secret")
        if not client_id or secret is None:
            raise _invalid_client("Client authentication is required", used_basic)
        candidates = [(client_id, secret)]

    known = False
    for client_id, secret in candidates:
        client = req.context.state.get_client(client_id)
        if client is None:
            continue
        known = True
        if client.check_secret(secret):
            return client
    if known:
        raise _invalid_client("Bad client credentials", used_basic)
    raise _invalid_client(f"Client not found: {candidates[0][0]}", used_basic)


def _basic_credentials(encoded: str) -> list[tuple[str, str]]:
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client("Malformed Basic credentials", True) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise _invalid_client("Malformed Basic credentials", True)
    # RFC 6749 says to form-encode id and secret first, but most libraries
    # (requests' HTTPBasicAuth included) do not, so accept either spelling.
    pairs = [(client_id, secret), (unquote_plus(client_id), unquote_plus(secret))]
    return list(dict.fromkeys(pairs))


def _invalid_client(description: str, used_basic: bool) -> OAuthError:
    headers = [("WWW-Authenticate", _BASIC_REALM)] if used_basic else []
    return OAuthError("invalid_client", description, 401, headers)


def _form_params(req: Request) -> dict[str, str]:
    repeated = repeated_keys(req.form)
    if repeated:
        raise invalid_request(f"Repeated parameter: {', '.join(sorted(repeated))}")
    return first_values(req.form)


# -- userinfo and revocation ---------------------------------------------------


def userinfo(req: Request) -> Response:
    header = req.header("authorization") or ""
    scheme, _, value = header.partition(" ")
    access_token = value.strip()
    if scheme.lower() != "bearer" or not access_token:
        raise OAuthError(
            "invalid_request", "Missing bearer access token", 401, [("WWW-Authenticate", _BEARER_REALM)]
        )
    ctx = req.context
    tok = ctx.state.active_token(access_token)
    if tok is None:
        raise OAuthError(
            "invalid_token",
            f"Invalid access token: {access_token}",
            401,
            [("WWW-Authenticate", f'{_BEARER_REALM}, error="invalid_token"')],
        )
    record = _record_for(ctx, tok)
    if record is None:
        raise OAuthError(
            "insufficient_scope",
            "This access token is not bound to an ORCID record",
            403,
            [("WWW-Authenticate", f'{_BEARER_REALM}, error="insufficient_scope"')],
        )
    return json_response(
        {
            "id": ctx.url(f"/{record.orcid}"),
            "sub": record.orcid,
            "name": record.name,
            "given_name": record.given_name,
            "family_name": record.family_name or None,
        },
        200,
        NO_STORE_HEADERS,
    )


def revoke(req: Request) -> Response:
    params = _form_params(req)
    client = authenticate_client(req, params)
    value = params.get("token")
    if not value:
        raise invalid_request("Missing token.")
    # RFC 7009 §2.2: unknown or foreign tokens still get a 200.
    req.context.state.revoke_token(value, client.client_id)
    return Response(200, b"", list(NO_STORE_HEADERS))
