"""Bounds on what one attempt may cost: a total deadline and a response size cap.

``read_capped`` reads a streamed body, counting the decoded bytes, and drops the connection at
the cap; ``DeadlineExceeded`` is the timeout an attempt ends with when the whole exchange took
longer than its deadline. The seam applies both; the retry decisions stay in ``_retry``.
"""

from __future__ import annotations

import httpx

from ._config import TOTAL_TIMEOUT_FACTOR
from ._errors import ResponseTooLargeError

__all__ = ["DeadlineExceeded", "read_capped", "total_deadline"]


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


async def read_capped(response: httpx.Response, limit: int, *, method: str, path: str) -> None:
    """Read a streamed response's body into ``response.content``, at most ``limit`` bytes.

    The bytes are counted as httpx decodes them, so a small gzip body that inflates past the
    limit is stopped too (after at most one network chunk's inflation).

    Raises:
        ResponseTooLargeError: the body declares or reaches more than ``limit`` bytes; the
            response is closed, which drops its connection rather than return it to the pool.
    """
    try:
        declared = response.headers.get("content-length")
        if (  # an unencoded body that says it is too large is refused before reading it
            declared is not None
            and declared.isdigit()
            and "content-encoding" not in response.headers
            and int(declared) > limit
        ):
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
    # What ``Response.aread`` stores; set here because the bytes were read with a counter.
    response._content = b"".join(chunks)
    await response.aclose()
