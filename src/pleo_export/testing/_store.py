"""The fake's in-memory state and Pleo's rules applied to it: companies, jobs, events, item updates.

Every method is synchronous and takes the store's lock, so the HTTP layer (on any thread) and a
test reading state back see consistent snapshots. HTTP parsing and JSON shapes stay in ``_app``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pleo_export.testing._catalogue import COUNTRIES, Catalogue, build_catalogue
from pleo_export.testing._clock import Clock
from pleo_export.testing._events import EventLog
from pleo_export.testing._ids import MAX_ITEMS, entry_prefix, seeded_uuid
from pleo_export.testing._jobs import ItemState, Job
from pleo_export.testing._rules import (
    FINAL_JOB_STATUSES,
    MAX_ITEMS_PER_UPDATE,
    RUNNING_JOB_STATUSES,
    UNFINISHED_ITEM_STATUSES,
    ApiError,
    next_job_status,
)

__all__ = ["Company", "Store"]

_EXPIRED_REASON = "The job was not updated within its expiry window and was failed by Pleo."


@dataclass(frozen=True, slots=True)
class Company:
    """A company of the fake and the switches that make Pleo refuse some of its calls."""

    id: str
    name: str
    catalogue: Catalogue
    multi_currency: bool = False
    contra_accounts_configured: bool = True


class Store:
    """All companies and jobs of one fake, with Pleo's rules."""

    def __init__(self, seed: int, clock: Clock, expires_in: int, record_events: bool) -> None:
        self.seed = seed
        self.clock = clock
        self.expires_in = expires_in
        self.lock = threading.RLock()
        self.companies: dict[str, Company] = {}
        self.jobs: dict[str, Job] = {}
        self.ordered_jobs: list[Job] = []
        self._ids = random.Random(f"ids|{seed}")
        self._by_prefix: dict[str, Job] = {}
        self._explicit_owners: dict[str, list[Job]] = {}
        self._running: dict[str, Job] = {}
        self.log = EventLog(record_events)
        #: Called (under the lock) with each new job; webhook deliveries hook in here.
        self.on_job_created: list[Callable[[Job], None]] = []

    # -- companies and jobs ------------------------------------------------------------------

    def add_company(
        self,
        *,
        company_id: str | None = None,
        name: str | None = None,
        country: str | None = None,
        multi_currency: bool = False,
        contra_accounts_configured: bool = True,
    ) -> Company:
        """Register a company; its id, name and country are drawn from the seed when not given."""
        with self.lock:
            number = len(self.companies) + 1
            cid = company_id or seeded_uuid(self._ids)
            if country is None:
                country = sorted(COUNTRIES)[number % len(COUNTRIES)]
            elif country not in COUNTRIES:
                raise ValueError(f"country must be one of {sorted(COUNTRIES)}")
            company = Company(
                id=cid,
                name=name or f"Fake Company {number}",
                catalogue=build_catalogue(self.seed, cid, country),
                multi_currency=multi_currency,
                contra_accounts_configured=contra_accounts_configured,
            )
            self.companies[cid] = company
            return company

    def company(self, company_id: str) -> Company:
        """Return the company, registering it (with seeded master data) if it is new."""
        with self.lock:
            found = self.companies.get(company_id)
            return found if found is not None else self.add_company(company_id=company_id)

    def create_job(
        self,
        company_id: str,
        *,
        count: int | None = None,
        entry_ids: list[str] | None = None,
        created_by: str | None = None,
        is_interactive: bool = True,
        vendor_based: bool = False,
        expires_in: int | None = None,
        running: bool = True,
    ) -> Job:
        """Create a pending job, with ``count`` seeded items or the given ``entry_ids``.

        ``running=False`` is for seeding a job that ``force_status`` finishes at once: it skips
        the one-running-job check and does not count as the company's running job.

        Raises:
            ApiError: 409 ``EXPORT_ALREADY_IN_PROGRESS`` if the company has a running job.
        """
        with self.lock:
            self.expire_due()
            self.company(company_id)
            if running and company_id in self._running:
                raise ApiError(
                    409,
                    "EXPORT_ALREADY_IN_PROGRESS",
                    "This company already has an export job that is pending or in progress.",
                )
            job_id = seeded_uuid(self._ids)
            ids = sorted(set(entry_ids)) if entry_ids is not None else None
            n = len(ids) if ids is not None else (count or 0)
            if not 0 <= n < MAX_ITEMS:
                raise ValueError("item count out of range")
            job = Job(
                id=job_id,
                company_id=company_id,
                seq=len(self.ordered_jobs),
                created_at=self.clock(),
                count=n,
                prefix=None if ids is not None else entry_prefix(self.seed, job_id),
                explicit_ids=ids,
                created_by=created_by,
                is_interactive=is_interactive,
                vendor_based=vendor_based,
                expires_in=self.expires_in if expires_in is None else expires_in,
            )
            self.jobs[job_id] = job
            self.ordered_jobs.append(job)
            if running:
                self._running[company_id] = job
            if job.prefix is not None:
                self._by_prefix[job.prefix] = job
            for eid in ids or ():
                self._explicit_owners.setdefault(eid, []).append(job)
            self.log.record("job_created", job, job.created_at, job.status, None, None)
            for callback in self.on_job_created:
                callback(job)
            return job

    def job(self, job_id: str) -> Job:
        """Return the job, after applying any due expiry; raise the 404 ApiError if unknown."""
        with self.lock:
            self.expire_due()
            found = self.jobs.get(job_id)
            if found is None:
                raise ApiError.job_not_found()
            return found

    def find_item(self, company_id: str | None, accounting_entry_id: str) -> tuple[Job, int] | None:
        """Return the newest job (of the company, if given) holding the entry, with its index."""
        with self.lock:
            self.expire_due()
            candidates = list(self._explicit_owners.get(accounting_entry_id, ()))
            seeded = self._by_prefix.get(accounting_entry_id[:24])
            if seeded is not None:
                candidates.append(seeded)
            best: tuple[Job, int] | None = None
            for job in candidates:
                index = job.index_of(accounting_entry_id)
                if index is None or (company_id is not None and job.company_id != company_id):
                    continue
                if best is None or job.seq > best[0].seq:
                    best = (job, index)
            return best

    # -- rules -------------------------------------------------------------------------------

    def expire_due(self) -> None:
        """Fail every running job idle for longer than its ``expiresIn`` seconds."""
        with self.lock:
            now = self.clock()
            for job in list(self._running.values()):
                deadline = job.deadline()
                if now > deadline:
                    job.expired_at = deadline
                    self._finish(job, "failed", "expired", deadline)
                    job.failure_reason = _EXPIRED_REASON
                    job.failure_reason_type = "job_expired"

    def post_event(
        self,
        job_id: str,
        event: str,
        failure_reason: str | None = None,
        failure_reason_type: str | None = None,
    ) -> Job:
        """Apply a job event (``started``, ``completed``, ``completed_with_errors``, ``failed``).

        Raises:
            ApiError: 404 for an unknown job, 422 ``INVALID_EXPORT_JOB_STATUS_CHANGE`` for a
                transition the state machine does not allow.
        """
        with self.lock:
            job = self.job(job_id)
            target = next_job_status(job.status, event)
            if target is None:
                raise ApiError(
                    422,
                    "INVALID_EXPORT_JOB_STATUS_CHANGE",
                    f"Cannot apply event {event!r} to a job that is {job.status!r}.",
                )
            now = self.clock()
            job.last_updated_at = now
            if target == "in_progress":
                job.status = target
                job.started_at = now
                self.log.record("job_status", job, now, target, event, None)
            else:
                job.completed_at = now
                if target != "completed":
                    job.failure_reason = failure_reason
                    job.failure_reason_type = failure_reason_type
                self._finish(job, target, event, now)
            return job

    def _finish(self, job: Job, status: str, event: str, at: datetime) -> None:
        """Move a running job to a final status; items nobody finished become abandoned."""
        job.status = status
        if self._running.get(job.company_id) is job:
            del self._running[job.company_id]
        if job.default_status in UNFINISHED_ITEM_STATUSES:
            job.default_status = "abandoned"
        for state in job.overrides.values():
            if state.status in UNFINISHED_ITEM_STATUSES:
                state.status = "abandoned"
        job.changed()
        self.log.record("job_status", job, at, status, event, None)

    def check_running(self, job: Job) -> None:
        """Raise the 422 ``EXPORT_JOB_STATUS_UNPROCESSABLE`` ApiError unless ``job`` is running."""
        if job.status not in RUNNING_JOB_STATUSES:
            raise ApiError.job_finished()

    def update_items(
        self, job_id: str, updates: list[dict[str, Any]]
    ) -> tuple[list[int], list[dict[str, Any]]]:
        """Apply validated item updates to a running job.

        Returns:
            The indexes of the items updated, and the per-item errors (ExportJobItemUpdateError).

        Raises:
            ApiError: 404 unknown job, 413 more than 100 updates, 422 job finished.
        """
        with self.lock:
            job = self.job(job_id)
            if len(updates) > MAX_ITEMS_PER_UPDATE:
                raise ApiError(
                    413,
                    "EXPORT_JOB_ITEMS_UPDATE_LIMIT",
                    f"At most {MAX_ITEMS_PER_UPDATE} items can be updated in one request.",
                )
            self.check_running(job)
            now = self.clock()
            job.last_updated_at = now
            updated: list[int] = []
            errors: list[dict[str, Any]] = []
            for update in updates:
                eid = update["accountingEntryId"]
                index = job.index_of(eid)
                if index is None:
                    errors.append(
                        {
                            "accountingEntryId": eid,
                            "message": "This accounting entry is not part of the export job.",
                            "type": "ACCOUNTING_ENTRY_DOES_NOT_EXIST",
                        }
                    )
                    continue
                job.overrides[index] = ItemState(
                    status=update["status"],
                    exported_at=update.get("exportedAt"),
                    external_id=update.get("externalId"),
                    external_url=update.get("externalUrl"),
                    failure_reason=update.get("failureReason"),
                    failure_reason_type=update.get("failureReasonType"),
                )
                updated.append(index)
                self.log.record("item_update", job, now, update["status"], None, index)
            job.changed()
            return updated, errors

    # -- seeding shortcuts -------------------------------------------------------------------

    def force_status(self, job: Job, status: str, reason_type: str | None) -> None:
        """Put a freshly created job straight into ``status`` (for seeding), with timestamps."""
        with self.lock:
            now = self.clock()
            if status == "pending":
                return
            job.started_at = job.last_updated_at = now
            job.status = "in_progress"
            if status == "in_progress":
                self.log.record("job_status", job, now, status, "seeded", None)
            elif status in FINAL_JOB_STATUSES:
                job.completed_at = now
                if status != "failed":
                    job.default_status = "successful"
                if status == "completed_with_errors" and job.count:
                    job.overrides[0] = ItemState(
                        "failed",
                        failure_reason="Seeded failure",
                        failure_reason_type="validation_failure",
                    )
                if status == "failed":
                    job.failure_reason = "Seeded failure"
                    job.failure_reason_type = reason_type or "accounting_system_unreachable"
                self._finish(job, status, "seeded", now)
