"""Hostile servers that echo the credential: through a request-id header, inside a status or
header line h11 cannot parse, or a token with CR/LF that h11 refuses to send. At DEBUG, on every
logger, no form of the secret may show in an error, its cause chain, a retry log or the
worker's WARNING line.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest

from pleo_export import (
    APIConnectionError,
    ExportWorker,
    PleoError,
    PleoExport,
    Rejected,
    RetryPolicy,
    ServerError,
)

from ._figures import record
from ._rogue import header, response, rogue_server
from .test_secrets import Everything, _error_texts, find_secrets, secret_forms

pytestmark = pytest.mark.timeout(30)

API_KEY = "sk-live-" + secrets.token_hex(16)
TOKEN = "oat-" + secrets.token_urlsafe(24)
#: One retry, a millisecond apart: the retry log line (stamina's, with the error's repr) runs.
RETRY = RetryPolicy(max_retries=1, wait_initial=0.001, wait_max=0.001, wait_jitter=0.0)
JOB = "00000000-0000-4000-8000-000000000001"


@pytest.fixture
def logs() -> Iterator[Everything]:
    """Every logger at DEBUG, each record kept with its extras."""
    handler = Everything()
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(before)


def _echo_status_line(head: bytes) -> Iterable[bytes]:
    """A status line h11 cannot parse, carrying the Authorization header."""
    return [b"HTTP/1.1 2OO " + header(head, b"authorization") + b"\r\n\r\n"]


def _echo_header_line(head: bytes) -> Iterable[bytes]:
    """A header line without a colon, carrying the Authorization header."""
    return [b"HTTP/1.1 200 OK\r\nEcho " + header(head, b"authorization") + b"\r\n\r\n"]


def _echo_request_id(head: bytes) -> Iterable[bytes]:
    """A 502 whose request-id header is the Authorization header."""
    echo = header(head, b"authorization")
    return [response(b"502 Bad Gateway", b"upstream failed", [b"x-request-id: " + echo])]


def _credential(kind: str) -> dict[str, Any]:
    return {"api_key": API_KEY} if kind == "api_key" else {"bearer_token": TOKEN}


@pytest.mark.parametrize("kind", ["api_key", "bearer_token"])
@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (_echo_status_line, APIConnectionError),
        (_echo_header_line, APIConnectionError),
        (_echo_request_id, ServerError),
    ],
    ids=["status-line", "header-line", "request-id"],
)
async def test_echoed_credential_shows_nowhere(
    logs: Everything, kind: str, script: Any, expected: type[PleoError]
) -> None:
    """The echoed Authorization value is masked in the error, its cause chain and every DEBUG
    record (stamina's retry repr included); a leak on any path, or another error type, fails."""
    async with rogue_server(script) as rogue:
        pleo = PleoExport(base_url=rogue.url, retry=RETRY, **_credential(kind))
        async with pleo:
            with pytest.raises(expected) as caught:
                await pleo.jobs.get(JOB)
    assert len(rogue.requests) == 2  # retried once: the retry path ran and was logged
    forms = secret_forms(API_KEY if kind == "api_key" else TOKEN)
    texts = _error_texts(caught.value) + logs.lines
    assert find_secrets(texts, forms) == []
    assert "[secure]" in str(caught.value)  # the echo was there, masked
    assert any(" DEBUG " in line for line in logs.lines)
    attack = (
        "secret echoed in a request-id header"
        if expected is ServerError
        else "secret echoed in an h11 status or header line"
    )
    record(
        "hostile_servers",
        **{attack: f"{expected.__name__} with [secure]; 0 forms of the key in the error, its "
           "chain or any DEBUG record"},
    )  # fmt: skip


async def test_token_with_crlf_is_not_shown_in_the_refusal(logs: Everything) -> None:
    """A bearer token holding CR/LF, which h11 refuses to send and quotes escaped, shows in
    neither the error nor the logs, raw or escaped; a raw CR/LF would also fail it."""
    token = "oat-" + secrets.token_hex(8) + "\r\nX-Injected: yes"
    async with rogue_server(_echo_request_id) as rogue:
        pleo = PleoExport(base_url=rogue.url, retry=RETRY, bearer_token=token)
        async with pleo:
            with pytest.raises(APIConnectionError) as caught:
                await pleo.jobs.get(JOB)
    assert rogue.requests == []  # nothing was sent
    escaped = token.replace("\r", "\\r").replace("\n", "\\n")
    texts = _error_texts(caught.value) + logs.lines
    assert find_secrets(texts, {token: token, escaped: token, token[4:20]: token}) == []
    assert len(str(caught.value).splitlines()) == 1
    record(
        "hostile_servers",
        **{"bearer token containing CR/LF": "APIConnectionError; the token masked raw and "
           "escaped, nothing sent"},
    )  # fmt: skip


async def test_worker_warning_line_has_no_credential(logs: Everything) -> None:
    """The worker's WARNING about a failed listing (an h11 error echoing the key) is one
    bounded line with the key masked, and the worker keeps polling rather than ending."""
    async with rogue_server(_echo_header_line) as rogue:
        pleo = PleoExport(base_url=rogue.url, retry=RETRY, api_key=API_KEY)
        async with pleo:
            worker = ExportWorker(pleo, lambda item: Rejected("unused"), poll_interval=0.01)
            task = asyncio.create_task(worker.run())
            await asyncio.sleep(0.3)  # many polls of two attempts each
            worker.stop()
            await asyncio.wait_for(task, 5)
    assert len(rogue.requests) >= 6
    warnings = [r for r in logs.lines if " WARNING " in r and "listing jobs failed" in r]
    assert len(warnings) >= 3
    assert all("\n" not in line and len(line) < 1_000 for line in warnings)
    assert find_secrets(logs.lines, secret_forms(API_KEY)) == []
    basic = base64.b64encode(f"{API_KEY}:".encode()).decode()
    assert basic not in "".join(logs.lines)


async def test_plain_httpx_would_have_leaked() -> None:
    """The attack is real: httpx's own error for the echoing status line holds the credential,
    so the clean texts above are the SDK's doing (were it not so, this would fail)."""
    async with rogue_server(_echo_status_line) as rogue, httpx.AsyncClient() as http:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await http.get(rogue.url, auth=(API_KEY, ""))
    basic = base64.b64encode(f"{API_KEY}:".encode()).decode()
    assert basic in str(caught.value)
