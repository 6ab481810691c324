"""A hostile HTTP server on loopback TCP: it answers each request with a script of raw bytes and
pauses, so a test can send what no well-behaved server would (a broken status line, a header
echoing the credential, a body one byte at a time, an endless body).

It runs in the test's own event loop (``asyncio.start_server`` on 127.0.0.1, an OS-chosen port)
and counts the connections it accepted and those the client dropped before the script ended.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field

#: A script step: bytes to write, or seconds to pause.
Step = bytes | float
#: Builds the steps for one request from the request's head (request line and headers).
Script = Callable[[bytes], Iterable[Step]]


def header(head: bytes, name: bytes) -> bytes:
    """The value of header ``name`` in a request head (b"" if absent)."""
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return b""


@dataclass
class Rogue:
    """What the running server saw; ``url`` is where to send requests."""

    url: str = ""
    requests: list[bytes] = field(default_factory=list)
    dropped: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0

    async def wait_for(self, count: int) -> None:
        """Wait (10 s at most) until ``count`` requests have arrived (their heads read)."""
        self.expected = count
        if len(self.requests) < count:
            self.arrived.clear()
            async with asyncio.timeout(10.0):
                await self.arrived.wait()


@contextlib.asynccontextmanager
async def rogue_server(script: Script) -> AsyncIterator[Rogue]:
    """Serve ``script`` on 127.0.0.1 until the block ends; yield what it saw."""
    seen = Rogue()
    handlers: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                length = header(head, b"content-length")
                if length.isdigit():
                    await reader.readexactly(int(length))
                seen.requests.append(head)
                if len(seen.requests) >= seen.expected:
                    seen.arrived.set()
                for step in script(head):
                    if isinstance(step, float):
                        await asyncio.sleep(step)
                    else:
                        writer.write(step)
                        await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            seen.dropped += 1
        except asyncio.CancelledError:
            pass  # the server is shutting down: end quietly (asyncio logs a cancelled handler)
        finally:
            handlers.discard(task)
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    seen.url = f"http://127.0.0.1:{port}"
    try:
        yield seen
    finally:
        server.close()
        for task in list(handlers):
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


def response(status: bytes = b"200 OK", body: bytes = b"", headers: Iterable[bytes] = ()) -> bytes:
    """A complete HTTP/1.1 response with a Content-Length."""
    lines = [b"HTTP/1.1 " + status, *headers, b"content-length: %d" % len(body)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
