"""Every default number and name the SDK uses, in one place.

The README and the docstrings quote these values; change them here only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import httpx

#: The SDK's version, the one place it is written: pyproject.toml reads it (hatch's ``version``
#: source, which wants this plain form), and ``pleo_export.__version__``, ``SDK_VERSION`` and the
#: User-Agent take it from here.
__version__ = "0.1.0"

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "BATCH_LIMIT",
    "BEARER_TOKEN_ENV",
    "BUDGETED_HOSTS",
    "BUDGET_DECREASE",
    "BUDGET_FLEET_RETRY",
    "BUDGET_MIN_FACTOR",
    "BUDGET_RECOVERY_SECONDS",
    "CLOSE_GRACE",
    "CONNECT_TIMEOUT",
    "COORDINATOR_CALL_TIMEOUT",
    "COORDINATOR_CONNECT_TIMEOUT",
    "COORDINATOR_LOCK_TIMEOUT",
    "COORDINATOR_STATEMENT_TIMEOUT",
    "DEFAULT_BATCH_CONCURRENCY",
    "DEFAULT_COORDINATOR_SCHEMA",
    "DEFAULT_FILE_CONCURRENCY",
    "DEFAULT_FILE_DEADLINE",
    "DEFAULT_FLUSH_INTERVAL",
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_EMPTY_PAGES",
    "DEFAULT_MAX_FILE_SIZE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_PREFETCH",
    "DEFAULT_REPLAY_MAX_ENTRIES",
    "DEFAULT_REPLAY_TTL",
    "DEFAULT_REQUESTS_PER_MINUTE",
    "DEFAULT_RESUME_IDLE",
    "DEFAULT_TIMEOUT",
    "DEFAULT_WEBHOOK_TOLERANCE",
    "DEFAULT_WORKER_JOBS",
    "DURATION_BUCKETS",
    "ENVIRONMENTS",
    "ENVIRONMENT_ENV",
    "ERROR_FIELD_MAX_CHARS",
    "FAILURE_REASON_MAX_CHARS",
    "FILE_REFRESH_KEPT",
    "FILE_REFRESH_TTL",
    "HOOK_TIMEOUT",
    "JOURNAL_INTENT_BATCH",
    "LEASE_RENEW_FRACTION",
    "LEASE_SAFETY_FRACTION",
    "LOOPBACK_HOSTS",
    "MAX_CURSOR_CHARS",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "META_HEADER_MAX_CHARS",
    "META_MAX_HEADERS",
    "OUTAGE_RETRY_INITIAL",
    "OUTAGE_RETRY_MAX",
    "REQUEST_BURST",
    "REQUEST_ID_MAX_CHARS",
    "RETRY_AFTER_MAX",
    "RETRY_WAIT_INITIAL",
    "RETRY_WAIT_JITTER",
    "RETRY_WAIT_MAX",
    "SDK_VERSION",
    "SHARED_BUDGET_BLOCK",
    "SPEC_FETCH_TIMEOUT",
    "SPEC_MAX_BYTES",
    "SPEC_VERSION",
    "TOTAL_TIMEOUT_FACTOR",
    "USER_AGENT",
    "WEBHOOK_MAX_BODY",
    "WORKER_FINISHED_KEPT",
]

#: The SDK's version (``__version__`` above).
SDK_VERSION: Final = __version__
#: The upstream Export API version the generated core was built from (openapi/pleo-export.yaml).
#: scripts/check_drift.py fails when the two disagree; scripts/update_spec.py rewrites this line.
SPEC_VERSION: Final = "32.1.0"
USER_AGENT: Final = f"pleo-export-python/{SDK_VERSION} (export-api {SPEC_VERSION})"

#: Pleo's API hosts; the API version is part of each path (/v2, /v3).
ENVIRONMENTS: Final = {
    "production": "https://external.pleo.io",
    "staging": "https://external.staging.pleo.io",
}
#: Plain http:// is only allowed to these hosts (the fake server, local proxies).
LOOPBACK_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

API_KEY_ENV: Final = "PLEO_API_KEY"
BEARER_TOKEN_ENV: Final = "PLEO_BEARER_TOKEN"
ENVIRONMENT_ENV: Final = "PLEO_ENVIRONMENT"
BASE_URL_ENV: Final = "PLEO_BASE_URL"

#: Seconds to open a connection, whatever the caller's overall ``timeout=``.
CONNECT_TIMEOUT: Final = 5.0
#: Seconds an async hook (``on_request``, ``on_response``, ``on_retry``) may run before it is
#: abandoned and logged, so a hook that hangs delays a call by this much at most; a sync hook
#: that takes longer is logged (it blocks the event loop, which nothing can interrupt).
HOOK_TIMEOUT: Final = 1.0
#: Each attempt (sending, waiting and reading the whole body) must end within this multiple of
#: the read timeout: 120 s by default. httpx's timeouts apply per read, so a server that
#: trickles a byte at a time would otherwise hold a call for as long as it likes.
TOTAL_TIMEOUT_FACTOR: Final = 2.0
#: The largest response body read, in bytes, counted after decompression: 32 MiB (a page of
#: 100 export items is well under 1 MiB). A larger one is refused, its connection dropped.
DEFAULT_MAX_RESPONSE_BYTES: Final = 32 * 1024 * 1024
#: Each text field an error or log line takes from a response (Pleo's message and type, a
#: request id, an httpx or h11 error text) is cut to this many characters.
ERROR_FIELD_MAX_CHARS: Final = 500

if TYPE_CHECKING:
    #: 60 s to read a response, 5 s to connect, 60 s to write, 10 s to get a pooled connection.
    DEFAULT_TIMEOUT: httpx.Timeout
    #: One pool per client; an export run keeps a few batches in flight, a worker a few more.
    DEFAULT_LIMITS: httpx.Limits


def __getattr__(name: str) -> object:
    """Make the two httpx defaults on first use: reading a name here (the CLI's ``--help``)
    then does not import httpx."""
    if name not in ("DEFAULT_TIMEOUT", "DEFAULT_LIMITS"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import httpx

    value: object
    if name == "DEFAULT_TIMEOUT":
        value = httpx.Timeout(60.0, connect=CONNECT_TIMEOUT, pool=10.0)
    else:
        value = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    globals()[name] = value
    return value


#: Pleo's documented limit is 600 requests a minute per credential, and its integration guide
#: asks for at most 500: the default budget for Pleo's own hosts (``ENVIRONMENTS``). Any other
#: base URL (the fake, a proxy) has no budget unless ``requests_per_minute`` is given.
DEFAULT_REQUESTS_PER_MINUTE: Final = 500
BUDGETED_HOSTS: Final = frozenset({"external.pleo.io", "external.staging.pleo.io"})
#: Requests the budget lets through at once after a quiet spell (the token bucket's size).
REQUEST_BURST: Final = 10
#: On a 429 the budget's rate is multiplied by this (at most once a second), never below
#: ``BUDGET_MIN_FACTOR`` of the configured rate, and climbs back linearly: undoing one halving
#: takes ``BUDGET_RECOVERY_SECONDS``.
BUDGET_DECREASE: Final = 0.5
BUDGET_MIN_FACTOR: Final = 0.1
BUDGET_RECOVERY_SECONDS: Final = 60.0
#: A budget shared through a coordinator takes tokens from it in blocks of about one second's
#: worth, at most this many, so the database is touched once a block, not once a request.
SHARED_BUDGET_BLOCK: Final = 10
#: When the coordinator of a shared budget fails, the process goes on with its own budget alone
#: and asks the coordinator again after this many seconds.
BUDGET_FLEET_RETRY: Final = 5.0

#: Retries after the first attempt, for GET/PUT and the POSTs the SDK makes safe.
DEFAULT_MAX_RETRIES: Final = 3
#: Backoff: 0.5 s, 1 s, 2 s … doubling, capped at 8 s, plus up to 0.5 s of random jitter.
RETRY_WAIT_INITIAL: Final = 0.5
RETRY_WAIT_MAX: Final = 8.0
RETRY_WAIT_JITTER: Final = 0.5
#: A Retry-After longer than this is cut to it.
RETRY_AFTER_MAX: Final = 60.0

#: Pleo refuses more than 100 job items in one update (413 EXPORT_JOB_ITEMS_UPDATE_LIMIT).
BATCH_LIMIT: Final = 100
#: Batches of one update_all() call in flight at once.
DEFAULT_BATCH_CONCURRENCY: Final = 4
#: An export run sends its buffered outcomes early once the oldest has waited this many seconds
#: (besides every 100): each update refreshes the job's ``lastUpdatedAt`` (it expires after 1 h).
DEFAULT_FLUSH_INTERVAL: Final = 30.0
#: Failure reasons the SDK writes (from an exception's text) are cut to this many characters.
FAILURE_REASON_MAX_CHARS: Final = 500
#: An ``ExportWorker`` lists pending jobs this often, in seconds, unless ``notify()`` wakes it.
DEFAULT_POLL_INTERVAL: Final = 60.0
#: Jobs one worker runs at once, each of a different company (Pleo allows one per company).
DEFAULT_WORKER_JOBS: Final = 4
#: A worker resumes another's ``in_progress`` job only once its ``lastUpdatedAt`` is this many
#: seconds old: a live run updates it at least every ``DEFAULT_FLUSH_INTERVAL`` while items flow.
DEFAULT_RESUME_IDLE: Final = 600.0
#: Page size the SDK asks for when the caller gives none (Pleo's own default is undocumented).
DEFAULT_PAGE_SIZE: Final = 100
#: Pages in a row that hold no item yet announce another page, before paging gives up.
DEFAULT_MAX_EMPTY_PAGES: Final = 10
#: A cursor longer than this (4 KiB) is refused; Pleo's are tens of characters.
MAX_CURSOR_CHARS: Final = 4096
#: The spec's ranges for ``limit`` (int32) and ``offset`` (int64).
MAX_LIMIT: Final = 2**31 - 1
MAX_OFFSET: Final = 2**63 - 1
#: Pages fetched ahead of the one the caller is working on.
DEFAULT_PREFETCH: Final = 1

#: ``ResponseMeta`` keeps at most 64 response headers, each value cut to 256 characters, and a
#: request id cut to 128: a hostile server must not make a success carry megabytes.
META_MAX_HEADERS: Final = 64
META_HEADER_MAX_CHARS: Final = 256
REQUEST_ID_MAX_CHARS: Final = 128
#: Histogram buckets of durations in seconds, 5 ms to 10 s: OpenTelemetry's advice for
#: ``http.client.request.duration``, which an item-update batch resembles.
DURATION_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)

#: A webhook whose ``webhook-timestamp`` is more than 300 s (5 min) from now is refused, either way.
DEFAULT_WEBHOOK_TOLERANCE: Final = 300.0
#: Webhook ids remembered against replays and redeliveries: 10,000 ids, each for 24 h, which
#: outlasts the tolerance window and a Standard Webhooks sender's usual day of retries.
DEFAULT_REPLAY_MAX_ENTRIES: Final = 10_000
DEFAULT_REPLAY_TTL: Final = 86_400.0
#: The webhook endpoint refuses bodies over 1 MiB (413); an export-job event is well under 1 KiB.
WEBHOOK_MAX_BODY: Final = 1_048_576

#: Jobs a worker remembers finishing, so a listing taken just before one finished does not
#: start it again.
WORKER_FINISHED_KEPT: Final = 1000

#: Receipts and attachments: Pleo's guides allow files of up to 30 MB; a download that grows
#: past this many bytes (30 MiB, to spare an exact 30,000,000-byte file) is stopped mid-stream.
DEFAULT_MAX_FILE_SIZE: Final = 30 * 1024 * 1024
#: File downloads in flight at once, per client (so across every run and worker using it).
DEFAULT_FILE_CONCURRENCY: Final = 4
#: Seconds one file download may take in all, retries and a URL refresh included.
DEFAULT_FILE_DEADLINE: Final = 300.0
#: Export items' fresh file URLs remembered after a refresh walked past them (entries), and for
#: how many seconds they are trusted (the URLs themselves live 24 h).
FILE_REFRESH_KEPT: Final = 1000
FILE_REFRESH_TTL: Final = 3600.0
#: A coordinator's lease on a job (and its company) lapses this many seconds after it was taken
#: or last renewed, so a dead holder's job can be taken over; holders renew well before.
DEFAULT_LEASE_SECONDS: Final = 30.0
#: An export run renews its lease every this fraction of ``lease_seconds`` (a third: two renewals
#: may fail before the lease lapses).
LEASE_RENEW_FRACTION: Final = 1 / 3
#: The share of a lease's term a holder keeps as a margin: it hands out no item once its own
#: clock leaves less than this much of the term (it renews first).
LEASE_SAFETY_FRACTION: Final = 0.2
#: Seconds before the first retry of a journal write (or an ERP call) that failed; it doubles
#: up to ``OUTAGE_RETRY_MAX``.
OUTAGE_RETRY_INITIAL: Final = 0.05
OUTAGE_RETRY_MAX: Final = 2.0
#: Seconds ``PleoExport.aclose`` waits for export runs' outcomes still on their way to Pleo.
CLOSE_GRACE: Final = 10.0
#: An export run journals the intents of this many items in one write before handing them out,
#: as the outbox reports outcomes in batches of ``BATCH_LIMIT``.
JOURNAL_INTENT_BATCH: Final = 100
#: How long a coordinator's SQL may wait for a lock another process holds (SQLite busy timeout,
#: PostgreSQL lock_timeout), in seconds.
COORDINATOR_LOCK_TIMEOUT: Final = 10.0
#: The longest one coordinator statement may run on PostgreSQL (statement_timeout), in seconds.
COORDINATOR_STATEMENT_TIMEOUT: Final = 30.0
#: Seconds to wait for a PostgreSQL connection to be made.
COORDINATOR_CONNECT_TIMEOUT: Final = 10.0
#: The client-side bound on one coordinator call, waiting for its turn included, in seconds:
#: past it the call is a CoordinatorError, even from a server that stopped answering (whose
#: own statement_timeout cannot fire). Above the connect and statement timeouts together.
COORDINATOR_CALL_TIMEOUT: Final = 60.0
#: Default PostgreSQL schema of the coordinator's tables.
DEFAULT_COORDINATOR_SCHEMA: Final = "pleo_export"

#: `pleo-export spec diff` reads a spec of at most 32 MiB, and gives a URL 30 s to answer.
SPEC_MAX_BYTES: Final = 32 * 1024 * 1024
SPEC_FETCH_TIMEOUT: Final = 30.0
