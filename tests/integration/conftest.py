"""Shared fixtures for the integration tests: SDK clients talking to the fake Pleo (from the
``pleo_export`` pytest plugin) in-process or over loopback TCP, with retry backoff not slept."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import stamina._core

from pleo_export import PleoExport
from pleo_export.testing import DEFAULT_API_KEY

#: The in-process transport ignores the host; loopback keeps the SDK's plain-http check happy.
IN_PROCESS_URL = "http://127.0.0.1"


@pytest.fixture(autouse=True)
def backoff_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record each retry backoff stamina computes instead of sleeping it."""
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)

    monkeypatch.setattr(stamina._core, "_smart_sleep", record)
    return waits


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
