"""Metrics: retries counted by reason, item-update batches timed, the lease instruments ready for
leases, and the README's table of instruments the same as the code's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from pytest_httpx import HTTPXMock

from pleo_export import PleoExport
from pleo_export._observe._metrics import Metrics
from pleo_export.otel import INSTRUMENTS, instrument

if TYPE_CHECKING:
    from .conftest import Payloads

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
API_KEY = "sk-unit-test-0123456789abcdef"
JOB_ID = "3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10"
README = Path(__file__).resolve().parents[2] / "README.md"


def _points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    data = reader.get_metrics_data()
    if data is None:
        return {}
    return {
        metric.name: list(metric.data.data_points)
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }


async def test_retries_are_counted_by_reason_and_batches_timed(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """A PUT of item updates retried after a 503 and a 429 counts two retries with those
    reasons and one timed batch; fails if retries go uncounted or batches untimed."""
    url = f"{BASE_URL}/v3/export-jobs/{JOB_ID}/items"
    httpx_mock.add_response(url=url, method="PUT", status_code=503)
    httpx_mock.add_response(url=url, method="PUT", status_code=429)
    httpx_mock.add_response(url=url, method="PUT", json={"data": [], "errors": []})
    reader = InMemoryMetricReader()
    update = {"accountingEntryId": JOB_ID, "status": "successful"}
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:
        instrument(pleo, meter_provider=MeterProvider([reader]), traces=False)
        await pleo.job_items.update(JOB_ID, [update])
    points = _points(reader)
    reasons = {
        point.attributes["error.type"]: point.value for point in points["pleo_export.retries"]
    }
    assert reasons == {"503": 1, "429": 1}
    assert {point.attributes["url.template"] for point in points["pleo_export.retries"]} == {
        "/v3/export-jobs/{jobId}/items"
    }
    (batch,) = points["pleo_export.batch.duration"]
    assert batch.count == 1


def test_poll_gauges_and_lease_counters() -> None:
    """Queue depth and lag come from the waiting jobs' ``createdAt``; the lease counters count;
    fails if a gauge reads the wrong job or an instrument is not created."""
    reader = InMemoryMetricReader()
    metrics = Metrics(MeterProvider([reader]))
    now = datetime(2025, 1, 1, 12, tzinfo=UTC)
    waiting = [
        SimpleNamespace(created_at=now - timedelta(seconds=90)),
        SimpleNamespace(created_at=(now - timedelta(seconds=30)).replace(tzinfo=None)),
    ]
    metrics.polled(waiting, now)
    metrics.lease_renewed()
    metrics.lease_renewed()
    metrics.lease_lost()
    points = _points(reader)
    assert [point.value for point in points["pleo_export.worker.jobs.waiting"]] == [2]
    assert [point.value for point in points["pleo_export.worker.poll.lag"]] == [90.0]
    assert [point.value for point in points["pleo_export.worker.lease.renewals"]] == [2]
    assert [point.value for point in points["pleo_export.worker.lease.losses"]] == [1]
    metrics.polled([], now)
    assert [point.value for point in _points(reader)["pleo_export.worker.poll.lag"]] == [0.0]


def test_the_readme_table_lists_every_instrument() -> None:
    """README "Observability" has one row per instrument with its kind and unit; fails if the
    documentation and the code disagree."""
    rows = re.findall(
        r"^\| `(pleo_export\.[a-z_.]+)` \| (\w+) \| `([^`]+)` \|", README.read_text(), re.M
    )
    assert rows == [(spec.name, spec.kind, spec.unit) for spec in INSTRUMENTS]
