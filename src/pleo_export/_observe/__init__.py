"""Observability, in one place: what watches requests, runs and worker jobs.

``pleo_export.otel`` is the public face (``instrument(pleo, tracer_provider=…,
meter_provider=…)``); the hook payloads and ``with_response`` are exported from ``pleo_export``.
The rooms, from the bottom up:

* ``_telemetry``: OpenTelemetry spans (call, attempt, run, job), guarded so telemetry can fail
  while booking cannot;
* ``_metrics``: the worker's and the seam's instruments on one meter;
* ``_meta``: ``ResponseMeta`` and ``with_response`` (a successful call's exchange, bounded and
  masked);
* ``_hooks``: the hook payloads, the client's ``Observer`` and one call's ``Observation``, which
  the seam drives;
* ``_watch``: the spans and metrics of export runs and worker jobs.

This face imports nothing, so loading one room loads only what that room needs.
"""
