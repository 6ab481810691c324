"""A client closed under its callers: ``aclose()`` while 20 requests wait on a slow server over
loopback TCP, and calls made after it. Each ends in ``ClientClosedError`` (a ``PleoError``),
promptly and without a retry on the closed pool; before, each was a bare ``RuntimeError``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterable

import httpx
import pytest
from pleo_export_raw.api.export_api_v_3 import get_export_job_by_id_v3

from pleo_export import ClientClosedError, PleoExport, RetryPolicy

from ._figures import record
from ._rogue import Step, response, rogue_server

pytestmark = pytest.mark.timeout(30)

JOB = "00000000-0000-4000-8000-000000000001"
RETRY = RetryPolicy(max_retries=3, wait_initial=0.01, wait_max=0.01, wait_jitter=0.0)


def _slow(head: bytes) -> Iterable[Step]:
    """Answer only after 5 s: every request is still in flight when the client closes."""
    return [5.0, response(b"200 OK", b"{}")]


async def test_aclose_ends_every_call_in_flight_with_a_typed_error() -> None:
    """Twenty calls in flight when aclose() runs all end with ClientClosedError within a
    second, and the server sees no retry (exactly twenty requests)."""
    async with rogue_server(_slow) as rogue:
        pleo = PleoExport(api_key="sk-closed-0123456789", base_url=rogue.url, retry=RETRY)
        calls = [asyncio.create_task(pleo.jobs.get(JOB)) for _ in range(20)]
        # All twenty sent first: a call still connecting when aclose() runs is on a connection
        # the pool does not hold yet (httpcore), and may complete normally instead.
        await rogue.wait_for(20)
        started = time.perf_counter()
        await pleo.aclose()
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.05)  # a retry, had there been one, would have arrived by now
    assert [type(outcome).__name__ for outcome in outcomes] == ["ClientClosedError"] * 20
    assert elapsed < 1.0
    assert len(rogue.requests) == 20
    record(
        "hostile_servers",
        **{"aclose() with 20 calls in flight": f"20 ClientClosedError in {elapsed:.2f} s, "
           "no retry"},
    )  # fmt: skip


async def test_calls_after_aclose_are_refused_without_a_request() -> None:
    """After aclose(), facade calls, list iteration and the generated client behind ``.raw``
    raise ClientClosedError and send nothing."""
    async with rogue_server(_slow) as rogue:
        pleo = PleoExport(api_key="sk-closed-0123456789", base_url=rogue.url, retry=RETRY)
        raw = pleo.raw
        await pleo.aclose()
        with pytest.raises(ClientClosedError, match="the client is closed"):
            await pleo.jobs.get(JOB)
        with pytest.raises(ClientClosedError):
            _ = [job async for job in pleo.jobs.list()]
        with pytest.raises(ClientClosedError):
            await get_export_job_by_id_v3.asyncio_detailed(uuid.UUID(JOB), client=raw)
    assert rogue.requests == []
    record("hostile_servers", **{"a call after aclose()": "ClientClosedError, nothing sent"})


async def test_a_callers_own_client_closed_under_the_sdk_is_typed_too() -> None:
    """When the caller closes the ``http_client`` they passed in, the next call is a
    ClientClosedError rather than httpx's RuntimeError."""
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    pleo = PleoExport(api_key="sk-closed-0123456789", base_url="http://127.0.0.1",
                      http_client=http, retry=RETRY)  # fmt: skip
    await http.aclose()
    with pytest.raises(ClientClosedError):
        await pleo.jobs.get(JOB)


_JOB_BODY = json.dumps(
    {"data": {"id": JOB, "companyId": JOB, "createdAt": "2024-05-01T10:00:00Z",
              "expiresIn": 3600, "isInteractive": True, "numberOfItems": 0,
              "status": "pending", "vendorBasedBookkeeping": False}}
).encode()  # fmt: skip


def _half_second(head: bytes) -> Iterable[Step]:
    """A valid job after 0.5 s: the call is in flight when the client closes."""
    return [0.5, response(b"200 OK", _JOB_BODY)]


async def test_views_are_closed_with_their_client_on_a_callers_pool() -> None:
    """On a caller's ``http_client`` (which ``aclose()`` leaves open), a ``with_options`` view
    shares its client's closed state: the call in flight through the view when the client
    closes ends in ClientClosedError, and a later call through it sends nothing. Fails (on
    0.2's main both the in-flight job and the later one came back) if a view keeps a closed
    state of its own."""
    async with rogue_server(_half_second) as rogue, httpx.AsyncClient() as http:
        pleo = PleoExport(api_key="sk-closed-0123456789", base_url=rogue.url,
                          http_client=http, retry=RETRY)  # fmt: skip
        view = pleo.with_options(timeout=10)
        in_flight = asyncio.create_task(view.jobs.get(JOB))
        await rogue.wait_for(1)
        await pleo.aclose()
        outcomes = [await asyncio.gather(in_flight, return_exceptions=True)]
        try:
            outcomes.append(await view.jobs.get(JOB))
        except ClientClosedError as exc:
            outcomes.append(exc)
        assert not http.is_closed  # the caller's pool stays theirs
    assert [type(outcome[0] if isinstance(outcome, list) else outcome).__name__
            for outcome in outcomes] == ["ClientClosedError"] * 2  # fmt: skip
    assert len(rogue.requests) == 1
    record(
        "hostile_servers",
        **{"a with_options view after its client's aclose(), on a caller's pool":
           "ClientClosedError for the call in flight and the next one, which sends nothing"},
    )  # fmt: skip
