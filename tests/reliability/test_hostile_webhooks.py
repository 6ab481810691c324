"""Hostile webhook deliveries: a timestamp no date can hold (``999999999999``, the year 33658),
malformed timestamp headers, and a correctly signed body nested 100,000 deep. Each is a typed
``WebhookError``; the endpoint answers 400 with one bounded WARNING line and no traceback,
where before it answered 500 and logged a ``ValueError`` or ``RecursionError`` per request.
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime

import httpx
import pytest

from pleo_export.webhooks import (
    WebhookEndpoint,
    WebhookError,
    WebhookPayloadError,
    WebhookTimestampError,
    WebhookTimestampFormatError,
    sign_webhook,
    verify_and_parse,
)

from ._figures import record

pytestmark = pytest.mark.timeout(30)

SECRET = "whsec_" + base64.b64encode(b"hostile-webhook-test-key-32bytes").decode()
DEPTH = 100_000
NESTED = "[" * DEPTH + "]" * DEPTH
EVENT = '{"eventType":"v1.export-job.created","eventId":"e1","data":{}}'


def _headers(timestamp: str) -> dict[str, str]:
    return {"webhook-id": "msg_1", "webhook-timestamp": timestamp, "webhook-signature": "v1,AAAA"}


@pytest.mark.parametrize(
    "timestamp", ["999999999999", "-1", "1e9", "12345678901234", "12.5", "١٢٣"]
)
def test_malformed_timestamp_is_a_typed_format_error(timestamp: str) -> None:
    """Out-of-range or non-numeric timestamps raise WebhookTimestampFormatError (a
    WebhookError), never ValueError or OverflowError."""
    with pytest.raises(WebhookTimestampFormatError) as caught:
        verify_and_parse(_headers(timestamp), EVENT, SECRET)
    assert isinstance(caught.value, WebhookError)


def test_representable_but_stale_timestamp_stays_a_tolerance_error() -> None:
    """A readable timestamp outside the window is the plain tolerance error (answered 401),
    not the format error: the two refusals stay distinct."""
    with pytest.raises(WebhookTimestampError) as caught:
        verify_and_parse(_headers("0"), EVENT, SECRET)
    assert type(caught.value) is WebhookTimestampError


def test_signed_nested_body_is_a_payload_error() -> None:
    """A correctly signed body nested 100,000 deep is a WebhookPayloadError, not RecursionError."""
    headers = sign_webhook(NESTED, SECRET, webhook_id="msg_nested")
    with pytest.raises(WebhookPayloadError, match="nested too deeply"):
        verify_and_parse(headers, NESTED, SECRET)


@pytest.mark.parametrize(
    ("case", "status"),
    [("year-33658", 400), ("not-digits", 400), ("nested-signed", 400), ("stale", 401)],
)
async def test_endpoint_answers_without_a_traceback(
    case: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The endpoint answers 400 (401 for a stale time) with one WARNING line under 300 chars
    and no exception info, instead of a 500 and a logged traceback."""
    body = EVENT
    if case == "year-33658":
        headers = _headers("999999999999")
    elif case == "not-digits":
        headers = _headers("soon")
    elif case == "stale":
        headers = _headers("1000000000")
    else:
        body = NESTED
        headers = sign_webhook(body, SECRET, webhook_id="msg_nested", timestamp=datetime.now(UTC))
    endpoint = WebhookEndpoint(SECRET)
    transport = httpx.ASGITransport(app=endpoint)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        with caplog.at_level(logging.DEBUG, logger="pleo_export.webhooks"):
            answer = await http.post("/", content=body, headers=headers)
    assert answer.status_code == status
    records = [r for r in caplog.records if r.name == "pleo_export.webhooks"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert records[0].exc_info is None
    assert len(records[0].getMessage()) < 300
    if case == "year-33658":
        record(
            "hostile_servers",
            **{
                "webhook timestamp 999999999999 (year 33658)": "WebhookTimestampFormatError: "
                "400, one WARNING line, no traceback"
            },
        )
    elif case == "nested-signed":
        record(
            "hostile_servers",
            **{
                "signed webhook body nested 100,000 deep": "WebhookPayloadError: 400, one "
                "WARNING line, no traceback"
            },
        )
