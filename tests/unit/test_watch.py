"""Watching runs and worker jobs: no-ops on an uninstrumented client, a job's last stage is
its outcome, and queue depth counts only pending jobs not running here."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from pleo_export import PleoExport
from pleo_export._observe._hooks import Observer
from pleo_export._observe._watch import Scope, WorkerWatch
from pleo_export.otel import instrument

BASE_URL = "http://127.0.0.1:9"
API_KEY = "sk-unit-test-0123456789abcdef"


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


def test_nothing_is_recorded_without_instrumentation() -> None:
    """Without tracing there is no span scope and the watch calls do nothing; fails if an
    uninstrumented worker needed OpenTelemetry or recorded anywhere."""
    job = SimpleNamespace(id=uuid.uuid4(), company_id=uuid.uuid4(), status="pending")
    assert Scope.open(Observer(), "pleo_export.worker.job", {}) is None
    assert Scope.open(None, "pleo_export.worker.job", {}) is None
    watch = WorkerWatch(None)  # a bare port: no observer at all
    assert watch.job_started(job) is None
    watch.reported("finished", job.id, "completed")
    watch.item("booked")
    watch.polled([job], set(), datetime.now(UTC))
    watch.job_stopped(job, None, None)


async def test_outcomes_and_queue_depth() -> None:
    """A finished job counts under its final status, a paused one under "paused"; waiting jobs
    exclude running and in_progress ones; fails if outcomes or depth are mislabelled."""
    reader = InMemoryMetricReader()
    now = datetime(2025, 1, 1, tzinfo=UTC)
    running, waiting, elsewhere = (
        SimpleNamespace(
            id=uuid.uuid4(), company_id=uuid.uuid4(), status=status, created_at=now - age
        )
        for status, age in (
            ("pending", timedelta(hours=1)),
            ("pending", timedelta(seconds=5)),
            ("in_progress", timedelta(hours=2)),
        )
    )
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:
        instrument(pleo, meter_provider=MeterProvider([reader]), traces=False)
        watch = WorkerWatch(pleo.observer)
        for job, stage, status in ((running, "finished", "completed"), (waiting, "paused", None)):
            watch.job_started(job)
            watch.reported("item", job.id, None)  # not an end: ignored
            watch.reported(stage, job.id, status)
            watch.job_stopped(job, None, None)
        watch.polled([running, waiting, elsewhere], {running.id}, now)
    points = _points(reader)
    finished = {
        point.attributes["pleo_export.job.outcome"]: point.value
        for point in points["pleo_export.worker.jobs.finished"]
    }
    assert finished == {"completed": 1, "paused": 1}
    assert [point.value for point in points["pleo_export.worker.jobs.running"]] == [0]
    assert [point.value for point in points["pleo_export.worker.jobs.waiting"]] == [1]
    assert [point.value for point in points["pleo_export.worker.poll.lag"]] == [5.0]
