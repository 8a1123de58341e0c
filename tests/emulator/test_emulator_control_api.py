"""Test-control endpoints and state methods for records, affiliations and sign-in parameters."""

from __future__ import annotations

import pytest
import requests

from orcid_emulator import Client, EmulatorServer, Record, SigningKey
from orcid_emulator.errors import InvalidAffiliation, NotFound, NotSource, StateError

from .support import (
    CLIENT_ID,
    CLIENT_NAME,
    OTHER_CLIENT_ID,
    REDIRECT_URI,
    Api,
    Flow,
    affiliation_body,
    org,
    query_of,
)


def test_seed_and_list_affiliations_over_http(api: Api) -> None:
    orcid = api.first_orcid
    url = api.server.url(f"/_emulator/records/{orcid}/affiliations")
    by_user = requests.post(url, json={"section": "education", "affiliation": affiliation_body()})
    assert by_user.status_code == 201
    assert by_user.json()["source_client_id"] is None
    assert by_user.json()["item"]["source"]["source-orcid"]["path"] == orcid
    by_member = requests.post(
        url, json={"section": "employment", "client_id": OTHER_CLIENT_ID, "affiliation": affiliation_body()}
    ).json()
    assert by_member["item"]["source"]["source-client-id"]["path"] == OTHER_CLIENT_ID
    written = api.create("employment", affiliation_body(external_ids=None), api.token())

    listed = requests.get(url).json()
    assert listed["orcid"] == orcid
    rows = [(a["put_code"], a["section"], a["source_client_id"]) for a in listed["affiliations"]]
    assert rows == [
        (by_user.json()["put_code"], "education", None),
        (by_member["put_code"], "employment", OTHER_CLIENT_ID),
        (written, "employment", CLIENT_ID),
    ]
    assert listed["affiliations"][2]["fields"]["organization"]["name"] == "University of Oxford"
    only_education = requests.get(url, params={"section": "education"}).json()["affiliations"]
    assert [a["section"] for a in only_education] == ["education"]


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"section": "works", "affiliation": affiliation_body()}, 400),
        ({"section": "employment"}, 400),
        ({"section": "employment", "affiliation": {"organization": {"name": "X"}}}, 400),
        ({"section": "employment", "affiliation": affiliation_body(), "client_id": "APP-UNKNOWN"}, 400),
        ({"section": "employment", "affiliation": affiliation_body(), "client_id": 7}, 400),
        ({"section": "employment", "affiliation": affiliation_body(), "extra": 1}, 400),
    ],
)
def test_seeding_errors(api: Api, payload: dict[str, object], status: int) -> None:
    url = api.server.url(f"/_emulator/records/{api.first_orcid}/affiliations")
    assert requests.post(url, json=payload).status_code == status
    assert api.state.affiliations() == []


def test_seeding_an_unknown_record(api: Api) -> None:
    url = api.server.url("/_emulator/records/0000-0002-1825-0097/affiliations")
    assert requests.post(url, json={"section": "employment", "affiliation": affiliation_body()}).status_code == 404
    assert requests.get(url).status_code == 404


def test_record_actions_over_http(api: Api) -> None:
    orcid = api.first_orcid
    base = api.server.url(f"/_emulator/records/{orcid}")
    assert requests.post(f"{base}/deactivate").json()["deactivated"] is True
    assert requests.post(f"{base}/reactivate").json()["deactivated"] is False
    assert requests.post(f"{base}/lock").json()["locked"] is True
    assert requests.get(base).json()["locked"] is True
    assert requests.post(f"{base}/unlock").json()["locked"] is False
    assert requests.post(f"{base}/explode").status_code == 404
    assert requests.post(api.server.url("/_emulator/records/0000-0002-1825-0097/lock")).status_code == 404
    bad_flag = requests.post(api.server.url("/_emulator/records"), json={"given_name": "X", "claimed": "no"})
    assert bad_flag.status_code == 400


def test_state_methods(api: Api) -> None:
    state = api.state
    record = state.add_record("Ivo", "Andric", claimed=False)
    assert record.claimed is False and not record.locked and not record.deactivated
    assert state.claim_record(record.orcid).claimed is True
    assert state.lock_record(record.orcid).locked is True
    assert state.unlock_record(record.orcid).locked is False
    assert state.set_record_status(record.orcid, deactivated=True, claimed=False) == Record(
        record.orcid, "Ivo", "Andric", claimed=False, deactivated=True
    )
    with pytest.raises(NotFound):
        state.deactivate_record("0000-0002-1825-0097")
    with pytest.raises(NotFound):
        state.delete_record("0000-0002-1825-0097")

    orcid = api.first_orcid
    item = state.add_affiliation(orcid, "qualification", affiliation_body(), client_id=CLIENT_ID)
    with pytest.raises(NotSource):
        state.update_affiliation(orcid, "qualification", item.put_code, affiliation_body(), client_id=OTHER_CLIENT_ID)
    with pytest.raises(NotFound):
        state.delete_affiliation(orcid, "employment", item.put_code, client_id=CLIENT_ID)
    with pytest.raises(InvalidAffiliation):
        state.update_affiliation(orcid, "qualification", item.put_code, {"organization": None}, client_id=CLIENT_ID)
    with pytest.raises(StateError):
        state.add_affiliation(orcid, "works", affiliation_body())
    updated = state.update_affiliation(
        orcid, "qualification", item.put_code, affiliation_body(role_title="PhD"), client_id=CLIENT_ID
    )
    assert updated.fields["role-title"] == "PhD" and updated.created_at == item.created_at
    assert state.affiliations(orcid, "qualification") == [updated]
    assert state.delete_affiliation(orcid, "qualification", item.put_code, client_id=CLIENT_ID) == updated
    assert state.get_affiliation(orcid, item.put_code) is None


def test_seeded_records_keep_their_states_across_reset(signing_key: SigningKey) -> None:
    records = [
        Record("0000-0002-1825-0097", "Locked", "Person", locked=True),
        {"given_name": "Unclaimed", "claimed": False},
    ]
    with EmulatorServer(records=records, signing_key=signing_key, rate_limit=None) as server:
        server.state.unlock_record("0000-0002-1825-0097")
        server.state.add_affiliation("0000-0002-1825-0097", "employment", affiliation_body())
        server.state.record_call(client_id=None, method="GET", path="/v3.0/x", status=200)
        server.state.reset()
        locked, unclaimed = server.state.records()
        assert locked.locked and not unclaimed.claimed
        assert server.state.affiliations() == [] and server.state.calls() == []


def test_reset_restarts_put_codes(api: Api) -> None:
    first = api.create("employment", affiliation_body(), api.token())
    requests.post(api.server.url("/_emulator/reset"))
    assert api.create("employment", affiliation_body(), api.token()) == first


def test_deleted_record_cannot_finish_signing_in(api: Api) -> None:
    flow = Flow(api.server, api.session)
    orcid = api.first_orcid
    code = flow.code("/activities/update", orcid=orcid)
    api.state.delete_record(orcid)
    assert flow.exchange(code).json()["error"] == "invalid_grant"


@pytest.mark.parametrize("condition", ["deactivate_record", "lock_record"])
def test_deactivated_or_locked_records_cannot_sign_in(api: Api, condition: str) -> None:
    flow = Flow(api.server, api.session)
    orcid = api.first_orcid
    getattr(api.state, condition)(orcid)
    response = flow.decide("openid", orcid=orcid)
    assert response.status_code == 400
    assert orcid in response.text


def test_authorize_accepts_orcid_prefill_and_language_parameters(api: Api) -> None:
    flow = Flow(api.server, api.session)
    target = api.state.records()[1]
    page = flow.consent_page(
        "/activities/update", lang="zh_CN", email=target.email, given_names="Tobias", family_names="Quennell",
        show_login="true",
    )  # fmt: skip
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    # An email that belongs to a record preselects it.
    assert f'<option value="{target.orcid}" selected>' in page.text
    code = flow.code("/activities/update", lang="fr", given_names="Tobias", family_names="Quennell")
    tokens = flow.exchange(code).json()
    assert tokens["scope"] == "/activities/update"
    odd = flow.consent_page("openid", lang='"><script>')
    assert odd.status_code == 200 and '<html lang="en">' in odd.text


def test_index_page_lists_the_api(api: Api) -> None:
    html = requests.get(api.server.url("/")).text
    assert "/v3.0/expanded-search/" in html and "/_emulator/faults" in html


def test_client_name_in_source_follows_the_registered_client(signing_key: SigningKey) -> None:
    with EmulatorServer(clients=[Client(CLIENT_ID, "s", [REDIRECT_URI], name=CLIENT_NAME)], signing_key=signing_key,
                        rate_limit=None) as server, requests.Session() as session:  # fmt: skip
        api = Api(server, session)
        put_code = api.create("distinction", {"organization": org()}, api.token())
        server.state.register_client(CLIENT_ID, "s", [REDIRECT_URI], name="Renamed Hub")
        item = api.request("GET", f"/v3.0/{api.first_orcid}/distinction/{put_code}", api.token()).json()
        assert item["source"]["source-name"] == {"value": "Renamed Hub"}


def test_denied_consent_leaves_nothing_to_write_with(api: Api) -> None:
    flow = Flow(api.server, api.session)
    denied = flow.decide("/activities/update", action="deny", state="d")
    assert query_of(denied.headers["Location"])["error"] == "access_denied"
    assert api.state.tokens() == []
