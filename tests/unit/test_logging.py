"""Logging on ``pleo_export``: one DEBUG line per attempt, one INFO line per retry, and no
credential in any log record (httpx and httpcore included), exception message or traceback.

The retrying runs go over real loopback TCP to a scripted server, so httpcore logs too."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import traceback
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from pleo_export import (
    APIConnectionError,
    AuthenticationError,
    PleoError,
    PleoExport,
    RetryPolicy,
    ServerError,
)

API_KEY = "sk-live-SECRET-0123456789"
TOKEN = "eyJSECRET-BEARER-TOKEN.abc"
SECRETS = [API_KEY, TOKEN, base64.b64encode(f"{API_KEY}:".encode()).decode()]
JOB_ID = "3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10"
JOB = {
    "id": JOB_ID,
    "companyId": "6f1c2f0e-9a55-4c3e-8a51-0c2f3f4a5b6c",
    "createdAt": "2024-05-01T10:00:00Z",
    "expiresIn": 3600,
    "isInteractive": True,
    "numberOfItems": 2,
    "status": "pending",
    "vendorBasedBookkeeping": False,
}


class ScriptedServer:
    """An HTTP/1.1 server on 127.0.0.1 answering each request with the next scripted reply."""

    def __init__(self, replies: list[tuple[int, Any]]) -> None:
        self.replies = list(replies)
        self.authorizations: list[str] = []
        self._handlers: set[asyncio.Task[None]] = set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                headers = dict(
                    line.split(": ", 1) for line in head.split("\r\n")[1:] if ": " in line
                )
                lowered = {k.lower(): v for k, v in headers.items()}
                if length := int(lowered.get("content-length", "0")):
                    await reader.readexactly(length)
                self.authorizations.append(lowered.get("authorization", ""))
                status, body = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
                payload = json.dumps(body).encode()
                writer.write(
                    f"HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\nRetry-After: 0\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def wait_handlers(self) -> None:
        """Wait until every connection handler has finished (the client closed its pool)."""
        if self._handlers:
            await asyncio.wait(self._handlers)


@contextlib.asynccontextmanager
async def _serve(replies: list[tuple[int, Any]]) -> AsyncIterator[tuple[ScriptedServer, str]]:
    scripted = ScriptedServer(replies)
    server = await asyncio.start_server(scripted._handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield scripted, f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()
        await scripted.wait_handlers()


def _everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every message, argument, extra attribute and traceback the records carry, as text."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    parts = []
    for record in caplog.records:
        parts.append(formatter.format(record))
        parts.append(repr(record.args))
        parts.extend(repr(value) for value in vars(record).values())
    return "\n".join(parts)


def _assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def _pleo_records(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "pleo_export" and r.levelno == level
    ]


@pytest.mark.parametrize("credential", ["api_key", "bearer_token"])
async def test_retrying_run_logs_no_credentials_anywhere(
    caplog: pytest.LogCaptureFixture, credential: str
) -> None:
    """At DEBUG on every logger, a run with two retries over TCP never logs the secret."""
    caplog.set_level(logging.DEBUG)
    secret = API_KEY if credential == "api_key" else TOKEN
    replies: list[tuple[int, Any]] = [(503, {"message": "busy"}), (429, {}), (200, {"data": JOB})]
    async with _serve(replies) as (server, url):
        async with PleoExport(base_url=url, **{credential: secret}) as pleo:  # type: ignore[arg-type]
            job = await pleo.jobs.get(JOB_ID)
        assert str(job.id) == JOB_ID
        assert len(server.authorizations) == 3
        assert all(secret in a or "Basic" in a for a in server.authorizations)
    names = {record.name for record in caplog.records}
    assert {"pleo_export", "httpx"} <= names
    assert any(name.startswith("httpcore") for name in names)
    _assert_no_secret(_everything_logged(caplog))


async def test_one_debug_line_per_attempt_and_one_info_line_per_retry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Three attempts give three DEBUG lines and two INFO "retrying" lines on pleo_export."""
    caplog.set_level(logging.DEBUG, logger="pleo_export")
    replies: list[tuple[int, Any]] = [(503, {}), (503, {}), (200, {"data": JOB})]
    async with _serve(replies) as (_, url), PleoExport(api_key=API_KEY, base_url=url) as pleo:
        await pleo.jobs.get(JOB_ID)
    debug = _pleo_records(caplog, logging.DEBUG)
    info = _pleo_records(caplog, logging.INFO)
    path = f"/v3/export-jobs/{JOB_ID}"
    assert [line.split(" in ")[0] for line in debug] == [
        f"GET {path} -> 503",
        f"GET {path} -> 503",
        f"GET {path} -> 200",
    ]
    assert [line.rsplit("(attempt ", 1)[1] for line in debug] == ["1)", "2)", "3)"]
    assert info == [f"retrying GET {path} after status 503 (Retry-After 0s)"] * 2


async def test_no_retry_line_for_the_last_attempt(caplog: pytest.LogCaptureFixture) -> None:
    """When the retries run out, the final failure logs DEBUG but no "retrying" INFO line."""
    caplog.set_level(logging.DEBUG, logger="pleo_export")
    async with (
        _serve([(503, {})]) as (_, url),
        PleoExport(api_key=API_KEY, base_url=url, max_retries=2) as pleo,
    ):
        with pytest.raises(ServerError):
            await pleo.jobs.get(JOB_ID)
    assert len(_pleo_records(caplog, logging.DEBUG)) == 3
    assert len(_pleo_records(caplog, logging.INFO)) == 2


async def test_transport_retry_is_logged_at_info(
    httpx_mock: HTTPXMock, caplog: pytest.LogCaptureFixture
) -> None:
    """A failed connection is an attempt too: a DEBUG line naming the exception class, then the
    INFO retry line; no details or headers."""
    caplog.set_level(logging.DEBUG, logger="pleo_export")
    httpx_mock.add_exception(httpx.ConnectError("refused"))
    httpx_mock.add_response(json={"data": JOB})
    async with PleoExport(api_key=API_KEY, base_url="http://127.0.0.1:9") as pleo:
        await pleo.jobs.get(JOB_ID)
    path = f"/v3/export-jobs/{JOB_ID}"
    assert _pleo_records(caplog, logging.INFO) == [f"retrying GET {path} after ConnectError"]
    debug = _pleo_records(caplog, logging.DEBUG)
    assert [line.split(" in ")[0] for line in debug] == [
        f"GET {path} -> ConnectError",
        f"GET {path} -> 200",
    ]
    assert [line.rsplit("(attempt ", 1)[1] for line in debug] == ["1)", "2)"]


def _full_traceback(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


@pytest.mark.parametrize("credential", ["api_key", "bearer_token"])
async def test_errors_and_tracebacks_carry_no_credentials(
    caplog: pytest.LogCaptureFixture, credential: str
) -> None:
    """A 401 and a refused connection raise errors whose text and chained tracebacks are clean."""
    caplog.set_level(logging.DEBUG)
    secret = API_KEY if credential == "api_key" else TOKEN
    errors: list[PleoError] = []
    unauthorized: list[tuple[int, Any]] = [(401, {"type": "UNAUTHORIZED", "message": "no"})]
    async with (
        _serve(unauthorized) as (_, url),
        PleoExport(base_url=url, **{credential: secret}) as pleo,  # type: ignore[arg-type]
    ):
        with pytest.raises(AuthenticationError) as caught:
            await pleo.jobs.get(JOB_ID)
        errors.append(caught.value)
    closed = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = closed.sockets[0].getsockname()[1]
    closed.close()
    await closed.wait_closed()
    async with PleoExport(
        base_url=f"http://127.0.0.1:{port}",
        retry=RetryPolicy(max_retries=1),
        **{credential: secret},  # type: ignore[arg-type]
    ) as pleo:
        with pytest.raises(APIConnectionError) as refused:
            await pleo.jobs.get(JOB_ID)
        errors.append(refused.value)
    for error in errors:
        _assert_no_secret(str(error))
        _assert_no_secret(repr(error))
        _assert_no_secret(_full_traceback(error))
        _assert_no_secret(repr(vars(error)))
    _assert_no_secret(_everything_logged(caplog))
