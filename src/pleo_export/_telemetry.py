"""OpenTelemetry spans: one per SDK call, a child per attempt, one per export run and worker job.

Attempt spans follow the HTTP client semantic conventions (``http.request.method``,
``url.template``, ``http.response.status_code``, ``http.request.resend_count``, ``error.type``)
and carry the trace to Pleo in ``traceparent``. Each attempt span is current while httpx sends,
so ``opentelemetry-instrumentation-httpx`` on ``pleo.http_client`` nests its span under it:
one trace. Only the OpenTelemetry API is used (the ``[otel]`` extra); nothing patches httpx.
"""

from __future__ import annotations

from typing import Any, Final

import httpx
from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from ._config import SDK_VERSION

__all__ = ["AttemptSpan", "CallSpan", "Tracing"]

_SCOPE: Final = "pleo_export"


class Tracing:
    """Makes the SDK's spans with one tracer.

    Args:
        tracer_provider: where spans go; None uses the global provider.
    """

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self.tracer = trace.get_tracer(_SCOPE, SDK_VERSION, tracer_provider=tracer_provider)

    def call(self, method: str, template: str, request: httpx.Request) -> CallSpan:
        """Start the span of one SDK call (all its attempts)."""
        span = self.tracer.start_span(
            f"pleo_export {method} {template}",
            kind=SpanKind.INTERNAL,
            attributes={"http.request.method": method, "url.template": template},
        )
        return CallSpan(self, span, method, template, request)

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


def end_span(span: Span, error: BaseException | None, attributes: dict[str, Any]) -> None:
    """End a run or job span with final attributes, marking it failed on an exception."""
    span.set_attributes(attributes)
    if error is not None and isinstance(error, Exception):
        span.set_attribute("error.type", type(error).__qualname__)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.end()
