"""Rate limiting (token buckets on an injected clock) and the log of API calls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from orcid_emulator import DEFAULT_RATE_LIMIT, Client, EmulatorServer, EmulatorState, RateLimitConfig, SigningKey
from orcid_emulator.__main__ import build_parser, rate_limit_from
from orcid_emulator.ratelimit import TokenBucket, retry_after_seconds

from .support import CLIENT_ID, CLIENT_SECRET, OTHER_CLIENT_ID, OTHER_CLIENT_SECRET, Api, FakeClock, assert_orcid_error


def _server(signing_key: SigningKey, clock: FakeClock, rate_limit: RateLimitConfig | None) -> EmulatorServer:
    clients = [Client(CLIENT_ID, CLIENT_SECRET), Client(OTHER_CLIENT_ID, OTHER_CLIENT_SECRET)]
    return EmulatorServer(clients=clients, signing_key=signing_key, clock=clock, rate_limit=rate_limit)


@pytest.fixture
def limited(signing_key: SigningKey, clock: FakeClock) -> Iterator[Api]:
    """Default limits: 24/s burst 40 per member client, 12/s burst 40 anonymous, 503."""
    with _server(signing_key, clock, DEFAULT_RATE_LIMIT) as server, requests.Session() as session:
        yield Api(server, session)


def _read(api: Api, token: str | None) -> requests.Response:
    return api.request("GET", f"/v3.0/{api.first_orcid}/employments", token)


def test_member_burst_then_503_with_retry_after(limited: Api, clock: FakeClock) -> None:
    token = limited.token(scopes=("/read-limited",))
    statuses = [_read(limited, token).status_code for _ in range(40)]
    assert statuses == [200] * 40
    refused = _read(limited, token)
    assert_orcid_error(refused, 503, 9000)
    assert refused.headers["Retry-After"] == "1"

    # A second later 24 tokens have come back, and no more.
    clock.advance(1.0)
    assert [_read(limited, token).status_code for _ in range(25)] == [200] * 24 + [503]

    # Half a token short still means "retry in 1 second", never 0.
    clock.advance(1 / 48)
    assert _read(limited, token).headers["Retry-After"] == "1"


def test_refused_calls_do_not_drain_the_bucket(limited: Api, clock: FakeClock) -> None:
    token = limited.token(scopes=("/read-limited",))
    for _ in range(40):
        _read(limited, token)
    for _ in range(10):
        assert _read(limited, token).status_code == 503
    clock.advance(0.5)  # 12 tokens back
    assert [_read(limited, token).status_code for _ in range(13)] == [200] * 12 + [503]


def test_buckets_are_per_client(limited: Api) -> None:
    mine = limited.token(scopes=("/read-limited",))
    theirs = limited.token(scopes=("/read-limited",), client_id=OTHER_CLIENT_ID)
    for _ in range(40):
        _read(limited, mine)
    assert _read(limited, mine).status_code == 503
    assert _read(limited, theirs).status_code == 200
    # Another token of the same client shares the client's bucket.
    assert _read(limited, limited.token(limited.state.records()[1].orcid)).status_code == 503


def test_anonymous_limit(limited: Api, clock: FakeClock) -> None:
    search = {"q": "ror-org-id:052gg0110"}
    statuses = [limited.request("GET", "/v3.0/expanded-search/", params=search).status_code for _ in range(41)]
    assert statuses == [200] * 40 + [503]
    clock.advance(1.0)
    statuses = [limited.request("GET", "/v3.0/expanded-search/", params=search).status_code for _ in range(13)]
    assert statuses == [200] * 12 + [503]
    # Member traffic has its own bucket.
    assert _read(limited, limited.token()).status_code == 200


def test_429_and_long_retry_after(signing_key: SigningKey, clock: FakeClock) -> None:
    config = RateLimitConfig(member_rate=0.25, member_burst=2, status=429)
    with _server(signing_key, clock, config) as server, requests.Session() as session:
        api = Api(server, session)
        token = api.token()
        assert [_read(api, token).status_code for _ in range(2)] == [200, 200]
        refused = _read(api, token)
        assert_orcid_error(refused, 429, 9000)
        assert refused.headers["Retry-After"] == "4"
        clock.advance(3)
        assert _read(api, token).headers["Retry-After"] == "1"
        clock.advance(1)
        assert _read(api, token).status_code == 200


def test_rate_limiting_off(signing_key: SigningKey, clock: FakeClock) -> None:
    with _server(signing_key, clock, None) as server, requests.Session() as session:
        api = Api(server, session)
        token = api.token()
        assert {_read(api, token).status_code for _ in range(60)} == {200}
        assert server.state.rate_limit is None


def test_only_the_api_is_limited(limited: Api) -> None:
    for _ in range(45):
        assert limited.session.get(limited.server.discovery_url).status_code == 200


def test_rate_limit_over_http(limited: Api) -> None:
    url = limited.server.url("/_emulator/rate-limit")
    assert limited.session.get(url).json() == {"rate_limit": DEFAULT_RATE_LIMIT.to_dict()}
    changed = limited.session.post(url, json={"member_burst": 2, "status": 429}).json()["rate_limit"]
    assert changed == {**DEFAULT_RATE_LIMIT.to_dict(), "member_burst": 2, "status": 429}
    token = limited.token()
    assert [_read(limited, token).status_code for _ in range(3)] == [200, 200, 429]
    assert limited.session.post(url, json={"enabled": False}).json() == {"rate_limit": None}
    assert {_read(limited, token).status_code for _ in range(50)} == {200}
    assert limited.session.post(url, json={"member_rate": 0}).status_code == 400
    assert limited.session.post(url, json={"status": 500}).status_code == 400
    assert limited.session.post(url, json={"burst": 3}).status_code == 400
    # Reset brings back what the server was started with.
    limited.session.post(limited.server.url("/_emulator/reset"))
    assert limited.state.rate_limit == DEFAULT_RATE_LIMIT


@pytest.mark.parametrize(
    "bad",
    [{"member_rate": -1}, {"anonymous_rate": 0}, {"member_burst": 0}, {"anonymous_burst": 1.5}, {"status": 502}],
)
def test_config_validation(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RateLimitConfig(**bad)  # type: ignore[arg-type]


def test_token_bucket_arithmetic() -> None:
    bucket = TokenBucket(rate=10.0, capacity=3, tokens=3.0, updated=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [None, None, None]
    assert bucket.take(0.0) == pytest.approx(0.1)
    assert bucket.take(0.05) == pytest.approx(0.05)
    assert bucket.take(0.1) is None
    # A clock that goes backwards neither refills nor drains.
    assert bucket.take(-5.0) == pytest.approx(0.1)
    assert retry_after_seconds(0.0001) == 1 and retry_after_seconds(1.0) == 1 and retry_after_seconds(1.01) == 2


def test_command_line_rate_limits() -> None:
    parser = build_parser()
    assert rate_limit_from(parser.parse_args([]), parser) == DEFAULT_RATE_LIMIT
    assert rate_limit_from(parser.parse_args(["--no-rate-limit"]), parser) is None
    custom = rate_limit_from(
        parser.parse_args(["--member-rate", "5", "--member-burst", "7", "--anonymous-rate", "2",
                           "--anonymous-burst", "3", "--rate-limit-status", "429"]),
        parser,
    )  # fmt: skip
    assert custom == RateLimitConfig(5.0, 7, 2.0, 3, 429)
    with pytest.raises(SystemExit):
        rate_limit_from(parser.parse_args(["--member-burst", "0"]), parser)


# -- the call log ------------------------------------------------------------------


def test_call_log_records_accepted_calls(limited: Api, clock: FakeClock) -> None:
    token = limited.token()
    orcid = limited.first_orcid
    limited.create("employment", {"organization": {"name": "X", "address": {"city": "Y", "country": "NO"}}}, token)
    clock.advance(0.5)
    limited.request("GET", f"/v3.0/{orcid}/employment/424242", token)
    limited.request("GET", "/v3.0/expanded-search/", params={"q": "grid-org-id:grid.1.a"})
    calls = limited.state.calls()
    assert [(c.client_id, c.method, c.path, c.status) for c in calls] == [
        (CLIENT_ID, "POST", f"/v3.0/{orcid}/employment", 201),
        (CLIENT_ID, "GET", f"/v3.0/{orcid}/employment/424242", 404),
        (None, "GET", "/v3.0/expanded-search/", 200),
    ]
    assert calls[0].timestamp == clock.now - 0.5 and calls[1].timestamp == clock.now
    assert all(c.accepted for c in calls)
    assert [c.path for c in limited.state.calls(CLIENT_ID)] == [calls[0].path, calls[1].path]

    listed = limited.session.get(limited.server.url("/_emulator/calls")).json()["calls"]
    assert listed == [c.to_dict() for c in calls]
    mine = limited.session.get(limited.server.url("/_emulator/calls"), params={"client_id": CLIENT_ID}).json()
    assert len(mine["calls"]) == 2
    # OAuth and control endpoints are not API calls.
    assert all(c["path"].startswith("/v3.0/") for c in listed)
    assert limited.session.delete(limited.server.url("/_emulator/calls")).json() == {"calls": []}
    assert limited.state.calls() == []


def test_rejected_calls_are_logged_apart(limited: Api) -> None:
    token = limited.token()
    for _ in range(42):
        _read(limited, token)
    assert len(limited.state.calls()) == 40
    everything = limited.state.calls(include_rejected=True)
    assert len(everything) == 42
    assert [(c.accepted, c.status) for c in everything[-2:]] == [(False, 503), (False, 503)]
    over_http = limited.session.get(
        limited.server.url("/_emulator/calls"), params={"include_rejected": "true"}
    ).json()["calls"]
    assert len(over_http) == 42


def test_max_calls_in_window(clock: FakeClock) -> None:
    state = EmulatorState(clock=clock, records=[])
    start = clock.now
    for offset in (0.0, 0.2, 0.4, 0.99, 1.0, 1.5, 3.0):
        state.record_call(client_id="A", method="GET", path="/v3.0/x", status=200, timestamp=start + offset)
    state.record_call(client_id="B", method="GET", path="/v3.0/x", status=200, timestamp=start)
    state.record_call(client_id="A", method="GET", path="/v3.0/x", status=503, timestamp=start, accepted=False)
    assert state.max_calls_in_window(1.0, "A") == 4  # 0.0, 0.2, 0.4, 0.99 (1.0 is outside [0, 1))
    assert state.max_calls_in_window(1.0) == 5
    assert state.max_calls_in_window(0.5, "A") == 3  # 0.0, 0.2, 0.4
    assert state.max_calls_in_window(10.0, "A") == 7
    assert EmulatorState(records=[]).max_calls_in_window() == 0
    with pytest.raises(ValueError):
        state.max_calls_in_window(0)


def test_a_paced_writer_never_exceeds_the_limit(limited: Api, clock: FakeClock) -> None:
    """What a benchmark checks: a client pacing itself at 16/s is never refused and the log proves it."""
    token = limited.token()
    orcid = limited.first_orcid
    for index in range(100):
        body = {"organization": {"name": f"Org {index}", "address": {"city": "Oslo", "country": "NO"}}}
        response = limited.request("POST", f"/v3.0/{orcid}/service", token, json_body=body)
        assert response.status_code == 201
        clock.advance(1 / 16)  # a power of two keeps the fake clock's sums exact
    assert limited.state.max_calls_in_window(1.0, CLIENT_ID) == 16
    assert len(limited.state.calls(CLIENT_ID, include_rejected=True)) == 100
