"""``with_response``: the parsed result beside the HTTP response's metadata, headers bounded and
masked, for any SDK call (``pleo.raw`` included), reporting the last request of the call."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from pleo_export_raw.api.export_api_v_1 import get_export_job_by_id_v1
from pytest_httpx import HTTPXMock

from pleo_export import PleoError, PleoExport, ResponseMeta, with_response
from pleo_export._config import META_HEADER_MAX_CHARS, META_MAX_HEADERS, REQUEST_ID_MAX_CHARS

if TYPE_CHECKING:
    from .conftest import Payloads

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
API_KEY = "sk-unit-test-0123456789abcdef"
JOB_ID = "3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10"
JOB_URL = f"{BASE_URL}/v3/export-jobs/{JOB_ID}"


async def test_with_response_returns_the_model_and_its_metadata(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """After a 502 and a 200, meta has status 200, two attempts, the request id and the path
    template; fails if the metadata describes the wrong attempt or loses the parsed model."""
    httpx_mock.add_response(url=JOB_URL, status_code=502)
    httpx_mock.add_response(
        url=JOB_URL,
        json={"data": payloads.job(JOB_ID)},
        headers={"X-Request-Id": "req-42", "X-RateLimit-Remaining": "99"},
    )
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:
        job, meta = await with_response(pleo.jobs.get, JOB_ID)
    assert str(job.id) == JOB_ID
    assert isinstance(meta, ResponseMeta)
    assert (meta.status_code, meta.attempts, meta.request_id) == (200, 2, "req-42")
    assert (meta.method, meta.url_template) == ("GET", "/v3/export-jobs/{jobId}")
    assert meta.headers["x-ratelimit-remaining"] == "99"
    assert meta.elapsed > 0


async def test_headers_are_masked_and_bounded(httpx_mock: HTTPXMock, payloads: Payloads) -> None:
    """Cookies and echoed credentials show as [secure]; long values, many headers and a huge
    request id are cut; fails if a hostile or leaky server's headers reach the caller whole."""
    headers = [
        ("Set-Cookie", "session=abc123456"),
        ("X-Echo", f"you sent {API_KEY}"),
        ("X-Request-Id", "r" * 10_000),
        ("X-Long", "v" * 10_000),
        *((f"X-Filler-{n}", "x") for n in range(200)),
    ]
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)}, headers=headers)
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:
        _, meta = await with_response(pleo.jobs.get, JOB_ID)
    assert meta.headers["set-cookie"] == "[secure]"
    assert API_KEY not in meta.headers["x-echo"]
    assert len(meta.headers["x-long"]) == META_HEADER_MAX_CHARS
    assert len(meta.headers) == META_MAX_HEADERS
    assert meta.request_id is not None
    assert len(meta.request_id) == REQUEST_ID_MAX_CHARS


async def test_with_response_covers_pages_and_raw_calls(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """A pager's first page and a generated v1 call through ``pleo.raw`` give metadata too;
    fails if either path bypasses the seam's recording."""
    httpx_mock.add_response(
        json=payloads.page([payloads.job(JOB_ID)]), headers={"X-Request-Id": "p"}
    )
    httpx_mock.add_response(
        url=f"{BASE_URL}/v1/export-jobs/{JOB_ID}",
        json={"data": payloads.job(JOB_ID)},
        headers={"X-Request-Id": "v1"},
    )
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:
        page, page_meta = await with_response(pleo.jobs.list().first_page)
        _, raw_meta = await with_response(
            get_export_job_by_id_v1.asyncio_detailed, JOB_ID, client=pleo.raw
        )
    assert len(page.items) == 1
    assert (page_meta.request_id, page_meta.url_template) == ("p", "/v3/export-jobs")
    assert (raw_meta.request_id, raw_meta.url_template) == ("v1", "/v1/export-jobs/{jobId}")


async def test_nested_with_response_and_no_request() -> None:
    """A call that sends nothing raises a PleoError instead of inventing metadata; fails if a
    stale response from an earlier call were returned."""

    async def local() -> int:
        return 1

    with pytest.raises(PleoError, match="made no HTTP request"):
        await with_response(local)


async def test_an_enclosing_with_response_sees_the_inner_request(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """``with_response`` around a function that itself uses ``with_response`` still gets the
    last request; fails if the inner listener swallowed it."""
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:

        async def inner() -> str:
            job, _ = await with_response(pleo.jobs.get, JOB_ID)
            return str(job.id)

        job_id, meta = await with_response(inner)
    assert job_id == JOB_ID
    assert meta.status_code == 200
