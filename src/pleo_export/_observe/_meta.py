"""What a successful call's HTTP exchange looked like: ``ResponseMeta`` and ``with_response``.

The seam records the last response of a call only while ``with_response`` listens (a context
variable), so calls nobody asks about pay one lookup. Headers are copied bounded, escaped and
masked (``_secrets.scrub``); the body is never kept. Hooks and spans build their own views in
``_hooks``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, ParamSpec, TypeVar

import httpx

from .._config import META_HEADER_MAX_CHARS, META_MAX_HEADERS, REQUEST_ID_MAX_CHARS
from .._errors import PleoError, request_id
from .._secrets import MASK, scrub

__all__ = ["ResponseMeta", "capturing", "record", "with_response"]

P = ParamSpec("P")
T = TypeVar("T")

#: Headers whose value is a credential or a session, whatever it looks like.
_SENSITIVE: Final = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)

#: The list the innermost ``with_response`` collects into; None when nobody listens.
_listener: contextvars.ContextVar[list[ResponseMeta] | None] = contextvars.ContextVar(
    "pleo_export_response_listener", default=None
)


@dataclass(frozen=True, slots=True)
class ResponseMeta:
    """The HTTP side of a successful call, beside its parsed result.

    Attributes:
        status_code: the final response's status (2xx).
        headers: its headers, case-insensitive; at most 64, each value cut to 256 characters,
            credentials and cookies shown as ``[secure]``.
        request_id: Pleo's request id (``X-Request-Id`` and the like), cut to 128 characters.
        elapsed: seconds from the first attempt to the final response, waits included.
        attempts: attempts made, 1 when no retry was needed.
        method: the HTTP method.
        url_template: the path with ids replaced, e.g. ``/v3/export-jobs/{jobId}``.
    """

    status_code: int
    headers: httpx.Headers
    request_id: str | None
    elapsed: float
    attempts: int
    method: str
    url_template: str


def _safe_headers(headers: httpx.Headers) -> httpx.Headers:
    kept: list[tuple[str, str]] = []
    for name, value in headers.multi_items()[:META_MAX_HEADERS]:
        shown = MASK if name in _SENSITIVE else scrub(value, META_HEADER_MAX_CHARS)
        kept.append((name, shown))
    return httpx.Headers(kept, encoding="utf-8")  # a cut value ends in "…"


def capturing() -> bool:
    """Whether a ``with_response`` is waiting for the current call's response."""
    return _listener.get() is not None


def record(response: httpx.Response, *, attempts: int, elapsed: float, url_template: str) -> None:
    """Hand a call's final 2xx response to the ``with_response`` listening, if any."""
    listener = _listener.get()
    if listener is None:
        return
    found = request_id(response.headers)
    listener[:] = [  # only the last response is kept, however many requests the call makes
        ResponseMeta(
            status_code=response.status_code,
            headers=_safe_headers(response.headers),
            request_id=None if found is None else scrub(found, REQUEST_ID_MAX_CHARS),
            elapsed=elapsed,
            attempts=attempts,
            method=response.request.method,
            url_template=url_template,
        )
    ]


async def with_response(
    call: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
) -> tuple[T, ResponseMeta]:
    """Await ``call(*args, **kwargs)`` and return its result with its HTTP response::

        job, meta = await with_response(pleo.jobs.get, job_id)
        page, meta = await with_response(pleo.jobs.list(statuses=["pending"]).first_page)
        log.info("read job in %.0f ms, request %s", meta.elapsed * 1000, meta.request_id)

    Works for any SDK call, ``pleo.raw`` operations included. A call that makes several
    requests (``jobs.start`` re-reads the job after an unanswered attempt) reports the last.

    Args:
        call: an SDK coroutine function, or a bound method such as ``pleo.jobs.get``.
        args, kwargs: its arguments.

    Returns:
        ``(result, meta)``: the call's own result and the ``ResponseMeta`` of its last
        request.

    Raises:
        PleoError: whatever the call raises; or, when it made no request at all, a
            ``PleoError`` saying so.
    """
    outer = _listener.get()
    collected: list[ResponseMeta] = []
    token = _listener.set(collected)
    try:
        result = await call(*args, **kwargs)
    finally:
        _listener.reset(token)
        if outer is not None:
            outer[:] = collected or outer  # an enclosing with_response sees this request too
    if not collected:
        raise PleoError(f"{getattr(call, '__qualname__', call)!r} made no HTTP request")
    return result, collected[-1]
