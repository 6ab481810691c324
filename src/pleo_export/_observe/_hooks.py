"""Watching each request: the hook events, the client's ``Observer`` and one call's ``Observation``.

The seam holds an ``Observer`` (shared by a client and its ``with_options`` views) and, for each
call while anything watches, opens an ``Observation`` that runs every attempt: it fires the
hooks, drives the spans of ``_telemetry``, counts retries for ``_metrics`` and hands the final
response to ``with_response``. Nothing here decides whether to retry; ``_retry`` does, and
runs and worker jobs are watched in ``_watch``.
"""

from __future__ import annotations

import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar

import httpx

from .. import _config
from .._config import REQUEST_ID_MAX_CHARS
from .._errors import APIStatusError, request_id
from .._retry import RetryableStatus
from .._secrets import scrub
from . import _meta

if TYPE_CHECKING:
    from ._metrics import Metrics
    from ._telemetry import CallSpan, Tracing

__all__ = [
    "Hook",
    "Observation",
    "Observer",
    "RequestInfo",
    "ResponseInfo",
    "RetryInfo",
    "url_template",
]

logger: Final = logging.getLogger("pleo_export")

E = TypeVar("E")
#: A hook: a function of one event, sync or async; what it returns is ignored.
Hook: TypeAlias = Callable[[E], Awaitable[object] | object]

#: Path segments after these are ids; they appear as the spec's parameter name.
_ID_AFTER: Final = {"export-jobs": "{jobId}"}


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """An attempt about to be sent (``on_request``).

    Attributes:
        method: the HTTP method.
        url_template: the path with ids replaced, e.g. ``/v3/export-jobs/{jobId}/items``.
        attempt: 1 for the first attempt, 2 for the first retry, …
    """

    method: str
    url_template: str
    attempt: int


@dataclass(frozen=True, slots=True)
class ResponseInfo:
    """An attempt that ended (``on_response``): with a response, or with no answer.

    Attributes:
        method, url_template, attempt: as in ``RequestInfo``.
        status_code: the response status, or None when the attempt got no HTTP answer.
        error: the httpx error that ended an unanswered attempt (e.g. ``"ConnectTimeout"``).
        elapsed: seconds the attempt took.
        request_id: Pleo's request id, when the response has one (cut to 128 characters).
    """

    method: str
    url_template: str
    attempt: int
    status_code: int | None
    error: str | None
    elapsed: float
    request_id: str | None


@dataclass(frozen=True, slots=True)
class RetryInfo:
    """A retry about to be sent (``on_retry``), after its wait.

    Attributes:
        method, url_template: as in ``RequestInfo``.
        attempt: the attempt about to be sent (2 or more).
        reason: why: the failed attempt's status (``"503"``) or httpx error
            (``"ReadTimeout"``).
        wait: seconds waited as the server's ``Retry-After`` asked; None when the policy's
            backoff chose the wait.
    """

    method: str
    url_template: str
    attempt: int
    reason: str
    wait: float | None


def url_template(path: str) -> str:
    """A request path with its ids replaced by placeholders: bounded, id-free, for telemetry.

    The segment after ``export-jobs`` becomes ``{jobId}`` as in the spec; any other segment
    that is a UUID or a number becomes ``{id}``.
    """
    segments = path.split("/")
    for index in range(1, len(segments)):
        previous, segment = segments[index - 1], segments[index]
        if not segment:
            continue
        if previous in _ID_AFTER:
            segments[index] = _ID_AFTER[previous]
        elif segment.isdigit() or _is_uuid(segment):
            segments[index] = "{id}"
    return "/".join(segments)


def _is_uuid(text: str) -> bool:
    if len(text) != 36:
        return False
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


class Observer:
    """What watches the requests of one client (and of its ``with_options`` views).

    Args:
        on_request, on_response, on_retry: hooks, sync or async (see the event types).
    """

    __slots__ = ("active", "metrics", "on_request", "on_response", "on_retry", "tracing")

    def __init__(
        self,
        *,
        on_request: Hook[RequestInfo] | None = None,
        on_response: Hook[ResponseInfo] | None = None,
        on_retry: Hook[RetryInfo] | None = None,
    ) -> None:
        self.on_request = on_request
        self.on_response = on_response
        self.on_retry = on_retry
        self.tracing: Tracing | None = None
        self.metrics: Metrics | None = None
        self.active = False
        self.refresh()

    def refresh(self) -> None:
        """Recompute ``active`` after a hook, tracing or metrics was set."""
        parts = (self.on_request, self.on_response, self.on_retry, self.tracing, self.metrics)
        self.active = any(part is not None for part in parts)

    def observe(self, request: httpx.Request, base_path: str) -> Observation | None:
        """An ``Observation`` of one call, or None when nothing watches (the fast path)."""
        if not self.active and not _meta.capturing():
            return None
        return Observation(self, request, base_path)


class Observation:
    """One call, from its first attempt to its final response or error."""

    __slots__ = (
        "_observer",
        "_pending_retry",
        "_request",
        "_span",
        "_started",
        "attempts",
        "method",
        "url_template",
    )

    def __init__(self, observer: Observer, request: httpx.Request, base_path: str) -> None:
        self._observer = observer
        path = request.url.path
        if base_path and path.startswith(base_path):
            path = path[len(base_path) :]
        self._request = request
        self.method = request.method
        self.url_template = url_template(path)
        self.attempts = 0
        self._pending_retry: RetryInfo | None = None
        self._started = time.perf_counter()
        tracing = observer.tracing
        self._span: CallSpan | None = (
            None if tracing is None else tracing.call(self.method, self.url_template, request)
        )

    async def attempt(
        self, run: Callable[[int], Awaitable[httpx.Response]], number: int
    ) -> httpx.Response:
        """Run attempt ``number`` (``run(number)``, which returns a 2xx or raises): fire the
        hooks around it and trace it as a child span of the call."""
        observer = self._observer
        self.attempts = number
        if self._pending_retry is not None:
            retry, self._pending_retry = self._pending_retry, None
            await _fire(observer.on_retry, retry)
        await _fire(observer.on_request, RequestInfo(self.method, self.url_template, number))
        attempt = None if self._span is None else self._span.attempt(self._request, number)
        started = time.perf_counter()
        try:
            response = await run(number)
        except BaseException as exc:
            status, found = _answer(exc)
            if attempt is not None:
                attempt.end(status, None if status is not None else exc)
            if isinstance(exc, Exception):
                await self._answered(number, started, status, found, exc)
            raise
        if attempt is not None:
            attempt.end(response.status_code, None)
        if observer.on_response is not None:
            found = request_id(response.headers)
            await self._answered(number, started, response.status_code, found, None)
        return response

    async def _answered(
        self,
        number: int,
        started: float,
        status: int | None,
        found: str | None,
        error: BaseException | None,
    ) -> None:
        """Fire ``on_response`` for an attempt that ended with ``status``, or unanswered."""
        await _fire(
            self._observer.on_response,
            ResponseInfo(
                method=self.method,
                url_template=self.url_template,
                attempt=number,
                status_code=status,
                error=None if status is not None or error is None else type(error).__name__,
                elapsed=time.perf_counter() - started,
                request_id=None if found is None else scrub(found, REQUEST_ID_MAX_CHARS),
            ),
        )

    def retrying(self, reason: str, wait: float | None) -> None:
        """The retry loop decided to try again; the hook fires as the retry is sent."""
        self._pending_retry = RetryInfo(
            self.method, self.url_template, self.attempts + 1, reason, wait
        )
        if self._observer.metrics is not None:
            self._observer.metrics.retried(self.method, self.url_template, reason)

    def finish(self, response: httpx.Response | None, error: BaseException | None) -> None:
        """End the call: close its span, record metrics, and report a success to
        ``with_response``."""
        elapsed = time.perf_counter() - self._started
        if self._span is not None:
            self._span.end(response, error, self.attempts)
        metrics = self._observer.metrics
        if metrics is not None:
            metrics.called(self.method, self.url_template, elapsed, error)
        if response is not None:
            _meta.record(
                response, attempts=self.attempts, elapsed=elapsed, url_template=self.url_template
            )


def _answer(exc: BaseException) -> tuple[int | None, str | None]:
    """The status and request id of the response an attempt's exception carries, if any."""
    if isinstance(exc, RetryableStatus):
        return exc.response.status_code, request_id(exc.response.headers)
    if isinstance(exc, APIStatusError):
        return exc.status_code, exc.request_id
    return None, None


async def _fire(hook: Hook[Any] | None, event: object) -> None:
    """Call a hook and await it if it is async, for ``HOOK_TIMEOUT`` seconds at most.

    A hook that raises is logged, not propagated; an async one still running at the bound is
    cancelled and logged; a sync one that took longer is logged (it held the event loop).
    """
    if hook is None:
        return
    bound = _config.HOOK_TIMEOUT
    kind = type(event).__name__
    started = time.perf_counter()
    try:
        result = hook(event)
        if inspect.isawaitable(result):
            import asyncio

            try:
                await asyncio.wait_for(result, bound)
            except TimeoutError:
                logger.warning("pleo_export: a %s hook ran over %gs and was abandoned", kind, bound)
            return
    except Exception:
        logger.exception("pleo_export: a %s hook raised", kind)
        return
    if (took := time.perf_counter() - started) > bound:
        logger.warning(
            "pleo_export: a sync %s hook took %.1fs, blocking the event loop (bound %gs)",
            kind,
            took,
            bound,
        )
