"""Pleo's request limit, as the fake enforces it, and the log of when API requests arrived.

ASGI middleware around the fault layer. Every API request (not file downloads: those go to the
file host, not the API) is logged with its arrival time. With a limit, each credential (the
``Authorization`` header) may have at most ``requests_per_minute`` requests admitted in any 60
seconds (a sliding window); one more is answered 429 with ``Retry-After``, the whole seconds
until the oldest admitted request leaves the window, and does not reach the API.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from pleo_export.testing._app import dumps
from pleo_export.testing._rules import CONTENT_TYPE

__all__ = ["RateLimit"]

#: Pleo counts requests per minute.
WINDOW: Final = 60.0
#: Arrival times kept for ``FakePleo.request_times`` (a bounded log, for huge benchmarks too).
LOG_SIZE: Final = 100_000
_FILES_PREFIX: Final = "/files/"


class RateLimit:
    """``FakePleo.rate_limit``: logs API requests (``request_times()``) and answers 429 to those
    over ``requests_per_minute`` per credential (None: no limit; change it at any time);
    ``refused`` counts the 429s. Pleo documents 600 a minute."""

    def __init__(
        self,
        app: ASGIApp,
        requests_per_minute: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if requests_per_minute is not None and (
            isinstance(requests_per_minute, bool)
            or not isinstance(requests_per_minute, int)
            or requests_per_minute < 1
        ):
            raise ValueError("requests_per_minute must be a positive int or None")
        self.app = app
        self.requests_per_minute = requests_per_minute
        self.clock = clock
        #: 429s answered so far.
        self.refused = 0
        self.log: deque[float] = deque(maxlen=LOG_SIZE)
        #: Changing ``requests_per_minute`` takes effect at the next request.
        self._admitted: dict[bytes, deque[float]] = {}
        self._lock = threading.Lock()

    def request_times(self) -> list[float]:
        """When each API request arrived (not file downloads), oldest first, in
        ``time.monotonic()`` seconds: the last 100,000, refused ones included."""
        with self._lock:
            return list(self.log)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Log an API request; answer 429 if its credential is over the limit."""
        if scope["type"] != "http" or scope["path"].startswith(_FILES_PREFIX):
            await self.app(scope, receive, send)
            return
        retry_after = self._arrive(dict(scope["headers"]).get(b"authorization", b""))
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        body = dumps(
            {"type": "TOO_MANY_REQUESTS", "message": "Rate limit exceeded (the fake Pleo)."}
        )
        headers = [
            (b"content-type", CONTENT_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _arrive(self, credential: bytes) -> int | None:
        """Log an arrival; None if admitted, else the Retry-After seconds."""
        with self._lock:
            now = self.clock()
            self.log.append(now)
            limit = self.requests_per_minute
            if limit is None:
                return None
            admitted = self._admitted.setdefault(credential, deque())
            while admitted and admitted[0] <= now - WINDOW:
                admitted.popleft()
            if len(admitted) < limit:
                admitted.append(now)
                return None
            self.refused += 1
            return max(1, math.ceil(admitted[-limit] + WINDOW - now))
