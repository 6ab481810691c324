"""The one seam between the facade and the generated client.

Requests are built by the generated ``_get_kwargs`` of each endpoint module, sent on the shared
``httpx.AsyncClient`` with auth, retries and logging, and every failure is turned into a
``PleoError`` here: non-2xx statuses (documented or not), transport errors, and (through
``_parse``) 2xx bodies that do not parse. ``_Call`` holds one request's steps: its attempts,
the retry decision between them and its final error. ``RawTransport`` routes the generated
client that ``PleoExport.raw`` hands out through the same path. Nothing else in the facade
calls the generated endpoints' I/O.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from http import HTTPStatus
from typing import Any, Final

import httpx

from .._budget import RequestBudget
from .._config import DEFAULT_MAX_EMPTY_PAGES, DEFAULT_MAX_RESPONSE_BYTES
from .._errors import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    PleoError,
    ResponseTooLargeError,
    ResponseValidationError,
    body_snippet,
    status_error,
)
from .._observe._hooks import Observation, Observer
from .._retry import (
    RetryableStatus,
    RetryPolicy,
    retry_after,
    retry_after_first,
    should_retry_status,
    transport_error_is_safe_to_retry,
)
from .._secrets import scrub, scrub_chain
from ._limits import DeadlineExceeded, Deadlines, read_capped, total_deadline
from ._parse import FromDict, parse

__all__ = ["RawTransport", "Seam", "logger"]

logger: Final = logging.getLogger("pleo_export")

#: Methods whose repetition cannot change the outcome; other requests retry only when the SDK
#: says it made them safe (see ``Seam.send``).
_IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: Hop-by-hop or encoding headers that no longer describe a body httpx has already decoded.
_STALE_HEADERS: Final = ("content-encoding", "content-length", "transfer-encoding")
#: Headers every ``httpx.AsyncClient`` adds on its own; on a request of the generated client's
#: front client they are httpx's defaults, not choices, so the seam's own replace them.
_CLIENT_DEFAULT_HEADERS: Final = frozenset(
    {"accept", "accept-encoding", "connection", "content-length", "host", "user-agent"}
)


class _Lifetime:
    """Whether a client is closed, shared by its seam and every seam derived from it."""

    __slots__ = ("closed",)

    def __init__(self) -> None:
        self.closed = False


class Seam:
    """Sends requests with auth, retries and logging, and parses or maps every response."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        base_url: str,
        auth: httpx.Auth | None,
        retry: RetryPolicy,
        timeout: httpx.Timeout | None,
        headers: dict[str, str],
        total_timeout: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_empty_pages: int = DEFAULT_MAX_EMPTY_PAGES,
        observer: Observer | None = None,
        budget: RequestBudget | None = None,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self._auth: Any = auth if auth is not None else httpx.USE_CLIENT_DEFAULT
        self._timeout: Any = timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT
        self._headers = headers
        #: Ends attempts that take longer in all than the total deadline; see ``_limits``.
        self.deadlines = Deadlines(total_deadline(timeout or http.timeout, total_timeout))
        self.max_response_bytes = max_response_bytes
        self.max_empty_pages = max_empty_pages
        # Set by ``close()`` (``PleoExport.aclose()``); one object shared by every derived
        # seam, so a ``with_options`` view is closed with its client.
        self._lifetime = _Lifetime()
        #: Hooks, tracing and metrics; shared with every ``with_options`` view of the client.
        self.observer = Observer() if observer is None else observer
        self._base_path = httpx.URL(self.base_url).path.rstrip("/")
        #: Pleo's request budget, shared with every view (None: no budget); see ``_budget``.
        self.budget = budget

    @property
    def closed(self) -> bool:
        """Whether the client was closed: every call from then on is a ``ClientClosedError``."""
        return self._lifetime.closed

    def close(self) -> None:
        """Close this seam and every seam derived from it, or it from (the views)."""
        self._lifetime.closed = True

    def derived(
        self,
        *,
        timeout: httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Seam:
        """A copy on the same pool, auth and observer with these settings (None: keep this
        seam's); ``headers`` are added to this seam's, replacing same-named ones in any case.

        A new ``timeout`` brings its own total deadline, twice its read timeout, so a view made
        for one slow call is not cut short by this seam's."""
        view = copy.copy(self)
        if timeout is not None:
            view._timeout = timeout
            view.deadlines = Deadlines(total_deadline(timeout, None))
        if retry is not None:
            view.retry = retry
        if headers is not None:
            replaced = {name.lower() for name in headers}
            kept = {k: v for k, v in self._headers.items() if k.lower() not in replaced}
            view._headers = {**kept, **headers}
        return view

    def build(self, kwargs: dict[str, Any]) -> httpx.Request:
        """Turn a generated endpoint's ``_get_kwargs()`` into a request on the shared client."""
        return self.http.build_request(
            method=kwargs["method"],
            url=self.base_url + kwargs["url"],
            params=kwargs.get("params"),
            json=kwargs.get("json"),
            headers={**self._headers, **kwargs.get("headers", {})},
            timeout=self._timeout,
        )

    def adopt(self, request: httpx.Request) -> httpx.Request:
        """Rebuild a request made by another client (``PleoExport.raw``) as ``build`` would.

        It then carries the shared client's and the SDK's headers (User-Agent, ``default_headers``)
        and the SDK's timeout instead of the generated client's httpx defaults.
        """
        own = {k: v for k, v in request.headers.items() if k not in _CLIENT_DEFAULT_HEADERS}
        return self.http.build_request(
            method=request.method,
            url=request.url,
            content=request.content,
            headers={**self._headers, **own},
            timeout=self._timeout,
        )

    async def call(
        self,
        kwargs: dict[str, Any],
        model: type[FromDict] | None,
        *,
        retry_post: bool = False,
        on_attempt: Callable[[httpx.Response | Exception], None] | None = None,
    ) -> Any:
        """Send a generated request and parse a 2xx body into ``model`` (None: no body)."""
        request = self.build(kwargs)
        response = await self.send(request, retry_post=retry_post, on_attempt=on_attempt)
        return None if model is None else parse(response, model)

    def send(
        self,
        request: httpx.Request,
        *,
        retry_post: bool = False,
        on_attempt: Callable[[httpx.Response | Exception], None] | None = None,
    ) -> Coroutine[Any, Any, httpx.Response]:
        """Send with retries; await it for a read 2xx response or a ``PleoError``.

        See ``_Call``. When anything watches (hooks, spans, metrics, ``with_response``), the
        call runs inside an ``Observation``; otherwise this hands back ``_Call.run``'s
        coroutine itself, so an unwatched request pays no extra frame
        (benchmarks/bench_request.py).
        """
        observation = self.observer.observe(request, self._base_path)
        call = _Call(self, request, retry_post, on_attempt, observation)
        if observation is None:
            return call.run()
        return _observed(call, observation)

    def _shut(self) -> bool:
        """Whether this client or the pool under it is closed (``aclose()`` cut a call off)."""
        return self._lifetime.closed or self.http.is_closed


async def _observed(call: _Call, observation: Observation) -> httpx.Response:
    """``call`` inside ``observation``, which ends with the call's response or error."""
    try:
        response = await call.run()
    except BaseException as exc:
        observation.finish(None, exc)
        raise
    observation.finish(response, None)
    return response


class _Call:
    """One request through the seam, from its first attempt to a read 2xx or a ``PleoError``.

    GET and PUT retry on timeouts, connection errors, 408, 429 and 5xx. Other methods retry on
    those only when ``retry_post`` says the caller reconciles a repeated request (job events
    do); otherwise just on 429 and on failures that happen before sending. ``on_attempt`` is
    called as each attempt ends, with its response (any status) or the httpx error that ended
    it, so a caller can tell what an earlier attempt may have done. Each attempt, body
    included, must end within the total deadline (``deadlines``) and ``max_response_bytes``
    bytes; a closed client raises ``ClientClosedError``. The steps: ``run`` (attempt 1, then the
    retry loop, then the final error), ``attempt`` (budget, ``exchange``, status),
    ``should_retry`` (the loop's decision) and ``failed`` (the error of a call with no answer).
    """

    __slots__ = (
        "budget",
        "idempotent",
        "method",
        "number",
        "observation",
        "on_attempt",
        "path",
        "policy",
        "request",
        "seam",
    )

    def __init__(
        self,
        seam: Seam,
        request: httpx.Request,
        retry_post: bool,
        on_attempt: Callable[[httpx.Response | Exception], None] | None,
        observation: Observation | None,
    ) -> None:
        self.seam = seam
        self.request = request
        self.method, self.path = request.method, request.url.path
        self.idempotent = retry_post or request.method in _IDEMPOTENT_METHODS
        self.on_attempt = on_attempt
        self.observation = observation
        self.policy = seam.retry
        self.budget = seam.budget
        #: The attempt running now (1-based): read by ``should_retry`` and ``failed``.
        self.number = 0

    async def run(self) -> httpx.Response:
        """Send with retries; return a read 2xx response or raise a ``PleoError``."""
        method, path = self.method, self.path
        if self.seam._lifetime.closed:  # a caller's own closed http_client: see ``exchange``
            raise ClientClosedError(method=method, path=path)
        observation = self.observation
        try:
            # Attempt 1 runs outside the retry loop, which is set up only for a retryable
            # failure (see ``retry_after_first``).
            try:
                if observation is not None:
                    return await observation.attempt(self.attempt, 1)
                return await self.attempt(1)
            except (RetryableStatus, httpx.TransportError) as exc:
                first_failure = exc
            again: Callable[[int], Awaitable[httpx.Response]] = self.attempt
            if observation is not None:
                again = functools.partial(observation.attempt, self.attempt)
            return await retry_after_first(self.policy, self.should_retry, again, first_failure)
        except RetryableStatus as exc:
            raise status_error(exc.response, method=method, path=path) from None
        except httpx.RequestError as exc:
            raise self.failed(exc) from exc

    async def attempt(self, number: int) -> httpx.Response:
        """Attempt ``number``: a budget token, then ``exchange``, then its status judged.

        Returns a 2xx response; raises ``RetryableStatus`` for a status worth retrying, the
        httpx error that ended the attempt, or the ``PleoError`` of its status.
        """
        self.number = number
        method, path, budget = self.method, self.path, self.budget
        # Every attempt spends a token of the budget before its deadline starts: waiting for
        # the budget is not a timeout of the call.
        if budget is not None and not budget.take():
            await budget.wait()
        started = time.perf_counter()
        try:
            response = await self.exchange()
        except httpx.HTTPError as exc:  # an attempt with no answer is logged too
            scrub_chain(exc)  # before anyone reads its text: h11 may quote a header
            if self.on_attempt is not None:
                self.on_attempt(exc)
            logger.debug(
                "%s %s -> %s in %.1f ms (attempt %d)",
                method,
                path,
                type(exc).__name__,
                (time.perf_counter() - started) * 1000,
                number,
            )
            raise
        logger.debug(
            "%s %s -> %d in %.1f ms (attempt %d)",
            method,
            path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
            number,
        )
        if self.on_attempt is not None:
            self.on_attempt(response)
        if self.seam._lifetime.closed:  # closed while in flight on a pool aclose() leaves open
            raise ClientClosedError(method=method, path=path)
        status = response.status_code
        if 200 <= status < 300:
            return response
        if status == 429 and budget is not None:
            budget.throttled(retry_after(response.headers, cap=self.policy.retry_after_max))
        if should_retry_status(status) and (self.idempotent or status == 429):
            raise RetryableStatus(response)
        raise status_error(response, method=method, path=path)

    async def exchange(self) -> httpx.Response:
        """Send the request and read its body, within the total deadline and the size cap."""
        seam, request, method, path = self.seam, self.request, self.method, self.path
        deadline = seam.deadlines.start()
        try:
            try:
                response = await seam.http.send(request, auth=seam._auth, stream=True)
                if not response.is_stream_consumed:  # else the transport (Mock, ASGI) read it
                    await read_capped(response, seam.max_response_bytes, method=method, path=path)
                elif len(response.content) > seam.max_response_bytes:
                    raise ResponseTooLargeError(
                        limit=seam.max_response_bytes, method=method, path=path
                    )
            except asyncio.CancelledError:
                seam.deadlines.check(deadline, request)  # ours: DeadlineExceeded instead
                raise
            finally:
                seam.deadlines.finish(deadline)
        except RuntimeError:  # httpx refuses to send on a closed client
            if seam._shut():
                raise ClientClosedError(method=method, path=path) from None
            raise
        return response

    def should_retry(self, exc: Exception) -> bool | float:
        """The retry loop's decision after attempt ``number`` failed with ``exc``: False, True,
        or the seconds Retry-After asks for. A retry is logged and told to the observation."""
        method, path, observation = self.method, self.path, self.observation
        if self.number > self.policy.max_retries or self.seam._shut():
            return False  # the last attempt, or the pool is gone: no "retrying" to log
        if isinstance(exc, RetryableStatus):
            wait = retry_after(exc.response.headers, cap=self.policy.retry_after_max)
            logger.info(
                "retrying %s %s after status %d%s",
                method,
                path,
                exc.response.status_code,
                f" (Retry-After {wait:g}s)" if wait is not None else "",
            )
            if observation is not None:
                observation.retrying(str(exc.response.status_code), wait)
            return True if wait is None else wait
        if isinstance(exc, httpx.TransportError):
            retry = transport_error_is_safe_to_retry(exc, idempotent=self.idempotent)
            if retry:
                logger.info("retrying %s %s after %s", method, path, type(exc).__name__)
                if observation is not None:
                    observation.retrying(type(exc).__name__, None)
            return retry
        return False

    def failed(self, exc: httpx.RequestError) -> PleoError:
        """The error of a call whose last attempt ended with ``exc`` and no usable answer."""
        method, path = self.method, self.path
        if not isinstance(exc, httpx.TransportError):  # DecodingError, TooManyRedirects
            return APIConnectionError(
                f"request failed: {type(exc).__name__}: {scrub(str(exc))}", method=method, path=path
            )
        if self.seam._shut():  # cut off by aclose(), not by the network
            return ClientClosedError(method=method, path=path)
        tries = f" after {self.number} attempt{'s' if self.number > 1 else ''}"
        if isinstance(exc, httpx.TimeoutException):
            detail = f": {exc}" if isinstance(exc, DeadlineExceeded) else ""
            return APITimeoutError(
                f"timed out{tries}: {type(exc).__name__}{detail}", method=method, path=path
            )
        return APIConnectionError(
            f"connection failed{tries}: {type(exc).__name__}: {scrub(str(exc))}",
            method=method,
            path=path,
        )


class RawTransport(httpx.AsyncBaseTransport):
    """Routes requests of the generated client through ``Seam.send``.

    The generated client's own ``httpx.AsyncClient`` then needs no pool: the shared one, with
    its auth, retries and typed errors, does the work. A non-2xx answer raises the typed error
    before the generated code could half-parse it (v0/v1 declare only a ``default`` response).
    """

    def __init__(self, seam: Seam) -> None:
        self._seam = seam

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the seam and hand back an already-decoded copy of the response."""
        response = await self._seam.send(self._seam.adopt(request))
        try:
            HTTPStatus(response.status_code)
        except ValueError:
            raise ResponseValidationError(
                f"undocumented status {response.status_code}",
                method=request.method,
                path=request.url.path,
                body_snippet=body_snippet(response.content),
            ) from None
        headers = [(k, v) for k, v in response.headers.multi_items() if k not in _STALE_HEADERS]
        return httpx.Response(
            response.status_code, headers=headers, content=response.content, request=request
        )
