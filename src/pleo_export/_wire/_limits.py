"""Bounds on what one attempt may cost: a total deadline and a response size cap.

``Deadlines`` cancels attempts that outlive their deadline, with one timer per client rather
than one per attempt; ``read_capped`` reads a streamed body, counting the decoded bytes, and
drops the connection at the cap. The seam applies both; the retry decisions stay in ``_retry``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from .._config import TOTAL_TIMEOUT_FACTOR
from .._errors import ResponseTooLargeError

__all__ = ["DeadlineExceeded", "Deadlines", "read_capped", "total_deadline"]


class DeadlineExceeded(httpx.TimeoutException):
    """An attempt outlived its total deadline; retried and reported like httpx's timeouts."""


def total_deadline(timeout: httpx.Timeout | None, total: float | None) -> float | None:
    """The seconds one attempt may take: ``total`` if given, else twice the read timeout.

    None (no deadline) when neither is set, as with ``httpx.Timeout(None)``.
    """
    if total is not None:
        return total
    if timeout is None or timeout.read is None:
        return None
    return timeout.read * TOTAL_TIMEOUT_FACTOR


class Deadlines:
    """Cancels each attempt still running ``seconds`` after it began.

    ``asyncio.timeout`` would schedule and cancel a timer per attempt, about as costly as the
    rest of the seam's own work on a fast request (benchmarks/bench_request.py). Here an
    attempt only notes when it started; one timer per event loop wakes at the oldest running
    attempt's deadline, cancels whatever is overdue, and sleeps until the next one is due.
    Attempts start in order, so the oldest is always the first entry.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        #: The task of each attempt running now (a task runs one attempt at a time) and when
        #: it is due, oldest first; and those this class cancelled.
        self._running: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> asyncio.Task[Any] | None:
        """Note that an attempt begins in the current task; return the token for ``finish``."""
        if self.seconds is None:
            return None
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        assert task is not None  # the seam is always awaited from a task
        due = loop.time() + self.seconds
        self._running[task] = due
        if self._timer is None or self._loop is not loop:
            self._loop = loop
            self._timer = loop.call_at(due, self._expire)
        return task

    def check(self, token: asyncio.Task[Any] | None, request: httpx.Request) -> None:
        """Called on a ``CancelledError`` in the attempt: if this class cancelled it (and no one
        else did too), raise ``DeadlineExceeded`` instead.
        """
        if token is not None and token in self._expired and token.uncancel() == 0:
            raise DeadlineExceeded(
                f"the attempt outlived its total deadline of {self.seconds:g} s", request=request
            ) from None

    def finish(self, token: asyncio.Task[Any] | None) -> None:
        """Note that the attempt of ``token`` ended, however it ended."""
        if token is not None:
            self._running.pop(token, None)
            if self._expired:
                self._expired.discard(token)

    def _expire(self) -> None:
        """Cancel the overdue attempts; wake again when the oldest left is due."""
        assert self._loop is not None
        now = self._loop.time()
        for task, due in list(self._running.items()):
            if due > now:
                self._timer = self._loop.call_at(due, self._expire)
                return
            del self._running[task]
            self._expired.add(task)
            task.cancel()
        self._timer = None


async def read_capped(response: httpx.Response, limit: int, *, method: str, path: str) -> None:
    """Read a streamed response's body into ``response.content``, at most ``limit`` bytes.

    Only for a stream not yet read: a transport that answers with bytes (MockTransport, ASGI)
    hands over a response already read, whose ``content`` the seam checks directly.

    The bytes are counted as httpx decodes them, so a small gzip body that inflates past the
    limit is stopped too (after at most one network chunk's inflation).

    Raises:
        ResponseTooLargeError: the body declares or reaches more than ``limit`` bytes; the
            response is closed, which drops its connection rather than return it to the pool.
    """
    try:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            # Even compressed, the body on the wire alone is over the cap: refuse it unread.
            raise ResponseTooLargeError(
                limit=limit, method=method, path=path, declared=int(declared)
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise ResponseTooLargeError(limit=limit, method=method, path=path)
            chunks.append(chunk)
    except BaseException:
        await response.aclose()
        raise
    # What ``Response.aread`` stores (its stream is already closed by the last chunk); set
    # here because the bytes were read with a counter.
    response._content = b"".join(chunks)
