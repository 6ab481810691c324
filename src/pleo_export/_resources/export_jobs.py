"""Export jobs: list, get, create, and post a lifecycle event (v3 and v2).

The transition helpers built on ``post_event`` (start, complete, fail) live in ``_lifecycle``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar, Unpack

from .._errors import InvalidArgumentError
from .._lifecycle import attempt_recorder, check_event_fields, transition
from .._pagination import Pager
from .._port import JobLike
from .._validation import check_bool, check_enum, check_list, check_text, check_uuid
from .._wire import Adapter, check_job_failure_type, create_body, event_body, v2, v3
from ..models import ExportJob, ExportJobV3
from ._base import PagingOptions, Resource

__all__ = ["ExportJobs", "ExportJobsV2", "ExportJobsV3"]

JobT = TypeVar("JobT", bound=JobLike)
IdLike = str | uuid.UUID


class ExportJobs(Resource, Generic[JobT]):
    """Export jobs of one API version; ``pleo.jobs`` (v3) or ``pleo.v2.jobs``."""

    _wire: ClassVar[Adapter[Any]]

    def list(
        self,
        *,
        company_id: IdLike | None = None,
        statuses: Sequence[str] | None = None,
        **paging: Unpack[PagingOptions],
    ) -> Pager[JobT]:
        """Iterate over export jobs, following cursors: ``async for job in pleo.jobs.list()``.

        Args:
            company_id: only this company's jobs (needed with organisation-level credentials).
            statuses: only jobs in these statuses, e.g. ``["pending"]``.
            paging: the ``PagingOptions`` keywords: ``limit`` (page size, default 100),
                ``after`` / ``before`` / ``offset`` (where to start; at most one of them),
                ``sorting_keys`` / ``sorting_order`` (passed through; equal lengths),
                ``max_items`` (stop after this many jobs), ``prefetch`` (pages requested
                ahead, default 1; 0 turns it off).

        Raises:
            InvalidArgumentError: a bad argument, before any request.
        """
        args = self._list_args(paging)
        params: dict[str, Any] = {}
        if company_id is not None:
            params["company_id"] = check_uuid(company_id, "company_id")
        if statuses is not None:
            params["statuses"] = [
                check_enum(s, self._wire.job_statuses, "statuses")
                for s in check_list(statuses, "statuses")
            ]
        return self._pager(self._wire.list_jobs, args, **params)

    async def get(self, job_id: IdLike) -> JobT:
        """Fetch one export job.

        Raises:
            ExportNotFoundError: no job with that id.
        """
        job: JobT = await self._get(
            self._wire.get_job, check_uuid(job_id, "job_id"), where="ExportJob"
        )
        return job

    async def create(
        self,
        *,
        company_id: IdLike,
        accounting_entry_ids: Sequence[IdLike],
        employee_id: IdLike | None = None,
        is_interactive: bool | None = None,
        vendor_based_bookkeeping: bool | None = None,
    ) -> JobT:
        """Create an export job for some accounting entries (never retried: not idempotent).

        Raises:
            ExportAlreadyInProgressError: the company already has a running job.
        """
        if not check_list(accounting_entry_ids, "accounting_entry_ids"):
            raise InvalidArgumentError("accounting_entry_ids", "at least one id is needed")
        for name, flag in (
            ("is_interactive", is_interactive),
            ("vendor_based_bookkeeping", vendor_based_bookkeeping),
        ):
            if flag is not None:
                check_bool(flag, name)
        body = create_body(
            company_id=check_uuid(company_id, "company_id"),
            accounting_entry_ids=[
                check_uuid(entry, "accounting_entry_ids") for entry in accounting_entry_ids
            ],
            employee_id=None if employee_id is None else check_uuid(employee_id, "employee_id"),
            is_interactive=is_interactive,
            vendor_based_bookkeeping=vendor_based_bookkeeping,
        )
        job: JobT = await self._get(self._wire.create_job, body=body, where="ExportJob")
        return job

    async def post_event(
        self,
        job_id: IdLike,
        event: str,
        *,
        failure_reason: str | None = None,
        failure_reason_type: str | None = None,
        retry: bool = False,
    ) -> None:
        """Post a lifecycle event as it is, with no state check (see ``start``/``complete``).

        ``retry=True`` lets timeouts and 5xx retry; only do so when you reconcile a 422 from a
        repeated event (the transition helpers do).

        Raises:
            InvalidArgumentError: a bad id or event, or failure details on an event other than
                ``failed`` (Pleo's CreateExportJobEvent: they come with ``failed`` only).
            InvalidStatusChangeError: the job's status does not allow the event.
        """
        check_event_fields(
            event,
            failure_reason,
            failure_reason_type,
            names=("failure_reason", "failure_reason_type"),
        )
        if failure_reason is not None:
            check_text(failure_reason, "failure_reason")
        body = event_body(
            check_uuid(job_id, "job_id"),
            event,
            failure_reason=failure_reason,
            failure_reason_type=failure_reason_type,
        )
        await self._seam.call(
            self._wire.post_event.request(body=body),
            None,
            retry_post=check_bool(retry, "retry"),
            on_attempt=attempt_recorder(),  # the attempts a transition helper watches
        )

    async def start(self, job: IdLike | JobT) -> bool:
        """Claim a pending job: post ``started`` (pending → in_progress), safely retried.

        Args:
            job: the job id, or a job model; a model's status is checked before sending, an
                id is sent without reading the job first.

        Returns:
            True when Pleo's acceptance was seen. False when an attempt got no answer and the
            job, read back, is ``in_progress``: most likely this call's claim landed, but
            another worker claiming in that moment would look the same (Pleo has no claim
            token), so a caller sharing the account with other workers may want to wait.

        Raises:
            InvalidTransitionError: the model's status is not ``pending`` (nothing is sent).
            InvalidStatusChangeError: Pleo refused it, e.g. another worker claimed the job
                first; ``actual_status`` holds the status read back.
        """
        return await transition(self, job, "started")

    async def complete(self, job: IdLike | JobT) -> None:
        """Post ``completed`` (in_progress → completed): every item was exported.

        Raises:
            InvalidTransitionError: the model's status is not ``in_progress`` (nothing sent).
            InvalidStatusChangeError: Pleo refused it; ``actual_status`` holds the status.
        """
        await transition(self, job, "completed")

    async def complete_with_errors(self, job: IdLike | JobT) -> None:
        """Post ``completed_with_errors`` (in_progress → completed_with_errors): some items
        failed.

        Raises:
            InvalidTransitionError: the model's status is not ``in_progress`` (nothing sent).
            InvalidStatusChangeError: Pleo refused it; ``actual_status`` holds the status.
        """
        await transition(self, job, "completed_with_errors")

    async def fail(
        self, job: IdLike | JobT, *, reason: str, reason_type: str | None = None
    ) -> None:
        """Post ``failed`` (in_progress → failed) with a reason the user can act on.

        Args:
            job: the job id or model.
            reason: free text shown in Pleo.
            reason_type: one of the 15 ``ExportJobFailureReasonType`` values, e.g.
                ``"accounting_system_unreachable"`` or ``"invalid_configuration"``.

        Raises:
            InvalidArgumentError: an unknown ``reason_type``.
            InvalidTransitionError: the model's status is not ``in_progress`` (nothing sent).
            InvalidStatusChangeError: Pleo refused it; ``actual_status`` holds the status.
        """
        check_text(reason, "reason")
        if reason_type is not None:
            check_job_failure_type(reason_type)
        await transition(self, job, "failed", reason=reason, reason_type=reason_type)


class ExportJobsV3(ExportJobs[ExportJobV3]):
    """Export jobs through the v3 endpoints (the default)."""

    _wire = v3.ADAPTER


class ExportJobsV2(ExportJobs[ExportJob]):
    """Export jobs through the v2 endpoints."""

    _wire = v2.ADAPTER
