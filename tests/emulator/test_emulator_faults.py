"""Injected failures: fail the next N API calls, then recover."""

from __future__ import annotations

import json
from wsgiref.util import setup_testing_defaults

import pytest
import requests

from orcid_emulator import EmulatorState, FaultPlan, SigningKey
from orcid_emulator.app import EmulatorApp, build_router
from orcid_emulator.context import EmulatorContext
from orcid_emulator.web import Request, Response

from .support import Api, affiliation_body, assert_orcid_error


def _read(api: Api, token: str) -> requests.Response:
    return api.request("GET", f"/v3.0/{api.first_orcid}/employments", token)


def test_fail_next_five_then_recover(api: Api) -> None:
    token = api.token()
    plan = {"fail_next": 5, "status": 503, "retry_after": 1}
    response = api.session.post(api.server.url("/_emulator/faults"), json=plan)
    assert response.json() == {"faults": {"fail_next": 5, "status": 503, "retry_after": 1, "methods": []}}
    failures = [_read(api, token) for _ in range(5)]
    for failure in failures:
        assert_orcid_error(failure, 503, 9000)
        assert failure.headers["Retry-After"] == "1"
    assert _read(api, token).status_code == 200
    assert api.session.get(api.server.url("/_emulator/faults")).json() == {"faults": None}
    # The failed calls reached the API (past the rate limiter), so they are in the log.
    assert [c.status for c in api.state.calls()] == [503] * 5 + [200]


@pytest.mark.parametrize(("status", "code"), [(500, 9008), (502, 9000), (429, 9000), (503, 9000)])
def test_fault_statuses(api: Api, status: int, code: int) -> None:
    api.state.fail_next(1, status)
    response = _read(api, api.token())
    assert_orcid_error(response, status, code)
    assert "Retry-After" not in response.headers
    assert _read(api, api.token()).status_code == 200


def test_faults_hit_writes_only_when_asked(api: Api) -> None:
    token = api.token()
    api.state.fail_next(2, 502, methods=["post"])
    assert _read(api, token).status_code == 200
    body = affiliation_body(external_ids=None)
    path = f"/v3.0/{api.first_orcid}/employment"
    assert [api.request("POST", path, token, json_body=body).status_code for _ in range(3)] == [502, 502, 201]
    # Nothing was written by the failed calls.
    assert len(api.state.affiliations()) == 1


def test_faults_leave_oauth_and_control_endpoints_alone(api: Api) -> None:
    api.state.fail_next(1, 500)
    assert api.session.get(api.server.discovery_url).status_code == 200
    assert api.session.get(api.server.url("/_emulator/records")).status_code == 200
    assert api.state.faults() == FaultPlan(1, 500)
    assert_orcid_error(_read(api, api.token()), 500, 9008)


def test_dropped_connection(api: Api) -> None:
    api.session.post(api.server.url("/_emulator/faults"), json={"fail_next": 1, "status": "drop"})
    with pytest.raises(requests.ConnectionError):
        _read(api, api.token())
    assert _read(api, api.token()).status_code == 200
    assert [c.status for c in api.state.calls()] == [502, 200]


def test_new_plan_replaces_old_and_delete_clears(api: Api) -> None:
    api.state.fail_next(10, 503)
    api.state.fail_next(1, 500, retry_after=7)
    response = _read(api, api.token())
    assert response.status_code == 500 and response.headers["Retry-After"] == "7"
    assert _read(api, api.token()).status_code == 200
    api.state.fail_next(3)
    assert api.session.delete(api.server.url("/_emulator/faults")).json() == {"faults": None}
    assert _read(api, api.token()).status_code == 200
    api.state.fail_next(3)
    api.session.post(api.server.url("/_emulator/reset"))
    assert api.state.faults() is None


@pytest.mark.parametrize(
    "payload",
    [
        {"status": 503},
        {"fail_next": -1},
        {"fail_next": "5"},
        {"fail_next": 1, "status": 404},
        {"fail_next": 1, "retry_after": "soon"},
        {"fail_next": 1, "methods": "POST"},
        {"fail_next": 1, "methods": ["PATCH"]},
        {"fail_next": 1, "delay": 3},
        ["fail_next", 1],
    ],
)
def test_bad_fault_requests(api: Api, payload: object) -> None:
    assert api.session.post(api.server.url("/_emulator/faults"), json=payload).status_code == 400
    assert api.state.faults() is None


def test_zero_clears(api: Api) -> None:
    api.state.fail_next(2)
    response = api.session.post(api.server.url("/_emulator/faults"), json={"fail_next": 0})
    assert response.json() == {"faults": None}
    assert api.state.faults() is None


def _call_wsgi(app: EmulatorApp, path: str) -> tuple[str, bytes]:
    environ: dict[str, object] = {"PATH_INFO": path, "HTTP_ACCEPT": "application/json"}
    setup_testing_defaults(environ)
    statuses: list[str] = []
    body = b"".join(app(environ, lambda status, headers: statuses.append(status)))
    return statuses[0], body


def test_without_the_server_a_dropped_call_is_a_502(signing_key: SigningKey) -> None:
    state = EmulatorState(records=[], rate_limit=None)
    app = EmulatorApp(EmulatorContext(state, signing_key, "http://orcid.test"))
    state.fail_next(1, 0)
    status, body = _call_wsgi(app, "/v3.0/expanded-search/")
    assert status.startswith("502") and json.loads(body)["error-code"] == 9000


def test_a_crashing_handler_is_a_500_in_orcid_shape_and_logged(
    signing_key: SigningKey, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(req: Request) -> Response:
        raise RuntimeError("handler bug")

    router = build_router()
    router.add("GET", "/v3.0/boom", boom)
    state = EmulatorState(records=[], rate_limit=None)
    app = EmulatorApp(EmulatorContext(state, signing_key, "http://orcid.test"), router)
    status, body = _call_wsgi(app, "/v3.0/boom")
    assert status.startswith("500")
    assert json.loads(body)["error-code"] == 9008 and "handler bug" in json.loads(body)["developer-message"]
    assert [call.status for call in state.calls()] == [500]
    assert "RuntimeError" in capsys.readouterr().err
