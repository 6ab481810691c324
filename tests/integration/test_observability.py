"""Traces and metrics of a worker against the fake Pleo over loopback TCP, and one coherent
trace with ``opentelemetry-instrumentation-httpx`` instrumenting the SDK's own client."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.types import Receive, Scope, Send

from pleo_export import (
    Booked,
    ExportWorker,
    InvalidTransitionError,
    PleoExport,
    Rejected,
    RetryInfo,
    with_response,
)
from pleo_export.otel import instrument
from pleo_export.testing import DEFAULT_API_KEY, FakePleo, FakePleoServer

WAIT = 10.0


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    """An in-memory span exporter."""
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(exporter: InMemorySpanExporter) -> TracerProvider:
    """A tracer provider exporting to ``exporter`` at once."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    """Each instrument's data points by name, from one collection."""
    data = reader.get_metrics_data()
    assert data is not None
    found: dict[str, list[Any]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found[metric.name] = list(metric.data.data_points)
    return found


def _sum(points: list[Any], **attributes: str) -> float:
    return sum(
        point.value
        for point in points
        if all(point.attributes.get(key) == value for key, value in attributes.items())
    )


async def test_a_worker_is_traced_and_measured(
    fake_pleo: FakePleo,
    fake_pleo_server: str,
    tracer_provider: TracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    """Two jobs give two worker-job spans, each with its export run span under it and the run's
    calls under that, and the metrics count jobs, items by outcome and batch latency; fails if
    a span is orphaned or a measurement is missing or wrong."""
    first = fake_pleo.add_job(items=3)
    second = fake_pleo.add_job(items=2)
    rejected_entry = fake_pleo.accounting_entry_ids(second)[0]
    reader = InMemoryMetricReader()

    async def handler(export_item: Any) -> Booked | Rejected:
        await asyncio.sleep(0)
        if str(export_item.accounting_entry_id) == rejected_entry:
            return Rejected("no such vendor", reason_type="vendor_unknown")
        return Booked(external_id="V-1")

    async with PleoExport(api_key=DEFAULT_API_KEY, base_url=fake_pleo_server) as pleo:
        instrument(pleo, tracer_provider=tracer_provider, meter_provider=MeterProvider([reader]))
        await asyncio.wait_for(ExportWorker(pleo, handler).run(until_idle=True), WAIT)

    spans = exporter.get_finished_spans()
    by_id = {span.context.span_id: span for span in spans}
    jobs = [span for span in spans if span.name == "pleo_export.worker.job"]
    runs = [span for span in spans if span.name == "pleo_export.export_run"]
    assert sorted(_attr(span, "pleo_export.job.id") for span in jobs) == sorted([first, second])
    assert {_attr(span, "pleo_export.job.outcome") for span in jobs} == {
        "completed",
        "completed_with_errors",
    }
    for run in runs:
        assert run.parent is not None
        assert by_id[run.parent.span_id].name == "pleo_export.worker.job"
    run_ids = {run.context.span_id for run in runs}
    puts = [span for span in spans if span.name == "pleo_export PUT /v3/export-jobs/{jobId}/items"]
    assert puts
    assert all(span.parent is not None and span.parent.span_id in run_ids for span in puts)
    assert len({span.context.trace_id for span in [*jobs, *runs, *puts]}) == 2  # one per job

    points = _points(reader)
    assert _sum(points["pleo_export.worker.jobs.running"]) == 0
    finished = points["pleo_export.worker.jobs.finished"]
    assert _sum(finished, **{"pleo_export.job.outcome": "completed"}) == 1
    assert _sum(finished, **{"pleo_export.job.outcome": "completed_with_errors"}) == 1
    items = points["pleo_export.worker.items"]
    assert _sum(items, **{"pleo_export.item.outcome": "booked"}) == 4
    assert _sum(items, **{"pleo_export.item.outcome": "rejected"}) == 1
    (batches,) = points["pleo_export.batch.duration"]
    assert batches.count == 2
    assert batches.sum > 0
    assert [point.value for point in points["pleo_export.worker.jobs.waiting"]] == [0]


async def test_httpx_instrumentation_nests_into_one_trace(
    fake_pleo: FakePleo, tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """With ``HTTPXClientInstrumentor.instrument_client(pleo.http_client)`` each httpx span is a
    child of an SDK attempt span, and the ``traceparent`` the server receives belongs to that
    trace and names the httpx span; fails if the two instrumentations start separate traces,
    or either patched httpx for other clients."""
    job_id = fake_pleo.add_job(items=1)
    received: list[str] = []

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            received.append(headers.get(b"traceparent", b"").decode())
        await fake_pleo.app(scope, receive, send)

    with FakePleoServer(recording) as url:
        async with PleoExport(api_key=DEFAULT_API_KEY, base_url=url) as pleo:
            instrument(pleo, tracer_provider=tracer_provider, metrics=False)
            HTTPXClientInstrumentor.instrument_client(
                pleo.http_client, tracer_provider=tracer_provider
            )
            try:
                job = await pleo.jobs.get(job_id)
                async with httpx.AsyncClient() as other:  # not instrumented by anyone
                    await other.get(f"{url}/v3/export-jobs/{job_id}")
            finally:
                HTTPXClientInstrumentor.uninstrument_client(pleo.http_client)
    assert str(job.id) == job_id
    assert len(received) == 2
    assert received[1] == ""  # the other client sent no trace: httpx was not patched globally
    received.pop()

    spans = exporter.get_finished_spans()
    calls = [span for span in spans if span.kind == SpanKind.INTERNAL]
    clients = [span for span in spans if span.kind == SpanKind.CLIENT]
    (call,) = calls
    attempt = next(span for span in clients if span.name.startswith("GET /v3"))
    (httpx_span,) = [span for span in clients if span is not attempt]
    assert {span.context.trace_id for span in spans} == {call.context.trace_id}
    assert attempt.parent is not None
    assert attempt.parent.span_id == call.context.span_id
    assert httpx_span.parent is not None
    assert httpx_span.parent.span_id == attempt.context.span_id
    (traceparent,) = received
    _, trace_id, parent_id, _ = traceparent.split("-")
    assert int(trace_id, 16) == call.context.trace_id
    assert int(parent_id, 16) == httpx_span.context.span_id


def _attr(span: ReadableSpan, name: str) -> Any:
    assert span.attributes is not None
    return span.attributes.get(name)


async def test_export_run_span_records_the_outcome_and_never_leaks(
    fake_pleo: FakePleo,
    pleo: PleoExport,
    tracer_provider: TracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    """A run whose block raises ends its span in error with final status ``failed``; a run
    refused on entry still ends its span and leaves no span current; fails if a run span is
    left open or attached to the caller's context."""
    instrument(pleo, tracer_provider=tracer_provider, metrics=False)
    job_id = fake_pleo.add_job(items=2)
    with pytest.raises(RuntimeError):
        async with pleo.export_run(job_id):
            raise RuntimeError("ERP down")
    with pytest.raises(InvalidTransitionError):  # the job is final now
        async with pleo.export_run(job_id):
            pass
    assert not trace.get_current_span().get_span_context().is_valid
    spans = exporter.get_finished_spans()
    failed, refused = [span for span in spans if span.name == "pleo_export.export_run"]
    assert failed.status.status_code == StatusCode.ERROR
    assert _attr(failed, "pleo_export.run.final_status") == "failed"
    assert _attr(failed, "error.type") == "RuntimeError"
    assert _attr(refused, "error.type") == "InvalidTransitionError"
    events = [span for span in spans if span.name.startswith("pleo_export POST")]
    assert events
    assert all(span.parent is not None for span in events)  # under the run span


async def test_hooks_and_metadata_over_loopback_tcp(
    fake_pleo: FakePleo, fake_pleo_server: str
) -> None:
    """Against the fake over TCP, a 429 and a dropped connection before success give the hooks
    three attempts with both reasons, and ``with_response`` the final attempt count; fails if
    real-socket failures bypass the hooks or the metadata miscounts them."""
    job_id = fake_pleo.add_job(items=1)
    fake_pleo.faults.add("rate_limit", route="getExportJobByIdV3", times=1, retry_after=0)
    fake_pleo.faults.add("drop", route="getExportJobByIdV3", times=1)
    retries: list[RetryInfo] = []
    statuses: list[int | None] = []
    async with PleoExport(
        api_key=DEFAULT_API_KEY,
        base_url=fake_pleo_server,
        on_retry=retries.append,
        on_response=lambda info: statuses.append(info.status_code),
    ) as pleo:
        job, meta = await with_response(pleo.jobs.get, job_id)
    assert str(job.id) == job_id
    assert [retry.reason for retry in retries] == ["429", "RemoteProtocolError"]
    assert retries[0].wait == 0
    assert statuses == [429, None, 200]
    assert (meta.attempts, meta.status_code) == (3, 200)
