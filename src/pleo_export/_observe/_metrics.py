"""Worker metrics through the OpenTelemetry metrics API: any exporter (Prometheus, OTLP…) works.

``INSTRUMENTS`` is the table the README prints; ``Metrics`` creates them on one meter and
records what the worker and the seam report. Attribute values are few and fixed (outcomes,
methods, path templates, status codes), never ids, so series stay bounded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from opentelemetry import metrics

from .._config import DURATION_BUCKETS, SDK_VERSION
from ._telemetry import guarded

__all__ = ["INSTRUMENTS", "Instrument", "Metrics"]

_SCOPE: Final = "pleo_export"


class Instrument(NamedTuple):
    """One instrument: its name, kind, unit and what it measures."""

    name: str
    kind: str
    unit: str
    description: str


#: Every instrument the SDK records, in the order the README lists them.
INSTRUMENTS: Final = (
    Instrument(
        "pleo_export.worker.jobs.running", "UpDownCounter", "{job}", "Jobs a worker runs now."
    ),
    Instrument(
        "pleo_export.worker.jobs.finished",
        "Counter",
        "{job}",
        "Jobs a worker let go, by `pleo_export.job.outcome`: completed, "
        "completed_with_errors, failed (the final status), or paused, deferred, skipped, error.",
    ),
    Instrument(
        "pleo_export.worker.items",
        "Counter",
        "{item}",
        "Items handled, by `pleo_export.item.outcome`: booked, rejected; in_doubt counts "
        "the items offered again after a crash (each also ends booked or rejected).",
    ),
    Instrument(
        "pleo_export.worker.jobs.waiting",
        "Gauge",
        "{job}",
        "Queue depth: jobs the last poll found that this worker is not running.",
    ),
    Instrument(
        "pleo_export.worker.poll.lag",
        "Gauge",
        "s",
        "Age (by `createdAt`) of the oldest job the last poll found waiting; 0 when none.",
    ),
    Instrument(
        "pleo_export.batch.duration",
        "Histogram",
        "s",
        "Time to report one batch of ≤ 100 item outcomes (one PUT, retries included); "
        "`error.type` when it failed.",
    ),
    Instrument(
        "pleo_export.retries",
        "Counter",
        "{retry}",
        "Retries, by `error.type` (the status, e.g. 503, or the httpx error), "
        "`http.request.method` and `url.template`.",
    ),
    Instrument(
        "pleo_export.worker.lease.renewals",
        "Counter",
        "{renewal}",
        "Job leases renewed while a run works (with a coordinator, or the in-memory one).",
    ),
    Instrument(
        "pleo_export.worker.lease.losses",
        "Counter",
        "{loss}",
        "Job leases found superseded or run out; the run stops that job.",
    ),
)

_CREATE: Final = {
    "Counter": "create_counter",
    "UpDownCounter": "create_up_down_counter",
    "Gauge": "create_gauge",
    "Histogram": "create_histogram",
}


class Metrics:
    """The SDK's instruments on one meter.

    Args:
        meter_provider: where measurements go; None uses the global provider.
    """

    def __init__(self, meter_provider: metrics.MeterProvider | None = None) -> None:
        meter = metrics.get_meter(_SCOPE, SDK_VERSION, meter_provider=meter_provider)
        self._instruments: dict[str, Any] = {}
        for spec in INSTRUMENTS:
            options: dict[str, Any] = {"unit": spec.unit, "description": spec.description}
            if spec.kind == "Histogram":
                options["explicit_bucket_boundaries_advisory"] = DURATION_BUCKETS
            self._instruments[spec.name] = getattr(meter, _CREATE[spec.kind])(spec.name, **options)

    def _get(self, name: str) -> Any:
        return self._instruments[name]

    @guarded
    def job_started(self) -> None:
        """A worker took a job."""
        self._get("pleo_export.worker.jobs.running").add(1)

    @guarded
    def job_stopped(self) -> None:
        """A worker's job task ended, however it ended."""
        self._get("pleo_export.worker.jobs.running").add(-1)

    @guarded
    def job_finished(self, outcome: str) -> None:
        """A worker let a job go: its final status, or why it stopped without one."""
        self._get("pleo_export.worker.jobs.finished").add(1, {"pleo_export.job.outcome": outcome})

    @guarded
    def item(self, outcome: str) -> None:
        """An item was booked, rejected, or offered again as in doubt."""
        self._get("pleo_export.worker.items").add(1, {"pleo_export.item.outcome": outcome})

    @guarded
    def polled(self, waiting: list[Any], now: datetime) -> None:
        """A poll found these pending jobs waiting (not running here): queue depth and lag."""
        self._get("pleo_export.worker.jobs.waiting").set(len(waiting))
        stamps = [job.created_at for job in waiting if isinstance(job.created_at, datetime)]
        oldest = min((_aware(stamp) for stamp in stamps), default=None)
        lag = 0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0)
        self._get("pleo_export.worker.poll.lag").set(lag)

    @guarded
    def retried(self, method: str, template: str, reason: str) -> None:
        """The seam retries a request."""
        self._get("pleo_export.retries").add(
            1, {"error.type": reason, "http.request.method": method, "url.template": template}
        )

    @guarded
    def called(
        self, method: str, template: str, seconds: float, error: BaseException | None
    ) -> None:
        """An SDK call ended; item-update batches are timed."""
        if method == "PUT" and template.endswith("/items"):
            attributes = {} if error is None else {"error.type": type(error).__qualname__}
            self._get("pleo_export.batch.duration").record(seconds, attributes)

    @guarded
    def lease_renewed(self) -> None:
        """A worker renewed a job lease."""
        self._get("pleo_export.worker.lease.renewals").add(1)

    @guarded
    def lease_lost(self) -> None:
        """A worker found its job lease taken over."""
        self._get("pleo_export.worker.lease.losses").add(1)


def _aware(stamp: datetime) -> datetime:
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
