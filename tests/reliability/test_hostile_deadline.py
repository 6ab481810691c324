"""Hostile servers that trickle: headers or body one byte every 0.2 s, each byte in time for
httpx's per-read timeout. The total deadline (``total_timeout``, default twice the read timeout)
ends each attempt anyway, as an ``APITimeoutError`` retried like any other timeout.

All over real loopback TCP; the elapsed time of each call is asserted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import pytest

from pleo_export import APITimeoutError, PleoExport, RetryPolicy

from ._figures import record
from ._rogue import Step, response, rogue_server

pytestmark = pytest.mark.timeout(30)

JOB = "00000000-0000-4000-8000-000000000001"
BODY = b'{"data": {"id": "' + JOB.encode() + b'"}}'
#: A byte every 0.2 s: well inside the 1 s read timeout, so only a total deadline can stop it.
GAP = 0.2


def _trickle(data: bytes, count: int = 60) -> Iterable[Step]:
    for byte in data[:count]:
        yield bytes([byte])
        yield GAP


def _trickled_headers(head: bytes) -> Iterable[Step]:
    """The status line and headers, one byte at a time."""
    yield from _trickle(response(b"200 OK", BODY))


def _trickled_body(head: bytes) -> Iterable[Step]:
    """Headers at once, then a 4 KB body one byte at a time."""
    whole = response(b"200 OK", b" " * 4_000 + BODY)
    split = whole.index(b"\r\n\r\n") + 4
    yield whole[:split]
    yield from _trickle(whole[split:])


@pytest.mark.parametrize("script", [_trickled_headers, _trickled_body], ids=["headers", "body"])
async def test_trickling_server_is_cut_at_the_total_deadline(script: object) -> None:
    """With a 1 s read timeout and no retries, the call ends with APITimeoutError naming the
    2 s total deadline, after about 2 s, where httpx alone would wait for the whole trickle
    (12 s and more)."""
    async with rogue_server(script) as rogue:  # type: ignore[arg-type]
        pleo = PleoExport(
            api_key="sk-deadline-0123", base_url=rogue.url, timeout=1.0,
            retry=RetryPolicy(max_retries=0),
        )  # fmt: skip
        async with pleo:
            started = time.perf_counter()
            with pytest.raises(APITimeoutError) as caught:
                await pleo.jobs.get(JOB)
            elapsed = time.perf_counter() - started
    assert "total deadline of 2 s" in str(caught.value)
    assert 1.9 <= elapsed < 3.0
    CUT.append(elapsed)
    record(
        "hostile_servers",
        **{
            "headers or body trickled 1 byte per 0.2 s, timeout=1.0": "APITimeoutError after "
            f"{max(CUT):.1f} s at most (total deadline 2 s)"
        },
    )


CUT: list[float] = []


async def test_total_timeout_is_configurable_and_retried() -> None:
    """An explicit ``total_timeout`` of 0.5 s with one retry makes two attempts of about 0.5 s
    each (retried like a timeout), then APITimeoutError."""
    async with rogue_server(_trickled_body) as rogue:
        pleo = PleoExport(
            api_key="sk-deadline-0123", base_url=rogue.url, timeout=5.0, total_timeout=0.5,
            retry=RetryPolicy(max_retries=1, wait_initial=0.01, wait_max=0.01, wait_jitter=0.0),
        )  # fmt: skip
        async with pleo:
            started = time.perf_counter()
            with pytest.raises(APITimeoutError):
                await pleo.jobs.get(JOB)
            elapsed = time.perf_counter() - started
    assert len(rogue.requests) == 2
    assert 0.95 <= elapsed < 2.0


async def test_a_post_cut_by_the_deadline_is_not_repeated() -> None:
    """A job event (POST) cut off mid-answer may have been applied, so it is not retried: one
    request, then APITimeoutError."""
    async with rogue_server(_trickled_body) as rogue:
        pleo = PleoExport(
            api_key="sk-deadline-0123", base_url=rogue.url, timeout=5.0, total_timeout=0.3,
            retry=RetryPolicy(max_retries=3, wait_initial=0.01, wait_max=0.01, wait_jitter=0.0),
        )  # fmt: skip
        async with pleo:
            with pytest.raises(APITimeoutError):
                await pleo.jobs.post_event(JOB, "completed")
    assert len(rogue.requests) == 1


_JOB_BODY = (
    b'{"data": {"id": "' + JOB.encode() + b'", "companyId": "' + JOB.encode() + b'", '
    b'"createdAt": "2024-05-01T10:00:00Z", "expiresIn": 3600, "isInteractive": true, '
    b'"numberOfItems": 0, "status": "pending", "vendorBasedBookkeeping": false}}'
)


def _job_at_once(head: bytes) -> Iterable[Step]:
    return [response(b"200 OK", _JOB_BODY)]


async def test_a_hanging_hook_does_not_hold_the_call(caplog: pytest.LogCaptureFixture) -> None:
    """Async ``on_request`` and ``on_response`` hooks that never return are abandoned after
    ``HOOK_TIMEOUT`` (1 s) each and logged: the job comes back inside the 3 s total deadline.
    Fails (on 0.2's main the call never returned: cut here after 10 s) if a hook is awaited
    without a bound."""

    async def hang(_: object) -> None:
        await asyncio.Event().wait()

    async with rogue_server(_job_at_once) as rogue:
        pleo = PleoExport(api_key="sk-deadline-0123", base_url=rogue.url, total_timeout=3.0,
                          on_request=hang, on_response=hang)  # fmt: skip
        async with pleo:
            started = time.perf_counter()
            async with asyncio.timeout(10):
                job = await pleo.jobs.get(JOB)
            elapsed = time.perf_counter() - started
    assert str(job.id) == JOB
    assert elapsed < 3.0
    abandoned = [r.getMessage() for r in caplog.records if "abandoned" in r.getMessage()]
    assert len(abandoned) == 2
    record(
        "hostile_servers",
        **{"async on_request and on_response hooks that never return, total_timeout=3":
           f"the job after {elapsed:.1f} s; each hook abandoned after 1 s and logged"},
    )  # fmt: skip


async def test_a_slow_sync_hook_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    """A sync hook that holds the event loop longer than ``HOOK_TIMEOUT`` cannot be cut off,
    but it is logged with how long it took; fails if slow sync hooks go unreported."""

    def slow(_: object) -> None:
        time.sleep(1.1)

    async with rogue_server(_job_at_once) as rogue:
        pleo = PleoExport(api_key="sk-deadline-0123", base_url=rogue.url, on_request=slow)
        async with pleo:
            await pleo.jobs.get(JOB)
    assert any("blocking the event loop" in r.getMessage() for r in caplog.records)
