"""Hostile sizes: a 256 MiB body and a 0.5 MiB gzip bomb of 512 MiB are refused at the 32 MiB
``max_response_bytes`` cap while streaming, counted after decompression, with the peak RSS of a
fresh process measured; a declared oversized Content-Length is refused before reading; the
connection is dropped, never returned to the pool half read.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest

from pleo_export import PleoExport, ResponseTooLargeError, ResponseValidationError, RetryPolicy
from pleo_export._config import DEFAULT_MAX_RESPONSE_BYTES

from ._figures import record
from ._rogue import Step, response, rogue_server

pytestmark = pytest.mark.timeout(60)

PROBE = Path(__file__).with_name("_rss_probe.py")
JOB = "00000000-0000-4000-8000-000000000001"
BODY = b'{"data": {"id": "' + JOB.encode() + b'"}}'
CAP_MIB = DEFAULT_MAX_RESPONSE_BYTES >> 20
#: Peak RSS growth allowed over the cap: the decoded chunks held, plus one network chunk's
#: inflation (a 64 KiB gzip chunk of zeros inflates to about 64 MiB) and httpx's buffers.
SLACK_MIB = {"body": 48, "gzip": 128}


@pytest.mark.parametrize("attack", ["body", "gzip"])
def test_oversized_answer_is_refused_with_bounded_memory(attack: str) -> None:
    """In a fresh process, the 256 MiB body (before: +750 MiB RSS) and the gzip bomb (before:
    +1 GiB) end in ResponseTooLargeError with the peak RSS within the cap plus slack."""
    done = subprocess.run(
        [sys.executable, str(PROBE), attack], capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["error"] == "ResponseTooLargeError"
    assert result["rss_growth_mib"] < CAP_MIB + SLACK_MIB[attack], result
    name = "256 MiB body" if attack == "body" else "510 KiB gzip bomb (512 MiB inflated)"
    record(
        "hostile_servers",
        **{
            name: f"ResponseTooLargeError at 32 MiB: +{result['rss_growth_mib']:.0f} MiB RSS, "
            f"{result['seconds']:.1f} s"
        },
    )


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
