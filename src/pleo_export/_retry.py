"""What the SDK retries, and how long it waits; stamina does the looping.

Policy lives in plain functions (``should_retry_status``, ``retry_after``) so it can be tested
without an event loop. This is the only module that imports stamina. stamina's retry hooks are
process-wide; ``route_retry_notices`` keeps the SDK's own retries out of them (the SDK logs those
on ``pleo_export``) and leaves every other retry to whatever hooks the application configured.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TypeVar

import httpx

if TYPE_CHECKING:
    import stamina
    from stamina.instrumentation import RetryDetails, RetryHook

from ._config import (
    DEFAULT_MAX_RETRIES,
    RETRY_AFTER_MAX,
    RETRY_WAIT_INITIAL,
    RETRY_WAIT_JITTER,
    RETRY_WAIT_MAX,
)
from ._errors import InvalidArgumentError

__all__ = [
    "RetryPolicy",
    "RetryableStatus",
    "attempts",
    "retry_after",
    "retry_after_first",
    "route_retry_notices",
    "should_retry_status",
    "transport_error_is_safe_to_retry",
]

#: Statuses worth another attempt: request timeout, rate limit, and every server error.
_RETRY_STATUSES: Final = frozenset({408, 429})
#: Failures that happen before the request reaches the server: safe to retry even for a POST.
_NOT_SENT_ERRORS: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: The name stamina reports for the SDK's retry loop, which is how the router tells it apart.
RETRY_LOOP_NAME: Final = "pleo_export.request"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How the SDK retries a failed attempt.

    The wait before retry *n* (1-based) is ``min(wait_initial * 2**(n-1), wait_max)`` plus up to
    ``wait_jitter`` seconds at random, unless the response has a ``Retry-After`` header: then
    that wait is used, capped at ``retry_after_max``. Defaults: 3 retries; 0.5 s, 1 s, 2 s …
    capped at 8 s; 0.5 s jitter; Retry-After capped at 60 s.

    Args:
        max_retries: attempts after the first one; 0 turns retrying off.
        wait_initial: the first backoff, in seconds.
        wait_max: the longest backoff, in seconds.
        wait_jitter: the most random seconds added to each backoff.
        retry_after_max: the longest ``Retry-After`` the SDK honours, in seconds.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    wait_initial: float = RETRY_WAIT_INITIAL
    wait_max: float = RETRY_WAIT_MAX
    wait_jitter: float = RETRY_WAIT_JITTER
    retry_after_max: float = RETRY_AFTER_MAX

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise InvalidArgumentError("max_retries", f"must be >= 0, got {self.max_retries}")


class RetryableStatus(Exception):
    """Raised inside an attempt whose response is worth retrying; carries that response."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def should_retry_status(status_code: int) -> bool:
    """Whether a response status is transient: 408, 429 or any 5xx."""
    return status_code in _RETRY_STATUSES or status_code >= 500


def transport_error_is_safe_to_retry(exc: httpx.TransportError, *, idempotent: bool) -> bool:
    """Any transport error for an idempotent request; only never-sent ones otherwise."""
    return idempotent or isinstance(exc, _NOT_SENT_ERRORS)


def retry_after(
    headers: httpx.Headers, *, cap: float, now: dt.datetime | None = None
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), capped.

    Returns None when the header is absent or unreadable, so the normal backoff applies.
    """
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - (now or dt.datetime.now(dt.UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap)


def attempts(
    policy: RetryPolicy, on: Callable[[Exception], bool | float]
) -> AsyncIterator[stamina.Attempt]:
    """The stamina retry loop for one request: ``async for attempt in attempts(...)``."""
    # Imported here: the seam only enters the loop after a first attempt failed, so a process
    # whose requests all succeed never loads stamina and tenacity (~10 ms of import time).
    import stamina

    route_retry_notices()
    return stamina.retry_context(
        on=on,
        attempts=policy.max_retries + 1,
        timeout=None,
        wait_initial=policy.wait_initial,
        wait_max=policy.wait_max,
        wait_jitter=policy.wait_jitter,
    ).with_name(RETRY_LOOP_NAME, (), {})


async def retry_after_first(
    policy: RetryPolicy,
    on: Callable[[Exception], bool | float],
    attempt: Callable[[int], Awaitable[T]],
    first: Exception,
) -> T:
    """Go on retrying ``attempt`` after a first attempt, made outside any loop, failed with
    ``first``.

    Callers run attempt 1 themselves because setting up the loop costs about as much as a fast
    request (benchmarks/bench_request.py). ``first`` is replayed into the loop as its attempt 1,
    so the retry decision (``on``), the waits and the attempt numbers are exactly those of a
    loop that ran it; ``attempt`` is called with the number of each later attempt.
    """
    pending: Exception | None = first
    async for each in attempts(policy, on):
        with each:
            if pending is not None:
                failure, pending = pending, None
                raise failure
            return await attempt(each.num)
    raise AssertionError("unreachable: the retry loop either returns or raises")


class _RetryNoticeRouter:
    """A stamina retry hook that passes every retry but the SDK's own to the hooks configured
    before it; the seam logs the SDK's retries on ``pleo_export`` (INFO, with the cause)."""

    def __init__(self, others: Sequence[RetryHook]) -> None:
        self.others = tuple(others)

    def __call__(self, details: RetryDetails) -> None:
        if details.name == RETRY_LOOP_NAME:
            return
        for hook in self.others:
            hook(details)


def route_retry_notices() -> None:
    """Put the SDK's router in front of stamina's current retry hooks, unless it already is.

    stamina's default hook logs every retry as a bare ``stamina.retry_scheduled`` WARNING,
    which reaches stderr in any program that has not configured logging. The router takes the
    SDK's own retries out of the hooks (the seam logs each on ``pleo_export`` at INFO, with the
    method, path and cause) and passes every other retry on unchanged, so an
    application's hooks (structlog, Prometheus, its own) keep seeing its own retries. It is
    checked before each retry loop, so hooks the application sets later are wrapped in turn.
    """
    from stamina.instrumentation import get_on_retry_hooks, set_on_retry_hooks

    hooks = get_on_retry_hooks()
    if len(hooks) == 1 and isinstance(hooks[0], _RetryNoticeRouter):
        return
    set_on_retry_hooks([_RetryNoticeRouter(hooks)])
