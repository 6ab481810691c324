"""The ASGI layer around the fake's app: it names each request's operation, counts, injects faults.

Dropping a connection needs help from whoever runs the app: over TCP the server puts an abort
callable in the scope's extensions; in-process the layer raises ``ConnectionDropped`` and the
transport turns it into the ``httpx`` error a real disconnect would cause.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Match, Route
from starlette.types import Message, Receive, Scope, Send

from pleo_export.testing._app import dumps
from pleo_export.testing._asgi import ABORT_EXTENSION, STOPPING_EXTENSION, ConnectionDropped
from pleo_export.testing._faults import FILE_FAULT_KINDS, FaultRule, Faults
from pleo_export.testing._files import FILE_FAULTS_EXTENSION
from pleo_export.testing._rules import CONTENT_TYPE

__all__ = [
    "ABORT_EXTENSION",
    "STOPPING_EXTENSION",
    "UNKNOWN_ITEM_STATUS",
    "UNKNOWN_ITEM_TYPE",
    "UNKNOWN_JOB_STATUS",
    "ConnectionDropped",
    "FaultLayer",
]

UNKNOWN_JOB_STATUS = "archived"
UNKNOWN_ITEM_STATUS = "on_hold"
UNKNOWN_ITEM_TYPE = "crypto_purchase"
_UNKNOWN_METHOD = "hybrid"
_UNKNOWN_ERROR_TYPE = "ACCOUNTING_ENTRY_LOCKED"

_REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway"}
_REASONS |= {503: "Service Unavailable", 504: "Gateway Timeout"}


def _html_page(status: int) -> bytes:
    title = f"{status} {_REASONS.get(status, 'Error')}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1>"
        "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    ).encode()


def _mutate(payload: Any, mutations: set[str]) -> None:
    """Rewrite a decoded JSON answer in place the way a newer Pleo release might."""
    if not isinstance(payload, dict):
        return
    data = payload.get("data")
    objects = [o for o in (data if isinstance(data, list) else [data]) if isinstance(o, dict)]
    if "unknown_enum" in mutations:
        for obj in objects:
            if "numberOfItems" in obj:
                obj["status"] = UNKNOWN_JOB_STATUS
            elif "exportJobId" in obj:
                obj["status"] = UNKNOWN_ITEM_STATUS
            elif "accountingEntryLines" in obj:
                obj["type"] = UNKNOWN_ITEM_TYPE
                if isinstance(obj.get("bookkeeping"), dict):
                    obj["bookkeeping"]["method"] = _UNKNOWN_METHOD
        for error in payload.get("errors") or ():
            if isinstance(error, dict):
                error["type"] = _UNKNOWN_ERROR_TYPE
    if "extra_fields" in mutations:
        payload["unannouncedTopLevelField"] = {"addedIn": "a future Pleo release"}
        for obj in objects:
            obj["unannouncedField"] = {"nested": [1, 2, 3]}
        if isinstance(payload.get("pagination"), dict):
            payload["pagination"]["unannouncedPagingField"] = True


async def _drop(scope: Scope) -> None:
    abort: Callable[[], None] | None = scope.get("extensions", {}).get(ABORT_EXTENSION)
    if abort is None:
        raise ConnectionDropped
    abort()
    # Let the server notice the closed socket before the app returns, so it sends nothing more.
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def _sleep(seconds: float, scope: Scope) -> bool:
    """Wait ``seconds``; return False if the server began shutting down meanwhile."""
    stopping: threading.Event | None = scope.get("extensions", {}).get(STOPPING_EXTENSION)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        if stopping is not None and stopping.is_set():
            return False
        await asyncio.sleep(min(left, 0.05))
    return True


async def _answer(send: Send, rule: FaultRule) -> None:
    if rule.kind == "expired_url":
        await _send_whole(
            send,
            403,
            b"<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>",
            b"application/xml",
        )
        return
    if rule.html:
        body, content_type = _html_page(rule.status), b"text/html; charset=utf-8"
    else:
        reason = _REASONS.get(rule.status, "Injected fault").upper().replace(" ", "_")
        body = dumps({"type": reason, "message": "Fault injected by the fake Pleo server."})
        content_type = CONTENT_TYPE.encode()
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if rule.retry_after is not None:
        headers.append((b"retry-after", str(rule.retry_after).encode()))
    await send({"type": "http.response.start", "status": rule.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_whole(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Truncating:
    """A ``send`` that passes on half of the declared body and swallows the rest; the layer
    then drops the connection, so the client sees a body cut short."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._left = 0
        self.cut = False

    async def __call__(self, message: Message) -> None:
        if self.cut:
            return
        if message["type"] == "http.response.start":
            length = dict(message.get("headers", [])).get(b"content-length", b"0")
            self._left = int(length) // 2
            await self._send(message)
            return
        body: bytes = message.get("body", b"")
        self.cut = len(body) >= self._left
        await self._send({**message, "body": body[: self._left], "more_body": True})
        self._left -= min(len(body), self._left)


class FaultLayer:
    """ASGI middleware that injects the faults ``faults`` decides on, and counts operations."""

    def __init__(self, app: Starlette, faults: Faults) -> None:
        self.app = app
        self.faults = faults
        self.request_counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._routes = [route for route in app.routes if isinstance(route, Route)]

    def _resolve(self, scope: Scope) -> tuple[str, str] | None:
        for route in self._routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route.path, route.name
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run one request through the fault decision and the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        resolved = self._resolve(scope)
        if resolved is None:
            await self.app(scope, receive, send)
            return
        template, operation = resolved
        with self._lock:
            self.request_counts[operation] += 1
        decision = self.faults.decide(scope["method"], scope["path"], template, operation)
        if decision.delay and not await _sleep(decision.delay, scope):
            await _drop(scope)
            return
        rule = decision.answer
        file_faults = decision.mutations & FILE_FAULT_KINDS
        if file_faults:
            scope.setdefault("extensions", {})[FILE_FAULTS_EXTENSION] = file_faults
        if "truncated" in file_faults and rule is None:
            truncating = _Truncating(send)
            await self.app(scope, receive, truncating)
            await _drop(scope)
        elif rule is not None and rule.kind == "drop":
            await _drop(scope)
        elif rule is not None and rule.kind == "lost_response":

            async def discard(message: Message) -> None:
                return None

            await self.app(scope, receive, discard)
            await _drop(scope)
        elif rule is not None:
            await _answer(send, rule)
        elif decision.mutations - FILE_FAULT_KINDS:
            await self._mutated(scope, receive, send, decision.mutations)
        else:
            await self.app(scope, receive, send)

    async def _mutated(
        self, scope: Scope, receive: Receive, send: Send, mutations: set[str]
    ) -> None:
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        start = messages[0]
        body = b"".join(m.get("body", b"") for m in messages[1:])
        if body:
            payload = json.loads(body)
            _mutate(payload, mutations)
            body = dumps(payload)
            headers = [
                (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
            ]
            start = {**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        await send(start)
        await send({"type": "http.response.body", "body": body})
