"""Running the fake over real loopback TCP: uvicorn in a background thread, bound to 127.0.0.1.

The server uses uvicorn's h11 protocol with one addition, an abort callable in each request's
scope, so a "drop" fault really closes the socket without an answer.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from pleo_export.testing._asgi import ABORT_EXTENSION, STOPPING_EXTENSION
from pleo_export.testing._asgi import ASGIApp as AnyApp  # what callers may pass

__all__ = ["FakePleoServer", "bind_loopback", "make_config"]

HOST = "127.0.0.1"
_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0


class _AbortableH11Protocol(H11Protocol):
    """uvicorn's h11 protocol that lets the app close its connection without answering."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        def abort() -> None:
            self.transport.abort()

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            scope.setdefault("extensions", {})[ABORT_EXTENSION] = abort
            await inner(scope, receive, send)

        self.app = app

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Turn Nagle off: on a socket handed to uvicorn pre-bound nobody else does, and each
        response body then waited for the client's delayed ACK of its headers (~40 ms)."""
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


class _WithStopping:
    """Puts the server's shutdown flag into each scope, so long fault delays end at shutdown."""

    def __init__(self, app: ASGIApp, stopping: threading.Event) -> None:
        self.app = app
        self.stopping = stopping

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("extensions", {})[STOPPING_EXTENSION] = self.stopping
        await self.app(scope, receive, send)


def bind_loopback(port: int = 0) -> socket.socket:
    """Bind a TCP socket on 127.0.0.1 (port 0: the OS picks a free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        raise
    return sock


def make_config(
    app: ASGIApp, stopping: threading.Event, log_level: str = "warning"
) -> uvicorn.Config:
    """Return the uvicorn configuration the fake runs with (h11, asyncio, no lifespan)."""
    return uvicorn.Config(
        _WithStopping(app, stopping),
        host=HOST,
        http=_AbortableH11Protocol,
        loop="asyncio",
        ws="none",
        lifespan="off",
        log_config=None,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=2,
    )


class FakePleoServer:
    """The fake served over loopback TCP from a background thread; a (async) context manager.

    ``with fake.serve() as url:`` and ``async with fake.serve() as url:`` both start the server,
    yield its base URL (``http://127.0.0.1:<port>``) and stop it on exit.

    Args:
        app: The ASGI app to serve (``FakePleo.app``).
        port: The port to bind; 0 (the default) lets the OS choose.
    """

    def __init__(self, app: AnyApp, port: int = 0) -> None:
        self._app = app
        self._port = port
        self._stopping = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def __repr__(self) -> str:
        return f"<FakePleoServer {self.url or 'stopped'}>"

    def start(self) -> str:
        """Start serving and return the base URL once the server accepts connections."""
        if self._thread is not None:
            return self.url
        sock = bind_loopback(self._port)
        port = sock.getsockname()[1]
        self._stopping.clear()
        server = uvicorn.Server(make_config(self._app, self._stopping))
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"fake-pleo-{port}", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise RuntimeError("The fake Pleo server did not start.")
            time.sleep(0.005)
        self._server, self._thread = server, thread
        self.url = f"http://{HOST}:{port}"
        return self.url

    def stop(self) -> None:
        """Stop the server, ending any fault delays in progress, and wait for its thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.should_exit = True
        thread.join(_STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(_STOP_TIMEOUT)
        self._server = self._thread = None
        self.url = ""

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> str:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
