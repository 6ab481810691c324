"""Webhooks from the fake: a signed ``v1.export-job.created`` delivery each time a job is created,
sent over HTTP to a URL, or in-process to an ASGI app or a callable.

Signing uses the ``standardwebhooks`` package directly (never the SDK's verifier, which the fake
exists to test). The store only calls ``job_created``; everything else happens on an event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import json
import random
import string
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from types import TracebackType
from typing import Final, TypedDict

import httpx

from pleo_export.testing._asgi import ASGIApp
from pleo_export.testing._clock import Clock, system_clock
from pleo_export.testing._ids import seeded_uuid
from pleo_export.testing._jobs import Job

__all__ = [
    "DEFAULT_WEBHOOK_SECRET",
    "DeliveryOptions",
    "WebhookCallback",
    "WebhookDeliveries",
    "WebhookDelivery",
]

#: The fake's signing secret unless one is given (``whsec_`` + base64 of 32 fixed bytes).
DEFAULT_WEBHOOK_SECRET: Final = "whsec_cGxlby1leHBvcnQtZmFrZS13ZWJob29rLXNlY3JldCE="
#: Pleo's documented event type for a new export job (pleo-domain.md §2.6).
_EVENT_TYPE: Final = "v1.export-job.created"
#: The fields Pleo's webhook example carries in ``data`` (§5.5); the rest of the job is left out.
_SNAPSHOT_FIELDS: Final = (
    "id",
    "companyId",
    "createdAt",
    "createdBy",
    "expiresIn",
    "numberOfItems",
    "status",
)
_ID_ALPHABET: Final = string.ascii_letters + string.digits
DELIVERY_TIMEOUT: Final = 5.0
_POLL: Final = 0.005

#: ``callback(headers, body)`` may return a status code (None counts as 204), or an awaitable.
WebhookCallback = Callable[[dict[str, str], bytes], int | Awaitable[int | None] | None]


class DeliveryOptions(TypedDict, total=False):
    """The keyword arguments of ``FakePleo.deliver_webhooks``: those of ``WebhookDeliveries``
    that the fake does not set itself."""

    app: ASGIApp | None
    callback: WebhookCallback | None
    secret: str | bytes
    path: str
    clock: Clock
    retry_delays: Sequence[float]
    timeout: float


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One finished delivery attempt.

    Attributes:
        webhook_id: The ``webhook-id`` sent; a redelivery repeats it.
        event_id: The body's ``eventId``.
        job_id: The job the event is about.
        attempt: 1 for the first try, 2 for the first retry, and so on.
        status_code: The receiver's answer, or None if the attempt raised.
        error: The exception's type and text if the attempt raised, else None.
        body: The exact body sent.
        headers: The headers sent, signature included.
    """

    webhook_id: str
    event_id: str
    job_id: str
    attempt: int
    status_code: int | None
    error: str | None
    body: bytes
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        """True if the receiver answered 2xx."""
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class _Message:
    webhook_id: str
    event_id: str
    job_id: str
    body: bytes


class WebhookDeliveries:
    """Sends the fake's webhooks; made by ``FakePleo.deliver_webhooks`` (see there).

    Deliveries run on the event loop that was running when this object was made, so an in-process
    app wakes tasks on the test's own loop; made outside any loop, they run on a background
    thread of their own. Give exactly one of ``url``, ``app`` or ``callback``.

    Args:
        url: POST each delivery here over HTTP (e.g. ``http://127.0.0.1:8123/pleo/webhooks``).
        app: POST each delivery to this ASGI app in-process, at ``path``.
        callback: Call ``callback(headers, body)`` instead of sending anything.
        secret: The signing secret (``whsec_<base64>``); default ``DEFAULT_WEBHOOK_SECRET``.
        path: The request path for ``app`` (default ``/``).
        seed: Seeds the ``webhook-id``s and ``eventId``s.
        subscription: Tells apart several deliveries of one fake, so their ids differ.
        clock: Stamps ``webhook-timestamp``; default the system clock, not the fake's, so a
            ``ManualClock`` moved forward does not make deliveries look forged.
        retry_delays: Seconds to wait before each retry of a delivery answered with a non-2xx
            (or that raised); default none. Retries keep the ``webhook-id``, as Pleo's do.
        timeout: Seconds to wait for each answer (default 5).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        app: ASGIApp | None = None,
        callback: WebhookCallback | None = None,
        secret: str | bytes = DEFAULT_WEBHOOK_SECRET,
        path: str = "/",
        seed: int = 0,
        subscription: int = 0,
        clock: Clock = system_clock,
        retry_delays: Sequence[float] = (),
        timeout: float = DELIVERY_TIMEOUT,
    ) -> None:
        if sum(target is not None for target in (url, app, callback)) != 1:
            raise ValueError("Give exactly one of url, app or callback.")
        # Imported here so the fake works without the ``webhooks`` extra until this is used.
        from standardwebhooks.webhooks import Webhook

        self._signer = Webhook(secret)
        self.secret = secret
        self.url = url
        self.app = app
        self.callback = callback
        self.path = path
        self.clock = clock
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self._ids = random.Random(f"webhooks|{seed}|{subscription}")
        self._messages: dict[str, _Message] = {}
        self._finished: list[WebhookDelivery] = []
        self._lock = threading.Lock()
        self._futures: set[concurrent.futures.Future[None]] = set()
        self._closed = False
        self._client: httpx.AsyncClient | None = None
        self._thread: threading.Thread | None = None
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name="fake-pleo-webhooks", daemon=True
            )
            self._thread.start()

    def __repr__(self) -> str:
        target = self.url or ("app" if self.app is not None else "callback")
        return f"<WebhookDeliveries to={target} secret=[secure] sent={len(self.deliveries)}>"

    # -- the store's hook --------------------------------------------------------------------

    def job_created(self, job: Job) -> None:
        """Queue a delivery for a job just created (the store calls this under its lock)."""
        if self._closed:
            return
        snapshot = job.to_json()
        webhook_id = "msg_" + "".join(self._ids.choices(_ID_ALPHABET, k=27))
        event_id = seeded_uuid(self._ids)
        document = {
            "data": {key: snapshot[key] for key in _SNAPSHOT_FIELDS},
            "eventId": event_id,
            "eventType": _EVENT_TYPE,
        }
        body = json.dumps(document, separators=(",", ":")).encode()
        message = _Message(webhook_id, event_id, job.id, body)
        self._messages[message.webhook_id] = message
        self._submit(message)

    # -- reading back and control ------------------------------------------------------------

    @property
    def deliveries(self) -> list[WebhookDelivery]:
        """Every finished attempt so far, in the order they finished."""
        with self._lock:
            return list(self._finished)

    def redeliver(self, webhook_id: str) -> None:
        """Send a delivery again with the same ``webhook-id`` and body and a fresh timestamp.

        Raises:
            KeyError: No delivery with that id was made.
        """
        self._submit(self._messages[webhook_id])

    async def wait(self, count: int = 1) -> list[WebhookDelivery]:
        """Wait until at least ``count`` attempts have finished; return them all.

        Bound the wait with ``asyncio.timeout(...)``; it polls every 5 ms, so it also works
        while deliveries run on another thread.
        """
        while True:
            finished = self.deliveries
            if len(finished) >= count:
                return finished
            await asyncio.sleep(_POLL)

    def close(self) -> None:
        """Stop sending: new jobs send nothing, pending deliveries are cancelled."""
        self._closed = True
        for future in list(self._futures):
            future.cancel()
        if self._thread is not None:
            if self._client is not None:
                asyncio.run_coroutine_threadsafe(self._client.aclose(), self._loop).result(
                    DELIVERY_TIMEOUT
                )
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(DELIVERY_TIMEOUT)
            self._loop.close()
            self._thread = None

    async def aclose(self) -> None:
        """``close()`` without blocking the loop; also closes an HTTP client made on it."""
        if self._thread is not None:
            await asyncio.to_thread(self.close)
            return
        client, self._client = self._client, None
        self.close()
        if client is not None:
            await client.aclose()

    def __enter__(self) -> WebhookDeliveries:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- sending -----------------------------------------------------------------------------

    def _submit(self, message: _Message) -> None:
        future = asyncio.run_coroutine_threadsafe(self._deliver(message), self._loop)
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)

    async def _deliver(self, message: _Message) -> None:
        delays = (0.0, *self.retry_delays)
        for attempt, delay in enumerate(delays, start=1):
            if delay:
                await asyncio.sleep(delay)
            headers = self._headers(message)
            status: int | None = None
            error: str | None = None
            try:
                status = await self._send(headers, message.body)
            except Exception as exc:  # a delivery failure is recorded, never raised
                error = f"{type(exc).__name__}: {exc}"
            record = WebhookDelivery(
                message.webhook_id,
                message.event_id,
                message.job_id,
                attempt,
                status,
                error,
                message.body,
                headers,
            )
            with self._lock:
                self._finished.append(record)
            if record.ok:
                return

    def _headers(self, message: _Message) -> dict[str, str]:
        when = self.clock().astimezone(UTC)
        signature: str = self._signer.sign(message.webhook_id, when, message.body.decode())
        return {
            "content-type": "application/json",
            "user-agent": "pleo-export-fake-webhooks",
            "webhook-id": message.webhook_id,
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": signature,
        }

    async def _send(self, headers: dict[str, str], body: bytes) -> int:
        if self.callback is not None:
            outcome = self.callback(dict(headers), body)
            if inspect.isawaitable(outcome):
                outcome = await outcome
            return 204 if outcome is None else int(outcome)
        if self._client is None:
            if self.app is not None:
                self._client = httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=self.app, client=("127.0.0.1", 50_001)),
                    base_url="http://pleo-webhooks",
                    timeout=self.timeout,
                )
            else:
                self._client = httpx.AsyncClient(timeout=self.timeout)
        target = self.path if self.app is not None else self.url
        assert target is not None
        response = await self._client.post(target, content=body, headers=headers)
        return response.status_code
