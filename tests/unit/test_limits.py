"""``_limits``: the total deadline's default, the one-timer ``Deadlines`` and the capped reader."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from pleo_export import ResponseTooLargeError
from pleo_export._wire._limits import DeadlineExceeded, Deadlines, read_capped, total_deadline

REQUEST = httpx.Request("GET", "http://127.0.0.1/v3/export-jobs")


def test_total_deadline_defaults_to_twice_the_read_timeout() -> None:
    """An explicit total wins; else twice the read timeout; no read timeout means none."""
    assert total_deadline(httpx.Timeout(60.0, connect=5.0), None) == 120.0
    assert total_deadline(httpx.Timeout(1.0), 7.5) == 7.5
    assert total_deadline(httpx.Timeout(None), None) is None
    assert total_deadline(None, None) is None


async def _attempt(deadlines: Deadlines, seconds: float) -> str:
    token = deadlines.start()
    try:
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            deadlines.check(token, REQUEST)
            raise
        finally:
            deadlines.finish(token)
    except DeadlineExceeded:
        return "deadline"
    return "done"


async def test_deadlines_cut_only_the_overdue_attempts() -> None:
    """Of attempts started together, those longer than the deadline end in DeadlineExceeded
    at about the deadline; shorter ones finish; one timer serves them all."""
    deadlines = Deadlines(0.2)
    started = time.perf_counter()
    outcomes = await asyncio.gather(
        _attempt(deadlines, 0.05), _attempt(deadlines, 5), _attempt(deadlines, 5)
    )
    assert outcomes == ["done", "deadline", "deadline"]
    assert 0.19 <= time.perf_counter() - started < 1.0


async def test_a_later_attempt_gets_its_own_full_deadline() -> None:
    """An attempt that starts after another keeps its whole deadline (the timer re-arms)."""
    deadlines = Deadlines(0.2)
    first = asyncio.create_task(_attempt(deadlines, 5))
    await asyncio.sleep(0.15)
    started = time.perf_counter()
    second = await _attempt(deadlines, 0.1)  # ends 0.25 s after the first began: not cut
    assert second == "done"
    assert await first == "deadline"
    assert time.perf_counter() - started < 0.5


async def test_an_outside_cancellation_stays_a_cancellation() -> None:
    """Cancelling the task from outside is not turned into DeadlineExceeded."""
    deadlines = Deadlines(10.0)
    task = asyncio.create_task(_attempt(deadlines, 5))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def _streamed(chunks: list[bytes], headers: dict[str, str] | None = None) -> httpx.Response:
    async def body() -> object:
        for chunk in chunks:
            yield chunk

    return httpx.Response(200, headers=headers, content=body(), request=REQUEST)  # type: ignore[arg-type]


async def test_read_capped_reads_up_to_the_limit_and_refuses_past_it() -> None:
    """Exactly ``limit`` bytes are read into ``content``; one more is ResponseTooLargeError
    and the response is closed."""
    ok = _streamed([b"a" * 6, b"b" * 4])
    await read_capped(ok, 10, method="GET", path="/x")
    assert ok.content == b"a" * 6 + b"b" * 4
    big = _streamed([b"a" * 6, b"b" * 5])
    with pytest.raises(ResponseTooLargeError, match="max_response_bytes=10"):
        await read_capped(big, 10, method="GET", path="/x")
    assert big.is_closed


async def test_read_capped_refuses_a_declared_length_unread() -> None:
    """A Content-Length over the limit is refused before the first chunk is read."""
    read: list[bytes] = []

    async def body() -> object:
        read.append(b"x")
        yield b"x"

    response = httpx.Response(
        200,
        headers={"content-length": "11"},
        content=body(),
        request=REQUEST,  # type: ignore[arg-type]
    )
    with pytest.raises(ResponseTooLargeError, match="declares 11 bytes"):
        await read_capped(response, 10, method="GET", path="/x")
    assert read == []
