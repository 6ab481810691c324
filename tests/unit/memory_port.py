"""``MemoryPort``: one export job and its items in memory behind the ``ExportPort`` protocol, for
unit tests of the export run and the worker without HTTP or generated models."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pleo_export import InvalidArgumentError
from pleo_export._outcome import ItemOutcome
from pleo_export._pagination import Cursor, Page, Pager

COMPANY = uuid.UUID("6f1c2f0e-9a55-4c3e-8a51-0c2f3f4a5b6c")
KNOWN_FAILURE_TYPES = {"vendor_unknown", "unexpected_failure"}


@dataclass
class Job:
    id: uuid.UUID
    status: str
    company_id: uuid.UUID = COMPANY
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_updated_at: object = None
    started_at: object = None
    number_of_items: int = 0


@dataclass
class Entry:
    accounting_entry_id: uuid.UUID
    status: str = "pending"


@dataclass
class Answer:
    data: list[Entry]
    errors: list[object] = field(default_factory=list)


class MemoryPort:
    """One job and its items in memory, recording every event and reported outcome."""

    api_version = "v3"

    def __init__(self, items: int, *, status: str = "pending") -> None:
        self.job = Job(uuid.uuid4(), status, number_of_items=items)
        self.items = [Entry(uuid.uuid4()) for _ in range(items)]
        self.events: list[str] = []
        self.reported: list[ItemOutcome] = []

    async def get(self, job_id: uuid.UUID | str) -> Job:
        return self.job

    async def post_event(
        self,
        job_id: uuid.UUID | str,
        event: str,
        *,
        failure_reason: str | None = None,
        failure_reason_type: str | None = None,
        retry: bool = False,
    ) -> None:
        self.events.append(event)
        self.job.status = {"started": "in_progress"}.get(event, event)

    def list_jobs(self, *, company_id: uuid.UUID | None, statuses: Sequence[str]) -> Pager[Job]:
        return _pager([self.job] if self.job.status in statuses else [])

    def list_items(
        self, job_id: uuid.UUID, *, status: str, limit: int | None = None
    ) -> Pager[Entry]:
        return _pager([item for item in self.items if item.status == status][:limit])

    def list_export_items(self, job_id: uuid.UUID) -> Pager[Entry]:
        return _pager([Entry(item.accounting_entry_id) for item in self.items])

    async def report(self, job_id: uuid.UUID, outcomes: Sequence[ItemOutcome]) -> Answer:
        self.reported.extend(outcomes)
        updated = []
        for outcome in outcomes:
            item = next(
                i for i in self.items if i.accounting_entry_id == outcome.accounting_entry_id
            )
            item.status = outcome.status.value
            updated.append(item)
        return Answer(updated)

    def check_item_failure_type(self, value: str) -> str:
        if value not in KNOWN_FAILURE_TYPES:
            raise InvalidArgumentError("reason_type", f"unknown value {value!r}")
        return value


def _pager(items: Sequence[object]) -> Pager[object]:
    async def fetch(cursor: Cursor) -> Page[object]:
        return Page(items, False, False, None, None, len(items))

    return Pager(fetch, prefetch=0)
