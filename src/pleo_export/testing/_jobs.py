"""One export job of the fake: its fields, its items' statuses, and their JSON.

Items are not stored: a job knows how many it has and how to name them, and keeps only the
statuses that differ from the job-wide default. State changes and their rules live in ``_store``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pleo_export.testing._clock import format_timestamp
from pleo_export.testing._ids import entry_id, entry_index
from pleo_export.testing._paging import ComplementView, SortedView, View

__all__ = ["ItemState", "Job"]


@dataclass(slots=True)
class ItemState:
    """The export status of one job item, as last reported (or as set by the fake)."""

    status: str
    exported_at: str | None = None
    external_id: str | None = None
    external_url: str | None = None
    failure_reason: str | None = None
    failure_reason_type: str | None = None


def _ts(when: datetime | None) -> str | None:
    return None if when is None else format_timestamp(when)


@dataclass(eq=False)
class Job:
    """An export job and the status of its items.

    A seeded job has ``count`` items whose ids are ``prefix`` plus the index; a job created
    through the API keeps the ids it was given, sorted, so ids always sort in item order.
    """

    id: str
    company_id: str
    seq: int
    created_at: datetime
    count: int
    prefix: str | None = None
    explicit_ids: list[str] | None = None
    created_by: str | None = None
    is_interactive: bool = True
    vendor_based: bool = False
    expires_in: int = 3600
    status: str = "pending"
    started_at: datetime | None = None
    last_updated_at: datetime | None = None
    completed_at: datetime | None = None
    expired_at: datetime | None = None
    failure_reason: str | None = None
    failure_reason_type: str | None = None
    default_status: str = "pending"
    overrides: dict[int, ItemState] = field(default_factory=dict)
    _index: dict[str, int] = field(default_factory=dict)
    _version: int = 0
    _views: dict[str, tuple[int, list[int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.explicit_ids is not None:
            self._index = {eid: pos for pos, eid in enumerate(self.explicit_ids)}

    def entry_id(self, index: int) -> str:
        """Return the accounting entry id of item ``index``."""
        if self.explicit_ids is not None:
            return self.explicit_ids[index]
        assert self.prefix is not None
        return entry_id(self.prefix, index)

    def index_of(self, accounting_entry_id: str) -> int | None:
        """Return the index of the item with ``accounting_entry_id``, or None if not in this job."""
        if self.explicit_ids is not None:
            return self._index.get(accounting_entry_id)
        assert self.prefix is not None
        index = entry_index(self.prefix, accounting_entry_id)
        return index if index is not None and index < self.count else None

    def deadline(self) -> datetime:
        """Return when the job expires if nothing touches it (from ``lastUpdatedAt``)."""
        return (self.last_updated_at or self.created_at) + timedelta(seconds=self.expires_in)

    def item_status(self, index: int) -> str:
        """Return the status of item ``index``."""
        state = self.overrides.get(index)
        return self.default_status if state is None else state.status

    def changed(self) -> None:
        """Drop cached status views after item statuses changed."""
        self._version += 1

    def view(self, status: str | None) -> View | None:
        """Return the items with ``status`` (all items if None) as a paging view.

        Returns None for "all items"; the caller pages a plain range then.
        """
        if status is None:
            return None
        cached = self._views.get(status)
        if cached is None or cached[0] != self._version:
            if status == self.default_status:
                keys = sorted(i for i, s in self.overrides.items() if s.status != status)
            else:
                keys = sorted(i for i, s in self.overrides.items() if s.status == status)
            cached = (self._version, keys)
            self._views[status] = cached
        if status == self.default_status:
            return ComplementView(self.count, cached[1])
        return SortedView(cached[1])

    def status_counts(self) -> dict[str, int]:
        """Return how many items are in each status (statuses with no items are left out)."""
        counts = Counter(state.status for state in self.overrides.values())
        untouched = self.count - len(self.overrides)
        if untouched:
            counts[self.default_status] += untouched
        return dict(counts)

    def to_json(self) -> dict[str, Any]:
        """Return the job as Pleo's ExportJob / ExportJobV3 JSON object."""
        return {
            "id": self.id,
            "companyId": self.company_id,
            "status": self.status,
            "isInteractive": self.is_interactive,
            "numberOfItems": self.count,
            "vendorBasedBookkeeping": self.vendor_based,
            "expiresIn": self.expires_in,
            "createdAt": format_timestamp(self.created_at),
            "createdBy": self.created_by,
            "startedAt": _ts(self.started_at),
            "lastUpdatedAt": _ts(self.last_updated_at),
            "completedAt": _ts(self.completed_at),
            "expiredAt": _ts(self.expired_at),
            "failureReason": self.failure_reason,
            "failureReasonType": self.failure_reason_type,
        }

    def item_json(self, index: int) -> dict[str, Any]:
        """Return item ``index`` as Pleo's ExportJobItem / ExportJobItemV3 JSON object."""
        state = self.overrides.get(index)
        if state is None:
            state = ItemState(self.default_status)
        return {
            "accountingEntryId": self.entry_id(index),
            "exportJobId": self.id,
            "status": state.status,
            "exportedAt": state.exported_at,
            "externalId": state.external_id,
            "externalUrl": state.external_url,
            "failureReason": state.failure_reason,
            "failureReasonType": state.failure_reason_type,
        }
