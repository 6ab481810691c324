"""The sync ``PleoExport``: the async client's API without ``await``, for Django, Celery, Odoo,
cron scripts and notebooks.
"""

from __future__ import annotations

import uuid
import warnings
import weakref
from collections.abc import Awaitable, Callable, Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Final, Literal, ParamSpec, TypeVar

import httpx

import pleo_export
from pleo_export import RetryPolicy, TokenSource
from pleo_export.models import (
    ExportItemV2,
    ExportItemV3,
    ExportJob,
    ExportJobItem,
    ExportJobItemUpdate,
    ExportJobItemUpdateV3,
    ExportJobItemV3,
    ExportJobV3,
    UpdateExportJobItem,
    UpdateExportJobItemV3,
)

from ._core import Binding, Core
from ._defaults import keyword_defaults
from ._resources import ExportItems, Files, JobItems, JobItemsV3, Jobs
from ._run import ExportRun

if TYPE_CHECKING:
    from pleo_export import RequestInfo, ResponseInfo, RetryInfo
    from pleo_export.coordination import Coordinator

__all__ = ["PleoExport", "V2Resources", "V3Resources", "source_of"]

#: ``pleo_export.PleoExport(...)``'s defaults.
_CLIENT: Final = keyword_defaults(pleo_export.PleoExport.__init__)
#: ``pleo.export_run(job, ...)``'s.
_RUN: Final = keyword_defaults(pleo_export.PleoExport.export_run)
#: ``pleo.v3.export_run(job, ...)``'s (and ``pleo.v2``'s: one method of theirs).
_VERSION_RUN: Final = keyword_defaults(pleo_export.V3Resources.export_run)


def _renamed(update_concurrency: int, concurrency: int | None) -> tuple[int, int | None]:
    """What to pass on to the async run for ``update_concurrency`` and its deprecated name
    ``concurrency``: the warning is given here, at the caller's line (on the loop's thread it
    would point into the SDK); two different values go on both, for the async run to refuse."""
    if concurrency is None:
        return update_concurrency, None
    if update_concurrency not in (_VERSION_RUN["update_concurrency"], concurrency):
        return update_concurrency, concurrency
    warnings.warn(
        "concurrency= is deprecated and will be removed in the next release; use "
        "update_concurrency=",
        DeprecationWarning,
        stacklevel=3,
    )
    return concurrency, None


P = ParamSpec("P")
T = TypeVar("T")
AsyncClient = pleo_export.PleoExport
AsyncSource = pleo_export.PleoExport | pleo_export.V3Resources | pleo_export.V2Resources
RunV3 = ExportRun[ExportJobV3, ExportJobItemV3, ExportItemV3]
RunV2 = ExportRun[ExportJob, ExportJobItem, ExportItemV2]

#: Each sync client, view and version namespace → its core and how to find its async twin on
#: the loop (what the sync worker needs; filled in by the objects themselves).
_SOURCES: weakref.WeakKeyDictionary[object, tuple[Core[AsyncClient], Callable[[], AsyncSource]]] = (
    weakref.WeakKeyDictionary()
)


def source_of(
    holder: PleoExport | V3Resources | V2Resources,
) -> tuple[Core[AsyncClient], Callable[[], AsyncSource]]:
    """The core of a sync client or version namespace, and its async counterpart's getter
    (call that on the loop only)."""
    return _SOURCES[holder]


class V3Resources:
    """The v3 endpoints, typed exactly: ``pleo.v3.jobs`` and so on (sync)."""

    def __init__(self, binding: Binding[AsyncClient]) -> None:
        self._binding = binding
        core = binding.core
        _SOURCES[self] = (core, lambda: binding.resolve().v3)
        self.jobs: Jobs[ExportJobV3] = Jobs(core, lambda: binding.resolve().v3.jobs)
        self.job_items: JobItemsV3[
            ExportJobItemV3, UpdateExportJobItemV3, ExportJobItemUpdateV3
        ] = JobItemsV3(core, lambda: binding.resolve().v3.job_items)
        self.export_items: ExportItems[ExportItemV3] = ExportItems(
            core, lambda: binding.resolve().v3.export_items
        )

    def export_run(
        self,
        job: str | uuid.UUID | ExportJobV3,
        *,
        update_concurrency: int = _VERSION_RUN["update_concurrency"],
        flush_interval: float = _VERSION_RUN["flush_interval"],
        coordinator: Coordinator | None = None,
        concurrency: int | None = None,
    ) -> RunV3:
        """An export run of ``job`` on v3 (see ``PleoExport.export_run``); as in async,
        ``update_concurrency`` is the number of update batches in flight, ``concurrency`` its
        deprecated name."""
        update_concurrency, concurrency = _renamed(update_concurrency, concurrency)
        binding = self._binding
        binding.core.claim(coordinator)
        run = binding.core.portal().run_sync(
            lambda: binding.resolve().v3.export_run(
                job,
                update_concurrency=update_concurrency,
                flush_interval=flush_interval,
                coordinator=coordinator,
                concurrency=concurrency,
            )
        )
        return ExportRun(binding.core, run)


class V2Resources:
    """The v2 endpoints: ``pleo.v2.jobs`` and so on (sync)."""

    def __init__(self, binding: Binding[AsyncClient]) -> None:
        self._binding = binding
        core = binding.core
        _SOURCES[self] = (core, lambda: binding.resolve().v2)
        self.jobs: Jobs[ExportJob] = Jobs(core, lambda: binding.resolve().v2.jobs)
        self.job_items: JobItems[ExportJobItem, UpdateExportJobItem, ExportJobItemUpdate] = (
            JobItems(core, lambda: binding.resolve().v2.job_items)
        )
        self.export_items: ExportItems[ExportItemV2] = ExportItems(
            core, lambda: binding.resolve().v2.export_items
        )

    def export_run(
        self,
        job: str | uuid.UUID | ExportJob,
        *,
        update_concurrency: int = _VERSION_RUN["update_concurrency"],
        flush_interval: float = _VERSION_RUN["flush_interval"],
        coordinator: Coordinator | None = None,
        concurrency: int | None = None,
    ) -> RunV2:
        """An export run of ``job`` on v2 (see ``PleoExport.export_run``); as in async,
        ``update_concurrency`` is the number of update batches in flight, ``concurrency`` its
        deprecated name."""
        update_concurrency, concurrency = _renamed(update_concurrency, concurrency)
        binding = self._binding
        binding.core.claim(coordinator)
        run = binding.core.portal().run_sync(
            lambda: binding.resolve().v2.export_run(
                job,
                update_concurrency=update_concurrency,
                flush_interval=flush_interval,
                coordinator=coordinator,
                concurrency=concurrency,
            )
        )
        return ExportRun(binding.core, run)


class PleoExport:
    """Sync client for Pleo's Export API: ``with PleoExport(api_key=...) as pleo:``.

    It takes the arguments of ``pleo_export.PleoExport`` and offers its resources, runs,
    files and options with the same types, without ``await``. One async client does the work,
    on a private event loop in a thread of its own, started on the first call: any number of
    threads may share one client, a thread with a running event loop of its own (a notebook)
    may call it, and a process forked after using it (Celery's prefork pool) gets a fresh
    loop and connection pool on its first call. ``close()``, or leaving ``with``, closes the
    pools and stops the thread.

    ``http_client`` and ``file_client`` are ``httpx.AsyncClient`` s (e.g. on a test
    transport); a client given one cannot be used in a child after ``fork()``. The request
    budget (``requests_per_minute``, ``shared_budget``, ``budget_key``) is the async
    client's, kept on the client's loop. Hooks, ``bearer_token`` callables and
    ``on_progress`` run on the client's loop thread: they must not block, nor call the sync
    client.

    Raises:
        PleoError: no credentials, or an unsafe base URL.
        InvalidArgumentError: a limit that is not a positive number.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        bearer_token: TokenSource | None = None,
        auth: httpx.Auth | None = None,
        environment: Literal["production", "staging"] | None = None,
        base_url: str | None = None,
        allow_insecure_http: bool = False,
        timeout: httpx.Timeout | float | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
        default_headers: Mapping[str, str] | None = None,
        api_version: Literal["v3", "v2"] = "v3",
        prefetch: int = _CLIENT["prefetch"],
        file_client: httpx.AsyncClient | None = None,
        max_file_size: int = _CLIENT["max_file_size"],
        file_concurrency: int = _CLIENT["file_concurrency"],
        total_timeout: float | None = None,
        max_response_bytes: int = _CLIENT["max_response_bytes"],
        max_empty_pages: int = _CLIENT["max_empty_pages"],
        on_request: Callable[[RequestInfo], object] | None = None,
        on_response: Callable[[ResponseInfo], object] | None = None,
        on_retry: Callable[[RetryInfo], object] | None = None,
        requests_per_minute: float | Literal["auto"] | None = _CLIENT["requests_per_minute"],
        shared_budget: Coordinator | None = None,
        budget_key: str | None = None,
    ) -> None:
        def make() -> AsyncClient:
            return AsyncClient(
                api_key=api_key,
                bearer_token=bearer_token,
                auth=auth,
                environment=environment,
                base_url=base_url,
                allow_insecure_http=allow_insecure_http,
                timeout=timeout,
                max_retries=max_retries,
                retry=retry,
                http_client=http_client,
                default_headers=default_headers,
                api_version=api_version,
                prefetch=prefetch,
                file_client=file_client,
                max_file_size=max_file_size,
                file_concurrency=file_concurrency,
                total_timeout=total_timeout,
                max_response_bytes=max_response_bytes,
                max_empty_pages=max_empty_pages,
                on_request=on_request,
                on_response=on_response,
                on_retry=on_retry,
                requests_per_minute=requests_per_minute,
                shared_budget=shared_budget,
                budget_key=budget_key,
            )

        core = Core(make, borrowed=http_client is not None or file_client is not None)
        core.claim(shared_budget)
        self._setup(Binding(core), owner=True)

    def _setup(self, binding: Binding[AsyncClient], *, owner: bool) -> None:
        self._binding = binding
        self._core = binding.core
        self._owner = owner
        _SOURCES[self] = (binding.core, binding.resolve)
        client = self._core.client
        #: The API's base URL.
        self.base_url: str = client.base_url
        #: The version behind ``jobs``, ``job_items`` and ``export_items``.
        self.api_version: str = client.api_version

    @cached_property
    def v3(self) -> V3Resources:
        """The v3 endpoints, typed exactly."""
        return V3Resources(self._binding)

    @cached_property
    def v2(self) -> V2Resources:
        """The v2 endpoints."""
        return V2Resources(self._binding)

    @property
    def _default(self) -> V3Resources | V2Resources:
        return self.v2 if self.api_version == "v2" else self.v3

    @cached_property
    def jobs(self) -> Jobs[ExportJobV3] | Jobs[ExportJob]:
        """Export jobs of the client's ``api_version``: list, get, create, transitions."""
        return self._default.jobs

    @cached_property
    def job_items(
        self,
    ) -> (
        JobItemsV3[ExportJobItemV3, UpdateExportJobItemV3, ExportJobItemUpdateV3]
        | JobItems[ExportJobItem, UpdateExportJobItem, ExportJobItemUpdate]
    ):
        """Job items of the client's ``api_version``: list, update in batches."""
        return self._default.job_items

    @cached_property
    def export_items(self) -> ExportItems[ExportItemV3] | ExportItems[ExportItemV2]:
        """Export items (the accounting data) of the client's ``api_version``."""
        return self._default.export_items

    @cached_property
    def files(self) -> Files:
        """Downloads of export items' files (receipts)."""
        binding = self._binding
        return Files(binding.core, lambda: binding.resolve().files)

    def with_options(
        self,
        *,
        timeout: httpx.Timeout | float | None = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> PleoExport:
        """A view of this client with other per-request settings, e.g. for one slow call::

            job = pleo.with_options(timeout=300, max_retries=0).jobs.get(job_id)

        It shares the loop, pools, auth and hooks; closing it closes nothing.

        Raises:
            InvalidArgumentError: a negative ``max_retries`` or timeout, or a non-string header.
        """
        binding = Binding(
            self._core,
            self._binding,
            lambda client: client.with_options(
                timeout=timeout, max_retries=max_retries, headers=headers
            ),
        )
        self._core.portal().run_sync(binding.resolve)  # bad options raise here, as in async
        return _View(binding)

    def export_run(
        self,
        job: str | uuid.UUID | ExportJobV3 | ExportJob,
        *,
        update_concurrency: int = _RUN["update_concurrency"],
        flush_interval: float = _RUN["flush_interval"],
        coordinator: Coordinator | None = None,
        concurrency: int | None = None,
    ) -> RunV3 | RunV2:
        """Work one export job through, from ``started`` to its final event::

            with pleo.export_run(job) as run:
                for work in run.pending():
                    run.succeeded(work, external_id=ledger.book(work.export_item))

        Arguments, and what entering and leaving do, as in ``pleo_export.PleoExport``; typed
        for either version, ``pleo.v3.export_run`` is exact.
        """
        update_concurrency, concurrency = _renamed(update_concurrency, concurrency)
        if self.api_version == "v2":
            v2_job = job if isinstance(job, str | uuid.UUID | ExportJob) else job.id
            return self.v2.export_run(
                v2_job,
                update_concurrency=update_concurrency,
                flush_interval=flush_interval,
                coordinator=coordinator,
                concurrency=concurrency,
            )
        v3_job = job if isinstance(job, str | uuid.UUID | ExportJobV3) else job.id
        return self.v3.export_run(
            v3_job,
            update_concurrency=update_concurrency,
            flush_interval=flush_interval,
            coordinator=coordinator,
            concurrency=concurrency,
        )

    def call(self, function: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Await ``function(*args, **kwargs)`` on the client's loop: the way to the parts that
        are async only, e.g. ``pleo.call(coordinator.aclose)``. It must not block the loop.

        Raises:
            PleoError: from the loop's own thread, or once the client is closed.
        """
        return self._core.run(lambda: function(*args, **kwargs))

    def close(self) -> None:
        """Close the connection pools (not a caller's ``http_client``) and stop the client's
        thread; calls in flight end with ``ClientClosedError``. A ``with_options`` view closes
        nothing."""
        if self._owner:
            self._core.close()

    def __enter__(self) -> PleoExport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"sync.{self._core.client!r}"


class _View(PleoExport):
    """What ``PleoExport.with_options`` returns: the same core through a derived binding."""

    def __init__(self, binding: Binding[AsyncClient]) -> None:
        self._setup(binding, owner=False)
