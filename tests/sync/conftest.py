"""Fixtures for the sync client: one served by the test's fake in-process (an
``httpx.AsyncClient`` on the fake's transport) and one over real loopback TCP, both as
``transport`` parameters so every resource test runs on both; retry backoff off."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest
import stamina

from pleo_export.sync import PleoExport
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

IN_PROCESS_URL = "http://127.0.0.1"


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


@pytest.fixture(params=["in-process", "tcp"])
def sync_pleo(request: pytest.FixtureRequest, fake_pleo: FakePleo) -> Iterator[PleoExport]:
    """A sync v3 client on the test's fake, in-process and over loopback TCP."""
    if request.param == "in-process":
        http = httpx.AsyncClient(transport=fake_pleo.transport())
        with PleoExport(api_key=DEFAULT_API_KEY, base_url=IN_PROCESS_URL, http_client=http) as pleo:
            yield pleo
        return
    with fake_pleo.serve() as url, PleoExport(api_key=DEFAULT_API_KEY, base_url=url) as pleo:
        yield pleo


@pytest.fixture
def tcp_url(fake_pleo: FakePleo) -> Iterator[str]:
    """The test's fake over loopback TCP."""
    with fake_pleo.serve() as url:
        yield url


def portal_threads() -> list[threading.Thread]:
    """The sync clients' loop threads alive now."""
    return [t for t in threading.enumerate() if t.name == "pleo-export-sync"]


def loop_tasks(pleo: PleoExport) -> int:
    """Tasks on the client's loop other than the one counting them."""

    async def count() -> int:
        return len(asyncio.all_tasks()) - 1

    return pleo._core.portal().call(count)
