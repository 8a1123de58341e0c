"""The only code that talks to ORCID: OAuth, the member API (affiliations) and the public API (search).

Everything about where ORCID is comes from configuration (production, sandbox or the bundled emulator:
one code path). A consortium may bring its own member API credentials (`RegistryClient`);
`client_for_organisation` picks them, else the hub's settings.

Three promises the rest of the hub relies on:
- every failure is one exception type, `OrcidApiError`, whose `kind` says what to do about it;
- a client id is never called faster than its rate from this process (the writer's per-client lock
  makes it one process at a time);
- every call is logged in `OrcidApiCall` with method, path, status and duration — never a token,
  header or body.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import enum
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from django.conf import settings
from django.utils import timezone

from consortium_hub.registry.payload import AffiliationSummary, summaries_from_group_list

ORCID_JSON = "application/vnd.orcid+json"
API_VERSION = "v3.0"
READ_PUBLIC_SCOPE = "/read-public"
# A little slower than the configured rate: the limiter spaces the moments requests leave, but ORCID
# counts arrivals, and delays on the way (network, a busy worker thread) can bunch them up. 2% keeps any
# one second's arrivals within the rate despite up to 20 ms of such jitter, and costs 2% of throughput.
SPACING_MARGIN = 1.02
# Buffered call-log rows are written at least this often, so their timestamps stay close to the calls.
LOG_FLUSH_SECONDS = 1.0
LOG_FLUSH_ROWS = 200


class ErrorKind(enum.Enum):
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    INVALID_TOKEN = "invalid_token"
    RECORD_NOT_FOUND = "record_not_found"
    RECORD_DEACTIVATED = "record_deactivated"
    RECORD_LOCKED = "record_locked"
    RECORD_UNCLAIMED = "record_unclaimed"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    WRONG_RECORD = "wrong_record"
    NOT_ACCEPTABLE = "not_acceptable"
    INVALID = "invalid"


RETRYABLE_KINDS = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.UNAVAILABLE})

# ORCID's numeric error codes (the `error-code` of its error bodies) that the hub acts on.
KIND_BY_ERROR_CODE = {
    9016: ErrorKind.RECORD_NOT_FOUND,
    9044: ErrorKind.RECORD_DEACTIVATED,
    9018: ErrorKind.RECORD_LOCKED,
    9036: ErrorKind.RECORD_UNCLAIMED,
    9038: ErrorKind.INSUFFICIENT_SCOPE,
    9017: ErrorKind.WRONG_RECORD,
    9001: ErrorKind.NOT_ACCEPTABLE,
}


class OrcidApiError(Exception):
    """ORCID refused or could not answer. `retryable` errors may succeed later unchanged."""

    def __init__(self, kind: ErrorKind, *, status: int | None = None, error_code: str = "",
                 developer_message: str = "", user_message: str = "", retry_after: float | None = None) -> None:
        self.kind = kind
        self.status = status
        self.error_code = error_code
        self.developer_message = developer_message
        self.user_message = user_message
        self.retry_after = retry_after
        super().__init__(f"{kind.value} ({status or 'no answer'}{' ' + error_code if error_code else ''}): "
                         f"{developer_message}")

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    refresh_token: str
    orcid: str
    name: str
    scope: str
    expires_in: int | None


# --- Rate limiting --------------------------------------------------------------------------------------

class RateLimiter:
    """Spaces requests at least 1/rate seconds apart (monotonic clock), shared by the threads of a process.

    `defer(seconds)` holds every request back (ORCID's Retry-After). Clock and sleeper are injectable so
    tests run without waiting.
    """

    def __init__(self, rate_per_second: float, *, clock: Callable[[], float] = time.monotonic,
                 sleeper: Callable[[float], None] = time.sleep) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.rate_per_second = rate_per_second
        self.interval = SPACING_MARGIN / rate_per_second
        self._clock = clock
        self._sleeper = sleeper
        self._next_slot = -math.inf
        self._lock = threading.Lock()

    def set_rate(self, rate_per_second: float) -> None:
        with self._lock:
            self.rate_per_second = rate_per_second
            self.interval = SPACING_MARGIN / rate_per_second

    def acquire(self) -> float:
        """Wait for this request's slot; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
        wait = slot - now
        if wait > 0:
            self._sleeper(wait)
        return wait

    def defer(self, seconds: float) -> None:
        with self._lock:
            self._next_slot = max(self._next_slot, self._clock() + seconds)

    def seconds_until_free(self) -> float:
        with self._lock:
            return max(0.0, self._next_slot - self._clock())


_limiters: dict[str, RateLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(client_id: str, rate_per_second: float) -> RateLimiter:
    """This process's one limiter for `client_id` (every OrcidClient with that id shares it)."""
    with _limiters_lock:
        limiter = _limiters.get(client_id)
        if limiter is None:
            limiter = _limiters[client_id] = RateLimiter(rate_per_second)
        elif limiter.rate_per_second != rate_per_second:
            limiter.set_rate(rate_per_second)
        return limiter


# --- The call log ---------------------------------------------------------------------------------------

@dataclass
class _CallLog:
    """Rows for `OrcidApiCall`, written one by one or, inside `OrcidClient.buffered_log()`, in bulk."""

    buffering: int = 0
    rows: list[Any] = field(default_factory=list)
    oldest: float = 0.0

    def add(self, row: Any) -> None:
        if not self.rows:
            self.oldest = time.monotonic()
        self.rows.append(row)
        due = len(self.rows) >= LOG_FLUSH_ROWS or time.monotonic() - self.oldest >= LOG_FLUSH_SECONDS
        if not self.buffering or due:
            self.flush()

    def flush(self) -> None:
        from consortium_hub.registry.models import OrcidApiCall

        rows, self.rows = self.rows, []
        if rows:
            OrcidApiCall.objects.bulk_create(rows)


# --- The client -----------------------------------------------------------------------------------------

class OrcidClient:
    """One member API client (id and secret) against one ORCID (production, sandbox or emulator)."""

    def __init__(self, *, client_id: str, client_secret: str, base_url: str, api_base_url: str,
                 public_api_base_url: str, rate_per_second: float, timeout: float,
                 consortium_id: int | None = None, organisation_id: int | None = None,
                 session: requests.Session | None = None, limiter: RateLimiter | None = None) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.base_url = base_url.rstrip("/")
        self.api_base_url = api_base_url.rstrip("/")
        self.public_api_base_url = public_api_base_url.rstrip("/")
        self.rate_per_second = rate_per_second
        self.timeout = timeout
        self.consortium_id = consortium_id
        self.organisation_id = organisation_id
        self.session = session or requests.Session()
        self.limiter = limiter or limiter_for(client_id, rate_per_second)
        self._log = _CallLog()

    def __repr__(self) -> str:
        return f"OrcidClient({self.client_id!r}, api={self.api_base_url!r})"

    def bound_to(self, *, consortium_id: int | None, organisation_id: int | None) -> OrcidClient:
        """The same client (session, limiter, log buffer) logging its calls against another organisation."""
        twin = object.__new__(OrcidClient)
        twin.__dict__.update(self.__dict__)
        twin.consortium_id = consortium_id
        twin.organisation_id = organisation_id
        return twin

    @contextlib.contextmanager
    def buffered_log(self) -> Iterator[None]:
        """Write call-log rows in bulk (at least every second) until the block ends: the writer's mode."""
        self._log.buffering += 1
        try:
            yield
        finally:
            self._log.buffering -= 1
            self._log.flush()

    # -- OAuth ---------------------------------------------------------------------------------------

    def exchange_code(self, code: str, redirect_uri: str) -> TokenGrant:
        """Redeem the code ORCID sent back after the researcher's consent."""
        data = self._oauth("POST", "/oauth/token", {
            "client_id": self.client_id, "client_secret": self._client_secret,
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        })
        return _token_grant(data)

    def revoke_token(self, token: str) -> None:
        self._oauth("POST", "/oauth/revoke", {
            "client_id": self.client_id, "client_secret": self._client_secret, "token": token,
        })

    def read_public_token(self) -> str:
        """A two-legged `/read-public` token, asked for once per process and client."""
        key = (self.base_url, self.client_id)
        with _public_tokens_lock:
            cached = _public_tokens.get(key)
        if cached:
            return cached
        data = self._oauth("POST", "/oauth/token", {
            "client_id": self.client_id, "client_secret": self._client_secret,
            "grant_type": "client_credentials", "scope": READ_PUBLIC_SCOPE,
        })
        token = str(data.get("access_token") or "")
        if not token:
            raise OrcidApiError(ErrorKind.INVALID, status=200, developer_message="ORCID returned no access token")
        with _public_tokens_lock:
            _public_tokens[key] = token
        return token

    # -- Member API: affiliations -------------------------------------------------------------------

    def add_affiliation(self, orcid: str, token: str, section: str, body: Mapping[str, Any]) -> str:
        """POST a new item; returns its put-code (from the `Location` header)."""
        response = self._request("POST", self.api_base_url, f"/{API_VERSION}/{orcid}/{section}", token=token,
                                 json_body=body)
        location = response.headers.get("Location", "")
        put_code = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1] if location else ""
        if not put_code.isdigit():
            raise OrcidApiError(ErrorKind.INVALID, status=response.status_code,
                                developer_message=f"No put-code in the Location header ({location!r})")
        return put_code

    def update_affiliation(self, orcid: str, token: str, section: str, put_code: str,
                           body: Mapping[str, Any]) -> None:
        self._request("PUT", self.api_base_url, f"/{API_VERSION}/{orcid}/{section}/{put_code}", token=token,
                      json_body=body)

    def delete_affiliation(self, orcid: str, token: str, section: str, put_code: str) -> None:
        self._request("DELETE", self.api_base_url, f"/{API_VERSION}/{orcid}/{section}/{put_code}", token=token)

    def list_affiliations(self, orcid: str, token: str, section: str) -> list[AffiliationSummary]:
        """The record's items in one section (every source's, as ORCID shows them to this client)."""
        response = self._request("GET", self.api_base_url, f"/{API_VERSION}/{orcid}/{section}s", token=token)
        return summaries_from_group_list(section, _json(response))

    # -- Public API ---------------------------------------------------------------------------------

    def search_count(self, query: str) -> int:
        """How many records the public expanded search finds for `query` (e.g. `ror-org-id:"…"`)."""
        token = self.read_public_token()
        path = f"/{API_VERSION}/expanded-search/?" + urlencode({"q": query, "rows": 0})
        try:
            response = self._request("GET", self.public_api_base_url, path, token=token)
        except OrcidApiError as exc:
            if exc.kind is ErrorKind.INVALID_TOKEN:
                # The cached public token was revoked or expired: ask for a new one, once.
                with _public_tokens_lock:
                    _public_tokens.pop((self.base_url, self.client_id), None)
                response = self._request("GET", self.public_api_base_url, path, token=self.read_public_token())
            else:
                raise
        found = _json(response).get("num-found")
        if not isinstance(found, int):
            raise OrcidApiError(ErrorKind.INVALID, status=response.status_code,
                                developer_message="The search answer has no num-found")
        return found

    # -- Plumbing -----------------------------------------------------------------------------------

    def _oauth(self, method: str, path: str, form: dict[str, str]) -> dict[str, Any]:
        response = self._request(method, self.base_url, path, form=form)
        return _json(response) if response.content else {}

    def _request(self, method: str, base: str, path: str, *, token: str | None = None,
                 json_body: Mapping[str, Any] | None = None, form: Mapping[str, str] | None = None
                 ) -> requests.Response:
        if token is not None:
            headers = {"Accept": ORCID_JSON, "Authorization": f"Bearer {token}"}
        else:
            headers = {"Accept": "application/json"}
        if json_body is not None:
            headers["Content-Type"] = ORCID_JSON
        self.limiter.acquire()
        started = time.perf_counter()
        response: requests.Response | None = None
        error: OrcidApiError | None = None
        try:
            response = self.session.request(method, base + path, headers=headers, json=json_body, data=form,
                                            timeout=self.timeout, allow_redirects=False)
        except requests.Timeout as exc:
            error = OrcidApiError(ErrorKind.UNAVAILABLE,
                                  developer_message=f"ORCID did not answer in time ({exc.__class__.__name__})")
        except requests.RequestException as exc:
            error = OrcidApiError(ErrorKind.UNAVAILABLE,
                                  developer_message=f"Could not reach ORCID ({exc.__class__.__name__})")
        duration_ms = round((time.perf_counter() - started) * 1000)
        if response is not None and response.status_code >= 400:
            error = _error_from(response, secrets=(token, self._client_secret))
            if error.retry_after:
                self.limiter.defer(error.retry_after)
        self._record(method, path, response.status_code if response is not None else None,
                     error.error_code if error else "", duration_ms)
        if error is not None:
            raise error
        assert response is not None
        return response

    def _record(self, method: str, path: str, status_code: int | None, error_code: str, duration_ms: int) -> None:
        from consortium_hub.registry.models import OrcidApiCall

        # The path, never the query string: a search query says nothing secret, but nothing
        # sent as parameters belongs in a log either.
        self._log.add(OrcidApiCall(consortium_id=self.consortium_id, organisation_id=self.organisation_id,
                                   method=method, path=path.split("?", 1)[0][:500], status_code=status_code,
                                   error_code=error_code[:16], duration_ms=duration_ms))


_public_tokens: dict[tuple[str, str], str] = {}
_public_tokens_lock = threading.Lock()


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        raise OrcidApiError(ErrorKind.INVALID, status=response.status_code,
                            developer_message="ORCID's answer was not JSON") from exc
    if not isinstance(data, dict):
        raise OrcidApiError(ErrorKind.INVALID, status=response.status_code,
                            developer_message="ORCID's answer was not a JSON object")
    return data


def _token_grant(data: Mapping[str, Any]) -> TokenGrant:
    access_token = str(data.get("access_token") or "")
    if not access_token:
        raise OrcidApiError(ErrorKind.INVALID, status=200, developer_message="ORCID returned no access token")
    expires_in = data.get("expires_in")
    return TokenGrant(access_token=access_token, refresh_token=str(data.get("refresh_token") or ""),
                      orcid=str(data.get("orcid") or ""), name=str(data.get("name") or ""),
                      scope=str(data.get("scope") or ""),
                      expires_in=int(expires_in) if isinstance(expires_in, (int, float)) else None)


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - (now or timezone.now())).total_seconds())


def _error_from(response: requests.Response, *, secrets: tuple[str | None, ...]) -> OrcidApiError:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    raw_code = body.get("error-code")
    error_code = str(raw_code) if raw_code not in (None, "") else ""
    oauth_error = str(body.get("error") or "")
    developer_message = str(body.get("developer-message") or body.get("error_description") or oauth_error
                            or response.reason or "")
    user_message = str(body.get("user-message") or "")
    # ORCID echoes the token in some messages ("Invalid access token: …"); such a message may end up
    # on a row or in a log, the token must not.
    for secret in secrets:
        if secret:
            developer_message = developer_message.replace(secret, "…")
            user_message = user_message.replace(secret, "…")
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if not error_code and oauth_error:
        error_code = oauth_error
    kind = _kind(status, raw_code, oauth_error, retry_after)
    return OrcidApiError(kind, status=status, error_code=error_code, developer_message=developer_message,
                         user_message=user_message, retry_after=retry_after)


def _kind(status: int, raw_code: Any, oauth_error: str, retry_after: float | None) -> ErrorKind:
    try:
        code = int(raw_code)
    except (TypeError, ValueError):
        code = None
    if status == 429 or (status == 503 and retry_after is not None):
        return ErrorKind.RATE_LIMITED
    if status >= 500:
        return ErrorKind.UNAVAILABLE
    if status == 401 and oauth_error in ("invalid_token", ""):
        # 401 on a bearer call is a token ORCID no longer honours (revoked or expired); a 401 from the
        # token endpoint names its cause (invalid_client…) and is the hub's configuration at fault.
        return ErrorKind.INVALID_TOKEN
    if code in KIND_BY_ERROR_CODE:
        return KIND_BY_ERROR_CODE[code]
    if status == 406:
        return ErrorKind.NOT_ACCEPTABLE
    return ErrorKind.INVALID


# --- Choosing the client --------------------------------------------------------------------------------

def default_client(*, consortium_id: int | None = None, organisation_id: int | None = None) -> OrcidClient:
    """The hub's own member API client, from settings."""
    return OrcidClient(
        client_id=settings.ORCID_MEMBER_CLIENT_ID, client_secret=settings.ORCID_MEMBER_CLIENT_SECRET,
        base_url=settings.ORCID_BASE_URL, api_base_url=settings.ORCID_API_BASE_URL,
        public_api_base_url=settings.ORCID_PUBLIC_API_BASE_URL,
        rate_per_second=settings.ORCID_RATE_PER_SECOND, timeout=settings.ORCID_TIMEOUT_SECONDS,
        consortium_id=consortium_id, organisation_id=organisation_id,
    )


def client_for_consortium(consortium_id: int, *, organisation_id: int | None = None) -> OrcidClient:
    """The consortium's own credentials (`RegistryClient`) when it has them, else the hub's."""
    from consortium_hub.registry.models import RegistryClient

    own = RegistryClient.objects.filter(consortium_id=consortium_id).first()
    if own is None:
        return default_client(consortium_id=consortium_id, organisation_id=organisation_id)
    return OrcidClient(
        client_id=own.client_id, client_secret=own.client_secret,
        base_url=settings.ORCID_BASE_URL, api_base_url=settings.ORCID_API_BASE_URL,
        public_api_base_url=settings.ORCID_PUBLIC_API_BASE_URL,
        rate_per_second=own.rate_per_second or settings.ORCID_RATE_PER_SECOND,
        timeout=settings.ORCID_TIMEOUT_SECONDS, consortium_id=consortium_id, organisation_id=organisation_id,
    )


def client_for_organisation(organisation: Any) -> OrcidClient:
    """The client that writes for `organisation`: its consortium's own credentials, else the hub's."""
    return client_for_consortium(organisation.consortium_id, organisation_id=organisation.pk)
