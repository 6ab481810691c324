"""Shared fixtures for the fake server's tests: an authenticated in-process client per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

API_KEY_AUTH = ("pleo-test-key", "")


@pytest.fixture
async def client(fake_pleo_transport: httpx.AsyncBaseTransport) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the test's fake in-process, with the default API key."""
    async with httpx.AsyncClient(
        transport=fake_pleo_transport, base_url="http://pleo", auth=API_KEY_AUTH
    ) as http:
        yield http


@pytest.fixture(params=[2, 3], ids=["v2", "v3"])
def version(request: pytest.FixtureRequest) -> int:
    """Each API version the fake serves."""
    value: int = request.param
    return value
