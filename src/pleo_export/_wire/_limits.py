"""Bounds on what one attempt may cost: a total deadline and a response size cap.

``Deadlines`` cancels attempts that outlive their deadline, with one timer per client rather
than one per attempt; ``read_capped`` reads a streamed body, counting the decoded bytes, and
drops the connection at the cap. The seam applies both; the retry decisions stay in ``_retry``.
"""

from __future__ import annotations

import asyncio
import importlib
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
from httpx._decoders import SUPPORTED_DECODERS

from .._config import TOTAL_TIMEOUT_FACTOR
from .._errors import ResponseTooLargeError

__all__ = ["DeadlineExceeded", "Deadlines", "read_capped", "total_deadline"]


class DeadlineExceeded(httpx.TimeoutException):
    """An attempt outlived its total deadline; retried and reported like httpx's timeouts."""


def total_deadline(timeout: httpx.Timeout | None, total: float | None) -> float | None:
    """The seconds one attempt may take: ``total`` if given, else twice the read timeout.

    None (no deadline) when neither is set, as with ``httpx.Timeout(None)``.
    """
    if total is not None:
        return total
    if timeout is None or timeout.read is None:
        return None
    return timeout.read * TOTAL_TIMEOUT_FACTOR


class Deadlines:
    """Cancels each attempt still running ``seconds`` after it began.

    ``asyncio.timeout`` would schedule and cancel a timer per attempt, about as costly as the
    rest of the seam's own work on a fast request (benchmarks/bench_request.py). Here an
    attempt only notes when it started; one timer per event loop wakes at the oldest running
    attempt's deadline, cancels whatever is overdue, and sleeps until the next one is due.
    Attempts start in order, so the oldest is always the first entry.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        #: The task of each attempt running now (a task runs one attempt at a time) and when
        #: it is due, oldest first; and those this class cancelled.
        self._running: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> asyncio.Task[Any] | None:
        """Note that an attempt begins in the current task; return the token for ``finish``."""
        if self.seconds is None:
            return None
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        assert task is not None  # the seam is always awaited from a task
        due = loop.time() + self.seconds
        self._running[task] = due
        if self._timer is None or self._loop is not loop:
            self._loop = loop
            self._timer = loop.call_at(due, self._expire)
        return task

    def check(self, token: asyncio.Task[Any] | None, request: httpx.Request) -> None:
        """Called on a ``CancelledError`` in the attempt: if this class cancelled it (and no one
        else did too), raise ``DeadlineExceeded`` instead.
        """
        if token is not None and token in self._expired and token.uncancel() == 0:
            raise DeadlineExceeded(
                f"the attempt outlived its total deadline of {self.seconds:g} s", request=request
            ) from None

    def finish(self, token: asyncio.Task[Any] | None) -> None:
        """Note that the attempt of ``token`` ended, however it ended."""
        if token is not None:
            self._running.pop(token, None)
            if self._expired:
                self._expired.discard(token)

    def _expire(self) -> None:
        """Cancel the overdue attempts; wake again when the oldest left is due."""
        assert self._loop is not None
        now = self._loop.time()
        for task, due in list(self._running.items()):
            if due > now:
                self._timer = self._loop.call_at(due, self._expire)
                return
            del self._running[task]
            self._expired.add(task)
            task.cancel()
        self._timer = None


#: The most bytes one decoding step may produce: the peak memory of a read is its cap plus
#: about this much per encoding layer, however far the body inflates.
STEP = 1 << 16
#: Input fed per step to zstandard, which has no output bound: a zstd block (128 KiB at most)
#: needs a 3-byte header, so 32 bytes yield at most ~1.5 MiB. (Brotli without its output bound,
#: before 1.2 or as brotlicffi, is fed byte by byte: one meta-block, 16 MiB at most, per step.)
SLICE = 32


class _Decoder:
    """One Content-Encoding layer, decoding in pieces of at most about ``STEP`` bytes."""

    #: What the library raises on a malformed body.
    errors: tuple[type[Exception], ...] = ()

    def decode(self, data: bytes) -> Iterator[bytes]:
        raise NotImplementedError

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Zlib(_Decoder):
    """gzip, or deflate (zlib-wrapped, or raw as some servers send it, as httpx allows)."""

    errors = (zlib.error,)

    def __init__(self, wbits: int) -> None:
        self._inflate = zlib.decompressobj(wbits)
        self._may_be_raw = wbits == zlib.MAX_WBITS

    def decode(self, data: bytes) -> Iterator[bytes]:
        pending = True
        while pending and not self._inflate.eof:
            try:
                out = self._inflate.decompress(data, STEP)
            except zlib.error:
                if not self._may_be_raw:
                    raise
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)  # no zlib header
                self._may_be_raw = False
                continue
            self._may_be_raw = False
            data = self._inflate.unconsumed_tail
            # Output may still be buffered when a step filled up with the input used up.
            pending = bool(data) or len(out) == STEP
            if out:
                yield out

    def flush(self) -> Iterator[bytes]:
        yield from self.decode(b"")
        if tail := self._inflate.flush():
            yield tail


class _Brotli(_Decoder):
    def __init__(self, module: Any) -> None:
        self.errors = (module.error,)
        self._brotli = module.Decompressor()
        # Brotli 1.2 bounds each step's output; brotlicffi and older Brotli only take input.
        self._bounded = hasattr(self._brotli, "can_accept_more_data")
        self._process = getattr(self._brotli, "process", None) or self._brotli.decompress

    def decode(self, data: bytes) -> Iterator[bytes]:
        if not self._bounded:
            # One byte at a time: a brotli meta-block, at most 16 MiB, can hide in a few bytes.
            for start in range(len(data)):
                if out := self._process(data[start : start + 1]):
                    yield out
            return
        out = self._process(data, output_buffer_limit=STEP)
        while True:
            if out:
                yield out
            # A full step may leave output behind even when more input would be accepted.
            if len(out) < STEP and self._brotli.can_accept_more_data():
                return
            out = self._process(b"", output_buffer_limit=STEP)

    def flush(self) -> Iterator[bytes]:
        return self.decode(b"") if self._bounded else iter(())


class _Zstd(_Decoder):
    def __init__(self, module: Any) -> None:
        self.errors = (module.ZstdError,)
        self._module = module
        self._zstd = module.ZstdDecompressor().decompressobj()

    def decode(self, data: bytes) -> Iterator[bytes]:
        # No output bound in zstandard's streaming object: feed it small slices. A body of
        # several frames starts a fresh decompressor at each frame's end, as httpx does.
        for start in range(0, len(data), SLICE):
            piece = data[start : start + SLICE]
            while piece:
                if out := self._zstd.decompress(piece):
                    yield out
                piece = self._zstd.unused_data if self._zstd.eof else b""
                if piece:
                    self._zstd = self._module.ZstdDecompressor().decompressobj()

    def flush(self) -> Iterator[bytes]:
        if not self._zstd.eof:
            raise self._module.ZstdError("the zstd body ends inside a frame")
        return iter(())


def _optional(*names: str) -> Any:
    """The first of ``names`` that imports (as httpx tries them), or None."""
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _decoders(response: httpx.Response) -> list[_Decoder] | None:
    """The layers to undo, first applied last, as httpx reads Content-Encoding: names it
    does not decode are skipped. None: an encoding httpx decodes that this module does not
    (a newer httpx), for which httpx's own decoder is used."""
    layers: list[_Decoder] = []
    for value in response.headers.get_list("content-encoding", split_commas=True):
        name = value.strip().lower()
        if name not in SUPPORTED_DECODERS or name == "identity":
            continue
        if name == "gzip":
            layers.append(_Zlib(zlib.MAX_WBITS | 16))
        elif name == "deflate":
            layers.append(_Zlib(zlib.MAX_WBITS))
        elif name == "br":
            layers.append(_Brotli(_optional("brotli", "brotlicffi")))
        elif name == "zstd":
            layers.append(_Zstd(_optional("zstandard")))
        else:
            return None
    return layers[::-1]


def _through(layers: list[_Decoder], data: bytes) -> Iterator[bytes]:
    """``data`` decoded through every layer, in bounded pieces."""
    if not layers:
        if data:
            yield data
        return
    for piece in layers[0].decode(data):
        yield from _through(layers[1:], piece)


def _flushed(layers: list[_Decoder]) -> Iterator[bytes]:
    """What the layers still hold at the end of the body, each flushed into the next."""
    for index, layer in enumerate(layers):
        for piece in layer.flush():
            yield from _through(layers[index + 1 :], piece)


async def _decoded(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body decoded in pieces of about ``STEP`` bytes, however far it inflates."""
    layers = _decoders(response)
    if layers is None:
        async for chunk in response.aiter_bytes():
            yield chunk
        return
    errors = tuple(error for layer in layers for error in layer.errors)
    try:
        async for raw in response.aiter_raw():
            for piece in _through(layers, raw):
                yield piece
        for piece in _flushed(layers):
            yield piece
    except errors as exc:
        raise httpx.DecodingError(str(exc), request=response.request) from exc


async def read_capped(response: httpx.Response, limit: int, *, method: str, path: str) -> None:
    """Read a streamed response's body into ``response.content``, at most ``limit`` bytes.

    Only for a stream not yet read: a transport that answers with bytes (MockTransport, ASGI)
    hands over a response already read, whose ``content`` the seam checks directly.

    The bytes are counted as they are decoded, each decoding step bounded to ``STEP`` bytes of
    output, so a small compressed body that inflates past the limit is stopped within one
    step: the peak memory is the limit plus a small constant for gzip, deflate, brotli and zstd.

    Raises:
        ResponseTooLargeError: the body declares or reaches more than ``limit`` bytes; the
            response is closed, which drops its connection rather than return it to the pool.
        httpx.DecodingError: the body does not decode under its Content-Encoding.
    """
    try:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            # Even compressed, the body on the wire alone is over the cap: refuse it unread.
            raise ResponseTooLargeError(
                limit=limit, method=method, path=path, declared=int(declared)
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in _decoded(response):
            size += len(chunk)
            if size > limit:
                raise ResponseTooLargeError(limit=limit, method=method, path=path)
            chunks.append(chunk)
    except BaseException:
        await response.aclose()
        raise
    # What ``Response.aread`` stores (its stream is already closed by the last chunk); set
    # here because the bytes were read with a counter.
    response._content = b"".join(chunks)
