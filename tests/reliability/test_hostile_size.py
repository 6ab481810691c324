"""Hostile sizes: a 256 MiB body and 512 MiB of zeros compressed with each encoding httpx
decodes (gzip and deflate to 0.5 MiB, zstd to 16 KiB, brotli to 809 bytes) are refused at the
32 MiB ``max_response_bytes`` cap while streaming, counted as they are decoded, with the peak RSS
of a fresh process measured; compressed bodies under the cap decode as httpx would decode them;
a declared oversized Content-Length is refused before reading; the connection is dropped,
never returned to the pool half read.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import brotli
import httpx
import pytest
import zstandard

from pleo_export import (
    APIConnectionError,
    PleoExport,
    ResponseTooLargeError,
    ResponseValidationError,
    RetryPolicy,
)
from pleo_export._config import DEFAULT_MAX_RESPONSE_BYTES
from pleo_export._wire._limits import read_capped

from ._figures import record
from ._rogue import Step, response, rogue_server

pytestmark = pytest.mark.timeout(60)

PROBE = Path(__file__).with_name("_rss_probe.py")
JOB = "00000000-0000-4000-8000-000000000001"
BODY = b'{"data": {"id": "' + JOB.encode() + b'"}}'
CAP_MIB = DEFAULT_MAX_RESPONSE_BYTES >> 20
#: Peak RSS growth allowed over the cap: for the body, the chunks held and httpx's buffers; for
#: a bomb, one bounded decoding step more (64 KiB; 1.5 MiB at most for zstd). Before each step
#: was bounded, one network chunk was inflated whole: gzip and deflate reached +134 MiB, brotli
#: and zstd (whose whole bomb fits in one chunk) +1,033 and +1,038 MiB.
SLACK_MIB = {"body": 48, "gzip": 16, "deflate": 16, "br": 16, "zstd": 16}
NAMES = {
    "body": "256 MiB body",
    "gzip": "510 KiB gzip bomb (512 MiB inflated)",
    "deflate": "510 KiB deflate bomb (512 MiB inflated)",
    "br": "809-byte brotli bomb (512 MiB inflated)",
    "zstd": "16 KiB zstd bomb (512 MiB inflated)",
}


@pytest.mark.parametrize("attack", list(SLACK_MIB))
def test_oversized_answer_is_refused_with_bounded_memory(attack: str) -> None:
    """In a fresh process, the 256 MiB body (before: +750 MiB RSS) and each bomb (before: up to
    +1 GiB) end in ResponseTooLargeError with the peak RSS within the cap plus slack. Inflating
    a network chunk whole again (httpx's own decoders) fails every bomb case."""
    done = subprocess.run(
        [sys.executable, str(PROBE), attack], capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["error"] == "ResponseTooLargeError"
    assert result["rss_growth_mib"] < CAP_MIB + SLACK_MIB[attack], result
    record(
        "hostile_servers",
        **{
            NAMES[attack]: f"ResponseTooLargeError at 32 MiB: +{result['rss_growth_mib']:.0f} "
            f"MiB RSS, {result['seconds']:.1f} s"
        },
    )


def _deflate_raw(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


#: A page-sized JSON answer under each encoding (and two stacked), as servers send them.
PAGE = b'{"data": {"id": "' + JOB.encode() + b'", "pad": "' + b"ab" * 300_000 + b'"}}'
ENCODED = {
    "gzip": gzip.compress(PAGE),
    "deflate": zlib.compress(PAGE),
    "deflate (raw)": _deflate_raw(PAGE),
    "br": brotli.compress(PAGE),
    "zstd": zstandard.ZstdCompressor().compress(PAGE[:1000])
    + zstandard.ZstdCompressor().compress(PAGE[1000:]),  # two frames
    "gzip, br": brotli.compress(gzip.compress(PAGE)),
    "identity": PAGE,
}


@pytest.mark.parametrize("encoding", list(ENCODED))
async def test_compressed_answers_decode_whole(encoding: str) -> None:
    """Each encoding, raw deflate, a two-frame zstd body and stacked encodings decode to the
    exact 1.2 MB page over TCP in many bounded steps (a decoder that dropped output buffered
    at a step's bound, or the second frame, or applied the layers in the wrong order fails)."""
    body = ENCODED[encoding]
    name = encoding.removesuffix(" (raw)").encode()
    head = b"HTTP/1.1 200 OK\r\ncontent-encoding: %s\r\ncontent-length: %d\r\n\r\n" % (
        name,
        len(body),
    )
    async with (
        rogue_server(lambda _head: [head, body]) as rogue,
        httpx.AsyncClient() as http,
        http.stream("GET", rogue.url) as answer,
    ):
        await read_capped(answer, 4 << 20, method="GET", path="/")
    assert answer.content == PAGE


async def test_corrupt_compressed_answer_is_a_transport_failure() -> None:
    """A gzip body that does not inflate is an APIConnectionError from httpx's DecodingError,
    not retried, as before; a zlib.error escaping the decoder would fail the raises."""
    body = b"\x1f\x8b\x08\x00garbage-not-gzip"
    head = b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: %d\r\n\r\n" % len(body)
    async with rogue_server(lambda _head: [head, body]) as rogue:
        pleo = _client(rogue.url, 1 << 20)
        async with pleo:
            with pytest.raises(APIConnectionError) as caught:
                await pleo.jobs.get(JOB)
        await pleo.http_client.aclose()
    assert isinstance(caught.value.__cause__, httpx.DecodingError)
    assert len(rogue.requests) == 1  # not retried, as with httpx's own decoder


def _chunked(total: int) -> Iterator[Step]:
    """A chunked 200 of ``total`` bytes, 64 KiB per chunk."""
    yield b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    chunk = b"%x\r\n" % 65536 + b" " * 65536 + b"\r\n"
    for _ in range(total // 65536):
        yield chunk
    yield b"0\r\n\r\n"


class Script:
    """First request: ``first``; every later one: a small job answer."""

    def __init__(self, first: Iterable[Step]) -> None:
        self.first: Iterable[Step] | None = first

    def __call__(self, head: bytes) -> Iterable[Step]:
        first, self.first = self.first, None
        return first if first is not None else [response(b"200 OK", BODY)]


def _client(url: str, limit: int) -> PleoExport:
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=1))
    return PleoExport(
        api_key="sk-size-0123456789", base_url=url, http_client=http, max_response_bytes=limit,
        retry=RetryPolicy(max_retries=3, wait_initial=0.01, wait_max=0.01, wait_jitter=0.0),
        timeout=httpx.Timeout(5.0, pool=1.0),
    )  # fmt: skip


async def test_breach_drops_the_connection_and_the_pool_recovers() -> None:
    """Past a 1 MiB cap the streaming answer stops, is not retried, its connection is dropped
    (the server sees the hang-up), and the one-connection pool serves the next call; a pool
    left holding the half-read connection would time out instead."""
    async with rogue_server(Script(_chunked(64 << 20))) as rogue:
        pleo = _client(rogue.url, 1 << 20)
        async with pleo:
            with pytest.raises(ResponseTooLargeError) as caught:
                await pleo.jobs.get(JOB)
            assert len(rogue.requests) == 1  # a deterministic refusal is not retried
            with pytest.raises(ResponseValidationError):  # answered and read, then parsed
                await pleo.jobs.get(JOB)
        await pleo.http_client.aclose()
    assert caught.value.limit == 1 << 20
    assert "max_response_bytes=1,048,576" in str(caught.value)
    assert len(rogue.requests) == 2  # the second call got a connection and an answer
    assert rogue.dropped == 1


async def test_declared_length_is_refused_before_reading() -> None:
    """A Content-Length over the cap is refused from the headers alone, naming the size."""
    head = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % (40 << 20)
    async with rogue_server(Script([head, b"x" * 1024, 5.0])) as rogue:
        pleo = _client(rogue.url, 1 << 20)
        async with pleo:
            with pytest.raises(ResponseTooLargeError, match="declares 41,943,040 bytes"):
                await pleo.jobs.get(JOB)
        await pleo.http_client.aclose()


async def test_answer_at_the_cap_is_read() -> None:
    """A body of exactly the cap is accepted (the bound is inclusive; off by one fails it)."""
    body = BODY + b" " * ((1 << 16) - len(BODY))
    async with rogue_server(Script([response(b"200 OK", body)])) as rogue:
        pleo = _client(rogue.url, 1 << 16)
        async with pleo:
            with pytest.raises(ResponseValidationError):  # read whole, then parsed
                await pleo.jobs.get(JOB)
        await pleo.http_client.aclose()


async def test_cap_holds_for_transports_that_answer_with_bytes() -> None:
    """A MockTransport or ASGI answer, already read when it arrives, is held to the same cap."""
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=b" " * 2048))
    )
    pleo = PleoExport(
        api_key="sk-size-0123456789", base_url="http://127.0.0.1", http_client=http,
        max_response_bytes=2047, retry=RetryPolicy(max_retries=0),
    )  # fmt: skip
    async with pleo:
        with pytest.raises(ResponseTooLargeError):
            await pleo.jobs.get(JOB)
    await http.aclose()


class _UnboundedBrotli:
    """brotli as brotlicffi and Brotli before 1.2 offer it: no bound on a step's output."""

    error = brotli.error

    class Decompressor:
        def __init__(self) -> None:
            self._inner = brotli.Decompressor()

        def process(self, data: bytes) -> bytes:
            return self._inner.process(data)


def test_brotli_without_an_output_bound_is_fed_in_slices() -> None:
    """Without ``output_buffer_limit`` the decoder feeds one byte at a time: a 102-byte bomb of
    64 MiB then yields pieces of one brotli meta-block, 16 MiB, at most (fed in 32-byte slices
    one piece is 24 MiB; fed whole, 64 MiB), and a page still decodes exactly."""
    from pleo_export._wire._limits import _Brotli

    bomb = brotli.compress(bytes(64 << 20), quality=5)
    assert max(len(piece) for piece in _Brotli(_UnboundedBrotli).decode(bomb)) <= 16 << 20
    assert b"".join(_Brotli(_UnboundedBrotli).decode(ENCODED["br"])) == PAGE
