"""A read 2xx response as JSON or a generated model, or else a ``ResponseValidationError``.

The seam sends and maps statuses; this module turns the body of a 2xx it returned into data,
with the cyclic GC paused while a page's thousands of containers are made, and reads the
models' ``UNSET``. It never sends.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType, SimpleNamespace
from typing import Any, Final, Protocol, TypeVar

import httpx
from pleo_export_raw.errors import UnexpectedStatus
from pleo_export_raw.types import Unset

from .._errors import ResponseValidationError, body_snippet

__all__ = ["FromDict", "decode", "json_loads", "parse", "parse_generated", "unset_to_none"]

#: ``parse`` without a body decoded beforehand.
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


class FromDict(Protocol):
    """A generated model: built from a decoded JSON object."""

    @classmethod
    def from_dict(cls, src_dict: Any) -> Any: ...


M = TypeVar("M", bound=FromDict)


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


def decode(response: httpx.Response) -> Any:
    """The JSON body of a 2xx response, as a typed error if it is not JSON."""
    with _gc_paused():  # decoding: see _gc_paused
        return _loads(response)


def parse(response: httpx.Response, model: type[M], *, body: Any = _UNREAD) -> Any:
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


def parse_generated(module: ModuleType, response: httpx.Response) -> Any:
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


def unset_to_none(value: Any) -> Any:
    """A generated model's ``UNSET`` (a field the body left out) as None; any other value
    unchanged."""
    return None if isinstance(value, Unset) else value
