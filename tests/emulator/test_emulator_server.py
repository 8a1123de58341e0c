from __future__ import annotations

import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from orcid_emulator import Client, EmulatorServer, Record, SigningKey, redirect_uri_matches

from .support import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_start_stop_and_context_manager(signing_key: SigningKey) -> None:
    server = EmulatorServer(signing_key=signing_key)
    with pytest.raises(RuntimeError):
        _ = server.base_url
    assert server.start() is server
    assert server.running
    with pytest.raises(RuntimeError):
        server.start()
    url = server.discovery_url
    assert requests.get(url).status_code == 200
    server.stop()
    server.stop()  # idempotent
    assert not server.running
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)

    with EmulatorServer(signing_key=signing_key) as again:
        assert requests.get(again.discovery_url).json()["issuer"] == again.base_url


def test_issuer_override(signing_key: SigningKey) -> None:
    with EmulatorServer(signing_key=signing_key, issuer="http://orcid.test:8090/") as server:
        assert server.base_url == "http://orcid.test:8090"
        local = f"http://127.0.0.1:{server.port}/.well-known/openid-configuration"
        assert requests.get(local).json()["token_endpoint"] == "http://orcid.test:8090/oauth/token"


def test_records_from_objects_and_mappings(signing_key: SigningKey) -> None:
    records = [
        Record("0000-0002-1825-0097", "Given", "Family", "given@example.org"),
        {"given_name": "Mapped", "family_name": "Person"},
    ]
    with EmulatorServer(records=records, signing_key=signing_key) as server:
        got = server.state.records()
        assert got[0].orcid == "0000-0002-1825-0097"
        assert got[1].name == "Mapped Person"


def test_concurrent_requests(orcid_emulator: EmulatorServer) -> None:
    def fetch(_: int) -> str:
        response = requests.post(
            orcid_emulator.url("/oauth/token"),
            data={"grant_type": "client_credentials", "scope": "/read-public"},
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
        assert response.status_code == 200
        return str(response.json()["access_token"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        tokens = list(pool.map(fetch, range(64)))
    assert len(set(tokens)) == 64
    assert len(orcid_emulator.state.tokens()) == 64


def test_head_request(orcid_emulator: EmulatorServer) -> None:
    response = requests.head(orcid_emulator.discovery_url)
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["Content-Length"]) > 0


def test_signing_key_pem_round_trip(signing_key: SigningKey) -> None:
    loaded = SigningKey.from_pem(signing_key.to_pem())
    assert loaded.kid == signing_key.kid
    assert loaded.public_jwk() == signing_key.public_jwk()


@pytest.mark.parametrize(
    ("registered", "requested", "allowed"),
    [
        ("http://localhost:8000/cb", "http://localhost:8000/cb", True),
        ("http://localhost:8000/", "http://localhost:8000/accounts/cb/", True),
        ("http://localhost:8000", "http://localhost:8000/accounts/cb/", True),
        ("http://localhost:8000", "http://localhost:8000?x=1", True),
        ("http://localhost:8000", "http://localhost:8000.evil.test/", False),
        ("http://localhost:8000", "http://localhost:80001/", False),
        ("http://localhost:8000/cb", "http://localhost:8000/cbx", False),
        ("http://localhost:8000/cb", "http://localhost:8000/", False),
        ("https://app.example/", "http://app.example/", False),
        ("", "http://anything/", False),
    ],
)
def test_redirect_uri_matching(registered: str, requested: str, allowed: bool) -> None:
    assert redirect_uri_matches(registered, requested) is allowed
    assert Client("APP-M", "s", [registered] if registered else []).allows_redirect(requested) is allowed


def test_client_requires_id_and_secret() -> None:
    with pytest.raises(ValueError):
        Client("", "s")
    with pytest.raises(ValueError):
        Client("APP-X", "")
    assert Client("APP-X", "s").name == "APP-X"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_command_line_entry_point(tmp_path: Path) -> None:
    port = _free_port()
    key_file = tmp_path / "key.pem"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable, "-m", "orcid_emulator", "--port", str(port), "--quiet",
        "--client-id", "APP-CLI", "--client-secret", "cli-secret",
        "--redirect-uri", REDIRECT_URI, "--key-file", str(key_file),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        assert first_line.strip() == f"ORCID emulator running at http://127.0.0.1:{port}"
        lines = [process.stdout.readline() for _ in range(8)]
        assert any("Imogen Fairweather" in line for line in lines)
        base = f"http://127.0.0.1:{port}"
        response = requests.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials", "scope": "/read-public"},
            auth=("APP-CLI", "cli-secret"),
            timeout=5,
        )
        assert response.status_code == 200
        assert SigningKey.from_pem(key_file.read_bytes()).kid == requests.get(f"{base}/oauth/jwks").json()["keys"][0]["kid"]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
            if process.stdout:
                process.stdout.close()
            if process.stderr:
                process.stderr.close()
    assert process.returncode == 0
