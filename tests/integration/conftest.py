"""Shared fixtures for the integration tests: SDK clients talking to the fake Pleo (from the
``pleo_export`` pytest plugin) in-process or over loopback TCP, with retry backoff off
(stamina's public test mode)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import stamina

from pleo_export import PleoExport
from pleo_export.testing import DEFAULT_API_KEY

#: Above any policy a test sets: with ``cap=True`` each policy's own attempt count applies.
RETRY_ATTEMPTS_CAP = 100
#: The in-process transport ignores the host; loopback keeps the SDK's plain-http check happy.
IN_PROCESS_URL = "http://127.0.0.1"


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    """stamina's test mode: retries keep the policy's attempt count but wait nothing."""
    with stamina.set_testing(True, attempts=RETRY_ATTEMPTS_CAP, cap=True):
        yield


@pytest.fixture
async def pleo(fake_pleo_transport: httpx.AsyncBaseTransport) -> AsyncIterator[PleoExport]:
    """A v3 client served by the test's fake in-process."""
    async with (
        httpx.AsyncClient(transport=fake_pleo_transport) as http,
        PleoExport(api_key=DEFAULT_API_KEY, base_url=IN_PROCESS_URL, http_client=http) as client,
    ):
        yield client


@pytest.fixture
async def pleo_v2(fake_pleo_transport: httpx.AsyncBaseTransport) -> AsyncIterator[PleoExport]:
    """A client whose default resources are v2, served by the test's fake in-process."""
    async with (
        httpx.AsyncClient(transport=fake_pleo_transport) as http,
        PleoExport(
            api_key=DEFAULT_API_KEY, base_url=IN_PROCESS_URL, http_client=http, api_version="v2"
        ) as client,
    ):
        yield client


@pytest.fixture
async def pleo_tcp(fake_pleo_server: str) -> AsyncIterator[PleoExport]:
    """A v3 client talking to the test's fake over real loopback TCP."""
    async with PleoExport(api_key=DEFAULT_API_KEY, base_url=fake_pleo_server) as client:
        yield client
