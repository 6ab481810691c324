"""Tracing: one INTERNAL span per SDK call with one CLIENT span per attempt under it, attributes
from the HTTP client semantic conventions, the trace sent on in ``traceparent``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pytest_httpx import HTTPXMock

from pleo_export import InvalidArgumentError, NotFoundError, PleoExport
from pleo_export.otel import instrument, uninstrument

if TYPE_CHECKING:
    from .conftest import Payloads

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
API_KEY = "sk-unit-test-0123456789abcdef"
JOB_ID = "3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10"
JOB_URL = f"{BASE_URL}/v3/export-jobs/{JOB_ID}"
TEMPLATE = "/v3/export-jobs/{jobId}"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """An in-memory span exporter."""
    spans = InMemorySpanExporter()
    yield spans
    spans.clear()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    """A tracer provider that exports to ``exporter`` at once (not the global one)."""
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider


def _by_kind(spans: tuple[ReadableSpan, ...], kind: SpanKind) -> list[ReadableSpan]:
    return [span for span in spans if span.kind == kind]


async def test_a_retried_call_is_one_span_with_a_child_per_attempt(
    httpx_mock: HTTPXMock,
    payloads: Payloads,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    """A 503 then 200 gives an INTERNAL call span and two CLIENT attempt spans under it, the
    second with ``http.request.resend_count`` 1, the first with ``error.type`` 503; fails if
    attempts are flattened, mis-parented or missing the semantic-convention attributes."""
    httpx_mock.add_response(url=JOB_URL, status_code=503)
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:
        instrument(pleo, tracer_provider=provider, metrics=False)
        await pleo.jobs.get(JOB_ID)
    spans = exporter.get_finished_spans()
    (call,) = _by_kind(spans, SpanKind.INTERNAL)
    first, second = _by_kind(spans, SpanKind.CLIENT)
    assert call.name == f"pleo_export GET {TEMPLATE}"
    assert call.attributes is not None
    assert call.attributes["pleo_export.attempts"] == 2
    assert call.attributes["http.response.status_code"] == 200
    for attempt in (first, second):
        assert attempt.name == f"GET {TEMPLATE}"
        assert attempt.parent is not None
        assert attempt.parent.span_id == call.context.span_id
        assert attempt.attributes is not None
        assert attempt.attributes["http.request.method"] == "GET"
        assert attempt.attributes["url.template"] == TEMPLATE
        assert attempt.attributes["server.address"] == "127.0.0.1"
    assert first.attributes is not None
    assert second.attributes is not None
    assert first.attributes["http.response.status_code"] == 503
    assert first.attributes["error.type"] == "503"
    assert first.status.status_code == StatusCode.ERROR
    assert "http.request.resend_count" not in first.attributes
    assert second.attributes["http.request.resend_count"] == 1
    assert "error.type" not in second.attributes


async def test_traceparent_names_the_attempt_span(
    httpx_mock: HTTPXMock,
    payloads: Payloads,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    """Each attempt sends a W3C ``traceparent`` naming its own span, so Pleo's side joins the
    trace; fails if the header is missing or points at the wrong span."""
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:
        instrument(pleo, tracer_provider=provider, metrics=False)
        await pleo.jobs.get(JOB_ID)
    (attempt,) = _by_kind(exporter.get_finished_spans(), SpanKind.CLIENT)
    sent = httpx_mock.get_requests()[0].headers["traceparent"]
    _, trace_id, span_id, _ = sent.split("-")
    assert int(trace_id, 16) == attempt.context.trace_id
    assert int(span_id, 16) == attempt.context.span_id


async def test_a_failed_call_marks_its_span_with_the_sdk_error(
    httpx_mock: HTTPXMock, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """A 404 ends the call span in error with the SDK's error class as ``error.type``; fails if
    failures look like successes in a trace."""
    httpx_mock.add_response(url=JOB_URL, status_code=404, json={"type": "EXPORT_NOT_FOUND"})
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:
        instrument(pleo, tracer_provider=provider, metrics=False)
        with pytest.raises(NotFoundError):
            await pleo.jobs.get(JOB_ID)
    (call,) = _by_kind(exporter.get_finished_spans(), SpanKind.INTERNAL)
    assert call.status.status_code == StatusCode.ERROR
    assert call.attributes is not None
    assert call.attributes["error.type"] == "ExportNotFoundError"


async def test_uninstrument_stops_spans_and_headers(
    httpx_mock: HTTPXMock,
    payloads: Payloads,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    """After ``uninstrument`` no span is made and no ``traceparent`` sent; fails if tracing
    could not be turned off again (or was on without being asked for)."""
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)}, is_reusable=True)
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:
        await pleo.jobs.get(JOB_ID)
        instrument(pleo, tracer_provider=provider, metrics=False)
        uninstrument(pleo)
        await pleo.jobs.get(JOB_ID)
        assert not pleo.observer.active
    assert exporter.get_finished_spans() == ()
    assert all("traceparent" not in request.headers for request in httpx_mock.get_requests())


def test_instrument_refuses_anything_but_a_client() -> None:
    """``instrument`` takes a PleoExport only; fails if a wrong object is silently ignored."""
    with pytest.raises(InvalidArgumentError):
        instrument(object())  # type: ignore[arg-type]
