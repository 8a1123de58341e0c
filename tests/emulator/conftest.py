"""Fixtures for the ORCID emulator tests.  Plain pytest: no Django involved."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from orcid_emulator import Client, EmulatorServer, SigningKey

from .support import (
    CLIENT_ID,
    CLIENT_NAME,
    CLIENT_SECRET,
    OTHER_CLIENT_ID,
    OTHER_CLIENT_NAME,
    OTHER_CLIENT_SECRET,
    REDIRECT_PREFIX,
    REDIRECT_URI,
    Api,
    FakeClock,
    Flow,
)


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    # RSA generation is the slowest part of starting a server; share one key.
    return SigningKey.generate()


@pytest.fixture
def orcid_emulator(signing_key: SigningKey) -> Iterator[EmulatorServer]:
    client = Client(CLIENT_ID, CLIENT_SECRET, redirect_uris=[REDIRECT_URI, REDIRECT_PREFIX], name=CLIENT_NAME)
    with EmulatorServer(clients=[client], signing_key=signing_key) as server:
        yield server


@pytest.fixture
def flow(orcid_emulator: EmulatorServer) -> Iterator[Flow]:
    with requests.Session() as session:
        yield Flow(orcid_emulator, session)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api_server(signing_key: SigningKey, clock: FakeClock) -> Iterator[EmulatorServer]:
    """An emulator for API tests: frozen clock, no rate limits, a second member client."""
    clients = [
        Client(CLIENT_ID, CLIENT_SECRET, redirect_uris=[REDIRECT_URI, REDIRECT_PREFIX], name=CLIENT_NAME),
        Client(OTHER_CLIENT_ID, OTHER_CLIENT_SECRET, redirect_uris=[REDIRECT_URI], name=OTHER_CLIENT_NAME),
    ]
    with EmulatorServer(clients=clients, signing_key=signing_key, clock=clock, rate_limit=None) as server:
        yield server


@pytest.fixture
def api(api_server: EmulatorServer) -> Iterator[Api]:
    with requests.Session() as session:
        yield Api(api_server, session)
