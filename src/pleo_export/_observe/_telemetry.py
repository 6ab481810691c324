"""OpenTelemetry spans: one per SDK call, a child per attempt, one per export run and worker job.

Attempt spans follow the HTTP client semantic conventions (``http.request.method``,
``url.template``, ``http.response.status_code``, ``http.request.resend_count``, ``error.type``)
and carry the trace to Pleo in ``traceparent``. Each attempt span is current while httpx sends,
so ``opentelemetry-instrumentation-httpx`` on ``pleo.http_client`` nests its span under it:
one trace. Only the OpenTelemetry API is used (the ``[otel]`` extra); nothing patches httpx.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, Final, ParamSpec, TypeVar

import httpx
from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from .._config import SDK_VERSION

__all__ = ["AttemptSpan", "CallSpan", "Tracing", "attach_span", "detach", "end_span", "guarded"]

_SCOPE: Final = "pleo_export"
logger: Final = logging.getLogger("pleo_export")

P = ParamSpec("P")
R = TypeVar("R")


def guarded(step: Callable[P, R]) -> Callable[P, R | None]:
    """``step``, a call into OpenTelemetry, made so that it cannot fail the work it watches.

    An exception from the API or from what the application plugged into it (a span processor,
    an exporter, a metric reader) is logged and the step returns None: telemetry can fail,
    booking cannot. Every span and metric call of the SDK goes through one of these.
    """

    @functools.wraps(step)
    def guard(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return step(*args, **kwargs)
        except Exception:
            logger.exception("pleo_export: OpenTelemetry raised in %s; skipped", step.__qualname__)
            return None

    return guard


class Tracing:
    """Makes the SDK's spans with one tracer.

    Args:
        tracer_provider: where spans go; None uses the global provider.
    """

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self.tracer = trace.get_tracer(_SCOPE, SDK_VERSION, tracer_provider=tracer_provider)

    @guarded
    def call(self, method: str, template: str, request: httpx.Request) -> CallSpan:
        """Start the span of one SDK call (all its attempts)."""
        span = self.tracer.start_span(
            f"pleo_export {method} {template}",
            kind=SpanKind.INTERNAL,
            attributes={"http.request.method": method, "url.template": template},
        )
        return CallSpan(self, span, method, template, request)

    @guarded
    def start(self, name: str, attributes: dict[str, Any]) -> Span:
        """Start an export-run or worker-job span, child of the current one."""
        return self.tracer.start_span(name, kind=SpanKind.INTERNAL, attributes=attributes)


class CallSpan:
    """The span of one SDK call; each attempt is a CLIENT span under it."""

    __slots__ = ("_context", "_method", "_server", "_template", "_tracing", "span")

    def __init__(
        self, tracing: Tracing, span: Span, method: str, template: str, request: httpx.Request
    ) -> None:
        self._tracing = tracing
        self.span = span
        self._context = trace.set_span_in_context(span)
        self._method = method
        self._template = template
        url = request.url
        self._server: dict[str, Any] = {"server.address": url.host}
        if url.port is not None:
            self._server["server.port"] = url.port

    @guarded
    def attempt(self, request: httpx.Request, number: int) -> AttemptSpan:
        """Start attempt ``number``'s span, make it current and put it in ``traceparent``."""
        attributes: dict[str, Any] = {
            "http.request.method": self._method,
            "url.template": self._template,
            **self._server,
        }
        if number > 1:
            attributes["http.request.resend_count"] = number - 1
        span = self._tracing.tracer.start_span(
            f"{self._method} {self._template}",
            context=self._context,
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        current = trace.set_span_in_context(span, self._context)
        propagate.inject(request.headers, context=current)
        return AttemptSpan(span, context.attach(current))

    @guarded
    def end(
        self, response: httpx.Response | None, error: BaseException | None, attempts: int
    ) -> None:
        """End the call span with its outcome."""
        span = self.span
        span.set_attribute("pleo_export.attempts", attempts)
        if response is not None:
            span.set_attribute("http.response.status_code", response.status_code)
        if error is not None:
            span.set_attribute("error.type", type(error).__qualname__)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()


class AttemptSpan:
    """One attempt's CLIENT span, current until ``end``."""

    __slots__ = ("_span", "_token")

    def __init__(self, span: Span, token: object) -> None:
        self._span = span
        self._token = token

    @guarded
    def end(self, status: int | None, error: BaseException | None) -> None:
        """Detach and end the span: status code, and ``error.type`` for a 4xx/5xx or no answer."""
        context.detach(self._token)  # type: ignore[arg-type]
        span = self._span
        if status is not None:
            span.set_attribute("http.response.status_code", status)
            if status >= 400:
                span.set_attribute("error.type", str(status))
                span.set_status(Status(StatusCode.ERROR))
        elif error is not None:
            span.set_attribute("error.type", type(error).__qualname__)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()


@guarded
def attach_span(span: Span) -> object:
    """Make ``span`` current in this task; the token restores the one before (``detach``)."""
    return context.attach(trace.set_span_in_context(span))


@guarded
def detach(token: object) -> None:
    """Restore the span that was current before ``attach_span`` returned ``token``."""
    context.detach(token)  # type: ignore[arg-type]


@guarded
def end_span(span: Span, error: BaseException | None, attributes: dict[str, Any]) -> None:
    """End a run or job span with final attributes, marking it failed on an exception."""
    span.set_attributes(attributes)
    if error is not None and isinstance(error, Exception):
        span.set_attribute("error.type", type(error).__qualname__)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.end()
