from __future__ import annotations

import pytest
import requests

from orcid_emulator import DEMO_RECORDS, Client, EmulatorServer, SigningKey, is_valid_orcid_id
from orcid_emulator.errors import Conflict, StateError

from .support import REDIRECT_URI, Flow, query_of


def test_demo_records_are_seeded_with_valid_ids(orcid_emulator: EmulatorServer) -> None:
    records = orcid_emulator.state.records()
    assert len(records) == len(DEMO_RECORDS) == 3
    assert all(is_valid_orcid_id(r.orcid) for r in records)
    assert len({r.orcid for r in records}) == 3
    assert all(r.email for r in records)


def test_create_and_list_records_over_http(orcid_emulator: EmulatorServer) -> None:
    url = orcid_emulator.url("/_emulator/records")
    created = requests.post(url, json={"given_name": "Wren", "family_name": "Oduya", "email": "wren@example.org"})
    assert created.status_code == 201
    record = created.json()
    assert is_valid_orcid_id(record["orcid"])
    assert record["name"] == "Wren Oduya"
    assert record["uri"] == f"{orcid_emulator.base_url}/{record['orcid']}"

    listed = requests.get(url).json()["records"]
    assert record in listed and len(listed) == 4
    fetched = requests.get(f"{url}/{record['orcid']}")
    assert fetched.json() == record
    assert orcid_emulator.state.get_record(record["orcid"]) is not None


def test_create_record_with_explicit_orcid_and_errors(orcid_emulator: EmulatorServer) -> None:
    url = orcid_emulator.url("/_emulator/records")
    ok = requests.post(url, json={"given_name": "Known", "family_name": "Id", "orcid": "0000-0002-1825-0097"})
    assert ok.status_code == 201 and ok.json()["orcid"] == "0000-0002-1825-0097"
    assert requests.post(url, json={"given_name": "Dup", "orcid": "0000-0002-1825-0097"}).status_code == 409
    assert requests.post(url, json={"given_name": "Bad", "orcid": "0000-0002-1825-0098"}).status_code == 400
    assert requests.post(url, json={"family_name": "NoGiven"}).status_code == 400
    assert requests.post(url, json={"given_name": "X", "surname": "typo"}).status_code == 400
    assert requests.post(url, json=["not", "an", "object"]).status_code == 400
    dup_email = requests.post(url, json={"given_name": "Y", "email": DEMO_RECORDS[0]["email"].upper()})
    assert dup_email.status_code == 409
    assert requests.get(f"{url}/0000-0000-0000-0000").status_code == 404


def test_new_record_can_sign_in(flow: Flow) -> None:
    created = requests.post(
        flow.server.url("/_emulator/records"), json={"given_name": "Ines", "family_name": "Marlowe-Sato"}
    ).json()
    tokens = flow.tokens(orcid=created["orcid"])
    assert tokens["orcid"] == created["orcid"]
    assert tokens["name"] == "Ines Marlowe-Sato"
    assert flow.userinfo(tokens["access_token"]).json()["sub"] == created["orcid"]


def test_in_process_state_api(flow: Flow) -> None:
    state = flow.server.state
    record = state.add_record("Ola", "Brenner", "ola@example.org", credit_name="O. Brenner")
    assert record.name == "O. Brenner"
    assert state.find_record_by_email("OLA@example.org") == record
    with pytest.raises(Conflict):
        state.add_record("Ola", "Again", "ola@example.org")
    with pytest.raises(StateError):
        state.add_record("  ")

    client = state.register_client("APP-INPROC", "sec", ["http://testserver/cb"], name="In-process")
    assert state.get_client("APP-INPROC") == client
    location = flow.session.post(
        flow.server.authorize_url("APP-INPROC", "http://testserver/cb", state="s"),
        data={"orcid": record.orcid, "action": "authorize"},
        allow_redirects=False,
    ).headers["Location"]
    assert location.startswith("http://testserver/cb?")

    token = state.issue_token("APP-INPROC", record.orcid, ["/read-limited"])
    assert flow.userinfo(token.access_token).json()["name"] == "O. Brenner"
    assert [t.access_token for t in state.tokens(record.orcid)] == [token.access_token]


def test_register_client_over_http(orcid_emulator: EmulatorServer) -> None:
    url = orcid_emulator.url("/_emulator/clients")
    created = requests.post(
        url, json={"client_id": "APP-HTTP", "client_secret": "s", "redirect_uris": ["http://x.test/"], "name": "Via HTTP"}
    )
    assert created.status_code == 201
    assert created.json() == {"client_id": "APP-HTTP", "name": "Via HTTP", "redirect_uris": ["http://x.test/"]}
    assert "APP-HTTP" in [c["client_id"] for c in requests.get(url).json()["clients"]]
    assert requests.post(url, json={"client_id": "APP-NOSECRET"}).status_code == 400
    assert requests.post(url, json={"client_id": "A", "client_secret": "s", "redirect_uris": "x"}).status_code == 400


def test_tokens_listing(flow: Flow) -> None:
    tokens = flow.tokens()
    listed = requests.get(flow.server.url("/_emulator/tokens"), params={"orcid": flow.first_orcid}).json()["tokens"]
    assert [t["access_token"] for t in listed] == [tokens["access_token"]]
    assert listed[0]["scope"] == "openid"


def test_reset(flow: Flow) -> None:
    server = flow.server
    seeded = [r.orcid for r in server.state.records()]
    tokens = flow.tokens()
    code = flow.code()
    server.state.register_client("APP-KEPT", "s", [REDIRECT_URI])
    requests.post(server.url("/_emulator/records"), json={"given_name": "Temp"})

    response = requests.post(server.url("/_emulator/reset"))
    assert response.status_code == 200
    assert response.json() == {"status": "reset", "records": 3}
    assert [r.orcid for r in server.state.records()] == seeded
    assert flow.userinfo(tokens["access_token"]).status_code == 401
    assert flow.exchange(code).json()["error"] == "invalid_grant"
    assert server.state.get_client("APP-KEPT") is not None
    # iD allocation restarts too, so re-created records get the same iDs.
    again = requests.post(server.url("/_emulator/records"), json={"given_name": "Temp"}).json()
    server.state.reset()
    assert requests.post(server.url("/_emulator/records"), json={"given_name": "Temp"}).json()["orcid"] == again["orcid"]


def test_server_without_records(signing_key: SigningKey) -> None:
    with EmulatorServer(clients=[Client("APP-E", "s", [REDIRECT_URI])], records=[], signing_key=signing_key) as server:
        assert server.state.records() == []
        page = requests.get(server.authorize_url("APP-E", REDIRECT_URI))
        assert page.status_code == 200 and 'id="no-records"' in page.text
        server.state.add_record("Solo", "Person", "solo@example.org")
        response = requests.post(
            server.authorize_url("APP-E", REDIRECT_URI, state="z"),
            data={"email": "solo@example.org", "action": "authorize"},
            allow_redirects=False,
        )
        assert "code" in query_of(response.headers["Location"])
