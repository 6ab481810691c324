"""``FakePleo``: the one object users touch. It seeds state, reads it back, and runs the app.

It wires the store, credentials, faults and the ASGI app together and adds nothing of its
own beyond argument checks and copies of read-back data.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable
from typing import Any, Unpack

import httpx

from pleo_export.testing._app import build_app
from pleo_export.testing._asgi import ASGIApp
from pleo_export.testing._auth import Credentials
from pleo_export.testing._clock import Clock, system_clock
from pleo_export.testing._data import build_export_item
from pleo_export.testing._events import EventRecord
from pleo_export.testing._faults import Faults
from pleo_export.testing._files import FileHost, FileRequest
from pleo_export.testing._layer import FaultLayer
from pleo_export.testing._ratelimit import RateLimit
from pleo_export.testing._rules import (
    DEFAULT_API_KEY,
    DEFAULT_BEARER_TOKEN,
    DEFAULT_EXPIRES_IN,
    JOB_FAILURE_REASON_TYPES,
    JOB_STATUSES,
    RUNNING_JOB_STATUSES,
    ApiError,
)
from pleo_export.testing._server import FakePleoServer
from pleo_export.testing._store import Store
from pleo_export.testing._transport import FakeTransport
from pleo_export.testing._webhooks import DeliveryOptions, WebhookDeliveries

__all__ = ["FakePleo"]


class FakePleo:
    """A stateful, in-memory fake of Pleo's Export API (v2 and v3), for tests and demos.

    Args:
        seed: Fixes every generated id and value, and the fault dice. Same seed, same data.
        api_keys: API keys accepted over HTTP Basic (key as user name, empty password).
            Default: ``("pleo-test-key",)``.
        bearer_tokens: Tokens accepted as ``Authorization: Bearer <token>``.
            Default: ``("pleo-test-token",)``.
        clock: A callable returning an aware datetime; pass a ``ManualClock`` to test expiry
            without sleeping. Default: the system clock (UTC).
        expires_in: Seconds a running job may stay idle before it fails with ``job_expired``
            (default 3600, as Pleo documents).
        record_events: Keep the event log read by ``events()``. Turn off for huge benchmarks.
        requests_per_minute: API requests per credential in any 60 s before a 429 (``rate_limit``).

    Example:
        >>> fake = FakePleo(seed=1)
        >>> job_id = fake.add_job(items=3)
        >>> async with httpx.AsyncClient(transport=fake.transport(), base_url="http://pleo") as c:
        ...     await c.get(f"/v3/export-jobs/{job_id}", auth=("pleo-test-key", ""))
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        api_keys: Iterable[str] = (DEFAULT_API_KEY,),
        bearer_tokens: Iterable[str] = (DEFAULT_BEARER_TOKEN,),
        clock: Clock | None = None,
        expires_in: int = DEFAULT_EXPIRES_IN,
        record_events: bool = True,
        requests_per_minute: int | None = None,
    ) -> None:
        self.seed = seed
        self.clock: Clock = clock or system_clock
        #: The accepted credentials; add, revoke or rotate them while the fake runs.
        self.credentials = Credentials(api_keys, bearer_tokens)
        #: The fault rules; see ``Faults.add``.
        self.faults = Faults(seed)
        self._store = Store(seed, self.clock, expires_in, record_events)
        self._files = FileHost(seed, self.clock)
        self._layer = FaultLayer(build_app(self._store, self.credentials, self._files), self.faults)
        self.rate_limit = RateLimit(self._layer, requests_per_minute)

    def __repr__(self) -> str:
        s = self._store
        return f"<FakePleo seed={self.seed} companies={len(s.companies)} jobs={len(s.jobs)}>"

    # -- running -----------------------------------------------------------------------------

    @property
    def app(self) -> ASGIApp:
        """The ASGI app (Starlette plus the fault layer), for any ASGI server or transport."""
        return self.rate_limit

    def transport(self) -> httpx.AsyncBaseTransport:
        """Return an in-process httpx transport; use any base URL with it (``http://pleo``)."""
        return FakeTransport(self.rate_limit)

    def serve(self, port: int = 0) -> FakePleoServer:
        """Return a server for this fake on 127.0.0.1; use it as a (async) context manager.

        ``with fake.serve() as url:`` (or ``async with``) yields the base URL, e.g.
        ``http://127.0.0.1:54321``. ``port=0`` lets the OS pick a free port.
        """
        return FakePleoServer(self.rate_limit, port)

    def deliver_webhooks(
        self, url: str | None = None, **options: Unpack[DeliveryOptions]
    ) -> WebhookDeliveries:
        """Send a signed ``v1.export-job.created`` webhook each time a job is created from now on.

        Give ``url`` (HTTP), ``app=`` (an in-process ASGI app) or ``callback=``; ``secret=``
        (default ``DEFAULT_WEBHOOK_SECRET``), ``retry_delays=`` and the rest are the arguments
        of ``WebhookDeliveries``. Jobs seeded with ``add_job`` send one too, as a pending
        snapshot, whatever status they are seeded in. ``close()`` the result to stop.
        """
        subscription = len(self._store.on_job_created)
        deliveries = WebhookDeliveries(url, seed=self.seed, subscription=subscription, **options)
        self._store.on_job_created.append(deliveries.job_created)
        return deliveries

    @property
    def request_counts(self) -> Counter[str]:
        """How many requests reached each operation, by operationId (``getExportJobsListV3``)."""
        return Counter(self._layer.request_counts)

    @property
    def file_requests(self) -> list[FileRequest]:
        """The last 1000 requests for files, oldest first, each with every header it carried.

        File URLs are pre-signed: the host answers 400 to a request that also carries an
        ``Authorization`` header, as object stores do, and this list shows what was sent.
        """
        return self._files.requests

    def file_content(self, url: str) -> bytes:
        """Return the bytes the fake serves for a file URL of an export item it listed.

        The content is a small valid PDF (``application/pdf``) or JPEG (``image/jpeg``), padded
        with seeded bytes to the declared ``size``: the same for the same seed and entry.
        """
        return self._files.content(url)

    def file_contents(self, job_id: str, accounting_entry_id: str) -> list[bytes]:
        """Return the bytes of every file of one export item, in the item's order.

        Raises:
            KeyError: If the job or the entry is unknown.
        """
        files: Any = self.export_item(job_id, accounting_entry_id)["files"] or []  # v3 JSON
        return [self._files.file_bytes(f["url"], f["type"], f["size"]) for f in files]

    def file_url(
        self,
        base_url: str,
        *,
        size: int,
        media_type: str = "application/pdf",
        name: str = "extra.pdf",
    ) -> str:
        """Return a signed URL for a file of ``size`` bytes that no export item lists.

        It is served like any receipt (same expiry, faults and content rules), e.g. to test a
        30 MB download without seeding one: ``fake.file_url(url, size=30_000_000)``.
        """
        return self._files.extra_url(base_url.rstrip("/"), name, media_type, size)

    # -- seeding -----------------------------------------------------------------------------

    def add_company(
        self,
        *,
        company_id: str | None = None,
        name: str | None = None,
        country: str | None = None,
        multi_currency: bool = False,
        contra_accounts_configured: bool = True,
    ) -> str:
        """Add a company and return its id.

        Args:
            company_id: Its id; drawn from the seed if None.
            name: A display name (not served by the Export API; for your own output).
            country: One of DK, GB, SE, NO, DE, IE, ES, NL; sets the wallet currency and VAT.
                Drawn in turn if None.
            multi_currency: If True, v2 export-item reads answer 400 ``UNSUPPORTED_API_VERSION``.
            contra_accounts_configured: If False, v3 job creation and export-item reads answer
                400 ``MISSING_CONTRA_ACCOUNTS``.
        """
        company = self._store.add_company(
            company_id=company_id,
            name=name,
            country=country,
            multi_currency=multi_currency,
            contra_accounts_configured=contra_accounts_configured,
        )
        return company.id

    def add_job(
        self,
        company_id: str | None = None,
        *,
        items: int = 10,
        status: str = "pending",
        vendor_based_bookkeeping: bool = False,
        is_interactive: bool = True,
        created_by: str | None = None,
        expires_in: int | None = None,
        failure_reason_type: str | None = None,
    ) -> str:
        """Add a job with ``items`` generated items and return its id.

        Items are generated on demand, so ``items=1_000_000`` is cheap. A job seeded as
        ``completed`` has all items ``successful``; ``completed_with_errors`` the same except
        the first item ``failed``; ``failed`` has them ``abandoned``.

        Args:
            company_id: The company; a new one is added if None.
            items: How many items (accounting entries) the job holds.
            status: The job's starting status (any ExportJobStatus).
            vendor_based_bookkeeping: The job's ``vendorBasedBookkeeping`` flag.
            is_interactive: The job's ``isInteractive`` flag.
            created_by: The job's ``createdBy`` employee id.
            expires_in: Idle seconds before expiry; the fake's default if None.
            failure_reason_type: For a seeded ``failed`` job (default
                ``accounting_system_unreachable``).

        Raises:
            ValueError: For an unknown status, or a running status while the company already
                has a running job (Pleo allows one at a time).
        """
        if status not in JOB_STATUSES:
            raise ValueError(f"status must be one of {JOB_STATUSES}")
        if failure_reason_type is not None and failure_reason_type not in JOB_FAILURE_REASON_TYPES:
            raise ValueError("unknown failure_reason_type")
        if items < 0:
            raise ValueError("items must not be negative")
        cid = company_id or self.add_company()
        running = status in RUNNING_JOB_STATUSES
        try:
            job = self._store.create_job(
                cid,
                count=items,
                created_by=created_by,
                is_interactive=is_interactive,
                vendor_based=vendor_based_bookkeeping,
                expires_in=expires_in,
                running=running,
            )
        except ApiError as exc:
            raise ValueError(f"company {cid} already has a running job") from exc
        self._store.force_status(job, status, failure_reason_type)
        return job.id

    # -- reading back ------------------------------------------------------------------------

    def job(self, job_id: str) -> dict[str, object]:
        """Return the job as the v3 API would (a fresh dict), applying any due expiry.

        Raises:
            KeyError: If the fake has no such job.
        """
        with self._store.lock:
            if job_id not in self._store.jobs:
                raise KeyError(job_id)
            return self._store.job(job_id).to_json()

    def jobs(self, company_id: str | None = None) -> list[dict[str, object]]:
        """Return every job (of one company, if given), oldest first."""
        with self._store.lock:
            self._store.expire_due()
            return [
                job.to_json()
                for job in self._store.ordered_jobs
                if company_id is None or job.company_id == company_id
            ]

    def accounting_entry_ids(
        self, job_id: str, start: int = 0, stop: int | None = None
    ) -> list[str]:
        """Return the accounting entry ids of a job's items ``start`` to ``stop``, in item order."""
        with self._store.lock:
            job = self._store.jobs[job_id]
            return [job.entry_id(i) for i in range(start, min(stop or job.count, job.count))]

    def item(self, job_id: str, accounting_entry_id: str) -> dict[str, object]:
        """Return one job item (ExportJobItemV3 JSON), applying any due expiry.

        Raises:
            KeyError: If the job or the item is unknown.
        """
        with self._store.lock:
            self._store.expire_due()
            job = self._store.jobs[job_id]
            index = job.index_of(accounting_entry_id.lower())
            if index is None:
                raise KeyError(accounting_entry_id)
            return job.item_json(index)

    def item_status_counts(self, job_id: str) -> dict[str, int]:
        """Return how many of a job's items are in each status, e.g. ``{"successful": 10}``."""
        with self._store.lock:
            self._store.expire_due()
            return self._store.jobs[job_id].status_counts()

    def export_item(
        self, job_id: str, accounting_entry_id: str, *, api_version: int = 3
    ) -> dict[str, object]:
        """Return the export item (accounting data) of one job item, as v2 or v3 JSON."""
        with self._store.lock:
            job = self._store.jobs[job_id]
            if job.index_of(accounting_entry_id.lower()) is None:
                raise KeyError(accounting_entry_id)
            company = self._store.company(job.company_id)
            item = build_export_item(
                company.catalogue,
                self.seed,
                accounting_entry_id.lower(),
                version=api_version,
                vendor_based=job.vendor_based,
            )
            return copy.deepcopy(item)

    def events(self, job_id: str | None = None, kind: str | None = None) -> list[EventRecord]:
        """Return the event log: every job creation, status change and item update, oldest first.

        Args:
            job_id: Only this job's events.
            kind: Only ``"job_created"``, ``"job_status"`` or ``"item_update"`` events.
        """
        with self._store.lock:
            return self._store.log.read(job_id, kind)

    def item_update_counts(self, job_id: str) -> Counter[str]:
        """Return how many times each item of a job was reported through a PUT.

        An exporter that reports every item exactly once leaves every count at 1 and
        ``len(counts) == numberOfItems``.
        """
        return Counter(
            event.accounting_entry_id or "" for event in self.events(job_id, "item_update")
        )

    def expire_due(self) -> None:
        """Apply expiry now (requests and read-back helpers do this on their own)."""
        self._store.expire_due()
