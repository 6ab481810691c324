"""Hostile error text: a server's ``message``, ``type`` and request id become error fields of at
most ``ERROR_FIELD_MAX_CHARS`` characters, with ``…`` and the original length, and with control
characters escaped so that a CR/LF cannot forge a log line.
"""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from pleo_export import APIStatusError, PleoExport, RetryPolicy, ServerError
from pleo_export._secrets import ERROR_FIELD_MAX_CHARS

from ._figures import record

pytestmark = pytest.mark.timeout(30)

JOB = "00000000-0000-4000-8000-000000000001"
#: Method, path, status and the SDK's own words around the fields.
FRAME = 200


async def _error(body: bytes, headers: dict[str, str] | None = None) -> APIStatusError:
    """The error ``jobs.get`` raises when the server answers 500 with ``body`` and ``headers``."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, content=body, headers=headers or {})

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    async with PleoExport(
        api_key="sk-text-0123456789", base_url="http://127.0.0.1", http_client=http,
        retry=RetryPolicy(max_retries=0),
    ) as pleo:  # fmt: skip
        with pytest.raises(ServerError) as caught:
            await pleo.jobs.get(JOB)
    await http.aclose()
    return caught.value


@pytest.mark.parametrize(
    ("field", "size"), [("message", 1_000_000), ("type", 500_000), ("request_id", 60_000)]
)
async def test_huge_fields_are_cut_with_their_length(field: str, size: int) -> None:
    """A 1 MB message, a 500 KB type or a 60 KB request id is cut to the field bound and says
    how long it was; an uncut field (or a lost length) fails it."""
    text = "x" * size
    if field == "request_id":
        error = await _error(b"{}", {"x-request-id": text})
    else:
        error = await _error(json.dumps({field: text}).encode())
    value = getattr(error, field)
    assert value is not None
    assert len(value) <= ERROR_FIELD_MAX_CHARS
    assert value.endswith(f"… ({size:,} chars)")
    assert len(str(error)) <= 2 * ERROR_FIELD_MAX_CHARS + FRAME
    LENGTHS.append(len(str(error)))
    record(
        "hostile_servers",
        **{
            "1 MB message, 500 KB type, 60 KB request id": f"error text of {max(LENGTHS):,} "
            f"chars at most; each field cut to {ERROR_FIELD_MAX_CHARS} with its length"
        },
    )


LENGTHS: list[int] = []


async def test_all_fields_huge_at_once_stay_bounded() -> None:
    """With every field huge, the whole message stays within the sum of the bounds."""
    body = json.dumps({"type": "T" * 500_000, "message": "M" * 1_000_000}).encode()
    error = await _error(body, {"x-request-id": "R" * 60_000})
    assert len(str(error)) <= 3 * ERROR_FIELD_MAX_CHARS + FRAME
    assert len(error.body_snippet) <= ERROR_FIELD_MAX_CHARS


@pytest.mark.parametrize(
    "forged",
    [
        "denied\r\n2026-01-01 INFO pleo_export: all items booked",
        "denied\n\x1b[2J\x1b[Hcleared",
        "denied\u2028\x85next line",
    ],
    ids=["crlf", "ansi", "unicode-breaks"],
)
async def test_control_characters_cannot_forge_a_log_line(
    forged: str, caplog: pytest.LogCaptureFixture
) -> None:
    """CR, LF, ESC and C1 line breaks in a message or request id are escaped, so the error logs
    as one line; a raw control character in the text fails it."""
    error = await _error(json.dumps({"message": forged}).encode(), {"x-request-id": "id\x1bx"})
    text = str(error)
    assert len(text.splitlines()) == 1
    assert not any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in text)
    assert "\\x1b" in text  # the request id's ESC, escaped
    with caplog.at_level(logging.WARNING):
        logging.getLogger("pleo_export.test").warning("call failed: %s", error)
    assert len(caplog.text.strip().splitlines()) == 1
    record(
        "hostile_servers",
        **{"CR/LF or ESC in an error message": "1 log line; control characters escaped"},
    )


async def test_small_fields_are_kept_exactly() -> None:
    """A normal ``type``, ``message`` and request id pass through unchanged (no over-cutting)."""
    body = json.dumps({"type": "EXPORT_NOT_FOUND", "message": "No export job with this id."})
    error = await _error(body.encode(), {"x-request-id": "req-123"})
    assert (error.type, error.message, error.request_id) == (
        "EXPORT_NOT_FOUND",
        "No export job with this id.",
        "req-123",
    )
