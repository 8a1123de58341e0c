"""The ORCID client against a scripted `requests` session: error kinds, Retry-After, rate limiting, the
call log (never a token), and which credentials an organisation writes with."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.test import override_settings

from consortium_hub.core.testing.factories import ConsortiumFactory, OrganisationFactory
from consortium_hub.registry import client as client_module
from consortium_hub.registry.client import (
    ErrorKind,
    OrcidApiError,
    OrcidClient,
    RateLimiter,
    client_for_organisation,
    parse_retry_after,
)
from consortium_hub.registry.models import OrcidApiCall, RegistryClient

pytestmark = pytest.mark.django_db

TOKEN = "5f1e8c2a-1d3b-4c9e-9a7f-2b6d0e4c8a11"
SECRET = "client-secret-never-logged"
ORCID = "0000-0002-1825-0097"


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def answer(status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = b"" if body is None else json.dumps(body).encode()
    response.headers.update(headers or {})
    response.reason = "Scripted"
    return response


def orcid_error(status: int, code: int, message: str = "ORCID says no") -> requests.Response:
    return answer(status, {"response-code": status, "developer-message": message,
                           "user-message": "Something went wrong", "error-code": code,
                           "more-info": "https://members.orcid.org/api/resources/troubleshooting"})


class FakeSession:
    """Stands in for requests.Session: hands out scripted answers (or raises) and remembers each request."""

    def __init__(self, *script: requests.Response | Exception) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.requests.append({"method": method, "url": url, **kwargs})
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


@pytest.fixture(autouse=True)
def no_cached_public_tokens() -> Iterator[None]:
    client_module._public_tokens.clear()
    yield
    client_module._public_tokens.clear()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(session: FakeSession, clock: FakeClock, *, rate: float = 24) -> OrcidClient:
    return OrcidClient(client_id="APP-HUB", client_secret=SECRET, base_url="https://orcid.test/",
                       api_base_url="https://api.orcid.test", public_api_base_url="https://pub.orcid.test",
                       rate_per_second=rate, timeout=5, session=session,  # type: ignore[arg-type]
                       limiter=RateLimiter(rate, clock=clock, sleeper=clock.sleep))


BODY = {"organization": {"name": "University of Testing"}}


# --- Successful calls ----------------------------------------------------------------------------------

def test_add_update_delete_and_list_call_the_member_api(clock):
    listed = {"affiliation-group": [{"summaries": [{"employment-summary": {
        "put-code": 4021, "source": {"source-client-id": {"path": "APP-HUB"}},
        "organization": {"name": "University of Testing"}, "start-date": {"year": {"value": "2020"}}}}]}]}
    session = FakeSession(answer(201, headers={"Location": f"https://api.orcid.test/v3.0/{ORCID}/employment/4021"}),
                          answer(200, BODY), answer(204), answer(200, listed))
    orcid = make_client(session, clock)

    assert orcid.add_affiliation(ORCID, TOKEN, "employment", BODY) == "4021"
    orcid.update_affiliation(ORCID, TOKEN, "employment", "4021", {**BODY, "put-code": 4021})
    orcid.delete_affiliation(ORCID, TOKEN, "employment", "4021")
    (summary,) = orcid.list_affiliations(ORCID, TOKEN, "employment")

    assert (summary.put_code, summary.source_client_id, summary.start_date) == ("4021", "APP-HUB", "2020")
    assert [(r["method"], r["url"]) for r in session.requests] == [
        ("POST", f"https://api.orcid.test/v3.0/{ORCID}/employment"),
        ("PUT", f"https://api.orcid.test/v3.0/{ORCID}/employment/4021"),
        ("DELETE", f"https://api.orcid.test/v3.0/{ORCID}/employment/4021"),
        ("GET", f"https://api.orcid.test/v3.0/{ORCID}/employments"),
    ]
    first = session.requests[0]
    assert first["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert first["headers"]["Accept"] == first["headers"]["Content-Type"] == "application/vnd.orcid+json"
    assert first["json"] == BODY and first["timeout"] == 5


def test_a_post_without_a_put_code_in_location_is_an_error(clock):
    orcid = make_client(FakeSession(answer(201)), clock)
    with pytest.raises(OrcidApiError) as caught:
        orcid.add_affiliation(ORCID, TOKEN, "employment", BODY)
    assert caught.value.kind is ErrorKind.INVALID and not caught.value.retryable


def test_exchange_code_returns_the_grant(clock):
    session = FakeSession(answer(200, {"access_token": TOKEN, "token_type": "bearer", "refresh_token": "r-1",
                                       "expires_in": 631138518, "scope": "/read-limited /activities/update",
                                       "name": "Ada Lovelace", "orcid": ORCID}))
    grant = make_client(session, clock).exchange_code("Ab12Cd", "https://hub.test/orcid/permission/callback/")
    assert (grant.access_token, grant.refresh_token, grant.orcid, grant.name) == (TOKEN, "r-1", ORCID, "Ada Lovelace")
    assert grant.scope == "/read-limited /activities/update" and grant.expires_in == 631138518
    sent = session.requests[0]
    assert sent["url"] == "https://orcid.test/oauth/token"
    assert sent["data"] == {"client_id": "APP-HUB", "client_secret": SECRET, "grant_type": "authorization_code",
                            "code": "Ab12Cd", "redirect_uri": "https://hub.test/orcid/permission/callback/"}


def test_revoke_token_posts_to_the_revocation_endpoint(clock):
    session = FakeSession(answer(200))
    make_client(session, clock).revoke_token(TOKEN)
    assert session.requests[0]["url"] == "https://orcid.test/oauth/revoke"
    assert session.requests[0]["data"]["token"] == TOKEN


def test_search_count_reads_num_found_with_one_cached_public_token(clock):
    session = FakeSession(answer(200, {"access_token": "public-1", "scope": "/read-public"}),
                          answer(200, {"expanded-result": None, "num-found": 1234}),
                          answer(200, {"expanded-result": None, "num-found": 7}))
    orcid = make_client(session, clock)
    assert orcid.search_count('ror-org-id:"https://ror.org/024mrxd33"') == 1234
    assert orcid.search_count('ringgold-org-id:"385488"') == 7
    token_request, first_search, _second = session.requests
    assert token_request["data"]["grant_type"] == "client_credentials"
    assert token_request["data"]["scope"] == "/read-public"
    assert first_search["url"].startswith("https://pub.orcid.test/v3.0/expanded-search/?q=ror-org-id")
    assert "rows=0" in first_search["url"]
    assert first_search["headers"]["Authorization"] == "Bearer public-1"


def test_a_revoked_public_token_is_replaced_once(clock):
    session = FakeSession(answer(200, {"access_token": "public-1"}),
                          answer(401, {"error": "invalid_token", "error_description": "Invalid access token"}),
                          answer(200, {"access_token": "public-2"}),
                          answer(200, {"num-found": 3}))
    assert make_client(session, clock).search_count("ror-org-id:x") == 3
    assert session.requests[3]["headers"]["Authorization"] == "Bearer public-2"


# --- Errors --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("response", "kind", "retryable"), [
    (orcid_error(404, 9016), ErrorKind.RECORD_NOT_FOUND, False),
    (orcid_error(409, 9044), ErrorKind.RECORD_DEACTIVATED, False),
    (orcid_error(409, 9018), ErrorKind.RECORD_LOCKED, False),
    (orcid_error(409, 9036), ErrorKind.RECORD_UNCLAIMED, False),
    (orcid_error(403, 9038), ErrorKind.INSUFFICIENT_SCOPE, False),
    (orcid_error(403, 9017), ErrorKind.WRONG_RECORD, False),
    (orcid_error(406, 9001), ErrorKind.NOT_ACCEPTABLE, False),
    (orcid_error(400, 9006), ErrorKind.INVALID, False),
    (answer(401, {"error": "invalid_token", "error_description": f"Invalid access token: {TOKEN}"}),
     ErrorKind.INVALID_TOKEN, False),
    (answer(429, {"error": "too many"}, {"Retry-After": "3"}), ErrorKind.RATE_LIMITED, True),
    (answer(503, None, {"Retry-After": "2"}), ErrorKind.RATE_LIMITED, True),
    (answer(503), ErrorKind.UNAVAILABLE, True),
    (answer(500, {"response-code": 500, "developer-message": "boom"}), ErrorKind.UNAVAILABLE, True),
    (answer(502), ErrorKind.UNAVAILABLE, True),
])
def test_every_error_has_its_kind(clock, response, kind, retryable):
    orcid = make_client(FakeSession(response), clock)
    with pytest.raises(OrcidApiError) as caught:
        orcid.update_affiliation(ORCID, TOKEN, "employment", "1", BODY)
    error = caught.value
    assert (error.kind, error.retryable, error.status) == (kind, retryable, response.status_code)
    assert TOKEN not in error.developer_message and TOKEN not in str(error)


def test_orcid_error_bodies_are_read_in_full(clock):
    orcid = make_client(FakeSession(orcid_error(409, 9044, "The ORCID record is deactivated")), clock)
    with pytest.raises(OrcidApiError) as caught:
        orcid.add_affiliation(ORCID, TOKEN, "employment", BODY)
    error = caught.value
    assert (error.status, error.error_code, error.developer_message, error.user_message) == (
        409, "9044", "The ORCID record is deactivated", "Something went wrong")


def test_a_bad_client_secret_is_not_mistaken_for_a_revoked_grant(clock):
    orcid = make_client(FakeSession(answer(401, {"error": "invalid_client", "error_description": "Bad client"})),
                        clock)
    with pytest.raises(OrcidApiError) as caught:
        orcid.exchange_code("code", "https://hub.test/cb")
    assert caught.value.kind is ErrorKind.INVALID and caught.value.error_code == "invalid_client"


@pytest.mark.parametrize("failure", [requests.ConnectionError("refused"), requests.ReadTimeout("slow")])
def test_no_answer_is_unavailable(clock, failure):
    orcid = make_client(FakeSession(failure), clock)
    with pytest.raises(OrcidApiError) as caught:
        orcid.delete_affiliation(ORCID, TOKEN, "employment", "1")
    assert (caught.value.kind, caught.value.status, caught.value.retryable) == (ErrorKind.UNAVAILABLE, None, True)
    call = OrcidApiCall.objects.get()
    assert (call.method, call.status_code) == ("DELETE", None)


# --- Rate limiting and Retry-After ---------------------------------------------------------------------

def test_requests_are_spaced_at_least_one_over_the_rate_apart(clock):
    session = FakeSession(*[answer(204) for _ in range(30)])
    orcid = make_client(session, clock, rate=24)
    sent_at = []
    for _ in range(30):
        orcid.delete_affiliation(ORCID, TOKEN, "employment", "1")
        sent_at.append(clock.now)
    gaps = [b - a for a, b in zip(sent_at, sent_at[1:])]
    assert min(gaps) >= 1 / 24
    # Never more than the rate in any one-second window of the clock.
    assert max(sum(1 for t in sent_at if start <= t < start + 1) for start in sent_at) <= 24


def test_time_already_spent_elsewhere_is_not_slept_again(clock):
    limiter = RateLimiter(10, clock=clock, sleeper=clock.sleep)
    limiter.acquire()
    clock.now += 0.5  # the caller was busy for longer than the interval
    assert limiter.acquire() == 0
    assert clock.sleeps == []


def test_retry_after_holds_back_the_next_request(clock):
    session = FakeSession(answer(429, {"error": "slow down"}, {"Retry-After": "7"}), answer(204))
    orcid = make_client(session, clock)
    with pytest.raises(OrcidApiError) as caught:
        orcid.delete_affiliation(ORCID, TOKEN, "employment", "1")
    assert caught.value.retry_after == 7
    assert orcid.limiter.seconds_until_free() == pytest.approx(7)
    before = clock.now
    orcid.delete_affiliation(ORCID, TOKEN, "employment", "1")
    assert clock.now - before == pytest.approx(7)


def test_retry_after_as_an_http_date():
    import datetime as dt

    now = dt.datetime(2026, 3, 2, 10, 0, 0, tzinfo=dt.timezone.utc)
    assert parse_retry_after("Mon, 02 Mar 2026 10:00:30 GMT", now=now) == 30
    assert parse_retry_after("Mon, 02 Mar 2026 09:00:00 GMT", now=now) == 0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_clients_with_the_same_id_share_one_limiter():
    assert client_module.limiter_for("APP-SHARED", 24) is client_module.limiter_for("APP-SHARED", 24)
    assert client_module.limiter_for("APP-SHARED", 12).interval >= 1 / 12  # a changed rate applies at once


# --- The call log --------------------------------------------------------------------------------------

def test_the_call_log_never_holds_a_token_or_secret(clock):
    organisation = OrganisationFactory()
    session = FakeSession(
        answer(200, {"access_token": TOKEN, "refresh_token": "refresh-" + TOKEN, "orcid": ORCID, "name": "A"}),
        answer(201, headers={"Location": f"https://api.orcid.test/v3.0/{ORCID}/employment/9"}),
        answer(401, {"error": "invalid_token", "error_description": f"Invalid access token: {TOKEN}"}),
        answer(200, {"access_token": "public-" + TOKEN}),
        answer(200, {"num-found": 1}),
    )
    orcid = make_client(session, clock).bound_to(consortium_id=organisation.consortium_id,
                                                 organisation_id=organisation.pk)
    orcid.exchange_code("code", "https://hub.test/cb")
    orcid.add_affiliation(ORCID, TOKEN, "employment", BODY)
    with pytest.raises(OrcidApiError):
        orcid.update_affiliation(ORCID, TOKEN, "employment", "9", BODY)
    orcid.search_count("ror-org-id:x")

    calls = list(OrcidApiCall.objects.order_by("pk").values())
    assert [(c["method"], c["path"], c["status_code"], c["error_code"]) for c in calls] == [
        ("POST", "/oauth/token", 200, ""),
        ("POST", f"/v3.0/{ORCID}/employment", 201, ""),
        ("PUT", f"/v3.0/{ORCID}/employment/9", 401, "invalid_token"),
        ("POST", "/oauth/token", 200, ""),
        ("GET", "/v3.0/expanded-search/", 200, ""),
    ]
    assert {(c["consortium_id"], c["organisation_id"]) for c in calls} == {
        (organisation.consortium_id, organisation.pk)}
    everything = json.dumps(calls, default=str)
    for secret in (TOKEN, SECRET):
        assert secret not in everything


def test_a_buffered_log_is_written_in_bulk_when_the_block_ends(clock):
    orcid = make_client(FakeSession(*[answer(204) for _ in range(5)]), clock)
    with orcid.buffered_log():
        for _ in range(5):
            orcid.delete_affiliation(ORCID, TOKEN, "employment", "1")
        assert OrcidApiCall.objects.count() == 0
    assert OrcidApiCall.objects.count() == 5


# --- Which credentials ---------------------------------------------------------------------------------

@override_settings(ORCID_MEMBER_CLIENT_ID="APP-SETTINGS", ORCID_MEMBER_CLIENT_SECRET="settings-secret",
                   ORCID_RATE_PER_SECOND=24, ORCID_API_BASE_URL="https://api.sandbox.orcid.org",
                   ORCID_BASE_URL="https://sandbox.orcid.org",
                   ORCID_PUBLIC_API_BASE_URL="https://pub.sandbox.orcid.org",
                   ORCID_TIMEOUT_SECONDS=9)
def test_an_organisation_writes_with_its_consortiums_client_else_the_hubs():
    own = ConsortiumFactory()
    RegistryClient.objects.create(consortium=own, client_id="APP-CONSORTIUM", client_secret="their-secret",
                                  rate_per_second=8)
    member = OrganisationFactory(consortium=own)
    other = OrganisationFactory()

    theirs = client_for_organisation(member)
    assert (theirs.client_id, theirs._client_secret, theirs.rate_per_second) == ("APP-CONSORTIUM", "their-secret", 8)
    assert (theirs.consortium_id, theirs.organisation_id) == (own.pk, member.pk)
    hubs = client_for_organisation(other)
    assert (hubs.client_id, hubs._client_secret, hubs.rate_per_second, hubs.timeout) == (
        "APP-SETTINGS", "settings-secret", 24, 9)
    assert (hubs.base_url, hubs.api_base_url, hubs.public_api_base_url) == (
        "https://sandbox.orcid.org", "https://api.sandbox.orcid.org", "https://pub.sandbox.orcid.org")
