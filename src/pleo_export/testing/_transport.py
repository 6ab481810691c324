"""The in-process httpx transport for the fake: ASGI calls that fail the way network calls do.

``httpx.ASGITransport`` never times out and cannot lose a connection; this wrapper applies the
request's read timeout and maps a dropped connection to ``httpx.RemoteProtocolError``.
"""

from __future__ import annotations

import asyncio

import httpx

from pleo_export.testing._asgi import ASGIApp, ConnectionDropped

__all__ = ["FakeTransport"]


class FakeTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` that serves requests from the fake's ASGI app in-process.

    Faults behave as over TCP: a drop raises ``httpx.RemoteProtocolError``, and a delay longer
    than the client's read timeout raises ``httpx.ReadTimeout`` (a delay comes before the
    request is handled, so a timed-out request leaves the fake's state untouched).
    """

    def __init__(self, app: ASGIApp) -> None:
        self._asgi = httpx.ASGITransport(app=app, client=("127.0.0.1", 50_000))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` to the app and return its response."""
        timeouts = request.extensions.get("timeout") or {}
        read_timeout: float | None = timeouts.get("read")
        try:
            async with asyncio.timeout(read_timeout):
                return await self._asgi.handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout("The fake did not answer in time.", request=request) from None
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None

    async def aclose(self) -> None:
        """Close the transport (nothing to release in-process)."""
        await self._asgi.aclose()
