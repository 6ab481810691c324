"""``WebhookEndpoint``: a plain ASGI app that receives Pleo's webhooks, verifies them, answers
at once and wakes the export worker in the background.

It depends on no web framework (Starlette, FastAPI or any ASGI server can mount it) and not on
the worker's module: anything with an async ``notify(job_id)`` will do.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Final, Protocol, cast

from pleo_export._config import DEFAULT_WEBHOOK_TOLERANCE, WEBHOOK_MAX_BODY
from pleo_export._errors import InvalidArgumentError
from pleo_export.webhooks._errors import (
    WebhookError,
    WebhookHeaderMissingError,
    WebhookPayloadError,
    WebhookTimestampFormatError,
)
from pleo_export.webhooks._event import WebhookEvent, WebhookReplayError
from pleo_export.webhooks._replay import InMemoryReplayStore, ReplayStore
from pleo_export.webhooks._verify import Secret, load_secret, verify

__all__ = ["JobNotifier", "OnEvent", "WebhookEndpoint"]

logger = logging.getLogger("pleo_export.webhooks")

Scope = Mapping[str, object]
Message = Mapping[str, object]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
#: Called with each new, verified event; a sync function or a coroutine function.
OnEvent = Callable[[WebhookEvent], Awaitable[None] | None]

#: Refusals the sender could fix by sending a well-formed request answer 400; the rest 401.
_BAD_REQUEST: Final = (WebhookHeaderMissingError, WebhookPayloadError, WebhookTimestampFormatError)


class JobNotifier(Protocol):
    """Anything the endpoint can wake: ``pleo_export.ExportWorker`` fits."""

    def notify(self, job_id: str, /) -> Awaitable[None]:
        """Ask for ``job_id`` to be looked at now rather than at the next poll."""
        ...


class _Disconnected(Exception):
    """The client went away before the whole body arrived."""


class WebhookEndpoint:
    """An ASGI app that accepts Pleo's signed webhooks and wakes a worker.

    For each POST it reads the body (at most 1 MiB), verifies it with ``verify_and_parse``,
    awaits ``on_event`` if given, answers **204**, and then, for an export-job-created event,
    schedules ``worker.notify(job_id)`` as a background task, so the sender is never kept
    waiting on an export. Mount it on any path; it answers every path it is given::

        app = Starlette(routes=[Route("/pleo/webhooks", endpoint, methods=["POST"])])
        # or Mount("/pleo/webhooks", app=endpoint), or FastAPI's app.mount(...)

    Answers:
        * 204: accepted, or a repeat of an accepted ``webhook-id`` (the sender retries until it
          sees a 2xx, so a redelivery is acknowledged but not handled twice).
        * 400: a header is missing or malformed, or the body is not a Pleo event.
        * 401: the signature does not match or the timestamp is outside the tolerance.
        * 405: not POST. 413: the body is over 1 MiB.
        * 500: ``on_event`` raised; the id is released so the sender's retry is handled.

    Response bodies are the bare status phrase; the reason is logged (logger
    ``pleo_export.webhooks``, WARNING) without the secret, signatures or body.

    Args:
        secret: The signing secret from Pleo's subscription, ``whsec_<base64>``.
        on_event: Awaited with each new event (any type) before the answer; keep it quick,
            e.g. put the event on a queue. If it raises, the delivery answers 500.
        worker: Woken with ``await worker.notify(job.id)`` for each new export-job-created
            event, after the answer.
        tolerance: Seconds the ``webhook-timestamp`` may be off (default 300).
        replay_store: Where accepted ids are kept; default a fresh ``InMemoryReplayStore()``.
        max_body: The largest body accepted, in bytes (default 1,048,576).

    Raises:
        InvalidArgumentError: The secret is unusable, ``tolerance`` is negative or
            ``max_body`` is below 1.
    """

    def __init__(
        self,
        secret: Secret,
        *,
        on_event: OnEvent | None = None,
        worker: JobNotifier | None = None,
        tolerance: float = DEFAULT_WEBHOOK_TOLERANCE,
        replay_store: ReplayStore | None = None,
        max_body: int = WEBHOOK_MAX_BODY,
    ) -> None:
        if tolerance < 0:
            raise InvalidArgumentError("tolerance", "must not be negative")
        if max_body < 1:
            raise InvalidArgumentError("max_body", "must be at least 1 byte")
        self._signer = load_secret(secret)
        self.on_event = on_event
        self.worker = worker
        self.tolerance = tolerance
        self.replay_store: ReplayStore = (
            replay_store if replay_store is not None else InMemoryReplayStore()
        )
        self.max_body = max_body
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return (
            f"<WebhookEndpoint secret=[secure] tolerance={self.tolerance:g}s "
            f"worker={type(self.worker).__name__ if self.worker else None}>"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection (http; lifespan is acknowledged, websockets refused)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["method"] != "POST":
            await _respond(send, HTTPStatus.METHOD_NOT_ALLOWED, [(b"allow", b"POST")])
            return
        headers = _headers(scope)
        try:
            body = await _read_body(receive, headers, self.max_body)
        except _Disconnected:
            return
        if body is None:
            await _respond(send, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        await _respond(send, await self.handle(headers, body))

    async def handle(self, headers: Mapping[str, str], body: bytes) -> HTTPStatus:
        """Verify and act on one delivery; return the status to answer with.

        This is the endpoint without ASGI: call it from any async framework's view with the
        request's headers and raw body, and answer with the returned status.
        """
        try:
            event = verify(
                self._signer,
                headers,
                body,
                tolerance=self.tolerance,
                now=None,
                replay_store=self.replay_store,
            )
        except WebhookReplayError as exc:
            logger.info("Webhook %s repeated; acknowledged without acting.", exc.webhook_id)
            return HTTPStatus.NO_CONTENT
        except WebhookError as exc:
            logger.warning("Webhook refused: %s: %s", type(exc).__name__, exc)
            if isinstance(exc, _BAD_REQUEST):
                return HTTPStatus.BAD_REQUEST
            return HTTPStatus.UNAUTHORIZED
        if self.on_event is not None:
            try:
                outcome = self.on_event(event)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                self.replay_store.release(event.webhook_id)
                logger.exception("on_event failed for webhook %s", event.webhook_id)
                return HTTPStatus.INTERNAL_SERVER_ERROR
        if self.worker is not None and event.job is not None:
            self._schedule(self.worker, event.job.id)
        logger.debug("Webhook %s accepted (%s).", event.webhook_id, event.event_type)
        return HTTPStatus.NO_CONTENT

    async def drain(self) -> None:
        """Wait until every ``worker.notify`` scheduled so far has finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _schedule(self, worker: JobNotifier, job_id: str) -> None:
        task = asyncio.get_running_loop().create_task(_notify(worker, job_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        # Only reached when the endpoint is the server's root app; a Mount never forwards it.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.drain()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _notify(worker: JobNotifier, job_id: str) -> None:
    try:
        await worker.notify(job_id)
    except Exception:
        logger.exception("worker.notify(%s) failed", job_id)


def _headers(scope: Scope) -> dict[str, str]:
    """The request headers by lower-case name; repeated headers are joined with a space, which
    keeps several ``webhook-signature`` lines a valid signature list."""
    headers: dict[str, str] = {}
    # The ASGI spec fixes these types: header pairs of bytes, a body of bytes.
    pairs = cast("Iterable[tuple[bytes, bytes]]", scope.get("headers", ()))
    for raw_name, raw_value in pairs:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]} {value}" if name in headers else value
    return headers


async def _read_body(receive: Receive, headers: Mapping[str, str], limit: int) -> bytes | None:
    """The whole body, or None once it is known to exceed ``limit`` bytes."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = cast(bytes, message.get("body", b""))
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(
    send: Send, status: HTTPStatus, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = b"" if status == HTTPStatus.NO_CONTENT else status.phrase.encode()
    headers = [(b"content-length", str(len(body)).encode()), *(extra or [])]
    if body:
        headers.append((b"content-type", b"text/plain; charset=utf-8"))
    await send({"type": "http.response.start", "status": int(status), "headers": headers})
    await send({"type": "http.response.body", "body": body})
