"""``PleoExport``: the client every user starts from.

It builds the object graph: one ``httpx.AsyncClient`` owned (or borrowed), one seam handed to
every API version object and to the generated client behind ``.raw``, and what ``with_options``
views share (``_shared_state``). Turning its arguments into settings (credentials, base URL,
timeout, TLS) is ``_settings``'.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from ._config import (
    CLOSE_GRACE,
    DEFAULT_BATCH_CONCURRENCY,
    DEFAULT_FILE_CONCURRENCY,
    DEFAULT_FLUSH_INTERVAL,
    DEFAULT_MAX_EMPTY_PAGES,
    DEFAULT_MAX_FILE_SIZE,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_PREFETCH,
)
from ._errors import InvalidArgumentError
from ._shared_state import SharedState

# Importing this module stays cheap (the CLI's --help, `from pleo_export import PleoExport`):
# httpx, the seam, the resources with their endpoint modules and models, and the generated
# client are imported where they are first needed (each import marked "deferred", which
# scripts/house.py counts as a dependency all the same); type checkers see them here.
if TYPE_CHECKING:
    import uuid
    from collections.abc import Mapping
    from types import ModuleType, TracebackType

    import httpx

    from ._api import V2Resources, V3Resources
    from ._auth import TokenSource
    from ._budget import RequestBudget
    from ._files import Files
    from ._observe._hooks import Hook, Observer, RequestInfo, ResponseInfo, RetryInfo
    from ._pagination import Pager
    from ._resources import (
        ExportItemsV2,
        ExportItemsV3,
        ExportJobsV2,
        ExportJobsV3,
        JobItemsV2,
        JobItemsV3,
    )
    from ._retry import RetryPolicy
    from ._run import ExportRun
    from ._wire import GeneratedClient, Seam
    from .coordination._types import Coordinator
    from .models import (
        ExportItemV2,
        ExportItemV3,
        ExportJob,
        ExportJobItem,
        ExportJobItemV3,
        ExportJobV3,
    )

    RunV3 = ExportRun[ExportJobV3, ExportJobItemV3, ExportItemV3]
    RunV2 = ExportRun[ExportJob, ExportJobItem, ExportItemV2]

__all__ = ["PleoExport"]


class PleoExport:
    """Async client for Pleo's Export API (v3 by default, v2 under ``.v2``).

    Use it as ``async with PleoExport(api_key=...) as pleo:`` or call ``await pleo.aclose()``.

    Args:
        api_key: an API key, sent as HTTP Basic (the key as username, empty password).
            Defaults to the ``PLEO_API_KEY`` environment variable.
        bearer_token: an OAuth access token, or a sync/async callable returning a fresh one;
            it is called for every attempt, retries included. Defaults to ``PLEO_BEARER_TOKEN``.
        auth: any ``httpx.Auth`` instead of the two above.
        environment: ``"production"`` (the default) or ``"staging"``; or ``PLEO_ENVIRONMENT``.
        base_url: a URL instead of an environment (``PLEO_BASE_URL``); plain ``http://`` only to
            loopback hosts unless ``allow_insecure_http=True``.
        timeout: per-request timeout; default 60 s read/write, 5 s connect, 10 s pool.
        max_retries: retries after the first attempt (default 3); shorthand for ``retry``.
        retry: the full ``RetryPolicy`` (backoff 0.5 s doubling to 8 s, Retry-After ≤ 60 s).
        http_client: your own ``httpx.AsyncClient`` (e.g. another transport); the SDK sets its
            timeout and User-Agent on each request where the client has httpx's defaults, and
            does not close it.
        default_headers: extra headers sent with every request.
        api_version: the version behind ``jobs``, ``job_items``, ``export_items``: "v3" or "v2".
        prefetch: pages fetched ahead by list iterators (default 1; 0 turns it off).
        file_client: an ``httpx.AsyncClient`` for file downloads (``pleo.files``); it must not
            authenticate to Pleo. Default: the SDK's own separate pool, or with
            ``http_client`` that client with its auth and default headers switched off.
        max_file_size: bytes a file download may reach (default 30 MiB).
        file_concurrency: file downloads in flight at once (default 4).
        total_timeout: seconds one attempt may take in all, body included (default twice the
            read timeout, 120 s); exceeding it is an ``APITimeoutError``, retried like others.
        max_response_bytes: the largest response body read, after decompression (default
            32 MiB); a larger one is a ``ResponseTooLargeError``.
        max_empty_pages: pages in a row without items that still announce a next page before
            paging stops with a ``PaginationError`` (default 10).
        on_request: called as each attempt is sent, with a ``RequestInfo`` (sync or async).
        on_response: called as each attempt ends, with a ``ResponseInfo``, answered or not.
        on_retry: called as each retry is sent, with a ``RetryInfo`` saying why.
            Hooks see the method, the path template (no ids), status, timing and attempt
            number, never a header, body or credential; one that raises is logged and ignored.
        requests_per_minute: Pleo's request budget for this client, its views, runs and
            workers: every attempt waits for a token (a burst of 10), and that wait is not
            part of its timeout; a 429 pauses it for the Retry-After and lowers the rate for a
            while. ``"auto"`` (the default): 500 for Pleo's production and staging hosts, none
            for any other base URL; None: no budget.
        shared_budget: a coordinator (``SQLiteCoordinator``, ``PostgresCoordinator``) whose
            store shares the budget with every process using the same credential, so a fleet
            together stays within it (see docs/coordination.md).
        budget_key: names the shared budget when the credential cannot (a token callable,
            custom ``auth``); by default a hash of the API key or token.

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
        prefetch: int = DEFAULT_PREFETCH,
        file_client: httpx.AsyncClient | None = None,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        file_concurrency: int = DEFAULT_FILE_CONCURRENCY,
        total_timeout: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_empty_pages: int = DEFAULT_MAX_EMPTY_PAGES,
        on_request: Hook[RequestInfo] | None = None,
        on_response: Hook[ResponseInfo] | None = None,
        on_retry: Hook[RetryInfo] | None = None,
        requests_per_minute: float | Literal["auto"] | None = "auto",
        shared_budget: Coordinator | None = None,
        budget_key: str | None = None,
    ) -> None:
        if api_version not in ("v3", "v2"):  # checked before a connection pool exists
            raise InvalidArgumentError("api_version", f"expected 'v3' or 'v2', got {api_version!r}")
        # deferred: httpx, the settings, the seam and its hooks load when a client is made
        from . import _settings
        from ._budget import make_budget
        from ._config import DEFAULT_TIMEOUT
        from ._observe._hooks import Observer
        from ._validation import check_int, check_seconds
        from ._wire import Seam

        check_int(prefetch, "prefetch", minimum=0)
        check_int(max_response_bytes, "max_response_bytes", minimum=1)
        check_int(max_empty_pages, "max_empty_pages", minimum=1)
        check_int(max_file_size, "max_file_size", minimum=1)
        check_int(file_concurrency, "file_concurrency", minimum=1)
        if total_timeout is not None:
            check_seconds(total_timeout, "total_timeout")
        auth_ = _settings.resolve_auth(
            api_key, bearer_token, auth, has_client=http_client is not None
        )
        base_url_ = _settings.resolve_base_url(environment, base_url, allow_insecure_http)
        budget = make_budget(
            requests_per_minute,
            base_url=base_url_,
            auth=auth_,
            shared_budget=shared_budget,
            budget_key_name=budget_key,
        )
        retry = _settings.resolve_retry(max_retries, retry)
        resolved_timeout = _settings.resolve_timeout(timeout, http_client)
        headers = _settings.resolve_headers(default_headers, http_client)
        owns_http = http_client is None
        if http_client is None:
            http_client = _settings.new_pool()
        seam = Seam(
            http=http_client,
            base_url=base_url_,
            auth=auth_,
            retry=retry,
            timeout=resolved_timeout,
            headers=headers,
            total_timeout=total_timeout,
            max_response_bytes=max_response_bytes,
            max_empty_pages=max_empty_pages,
            observer=Observer(on_request=on_request, on_response=on_response, on_retry=on_retry),
            budget=budget,
        )
        files_settings: dict[str, Any] = {
            "client": file_client
            if file_client is not None
            else None
            if owns_http
            else http_client,
            "retry": retry,
            "timeout": resolved_timeout or DEFAULT_TIMEOUT,
            "max_size": max_file_size,
            "concurrency": file_concurrency,
        }
        shared = SharedState(
            self,
            auth=auth_,
            base_url=base_url_,
            api_version=api_version,
            prefetch=prefetch,
            owns_http=owns_http,
            files_settings=files_settings,
        )
        self._attach(shared, seam)

    def _attach(self, shared: SharedState, seam: Seam) -> None:
        """Set up this client (or view) on ``shared`` state and its own ``seam``."""
        self._shared = shared
        self._seam = seam
        self._raw: GeneratedClient | None = None
        #: The API's base URL, e.g. ``https://external.pleo.io``.
        self.base_url = shared.base_url
        #: The version behind ``jobs``, ``job_items``, ``export_items``: "v3" or "v2".
        self.api_version = shared.api_version

    @property
    def files(self) -> Files:
        """Downloads of export items' files (receipts): see ``Files`` (made on first use, and
        shared with every ``with_options`` view)."""
        return self._shared.files

    @cached_property
    def v2(self) -> V2Resources:
        """The v2 endpoints (made on first use, like every resource)."""
        # deferred: loaded on first use, so importing the client stays cheap
        from ._api import V2Resources

        shared = self._shared
        return V2Resources(self._seam, prefetch=shared.prefetch, coordinator=shared.coordinator)

    @cached_property
    def v3(self) -> V3Resources:
        """The v3 endpoints, typed exactly."""
        # deferred: loaded on first use, so importing the client stays cheap
        from ._api import V3Resources

        shared = self._shared
        return V3Resources(self._seam, prefetch=shared.prefetch, coordinator=shared.coordinator)

    @property
    def _default(self) -> V3Resources | V2Resources:
        # Typed as either version because api_version picks at run time; code that wants the
        # exact v3 types uses ``pleo.v3``.
        return self.v2 if self.api_version == "v2" else self.v3

    @cached_property
    def jobs(self) -> ExportJobsV3 | ExportJobsV2:
        """Export jobs of the client's ``api_version``: list, get, create."""
        return self._default.jobs

    @cached_property
    def job_items(self) -> JobItemsV3 | JobItemsV2:
        """Job items of the client's ``api_version``: list, update in batches."""
        return self._default.job_items

    @cached_property
    def export_items(self) -> ExportItemsV3 | ExportItemsV2:
        """Export items (the accounting data) of the client's ``api_version``."""
        return self._default.export_items

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The one ``httpx.AsyncClient`` (connection pool) every request goes through."""
        return self._seam.http

    @property
    def request_budget(self) -> RequestBudget | None:
        """The request budget every call of this client and its views spends (None: none)."""
        return self._seam.budget

    @property
    def observer(self) -> Observer:
        """What watches this client's requests: its hooks, and the tracing and metrics that
        ``pleo_export.otel.instrument`` sets; shared with every ``with_options`` view."""
        return self._seam.observer

    def with_options(
        self,
        *,
        timeout: httpx.Timeout | float | None = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> PleoExport:
        """A view of this client with other per-request settings, e.g. for one slow call::

            job = await pleo.with_options(timeout=300, max_retries=0).jobs.get(job_id)

        The view shares the connection pool, auth, hooks, tracing and ``files``; nothing is
        opened, so making one per call is cheap. Closing the view leaves everything open;
        closing this client closes it for both.

        Args:
            timeout: the per-request timeout for calls through the view (a float is the read,
                write and pool timeout, with 5 s to connect); its total deadline is twice the
                read timeout.
            max_retries: retries after the first attempt; the backoff stays this client's.
            headers: extra headers, added to (or replacing) this client's.

        Returns:
            A ``PleoExport`` sending through the same pool.

        Raises:
            InvalidArgumentError: a negative ``max_retries`` or timeout, or a non-string header.
        """
        # deferred: loaded on first use, so importing the client stays cheap
        from ._options import derive_seam

        seam = derive_seam(self._seam, timeout=timeout, max_retries=max_retries, headers=headers)
        return _ClientView(self._shared, seam)

    @property
    def raw(self) -> GeneratedClient:
        """The generated client, on the same pool, auth, retries and typed errors.

        For the deprecated v0/v1 operations or anything the facade does not wrap::

            from pleo_export_raw.api.export_api_v_1 import get_export_job_by_id_v1
            job = await get_export_job_by_id_v1.asyncio(job_id, client=pleo.raw)

        Non-2xx answers raise the SDK's typed errors rather than returning a half-parsed model.
        """
        if self._raw is None:
            # deferred: loaded on first use, so importing the client stays cheap
            from ._wire import generated_client

            self._raw = generated_client(self._seam, self.base_url)
        return self._raw

    def export_run(
        self,
        job: str | uuid.UUID | ExportJobV3 | ExportJob,
        *,
        update_concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        coordinator: Coordinator | None = None,
        concurrency: int | None = None,
    ) -> RunV3 | RunV2:
        """Work one export job through, from ``started`` to its final event::

            async with pleo.export_run(job) as run:
                async for work in run.pending():
                    run.succeeded(work, external_id=await ledger.book(work.export_item))

        Args:
            job: the job id, or a job model (its status then saves a read).
            update_concurrency: item-update batches in flight at once (default 4).
            flush_interval: seconds a recorded outcome may wait for its batch of 100 to fill
                (default 30).
            coordinator: where the run's lease and journal live: a ``SQLiteCoordinator`` or
                ``PostgresCoordinator`` makes them outlive the process; default the client's
                in-memory one (see docs/coordination.md).
            concurrency: the deprecated name of ``update_concurrency`` (a
                ``DeprecationWarning``; handler calls in flight are ``run.process``'s).

        Returns:
            An ``ExportRun`` (see there for what entering and leaving it do), typed for either
            version because ``api_version`` picks at run time; ``pleo.v3.export_run`` is exact.

        Raises:
            InvalidArgumentError: a bad argument.
        """
        # deferred: loaded on first use, so importing the client stays cheap
        from ._validation import check_job, renamed
        from .models import ExportJob, ExportJobV3

        if concurrency is not None:
            update_concurrency = renamed(
                "concurrency",
                "update_concurrency",
                concurrency,
                update_concurrency,
                DEFAULT_BATCH_CONCURRENCY,
            )
        if self.api_version == "v2":
            # A job model of the other version still names the job: run it by its id.
            v2_job = check_job(job, ExportJob)
            return self.v2.export_run(
                v2_job,
                update_concurrency=update_concurrency,
                flush_interval=flush_interval,
                coordinator=coordinator,
            )
        v3_job = check_job(job, ExportJobV3)
        return self.v3.export_run(
            v3_job,
            update_concurrency=update_concurrency,
            flush_interval=flush_interval,
            coordinator=coordinator,
        )

    def paginate(
        self,
        endpoint: ModuleType,
        *args: object,
        after: str | None = None,
        before: str | None = None,
        offset: int | None = None,
        max_items: int | None = None,
        prefetch: int | None = None,
        **params: object,
    ) -> Pager[object]:
        """Iterate over any generated list operation, e.g. a v1 one::

            from pleo_export_raw.api.export_api_v_1 import get_export_jobs_list_v1
            async for job in pleo.paginate(get_export_jobs_list_v1, limit=50): ...

        ``params`` are the endpoint's own arguments (generated types); ``after``, ``before``,
        ``offset`` and ``max_items`` page as in ``jobs.list``, and ``prefetch`` defaults to the
        client's. The items are the endpoint's generated models (typed ``object``: narrow them
        with ``isinstance``).
        """
        # deferred: loaded on first use, so importing the client stays cheap
        from ._resources import paginate

        return paginate(
            self._seam,
            endpoint,
            *args,
            after=after,
            before=before,
            offset=offset,
            max_items=max_items,
            prefetch=self._shared.prefetch if prefetch is None else prefetch,
            **params,
        )

    async def aclose(self) -> None:
        """Close the connection pool (not a caller-provided ``http_client``).

        Calls in flight end with ``ClientClosedError`` (not retried), and so does any later one.
        Export runs' outcomes on their way to Pleo (a cancelled run's last flush too) get
        ``CLOSE_GRACE`` seconds to arrive first; what is still going then is logged at ERROR.
        """
        # deferred: loaded on first use, so importing the client stays cheap
        from ._batch import settle_deliveries

        await settle_deliveries(CLOSE_GRACE)
        self._seam.close()  # and every with_options view's
        # The generated client's front ``httpx.AsyncClient`` owns no connection (RawTransport
        # sends on the shared pool) and stays open, so its calls reach the seam and end in
        # ``ClientClosedError`` like the facade's, not in httpx's RuntimeError.
        shared = self._shared
        if shared.files_made:  # made on first use: nothing to close before
            await shared.files.aclose()
        if shared.owns_http:
            await self._seam.http.aclose()

    async def __aenter__(self) -> PleoExport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"PleoExport(base_url={self.base_url!r}, auth={self._shared.auth!r})"


class _ClientView(PleoExport):
    """What ``PleoExport.with_options`` returns: the client's shared state on a derived seam."""

    def __init__(self, shared: SharedState, seam: Seam) -> None:
        self._attach(shared, seam)

    async def aclose(self) -> None:
        """Nothing to close: the pools are the client's (its ``.raw`` front owns none)."""
