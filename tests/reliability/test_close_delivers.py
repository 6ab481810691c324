"""Closing the client right after a cancelled run must not lose what the run recorded.

On the default in-memory journal a run records 450 outcomes, is cancelled, and cancelled again
while its shielded flush is in flight; the application then closes the client (a shutdown).
Before the fix ``aclose()`` cut the flush off: 50 recorded outcomes never reached Pleo, and the
next process would offer those items again *not in doubt*. Now ``aclose()`` waits (within a
grace period) for every send in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import httpx
import pytest

from pleo_export import PleoExport
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

from ._figures import record
from .conftest import BASE_URL, FAST_RETRY

pytestmark = pytest.mark.timeout(60)

ITEMS = 450
ACLOSE = "aclose() right after a run with 450 recorded outcomes was cancelled twice"


class SlowUpdates(httpx.AsyncBaseTransport):
    """The fake's transport with item updates taking 0.2 s (a slow link to Pleo)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Delay PUTs, then send."""
        if request.method == "PUT":
            await asyncio.sleep(0.2)
        return await self.inner.handle_async_request(request)


async def test_aclose_lets_a_cancelled_runs_flush_arrive() -> None:
    """Every one of the 450 recorded outcomes reaches Pleo although the run was cancelled twice
    and the client closed at once; an ``aclose()`` that does not wait for the sends in flight
    leaves items pending and fails this."""
    fake = FakePleo(seed=63)
    job = fake.add_job(items=ITEMS)
    recorded = asyncio.Event()
    http = httpx.AsyncClient(transport=SlowUpdates(fake.transport()))
    pleo = PleoExport(
        api_key=DEFAULT_API_KEY, base_url=BASE_URL, http_client=http, retry=FAST_RETRY
    )

    async def work() -> None:
        async with pleo.export_run(job, flush_interval=3600) as run:
            count = 0
            async for item in run.pending():
                run.succeeded(item, external_id="GL")
                count += 1
                if count == ITEMS:
                    recorded.set()
                    await asyncio.Event().wait()  # the application is busy elsewhere

    task = asyncio.create_task(work())
    await asyncio.wait_for(recorded.wait(), 10)
    task.cancel()
    await asyncio.sleep(0.05)  # the exit's shielded flush is now sending
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await pleo.aclose()  # the shutdown
    await http.aclose()
    counts = fake.item_status_counts(job)
    record(
        "hostile_servers",
        **{
            ACLOSE: f"{counts.get('successful', 0)} of {ITEMS} delivered, "
            f"{ITEMS - counts.get('successful', 0)} lost"
        },
    )
    assert counts == {"successful": ITEMS}


class StuckUpdates(httpx.AsyncBaseTransport):
    """The fake's transport with item updates held until ``release`` is set (Pleo unreachable
    mid-send)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Hold PUTs until released, then send."""
        if request.method == "PUT":
            await self.release.wait()
        return await self.inner.handle_async_request(request)


async def test_aclose_names_what_it_could_not_deliver(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """When the sends in flight outlast the grace period, ``aclose()`` returns at its bound and
    logs one ERROR naming every undelivered entry id; waiting without a bound (the test's
    timeout), or closing silently, fails this."""
    monkeypatch.setattr("pleo_export._client.CLOSE_GRACE", 0.3)
    caplog.set_level(logging.ERROR, logger="pleo_export")
    fake = FakePleo(seed=64)
    job = fake.add_job(items=ITEMS)
    transport = StuckUpdates(fake.transport())
    http = httpx.AsyncClient(transport=transport)
    pleo = PleoExport(
        api_key=DEFAULT_API_KEY, base_url=BASE_URL, http_client=http, retry=FAST_RETRY
    )
    recorded = asyncio.Event()
    entries: list[str] = []

    async def work() -> None:
        async with pleo.export_run(job, flush_interval=3600) as run:
            async for item in run.pending():
                run.succeeded(item, external_id="GL")
                entries.append(str(item.accounting_entry_id))
                if len(entries) == ITEMS:
                    recorded.set()
                    await asyncio.Event().wait()

    task = asyncio.create_task(work())
    await asyncio.wait_for(recorded.wait(), 10)
    task.cancel()
    await asyncio.sleep(0.05)  # the exit's shielded flush is now stuck sending
    started = time.monotonic()
    await pleo.aclose()
    took = time.monotonic() - started
    transport.release.set()  # let the stuck flush end (in ClientClosedError) before the loop does
    with contextlib.suppress(BaseException):
        await task
    await http.aclose()
    assert took < 0.3 + 0.5, took
    (error,) = [r for r in caplog.records if "still on their way" in r.getMessage()]
    assert error.levelno == logging.ERROR
    text = error.getMessage()
    assert f"{ITEMS} recorded outcome(s)" in text
    assert all(entry in text for entry in entries)
