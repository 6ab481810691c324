"""Telemetry that fails under the SDK: a span processor that raises on every span. Every call
into OpenTelemetry is guarded (``_telemetry.guarded``): telemetry can fail, booking cannot."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pleo_export import Booked, ExportWorker, PleoExport
from pleo_export.otel import instrument
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

from ._figures import record

WAIT = 10.0


class _RaisingProcessor(SimpleSpanProcessor):
    """A span processor that raises on every span start and end (a broken exporter plugin)."""

    def __init__(self) -> None:
        super().__init__(InMemorySpanExporter())
        self.calls = 0

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.calls += 1
        raise RuntimeError("span processor broke on start")

    def on_end(self, span: ReadableSpan) -> None:
        self.calls += 1
        raise RuntimeError("span processor broke on end")


async def test_a_raising_span_processor_costs_telemetry_not_bookings(
    fake_pleo: FakePleo, fake_pleo_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A span processor that raises in ``on_start`` and ``on_end`` breaks every span, yet the
    worker books every item and completes the job; each failure is logged. Fails (on 0.2's main
    the worker ended in an ExceptionGroup with nothing booked) if any call into OpenTelemetry
    is left unguarded."""
    job = fake_pleo.add_job(items=3)
    provider = TracerProvider()
    broken = _RaisingProcessor()
    provider.add_span_processor(broken)
    async with PleoExport(api_key=DEFAULT_API_KEY, base_url=fake_pleo_server) as pleo:
        instrument(pleo, tracer_provider=provider)
        worker = ExportWorker(pleo, lambda work: Booked(external_id="B"))
        await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    assert fake_pleo.job(job)["status"] == "completed"
    assert worker.stats.items_booked == 3
    assert broken.calls > 0
    assert any("OpenTelemetry raised" in record.getMessage() for record in caplog.records)
    record(
        "hostile_servers",
        **{"a span processor raising in on_start and on_end, worker instrumented":
           "the job completed, 3 of 3 items booked; each failure logged"},
    )  # fmt: skip
