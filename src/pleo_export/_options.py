"""Per-call settings: checking what ``PleoExport.with_options`` is given.

The view itself is ``Seam.derived``: the connection pool, auth, base URL and ``Observer`` stay
shared objects, and only the timeout, retry policy and headers are the view's own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import httpx

from ._config import CONNECT_TIMEOUT
from ._errors import InvalidArgumentError
from ._validation import check_int
from ._wire import Seam

__all__ = ["derive_seam"]


def derive_seam(
    seam: Seam,
    *,
    timeout: httpx.Timeout | float | None,
    max_retries: int | None,
    headers: Mapping[str, str] | None,
) -> Seam:
    """A view of ``seam`` with the given settings replaced; None keeps the seam's own.

    Raises:
        InvalidArgumentError: a negative ``max_retries`` or timeout, or a non-string header.
    """
    retry = None
    if max_retries is not None:
        max_retries = check_int(max_retries, "max_retries", minimum=0)
        retry = dataclasses.replace(seam.retry, max_retries=max_retries)
    if headers is not None:
        for name, value in headers.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise InvalidArgumentError("headers", f"names and values must be strings: {name!r}")
    return seam.derived(
        timeout=None if timeout is None else _timeout(timeout), retry=retry, headers=headers
    )


def _timeout(timeout: httpx.Timeout | float) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise InvalidArgumentError("timeout", f"must be a number of seconds > 0, got {timeout!r}")
    return httpx.Timeout(timeout, connect=CONNECT_TIMEOUT)
