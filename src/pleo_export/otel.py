"""OpenTelemetry for the SDK (the ``[otel]`` extra): traces of every call, run and worker job,
and worker metrics, through the application's own tracer and meter providers::

    from pleo_export.otel import instrument

    instrument(pleo)                     # global providers; or tracer_provider=, meter_provider=
    HTTPXClientInstrumentor.instrument_client(pleo.http_client)   # optional: spans nest

Only the OpenTelemetry API is used: configure the SDK and exporters in the application. httpx
is never patched; instrumenting one client leaves every other alone. The instruments are listed
in ``INSTRUMENTS`` and in the README's "Observability" section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import InvalidArgumentError

try:
    from ._observe._metrics import INSTRUMENTS, Instrument, Metrics
    from ._observe._telemetry import Tracing
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "pleo_export.otel needs the OpenTelemetry API: pip install 'pleo-export[otel]'"
    ) from exc

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from ._client import PleoExport

__all__ = ["INSTRUMENTS", "Instrument", "instrument", "uninstrument"]


def instrument(
    pleo: PleoExport,
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    traces: bool = True,
    metrics: bool = True,
) -> None:
    """Trace ``pleo``'s calls and record its workers' metrics from now on.

    Spans: ``pleo_export {METHOD} {url.template}`` (INTERNAL) per SDK call, with one CLIENT
    span ``{METHOD} {url.template}`` per attempt (HTTP client semantic conventions, the trace
    sent on in ``traceparent``); ``pleo_export.export_run`` per export run and
    ``pleo_export.worker.job`` per job an ``ExportWorker`` takes. Metrics: see ``INSTRUMENTS``.
    ``with_options`` views of ``pleo``, made before or after, are instrumented too.

    Args:
        pleo: the client.
        tracer_provider: where spans go; default the global provider.
        meter_provider: where measurements go; default the global provider.
        traces: False leaves tracing as it is.
        metrics: False leaves metrics as they are.

    Raises:
        InvalidArgumentError: ``pleo`` is not a ``PleoExport``.
    """
    observer = _observer(pleo)
    if traces:
        observer.tracing = Tracing(tracer_provider)
    if metrics:
        observer.metrics = Metrics(meter_provider)
    observer.refresh()


def uninstrument(pleo: PleoExport) -> None:
    """Stop tracing ``pleo`` and recording its metrics (hooks stay).

    Raises:
        InvalidArgumentError: ``pleo`` is not a ``PleoExport``.
    """
    observer = _observer(pleo)
    observer.tracing = None
    observer.metrics = None
    observer.refresh()


def _observer(pleo: PleoExport) -> Observer:
    from ._client import PleoExport  # deferred: importing otel loads no client

    if not isinstance(pleo, PleoExport):
        raise InvalidArgumentError("pleo", f"expected a PleoExport, got {type(pleo).__name__}")
    return pleo.observer


if TYPE_CHECKING:
    from ._observe._hooks import Observer
