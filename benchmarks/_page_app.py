"""A tiny ASGI app serving pre-built pages of v3 export items over loopback TCP, for benchmarks.

``python benchmarks/_page_app.py DATA_FILE --pages N --delay 0.025`` serves
``GET /v3/export-items`` on 127.0.0.1 (a free port), waiting ``--delay`` seconds before each
answer, and prints its base URL on the first line of stdout. ``DATA_FILE`` holds one JSON
``data`` array a line (``_common.export_item_pages``); page ``i`` reuses line ``i % lines``.
Serving costs a few µs a page, so the latency the client sees is ``--delay`` plus loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from _common import PageServer

__all__ = ["main"]


def _app(server: PageServer, delay: float) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        query = parse_qs(scope["query_string"].decode())
        after = query.get("after", [""])[0]
        limit = int(query.get("limit", [str(server.page_size)])[0])
        if delay:
            await asyncio.sleep(delay)
        body = server.body(int(after[1:]) if after else 0, limit)
        server.requests += 1
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    """Serve until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    data = [line.encode() for line in args.data.read_text().splitlines() if line]
    server = PageServer(data, args.pages)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        _app(server, args.delay),
        log_level="warning",
        access_log=False,
        lifespan="off",
        http="h11",
        loop="asyncio",
    )
    print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
