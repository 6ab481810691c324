"""The one seam between the facade and the generated client.

Requests are built by the generated ``_get_kwargs`` of each endpoint module, sent on the shared
``httpx.AsyncClient`` with auth, retries and logging, and every failure is turned into a
``PleoError`` here: non-2xx statuses (documented or not), transport errors, and 2xx bodies that
do not parse. ``RawTransport`` routes the generated client that ``PleoExport.raw`` hands out
through the same path. Nothing else in the facade calls the generated endpoints' I/O.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import gc
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from types import ModuleType, SimpleNamespace
from typing import Any, Final, Protocol, TypeVar

import httpx
from pleo_export_raw.errors import UnexpectedStatus
from pleo_export_raw.types import Unset

from .._budget import RequestBudget
from .._config import DEFAULT_MAX_EMPTY_PAGES, DEFAULT_MAX_RESPONSE_BYTES
from .._errors import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
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

__all__ = ["RawTransport", "Seam", "endpoint_kwargs", "json_loads", "logger", "unset_to_none"]

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

#: ``Seam.parse`` without a body decoded beforehand.
_UNREAD: Final = object()
#: What a parser may raise on a hostile body besides its own errors: ``[[[[…`` nested deeper
#: than the stack (RecursionError) or a document too large to build.
_PARSE_LIMITS: Final = (RecursionError, MemoryError)

#: What a generated ``_parse_response`` reads from its client: undocumented 2xx statuses raise.
_PARSE_OPTIONS: Final = SimpleNamespace(raise_on_unexpected_status=True)

try:  # orjson decodes large pages faster; the [fast] extra installs it.
    import orjson

    json_loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - exercised when the extra is absent
    json_loads = json.loads


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Keep the cyclic GC out of decoding one response or building its models.

    A page of 100 export items is thousands of new containers at once (decoded JSON, then
    models); collections triggered halfway traverse and promote them again and again, about a
    quarter of the time of streaming items (benchmarks/bench_pagination.py). Nothing built here
    forms a cycle, so reference counting frees what is dropped, and the GC resumes right after.
    A GC the application turned off stays off.
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _loads(response: httpx.Response) -> Any:
    """The JSON body of a 2xx response, as a typed error if it is not JSON (deep nesting too)."""
    try:
        return json_loads(response.content)
    except (ValueError, *_PARSE_LIMITS):
        request = response.request
        raise ResponseValidationError(
            "the response body is not JSON",
            method=request.method,
            path=request.url.path,
            body_snippet=body_snippet(response.content),
        ) from None


class _Lifetime:
    """Whether a client is closed, shared by its seam and every seam derived from it."""

    __slots__ = ("closed",)

    def __init__(self) -> None:
        self.closed = False


class _FromDict(Protocol):
    @classmethod
    def from_dict(cls, src_dict: Any) -> Any: ...


M = TypeVar("M", bound=_FromDict)


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
        model: type[M] | None,
        *,
        retry_post: bool = False,
        on_attempt: Callable[[httpx.Response | Exception], None] | None = None,
    ) -> Any:
        """Send a generated request and parse a 2xx body into ``model`` (None: no body)."""
        request = self.build(kwargs)
        response = await self.send(request, retry_post=retry_post, on_attempt=on_attempt)
        return None if model is None else self.parse(response, model)

    def decode(self, response: httpx.Response) -> Any:
        """The JSON body of a 2xx response, as a typed error if it is not JSON."""
        with _gc_paused():  # decoding: see _gc_paused
            return _loads(response)

    def parse(self, response: httpx.Response, model: type[M], *, body: Any = _UNREAD) -> Any:
        """Parse a 2xx response with a generated model, as a typed error if it does not fit.

        ``body`` is the response's JSON when the caller already decoded it (``decode``).
        The GC is paused once for decoding and building together, inline rather than with
        ``_gc_paused``: a context manager per step cost about 1 µs a request
        (benchmarks/bench_request.py).
        """
        enabled = gc.isenabled()
        if enabled:
            gc.disable()
        try:
            data = _loads(response) if body is _UNREAD else body
            try:
                return model.from_dict(data)
            except (KeyError, TypeError, ValueError, AttributeError, *_PARSE_LIMITS) as exc:
                request = response.request
                raise ResponseValidationError(
                    # The parser's message can quote a whole field: a hostile 1 MB string would
                    # make a 1 MB error message. Cut it like a body snippet.
                    f"the response does not match {model.__name__} "
                    f"({type(exc).__name__}: {body_snippet(str(exc).encode())})",
                    method=request.method,
                    path=request.url.path,
                    body_snippet=body_snippet(response.content),
                ) from exc
        finally:
            if enabled:
                gc.enable()

    def parse_generated(self, module: ModuleType, response: httpx.Response) -> Any:
        """Parse a 2xx response with a generated endpoint module's own parser."""
        request = response.request
        try:
            with _gc_paused():
                return module._parse_response(client=_PARSE_OPTIONS, response=response)
        except (
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
            UnexpectedStatus,
            *_PARSE_LIMITS,
        ) as exc:
            raise ResponseValidationError(
                f"the response does not match the spec ({type(exc).__name__})",
                method=request.method,
                path=request.url.path,
                body_snippet=body_snippet(response.content),
            ) from exc

    def send(
        self,
        request: httpx.Request,
        *,
        retry_post: bool = False,
        on_attempt: Callable[[httpx.Response | Exception], None] | None = None,
    ) -> Coroutine[Any, Any, httpx.Response]:
        """Send with retries; await it for a read 2xx response or a ``PleoError``.

        See ``_send``. When anything watches (hooks, spans, metrics, ``with_response``), the
        call runs inside an ``Observation``; otherwise this hands back ``_send``'s coroutine
        itself, so an unwatched request pays no extra frame (benchmarks/bench_request.py).
        """
        observation = self.observer.observe(request, self._base_path)
        if observation is None:
            return self._send(request, retry_post, on_attempt, None)
        return self._observed(request, retry_post, on_attempt, observation)

    async def _observed(
        self,
        request: httpx.Request,
        retry_post: bool,
        on_attempt: Callable[[httpx.Response | Exception], None] | None,
        observation: Observation,
    ) -> httpx.Response:
        """``_send`` inside ``observation``, which ends with the call's response or error."""
        try:
            response = await self._send(request, retry_post, on_attempt, observation)
        except BaseException as exc:
            observation.finish(None, exc)
            raise
        observation.finish(response, None)
        return response

    async def _send(
        self,
        request: httpx.Request,
        retry_post: bool,
        on_attempt: Callable[[httpx.Response | Exception], None] | None,
        observation: Observation | None,
    ) -> httpx.Response:
        """Send with retries; return a read 2xx response or raise a ``PleoError``.

        GET and PUT retry on timeouts, connection errors, 408, 429 and 5xx. Other methods retry
        on those only when ``retry_post`` says the caller reconciles a repeated request (job
        events do); otherwise just on 429 and on failures that happen before sending.
        ``on_attempt`` is called as each attempt ends, with its response (any status) or the
        httpx error that ended it, so a caller can tell what an earlier attempt may have done.
        Each attempt, body included, must end within the total deadline (``deadlines``) and
        ``max_response_bytes`` bytes; a closed client raises ``ClientClosedError``.
        """
        method, path = request.method, request.url.path
        lifetime = self._lifetime
        if lifetime.closed:  # a caller's own closed http_client is caught at its RuntimeError
            raise ClientClosedError(method=method, path=path)
        idempotent = retry_post or method in _IDEMPOTENT_METHODS
        policy = self.retry
        budget = self.budget
        number = 0  # the attempt running now, 1-based

        def on_failure(exc: Exception) -> bool | float:
            if number > policy.max_retries or self.closed or self.http.is_closed:
                return False  # the last attempt, or the pool is gone: no "retrying" to log
            if isinstance(exc, RetryableStatus):
                wait = retry_after(exc.response.headers, cap=policy.retry_after_max)
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
                retry = transport_error_is_safe_to_retry(exc, idempotent=idempotent)
                if retry:
                    logger.info("retrying %s %s after %s", method, path, type(exc).__name__)
                    if observation is not None:
                        observation.retrying(type(exc).__name__, None)
                return retry
            return False

        async def attempt_once(num: int) -> httpx.Response:
            nonlocal number
            number = num
            # Every attempt spends a token of the budget before its deadline starts: waiting
            # for the budget is not a timeout of the call.
            if budget is not None and not budget.take():
                await budget.wait()
            started = time.perf_counter()
            deadline = self.deadlines.start()
            try:
                try:
                    response = await self.http.send(request, auth=self._auth, stream=True)
                    if not response.is_stream_consumed:  # else the transport (Mock, ASGI) read it
                        await read_capped(
                            response, self.max_response_bytes, method=method, path=path
                        )
                    elif len(response.content) > self.max_response_bytes:
                        raise ResponseTooLargeError(
                            limit=self.max_response_bytes, method=method, path=path
                        )
                except asyncio.CancelledError:
                    self.deadlines.check(deadline, request)  # ours: DeadlineExceeded instead
                    raise
                finally:
                    self.deadlines.finish(deadline)
            except RuntimeError:  # httpx refuses to send on a closed client
                if self.closed or self.http.is_closed:
                    raise ClientClosedError(method=method, path=path) from None
                raise
            except httpx.HTTPError as exc:  # an attempt with no answer is logged too
                scrub_chain(exc)  # before anyone reads its text: h11 may quote a header
                if on_attempt is not None:
                    on_attempt(exc)
                logger.debug(
                    "%s %s -> %s in %.1f ms (attempt %d)",
                    method,
                    path,
                    type(exc).__name__,
                    (time.perf_counter() - started) * 1000,
                    num,
                )
                raise
            logger.debug(
                "%s %s -> %d in %.1f ms (attempt %d)",
                method,
                path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
                num,
            )
            if on_attempt is not None:
                on_attempt(response)
            if lifetime.closed:  # closed while in flight on a pool aclose() leaves open
                raise ClientClosedError(method=method, path=path)
            status = response.status_code
            if 200 <= status < 300:
                return response
            if status == 429 and budget is not None:
                budget.throttled(retry_after(response.headers, cap=policy.retry_after_max))
            if should_retry_status(status) and (idempotent or status == 429):
                raise RetryableStatus(response)
            raise status_error(response, method=method, path=path)

        try:
            # Attempt 1 runs outside the retry loop, which is set up only for a retryable
            # failure (see ``retry_after_first``).
            try:
                if observation is not None:
                    return await observation.attempt(attempt_once, 1)
                return await attempt_once(1)
            except (RetryableStatus, httpx.TransportError) as exc:
                first_failure = exc
            again: Callable[[int], Awaitable[httpx.Response]] = attempt_once
            if observation is not None:
                again = functools.partial(observation.attempt, attempt_once)
            return await retry_after_first(policy, on_failure, again, first_failure)
        except RetryableStatus as exc:
            raise status_error(exc.response, method=method, path=path) from None
        except httpx.TransportError as exc:
            if self.closed or self.http.is_closed:  # cut off by aclose(), not by the network
                raise ClientClosedError(method=method, path=path) from exc
            tries = f" after {number} attempt{'s' if number > 1 else ''}"
            if isinstance(exc, httpx.TimeoutException):
                detail = f": {exc}" if isinstance(exc, DeadlineExceeded) else ""
                raise APITimeoutError(
                    f"timed out{tries}: {type(exc).__name__}{detail}", method=method, path=path
                ) from exc
            raise APIConnectionError(
                f"connection failed{tries}: {type(exc).__name__}: {scrub(str(exc))}",
                method=method,
                path=path,
            ) from exc
        except httpx.RequestError as exc:  # DecodingError, TooManyRedirects: no usable answer
            raise APIConnectionError(
                f"request failed: {type(exc).__name__}: {scrub(str(exc))}",
                method=method,
                path=path,
            ) from exc


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


def endpoint_kwargs(module: ModuleType, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The request description a generated endpoint module builds for these arguments."""
    result: dict[str, Any] = module._get_kwargs(*args, **kwargs)
    return result


def unset_to_none(value: Any) -> Any:
    """The generated models' ``UNSET`` as None; any other value unchanged."""
    return None if isinstance(value, Unset) else value
