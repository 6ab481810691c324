"""Run one oversized answer against the SDK in a fresh process and print what it cost.

``python _rss_probe.py ATTACK`` serves ATTACK on loopback TCP (``body``: a 256 MiB chunked
body; ``gzip``: a 512 MiB run of zeros gzipped to about 0.5 MiB; ``deflate``, ``br``, ``zstd``:
the same zeros in those encodings, from 0.5 MiB down to 809 bytes), calls ``jobs.get`` on it with
the default client limits and prints one JSON line: the exception's type, the growth of the
peak RSS during the call in MiB, and the seconds the call took. A fresh process keeps other
tests' memory out of the peak.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import zlib
from pathlib import Path

from pleo_export import PleoExport, RetryPolicy

CHUNK = 1 << 16
BODY_BYTES = 256 << 20
BOMB_BYTES = 512 << 20
JOB = "00000000-0000-4000-8000-000000000001"


def _bomb(encoding: str) -> bytes:
    """``BOMB_BYTES`` of zeros compressed with the Content-Encoding ``encoding``."""
    zeros = bytes(1 << 20)
    if encoding == "br":
        import brotli

        packer = brotli.Compressor(quality=5)
        return b"".join([packer.process(zeros) for _ in range(BOMB_BYTES >> 20)]) + packer.finish()
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(bytes(BOMB_BYTES))
    deflater = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    parts = [deflater.compress(zeros) for _ in range(BOMB_BYTES >> 20)]
    return b"".join([*parts, deflater.flush()])


def _status_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status (``VmRSS``, ``VmHWM``), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise LookupError(field)


def _reset_peak() -> None:
    """Start the peak (VmHWM) afresh at the current RSS (Linux: clear_refs mode 5), so memory
    used earlier by imports or by building the bomb is not mistaken for the call's."""
    Path("/proc/self/clear_refs").write_text("5")


async def _serve_body(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n" % CHUNK + b"x" * CHUNK + b"\r\n"
    for _ in range(BODY_BYTES // CHUNK):
        writer.write(chunk)
        await writer.drain()
    writer.write(b"0\r\n\r\n")


async def _serve_bomb(writer: asyncio.StreamWriter, encoding: str, bomb: bytes) -> None:
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-encoding: %s\r\ncontent-length: %d\r\n\r\n"
        % (encoding.encode(), len(bomb))
    )
    for start in range(0, len(bomb), CHUNK):
        writer.write(bomb[start : start + CHUNK])
        await writer.drain()


async def main(attack: str) -> dict[str, object]:
    """Serve ``attack``, call the SDK on it, and measure."""
    bomb = b"" if attack == "body" else _bomb(attack)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        try:
            await (_serve_body(writer) if attack == "body" else _serve_bomb(writer, attack, bomb))
            await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client hung up (what a bounded reader does), or the probe is ending
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with PleoExport(
        api_key="sk-rss-0123456789", base_url=url, retry=RetryPolicy(max_retries=0)
    ) as pleo:
        _reset_peak()
        before = _status_mib("VmRSS")
        started = time.perf_counter()
        try:
            await pleo.jobs.get(JOB)
            outcome = "no error"
        except Exception as exc:
            outcome = type(exc).__name__
        seconds = time.perf_counter() - started
        growth = _status_mib("VmHWM") - before
    server.close()
    return {
        "attack": attack,
        "error": outcome,
        "rss_growth_mib": round(growth, 1),
        "seconds": round(seconds, 2),
        "compressed_kib": len(bomb) // 1024,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
