"""The fake's event log: every job creation, job status change and item report, in order.

Entries are stored as small tuples and turned into ``EventRecord`` objects only when read, so a
benchmark reporting a million items does not hold a million objects. The store writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pleo_export.testing._jobs import Job

__all__ = ["EventLog", "EventRecord"]


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One accepted state change, as recorded in the fake's event log.

    Attributes:
        kind: ``"job_created"``, ``"job_status"`` (an event or expiry moved the job) or
            ``"item_update"`` (a PUT reported one item).
        job_id: The job concerned.
        at: The fake clock's time of the change.
        status: The new job status, or the reported item status.
        event: For ``job_status``, the event posted (``"started"``...), ``"expired"``, or
            ``"seeded"`` for a job ``add_job`` created in that status.
        accounting_entry_id: For ``item_update``, the item reported.
    """

    kind: str
    job_id: str
    at: datetime
    status: str
    event: str | None = None
    accounting_entry_id: str | None = None


class EventLog:
    """An append-only list of state changes; not thread-safe on its own (the store locks)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._entries: list[tuple[str, Job, datetime, str, str | None, int | None]] = []

    def record(
        self, kind: str, job: Job, at: datetime, status: str, event: str | None, index: int | None
    ) -> None:
        """Append one entry (nothing if the log is disabled)."""
        if self.enabled:
            self._entries.append((kind, job, at, status, event, index))

    def read(self, job_id: str | None = None, kind: str | None = None) -> list[EventRecord]:
        """Return the entries, oldest first, optionally only one job's or one kind's."""
        return [
            EventRecord(k, job.id, at, status, event, None if i is None else job.entry_id(i))
            for k, job, at, status, event, i in self._entries
            if (job_id is None or job.id == job_id) and (kind is None or k == kind)
        ]
