"""Thread-safe in-memory store of clients, records, codes, tokens, affiliations and API traffic.

Every mutation happens under one lock so that check-then-act sequences (such
as "is this code unused? then mark it used and mint a token") are atomic even
when the threaded HTTP server handles requests concurrently.  Models are frozen
dataclasses: callers get snapshots they can keep without racing the server.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import secrets
import string
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .affiliations import SECTIONS, normalize_affiliation, self_external_ids
from .errors import Conflict, DuplicateActivity, NotFound, NotSource, StateError, invalid_grant, invalid_scope
from .faults import FaultPlan
from .ids import is_valid_orcid_id, make_orcid_id
from .ratelimit import DEFAULT_RATE_LIMIT, RateLimitConfig, RateLimiter

Clock = Callable[[], float]

AUTH_CODE_LIFETIME = 10 * 60
# What ORCID itself reports for its ~20 year access tokens.
ACCESS_TOKEN_LIFETIME = 631_138_518
# Records the emulator mints come from the 0009-... block (the range ORCID
# currently assigns), counting up, so iDs are deterministic across runs.
_ALLOCATION_START = 900_000_000_000
_CODE_ALPHABET = string.ascii_letters + string.digits
# Put-codes are global and increasing, like ORCID's database ids, so they are unique per record too.
_PUT_CODE_START = 1001
# Enough for any benchmark run; a bound keeps a long-lived dev server from growing without limit.
CALL_LOG_LIMIT = 200_000


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    redirect_uris: Sequence[str] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if not self.client_id or not self.client_secret:
            raise StateError("client_id and client_secret are required")
        # Frozen + hashable even when given a list.
        object.__setattr__(self, "redirect_uris", tuple(self.redirect_uris))
        if not self.name:
            object.__setattr__(self, "name", self.client_id)

    def check_secret(self, secret: str) -> bool:
        return hmac.compare_digest(self.client_secret.encode(), secret.encode())

    def allows_redirect(self, redirect_uri: str) -> bool:
        return any(redirect_uri_matches(registered, redirect_uri) for registered in self.redirect_uris)

    def to_dict(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "name": self.name, "redirect_uris": list(self.redirect_uris)}


def redirect_uri_matches(registered: str, requested: str) -> bool:
    """Exact match, or ``registered`` is a prefix of ``requested``.

    ORCID lets a client register a base URI and redirect anywhere beneath it.
    The prefix must end on a boundary (``/``, ``?`` or ``#``) so that
    ``http://localhost:8000`` does not also admit ``http://localhost:8000.evil.test``.
    """
    if requested == registered:
        return True
    if not registered or not requested.startswith(registered):
        return False
    return registered[-1] in "/?#" or requested[len(registered)] in "/?#"


@dataclass(frozen=True)
class Record:
    orcid: str
    given_name: str
    family_name: str = ""
    email: str | None = None
    credit_name: str | None = None
    # Unclaimed: created by an institution, never signed into; readable, not writable.
    claimed: bool = True
    locked: bool = False
    deactivated: bool = False

    @property
    def name(self) -> str:
        """Display name, as ORCID returns it in token responses and userinfo."""
        return self.credit_name or f"{self.given_name} {self.family_name}".strip()

    def to_dict(self, base_url: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "orcid": self.orcid,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "credit_name": self.credit_name,
            "name": self.name,
            "email": self.email,
            "claimed": self.claimed,
            "locked": self.locked,
            "deactivated": self.deactivated,
        }
        if base_url is not None:
            data["uri"] = f"{base_url}/{self.orcid}"
        return data


RecordSpec = Record | Mapping[str, Any]

DEMO_RECORDS: tuple[Mapping[str, str], ...] = (
    {"given_name": "Imogen", "family_name": "Fairweather", "email": "imogen.fairweather@example.org"},
    {"given_name": "Tobias", "family_name": "Quennell", "email": "tobias.quennell@example.org"},
    {
        "given_name": "Noor",
        "family_name": "Haddad-Whitlock",
        "email": "noor.haddad@example.org",
        "credit_name": "N. Haddad-Whitlock",
    },
)


@dataclass(frozen=True)
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    orcid: str
    scopes: tuple[str, ...]
    issued_at: float
    expires_at: float
    auth_time: float
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    used: bool = False
    # Remembered so a replayed code can revoke what it minted (RFC 6749 §4.1.2).
    access_token: str | None = None


@dataclass(frozen=True)
class Token:
    access_token: str
    refresh_token: str
    client_id: str
    orcid: str | None  # None for client-credentials (two-legged) tokens
    scopes: tuple[str, ...]
    issued_at: float
    expires_at: float
    auth_time: float | None = None
    access_revoked: bool = False
    refresh_revoked: bool = False

    @property
    def expires_in(self) -> int:
        return round(self.expires_at - self.issued_at)

    def is_active(self, now: float) -> bool:
        return not self.access_revoked and now < self.expires_at

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "client_id": self.client_id,
            "orcid": self.orcid,
            "scope": " ".join(self.scopes),
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "access_revoked": self.access_revoked,
            "refresh_revoked": self.refresh_revoked,
        }


@dataclass(frozen=True)
class Affiliation:
    """One affiliation item on a record, as written through the member API (or seeded).

    ``fields`` is the canonical body from :func:`~orcid_emulator.affiliations.normalize_affiliation`;
    treat it as read-only.  ``source_client_id`` is ``None`` when the researcher added the item.
    """

    put_code: int
    orcid: str
    section: str
    fields: Mapping[str, Any]
    source_client_id: str | None
    created_at: float
    last_modified_at: float
    # ORCID applies the researcher's default visibility and ignores what the client asks for.
    visibility: str = "public"

    @property
    def self_external_ids(self) -> frozenset[tuple[str, str]]:
        return self_external_ids(self.fields)

    def to_dict(self) -> dict[str, Any]:
        return {
            "put_code": self.put_code,
            "orcid": self.orcid,
            "section": self.section,
            "source_client_id": self.source_client_id,
            "created_at": self.created_at,
            "last_modified_at": self.last_modified_at,
            "visibility": self.visibility,
            "fields": copy.deepcopy(dict(self.fields)),
        }


@dataclass(frozen=True)
class ApiCall:
    """A request to the v3.0 API.  ``accepted`` is False when the rate limiter turned it away."""

    timestamp: float
    client_id: str | None  # None: anonymous
    method: str
    path: str
    status: int
    accepted: bool = True
    remote_addr: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp,
            "client_id": self.client_id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "accepted": self.accepted,
            "remote_addr": self.remote_addr,
        }


@dataclass
class _Data:
    records: dict[str, Record] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)  # by access token
    refresh_index: dict[str, str] = field(default_factory=dict)  # refresh -> access token
    next_base: int = _ALLOCATION_START
    affiliations: dict[int, Affiliation] = field(default_factory=dict)  # by put-code
    next_put_code: int = _PUT_CODE_START
    calls: deque[ApiCall] = field(default_factory=lambda: deque(maxlen=CALL_LOG_LIMIT))
    fault: FaultPlan | None = None


class EmulatorState:
    """The emulator's whole world.  Safe to call from tests while the server runs."""

    def __init__(
        self,
        clients: Iterable[Client] = (),
        records: Iterable[RecordSpec] | None = None,
        clock: Clock | None = None,
        rate_limit: RateLimitConfig | None = DEFAULT_RATE_LIMIT,
    ) -> None:
        self._lock = threading.RLock()
        self._clock: Clock = clock or time.time
        self._clients: dict[str, Client] = {}
        self._data = _Data()
        self._initial_rate_limit = rate_limit
        self._limiter: RateLimiter | None = RateLimiter(rate_limit) if rate_limit is not None else None
        for client in clients:
            self.register_client(client)
        # Kept so reset() can rebuild the same records with the same iDs.
        self._initial_records: tuple[RecordSpec, ...] = tuple(DEMO_RECORDS if records is None else records)
        self._seed_records()

    def now(self) -> float:
        return self._clock()

    # -- clients -------------------------------------------------------------

    def register_client(
        self,
        client: Client | str,
        client_secret: str | None = None,
        redirect_uris: Iterable[str] = (),
        name: str = "",
    ) -> Client:
        """Add a client (or replace one with the same id)."""
        if isinstance(client, str):
            client = Client(client, client_secret or "", tuple(redirect_uris), name)
        with self._lock:
            self._clients[client.client_id] = client
        return client

    def get_client(self, client_id: str) -> Client | None:
        with self._lock:
            return self._clients.get(client_id)

    def clients(self) -> list[Client]:
        with self._lock:
            return list(self._clients.values())

    # -- records -------------------------------------------------------------

    def add_record(
        self,
        given_name: str,
        family_name: str = "",
        email: str | None = None,
        *,
        orcid: str | None = None,
        credit_name: str | None = None,
        claimed: bool = True,
    ) -> Record:
        """Create a record; an iD is allocated unless one is given.

        ``claimed=False`` makes a record an institution created but its owner never
        signed into: the API reads it but refuses writes (409/9036).
        """
        if not isinstance(given_name, str) or not given_name.strip():
            raise StateError("given_name is required")
        for label, value in (("family_name", family_name), ("email", email), ("credit_name", credit_name)):
            if value is not None and not isinstance(value, str):
                raise StateError(f"{label} must be a string")
        email = (email.strip() or None) if email else None
        with self._lock:
            if orcid is None:
                orcid = self._allocate_orcid()
            elif not is_valid_orcid_id(orcid):
                raise StateError(f"invalid ORCID iD: {orcid!r}")
            if orcid in self._data.records:
                raise Conflict(f"record {orcid} already exists")
            if email and self._find_by_email(email) is not None:
                raise Conflict(f"a record with email {email} already exists")
            record = Record(
                orcid,
                given_name.strip(),
                (family_name or "").strip(),
                email,
                credit_name or None,
                claimed=bool(claimed),
            )
            self._data.records[orcid] = record
            return record

    def set_record_status(
        self,
        orcid: str,
        *,
        claimed: bool | None = None,
        locked: bool | None = None,
        deactivated: bool | None = None,
    ) -> Record:
        """Change a record's claimed / locked / deactivated flags; ``None`` leaves one alone."""
        changes = {
            name: bool(value)
            for name, value in (("claimed", claimed), ("locked", locked), ("deactivated", deactivated))
            if value is not None
        }
        with self._lock:
            record = self._data.records.get(orcid)
            if record is None:
                raise NotFound(f"no record {orcid}")
            record = replace(record, **changes)
            self._data.records[orcid] = record
            return record

    def deactivate_record(self, orcid: str) -> Record:
        """The researcher deactivated their record: the API answers 409/9044."""
        return self.set_record_status(orcid, deactivated=True)

    def reactivate_record(self, orcid: str) -> Record:
        return self.set_record_status(orcid, deactivated=False)

    def lock_record(self, orcid: str) -> Record:
        """ORCID locked the record (e.g. for spam): the API answers 409/9018."""
        return self.set_record_status(orcid, locked=True)

    def unlock_record(self, orcid: str) -> Record:
        return self.set_record_status(orcid, locked=False)

    def claim_record(self, orcid: str) -> Record:
        return self.set_record_status(orcid, claimed=True)

    def delete_record(self, orcid: str) -> None:
        """Remove a record and everything on it; the API then answers 404/9016 for it.

        Its tokens are kept (ORCID does not tell clients), so a client holding one
        sees the 404 rather than a 401.
        """
        with self._lock:
            if self._data.records.pop(orcid, None) is None:
                raise NotFound(f"no record {orcid}")
            for put_code in [p for p, a in self._data.affiliations.items() if a.orcid == orcid]:
                del self._data.affiliations[put_code]
            for code in list(self._data.codes.values()):
                if code.orcid == orcid and not code.used:
                    self._data.codes[code.code] = replace(code, used=True)

    def get_record(self, orcid: str) -> Record | None:
        with self._lock:
            return self._data.records.get(orcid)

    def find_record_by_email(self, email: str) -> Record | None:
        with self._lock:
            return self._find_by_email(email)

    def records(self) -> list[Record]:
        with self._lock:
            return list(self._data.records.values())

    # -- authorization codes -------------------------------------------------

    def issue_code(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        orcid: str,
        scopes: Sequence[str],
        nonce: str | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
    ) -> AuthCode:
        with self._lock:
            if orcid not in self._data.records:
                raise NotFound(f"no record {orcid}")
            now = self.now()
            code = AuthCode(
                code=self._unique(lambda: "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6)), self._data.codes),
                client_id=client_id,
                redirect_uri=redirect_uri,
                orcid=orcid,
                scopes=tuple(scopes),
                issued_at=now,
                expires_at=now + AUTH_CODE_LIFETIME,
                auth_time=now,
                nonce=nonce,
                code_challenge=code_challenge,
                code_challenge_method=code_challenge_method,
            )
            self._data.codes[code.code] = code
            return code

    def exchange_code(
        self,
        code: str,
        *,
        client_id: str,
        redirect_uri: str | None,
        code_verifier: str | None = None,
    ) -> tuple[AuthCode, Token]:
        """Redeem a code for a token, enforcing single use, expiry and bindings.

        Raises :class:`~orcid_emulator.errors.OAuthError` (``invalid_grant``).
        A mismatched client or redirect_uri does not consume the code; a
        replayed code revokes the token it produced the first time.
        """
        with self._lock:
            auth = self._data.codes.get(code)
            if auth is None:
                raise invalid_grant(f"Invalid authorization code: {code}")
            if auth.used:
                if auth.access_token is not None:
                    self._revoke(auth.access_token, refresh=True)
                raise invalid_grant(f"Reused authorization code: {code}")
            if auth.client_id != client_id:
                raise invalid_grant("Authorization code was issued to another client")
            if redirect_uri != auth.redirect_uri:
                raise invalid_grant("Redirect URI mismatch.")
            if self.now() >= auth.expires_at:
                raise invalid_grant(f"Authorization code expired: {code}")
            _check_pkce(auth, code_verifier)
            if auth.orcid not in self._data.records:
                raise invalid_grant("The record behind this code no longer exists")
            token = self._new_token(client_id, auth.orcid, auth.scopes, auth.auth_time)
            auth = replace(auth, used=True, access_token=token.access_token)
            self._data.codes[code] = auth
            return auth, token

    # -- tokens --------------------------------------------------------------

    def issue_token(
        self,
        client_id: str,
        orcid: str | None,
        scopes: Sequence[str],
        auth_time: float | None = None,
    ) -> Token:
        with self._lock:
            if orcid is not None and orcid not in self._data.records:
                raise NotFound(f"no record {orcid}")
            return self._new_token(client_id, orcid, tuple(scopes), auth_time)

    def refresh(
        self,
        refresh_token: str,
        *,
        client_id: str,
        scopes: Sequence[str] | None = None,
        revoke_old: bool = False,
    ) -> Token:
        """Mint a new token pair from a refresh token, optionally narrowing scope.

        ``revoke_old`` revokes the previous access token (ORCID's semantics);
        the previous refresh token stays usable.
        """
        with self._lock:
            access = self._data.refresh_index.get(refresh_token)
            old = self._data.tokens.get(access) if access else None
            if old is None or old.refresh_revoked:
                raise invalid_grant(f"Invalid refresh token: {refresh_token}")
            if old.client_id != client_id:
                raise invalid_grant("Refresh token was issued to another client")
            if scopes:
                extra = [scope for scope in scopes if scope not in old.scopes]
                if extra:
                    raise invalid_scope(f"Scope not granted to the original token: {' '.join(extra)}")
                new_scopes = tuple(scopes)
            else:
                new_scopes = old.scopes
            token = self._new_token(client_id, old.orcid, new_scopes, old.auth_time)
            if revoke_old:
                self._data.tokens[old.access_token] = replace(old, access_revoked=True)
            return token

    def get_token(self, access_token: str) -> Token | None:
        with self._lock:
            return self._data.tokens.get(access_token)

    def active_token(self, access_token: str) -> Token | None:
        """The token if it exists, is unrevoked and unexpired."""
        with self._lock:
            token = self._data.tokens.get(access_token)
            return token if token is not None and token.is_active(self.now()) else None

    def tokens(self, orcid: str | None = None) -> list[Token]:
        with self._lock:
            return [t for t in self._data.tokens.values() if orcid is None or t.orcid == orcid]

    def revoke_token(self, token: str, client_id: str | None = None) -> bool:
        """Revoke an access or refresh token (RFC 7009).

        Revoking a refresh token also revokes its access token.  Tokens owned
        by a different client are left alone.  Returns whether anything matched.
        """
        with self._lock:
            if token in self._data.tokens:
                access, refresh = token, False
            elif token in self._data.refresh_index:
                access, refresh = self._data.refresh_index[token], True
            else:
                return False
            if client_id is not None and self._data.tokens[access].client_id != client_id:
                return False
            self._revoke(access, refresh=refresh)
            return True

    def revoke_grants(self, orcid: str) -> int:
        """Revoke every token and pending code for a record, as when a user
        removes an application from ORCID's trusted parties.  Returns the
        number of tokens that were still usable."""
        with self._lock:
            if orcid not in self._data.records:
                raise NotFound(f"no record {orcid}")
            count = 0
            for token in list(self._data.tokens.values()):
                if token.orcid != orcid:
                    continue
                if not (token.access_revoked and token.refresh_revoked):
                    count += 1
                self._revoke(token.access_token, refresh=True)
            for code in list(self._data.codes.values()):
                if code.orcid == orcid and not code.used:
                    self._data.codes[code.code] = replace(code, used=True)
            return count

    # -- affiliations ----------------------------------------------------------

    def add_affiliation(
        self, orcid: str, section: str, body: Mapping[str, Any], *, client_id: str | None = None
    ) -> Affiliation:
        """Validate and store a new affiliation; ``client_id=None`` means the researcher added it.

        Raises ``NotFound`` (record), ``InvalidAffiliation`` (body), ``StateError``
        (unknown section or client) or ``DuplicateActivity`` (a shared ``self``
        external identifier with another item of this source in this section).
        """
        _check_section(section)
        fields = normalize_affiliation(body)
        with self._lock:
            if orcid not in self._data.records:
                raise NotFound(f"no record {orcid}")
            if client_id is not None and client_id not in self._clients:
                raise StateError(f"unknown client {client_id}")
            self._check_duplicates(orcid, section, fields, client_id, exclude=None)
            now = self.now()
            affiliation = Affiliation(
                put_code=self._data.next_put_code,
                orcid=orcid,
                section=section,
                fields=fields,
                source_client_id=client_id,
                created_at=now,
                last_modified_at=now,
            )
            self._data.next_put_code += 1
            self._data.affiliations[affiliation.put_code] = affiliation
            return affiliation

    def get_affiliation(self, orcid: str, put_code: int, section: str | None = None) -> Affiliation | None:
        """The item if it is on this record (and in this section, when given)."""
        with self._lock:
            affiliation = self._data.affiliations.get(put_code)
        if affiliation is None or affiliation.orcid != orcid:
            return None
        if section is not None and affiliation.section != section:
            return None
        return affiliation

    def update_affiliation(
        self, orcid: str, section: str, put_code: int, body: Mapping[str, Any], *, client_id: str | None
    ) -> Affiliation:
        """Replace an item's fields; only its source may.  Raises ``NotFound`` / ``NotSource`` /
        ``InvalidAffiliation`` / ``DuplicateActivity``."""
        with self._lock:
            current = self._owned_affiliation(orcid, section, put_code, client_id)
            fields = normalize_affiliation(body)
            self._check_duplicates(orcid, section, fields, client_id, exclude=put_code)
            updated = replace(current, fields=fields, last_modified_at=self.now())
            self._data.affiliations[put_code] = updated
            return updated

    def delete_affiliation(self, orcid: str, section: str, put_code: int, *, client_id: str | None) -> Affiliation:
        """Remove an item; only its source may.  Returns what was removed."""
        with self._lock:
            current = self._owned_affiliation(orcid, section, put_code, client_id)
            del self._data.affiliations[put_code]
            return current

    def affiliations(self, orcid: str | None = None, section: str | None = None) -> list[Affiliation]:
        """Items in put-code order, optionally for one record and/or one section."""
        with self._lock:
            items = list(self._data.affiliations.values())
        return sorted(
            (a for a in items if (orcid is None or a.orcid == orcid) and (section is None or a.section == section)),
            key=lambda a: a.put_code,
        )

    # -- rate limiting, faults and the call log --------------------------------

    @property
    def rate_limit(self) -> RateLimitConfig | None:
        with self._lock:
            return self._limiter.config if self._limiter is not None else None

    def set_rate_limit(self, config: RateLimitConfig | None) -> None:
        """Replace the limits (``None`` switches limiting off); buckets start full again."""
        with self._lock:
            self._limiter = RateLimiter(config) if config is not None else None

    def admit_request(self, client_id: str | None, remote_addr: str = "") -> int | None:
        """Spend a rate-limit token: ``None`` to proceed, else the ``Retry-After`` seconds."""
        with self._lock:
            if self._limiter is None:
                return None
            return self._limiter.admit(client_id, remote_addr, self.now())

    def fail_next(
        self,
        count: int,
        status: int = 503,
        *,
        retry_after: int | None = None,
        methods: Sequence[str] = (),
    ) -> FaultPlan:
        """Answer the next ``count`` v3.0 calls (of ``methods``, if given) with ``status``;
        0 drops the connection.  Replaces any plan still pending."""
        plan = FaultPlan(count, status, retry_after, tuple(methods))
        with self._lock:
            self._data.fault = plan if plan.remaining else None
        return plan

    def faults(self) -> FaultPlan | None:
        with self._lock:
            return self._data.fault

    def clear_faults(self) -> None:
        with self._lock:
            self._data.fault = None

    def take_fault(self, method: str) -> FaultPlan | None:
        """The pending fault for this call, if any, counting it as spent."""
        with self._lock:
            plan = self._data.fault
            if plan is None or not plan.applies_to(method):
                return None
            remaining = plan.spent_one()
            self._data.fault = remaining if remaining.remaining else None
            return plan

    def record_call(
        self,
        *,
        client_id: str | None,
        method: str,
        path: str,
        status: int,
        timestamp: float | None = None,
        accepted: bool = True,
        remote_addr: str = "",
    ) -> ApiCall:
        call = ApiCall(
            timestamp=self.now() if timestamp is None else timestamp,
            client_id=client_id,
            method=method,
            path=path,
            status=status,
            accepted=accepted,
            remote_addr=remote_addr,
        )
        with self._lock:
            self._data.calls.append(call)
        return call

    def calls(self, client_id: str | None = None, *, include_rejected: bool = False) -> list[ApiCall]:
        """v3.0 calls in arrival order: by default those the rate limiter let through."""
        with self._lock:
            calls = list(self._data.calls)
        return [
            c for c in calls if (include_rejected or c.accepted) and (client_id is None or c.client_id == client_id)
        ]

    def clear_calls(self) -> None:
        with self._lock:
            self._data.calls.clear()

    def max_calls_in_window(self, window: float = 1.0, client_id: str | None = None) -> int:
        """The most accepted calls that fell in any ``window`` seconds (half-open), to check
        that a writer stayed under a rate."""
        if window <= 0:
            raise ValueError("window must be positive")
        stamps = sorted(call.timestamp for call in self.calls(client_id))
        best = start = 0
        for end, stamp in enumerate(stamps):
            while stamp - stamps[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    # -- housekeeping --------------------------------------------------------

    def reset(self) -> None:
        """Forget codes, tokens, added records, affiliations, calls and faults; restore the
        initial records and rate limits.

        Clients are configuration rather than data, so they all stay registered.
        """
        with self._lock:
            self._data = _Data()
            self._seed_records()
            self.set_rate_limit(self._initial_rate_limit)

    # -- internals -----------------------------------------------------------

    def _seed_records(self) -> None:
        for spec in self._initial_records:
            if isinstance(spec, Record):
                added = self.add_record(
                    spec.given_name,
                    spec.family_name,
                    spec.email,
                    orcid=spec.orcid,
                    credit_name=spec.credit_name,
                    claimed=spec.claimed,
                )
                self.set_record_status(added.orcid, locked=spec.locked, deactivated=spec.deactivated)
            else:
                self.add_record(
                    spec["given_name"],
                    spec.get("family_name", ""),
                    spec.get("email"),
                    orcid=spec.get("orcid"),
                    credit_name=spec.get("credit_name"),
                    claimed=spec.get("claimed", True),
                )

    def _owned_affiliation(self, orcid: str, section: str, put_code: int, client_id: str | None) -> Affiliation:
        current = self.get_affiliation(orcid, put_code, section)
        if current is None:
            raise NotFound(f"no {section} {put_code} on record {orcid}")
        if current.source_client_id is None or current.source_client_id != client_id:
            raise NotSource(f"{client_id} is not the source of {section} {put_code}")
        return current

    def _check_duplicates(
        self,
        orcid: str,
        section: str,
        fields: Mapping[str, Any],
        client_id: str | None,
        exclude: int | None,
    ) -> None:
        incoming = self_external_ids(fields)
        if not incoming:
            return
        for other in self._data.affiliations.values():
            if (
                other.orcid == orcid
                and other.section == section
                and other.put_code != exclude
                and other.source_client_id == client_id
            ):
                shared = incoming & other.self_external_ids
                if shared:
                    id_type, value = sorted(shared)[0]
                    raise DuplicateActivity(f"{id_type} {value} is already on {section} {other.put_code}")

    def _allocate_orcid(self) -> str:
        while True:
            orcid = make_orcid_id(self._data.next_base)
            self._data.next_base += 1
            if orcid not in self._data.records:
                return orcid

    def _find_by_email(self, email: str) -> Record | None:
        wanted = email.strip().casefold()
        for record in self._data.records.values():
            if record.email and record.email.casefold() == wanted:
                return record
        return None

    def _new_token(self, client_id: str, orcid: str | None, scopes: tuple[str, ...], auth_time: float | None) -> Token:
        now = self.now()
        token = Token(
            # ORCID tokens are UUIDs; mimicking the shape catches apps that
            # validate or truncate token strings.
            access_token=self._unique(lambda: str(uuid.uuid4()), self._data.tokens),
            refresh_token=self._unique(lambda: str(uuid.uuid4()), self._data.refresh_index),
            client_id=client_id,
            orcid=orcid,
            scopes=scopes,
            issued_at=now,
            expires_at=now + ACCESS_TOKEN_LIFETIME,
            auth_time=auth_time,
        )
        self._data.tokens[token.access_token] = token
        self._data.refresh_index[token.refresh_token] = token.access_token
        return token

    def _revoke(self, access_token: str, *, refresh: bool) -> None:
        token = self._data.tokens[access_token]
        self._data.tokens[access_token] = replace(
            token, access_revoked=True, refresh_revoked=token.refresh_revoked or refresh
        )

    @staticmethod
    def _unique(generate: Callable[[], str], taken: Mapping[str, object]) -> str:
        while True:
            value = generate()
            if value not in taken:
                return value


def _check_section(section: str) -> None:
    if section not in SECTIONS:
        raise StateError(f"unknown affiliation section {section!r}; one of {', '.join(SECTIONS)}")


def _check_pkce(auth: AuthCode, verifier: str | None) -> None:
    if auth.code_challenge is None:
        if verifier is not None:
            raise invalid_grant("code_verifier sent but no code_challenge was used")
        return
    if not verifier:
        raise invalid_grant("code_verifier required")
    if auth.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        computed = verifier
    if not hmac.compare_digest(computed.encode(), auth.code_challenge.encode()):
        raise invalid_grant("code_verifier does not match code_challenge")
