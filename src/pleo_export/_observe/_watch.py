"""Watching export runs and worker jobs: their spans (``Scope``) and the worker's metrics.

Both go through the client's ``Observer`` (``_hooks``) and cost one check while the client is
not instrumented. Per-request watching (hooks, call and attempt spans) is ``_hooks``' part.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from .._lifecycle import status_text
from ._hooks import Observer

if TYPE_CHECKING:
    from ._metrics import Metrics

__all__ = ["Scope", "WorkerWatch"]


class Scope:
    """An export-run or worker-job span, current in this task until ``close``.

    Made by ``Scope.open``, which returns None without tracing, so callers pay one check.
    """

    __slots__ = ("_span", "_token")

    def __init__(self, span: Any, token: object) -> None:
        self._span = span
        self._token = token

    @classmethod
    def open(cls, observer: Observer | None, name: str, attributes: dict[str, Any]) -> Scope | None:
        """Start span ``name`` under the current one, or return None when not tracing."""
        tracing = None if observer is None else observer.tracing
        if tracing is None:
            return None
        from ._telemetry import attach_span

        span = tracing.start(name, attributes)
        token = None if span is None else attach_span(span)
        return None if token is None else cls(span, token)

    def close(self, error: BaseException | None, attributes: dict[str, Any]) -> None:
        """End the span with its outcome and restore the span that was current before."""
        from ._telemetry import detach, end_span

        detach(self._token)
        end_span(self._span, error, {k: v for k, v in attributes.items() if v is not None})


#: Progress stages after which a worker lets a job go; "finished" reports the final status.
_JOB_ENDS: Final = frozenset({"finished", "paused", "deferred", "skipped", "error"})


class WorkerWatch:
    """An ``ExportWorker``'s spans and metrics, through its client's ``Observer``.

    Each method is a no-op while the client is not instrumented; instrumenting later takes
    effect at the next job or poll.
    """

    __slots__ = ("_outcomes", "observer")

    def __init__(self, observer: Observer | None) -> None:
        self.observer = observer
        self._outcomes: dict[Any, str] = {}

    def _metrics(self) -> Metrics | None:
        return None if self.observer is None else self.observer.metrics

    def job_started(self, job: Any) -> Scope | None:
        """A job task began: count it running, and open its span."""
        if (metrics := self._metrics()) is not None:
            metrics.job_started()
        return Scope.open(
            self.observer,
            "pleo_export.worker.job",
            {"pleo_export.job.id": str(job.id), "pleo_export.company.id": str(job.company_id)},
        )

    def job_stopped(self, job: Any, scope: Scope | None, error: BaseException | None) -> None:
        """A job task ended: count it no longer running, and end its span with its outcome."""
        outcome = self._outcomes.pop(job.id, None)
        if (metrics := self._metrics()) is not None:
            metrics.job_stopped()
        if scope is not None:
            scope.close(error, {"pleo_export.job.outcome": outcome})

    def reported(self, stage: str, job_id: Any, status: str | None) -> None:
        """The worker reported progress; a job's last stage is its outcome."""
        if stage not in _JOB_ENDS:
            return
        outcome = (status or stage) if stage == "finished" else stage
        self._outcomes[job_id] = outcome
        if (metrics := self._metrics()) is not None:
            metrics.job_finished(outcome)

    def item(self, outcome: str) -> None:
        """An item was ``booked`` or ``rejected``."""
        if (metrics := self._metrics()) is not None:
            metrics.item(outcome)

    def polled(self, candidates: list[Any], running: set[Any], now: datetime) -> None:
        """A poll listed ``candidates``; the pending ones not ``running`` here are waiting."""
        if (metrics := self._metrics()) is not None:
            waiting = [job for job in candidates if job.id not in running]
            metrics.polled([job for job in waiting if status_text(job.status) == "pending"], now)
