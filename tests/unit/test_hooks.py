"""Hooks: ``on_request``, ``on_response`` and ``on_retry`` fire once per attempt inside the retry
loop, sync or async, with path templates and no secret; a raising hook never breaks a call."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from pleo_export import (
    PleoExport,
    RequestInfo,
    ResponseInfo,
    RetryInfo,
    ServerError,
)
from pleo_export._observe._hooks import url_template

if TYPE_CHECKING:
    from .conftest import Payloads

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
API_KEY = "sk-unit-test-0123456789abcdef"
JOB_ID = "3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10"
JOB_URL = f"{BASE_URL}/v3/export-jobs/{JOB_ID}"


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/v3/export-jobs", "/v3/export-jobs"),
        (f"/v3/export-jobs/{JOB_ID}", "/v3/export-jobs/{jobId}"),
        (f"/v2/export-jobs/{JOB_ID}/items", "/v2/export-jobs/{jobId}/items"),
        ("/v3/export-job-items:search", "/v3/export-job-items:search"),
        (f"/v9/things/{uuid.uuid4()}/parts/42", "/v9/things/{id}/parts/{id}"),
        ("/v3/export-jobs/not-a-uuid-but-an-id", "/v3/export-jobs/{jobId}"),
    ],
)
def test_url_template_replaces_ids(path: str, template: str) -> None:
    """Ids in a path become placeholders; fails if an id (high cardinality) reached telemetry."""
    assert url_template(path) == template


def _recorder() -> tuple[list[object], Any]:
    events: list[object] = []
    return events, events.append


async def test_hooks_fire_once_per_attempt_in_order(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """A 503 then a 200 gives request, response(503), retry, request, response(200); fails if a
    hook fires outside the retry loop, twice, or with the wrong attempt number or reason."""
    httpx_mock.add_response(url=JOB_URL, status_code=503, headers={"Retry-After": "2"})
    httpx_mock.add_response(
        url=JOB_URL, json={"data": payloads.job(JOB_ID)}, headers={"X-Request-Id": "req-7"}
    )
    events, record = _recorder()
    async with PleoExport(
        api_key=API_KEY, base_url=BASE_URL, on_request=record, on_response=record, on_retry=record
    ) as pleo:
        await pleo.jobs.get(JOB_ID)
    template = "/v3/export-jobs/{jobId}"
    assert [type(event) for event in events] == [
        RequestInfo,
        ResponseInfo,
        RetryInfo,
        RequestInfo,
        ResponseInfo,
    ]
    assert events[0] == RequestInfo("GET", template, 1)
    first, retry, last = events[1], events[2], events[4]
    assert isinstance(first, ResponseInfo)
    assert isinstance(last, ResponseInfo)
    assert (first.status_code, first.attempt, first.request_id) == (503, 1, None)
    assert retry == RetryInfo("GET", template, 2, "503", 2.0)
    assert (last.status_code, last.attempt, last.request_id) == (200, 2, "req-7")
    assert last.elapsed >= 0
    assert last.error is None


async def test_async_hooks_are_awaited_and_transport_errors_reported(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """Async hooks are awaited; an unanswered attempt reaches on_response with its httpx error
    and on_retry with it as reason; fails if coroutines were left un-awaited or errors skipped."""
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=JOB_URL)
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    events: list[object] = []

    async def record(event: object) -> None:
        events.append(event)

    async with PleoExport(
        api_key=API_KEY, base_url=BASE_URL, on_response=record, on_retry=record
    ) as pleo:
        await pleo.jobs.get(JOB_ID)
    unanswered, retry, answered = events
    assert isinstance(unanswered, ResponseInfo)
    assert (unanswered.status_code, unanswered.error) == (None, "ReadTimeout")
    assert retry == RetryInfo("GET", "/v3/export-jobs/{jobId}", 2, "ReadTimeout", None)
    assert isinstance(answered, ResponseInfo)
    assert answered.status_code == 200


async def test_hooks_see_the_final_failure_too(httpx_mock: HTTPXMock) -> None:
    """Every attempt of a call that fails for good reaches on_response, and no retry is
    announced after the last one; fails if a retry hook fires that no attempt follows."""
    for _ in range(3):
        httpx_mock.add_response(url=JOB_URL, status_code=500)
    events, record = _recorder()
    async with PleoExport(
        api_key=API_KEY, base_url=BASE_URL, max_retries=2, on_response=record, on_retry=record
    ) as pleo:
        with pytest.raises(ServerError):
            await pleo.jobs.get(JOB_ID)
    assert [type(event).__name__ for event in events] == [
        "ResponseInfo",
        "RetryInfo",
        "ResponseInfo",
        "RetryInfo",
        "ResponseInfo",
    ]


async def test_a_raising_hook_is_logged_and_the_call_succeeds(
    httpx_mock: HTTPXMock, payloads: Payloads, caplog: pytest.LogCaptureFixture
) -> None:
    """A hook's exception is logged on ``pleo_export`` and swallowed; fails if observability
    code can break the call it observes."""
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})

    def broken(event: object) -> None:
        raise RuntimeError("hook bug")

    async with PleoExport(api_key=API_KEY, base_url=BASE_URL, on_request=broken) as pleo:
        with caplog.at_level(logging.ERROR, logger="pleo_export"):
            job = await pleo.jobs.get(JOB_ID)
    assert str(job.id) == JOB_ID
    assert "RequestInfo hook raised" in caplog.text


async def test_nothing_secret_or_identifying_reaches_a_hook(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """Hook events hold neither the credential, nor a header, nor the job id or query; fails if
    any event's fields mention them."""
    httpx_mock.add_response(json=payloads.page([payloads.job(JOB_ID)]))
    events, record = _recorder()
    async with PleoExport(
        api_key=API_KEY, base_url=BASE_URL, on_request=record, on_response=record
    ) as pleo:
        async for _ in pleo.jobs.list(company_id=payloads.company_id, max_items=1):
            pass
    assert events
    for event in events:
        text = repr(event)
        for secret in (API_KEY, payloads.company_id, "Basic", "company_id"):
            assert secret not in text


async def test_no_observation_without_hooks(httpx_mock: HTTPXMock, payloads: Payloads) -> None:
    """A client without hooks, tracing or metrics takes the fast path (no Observation); fails
    if every call pays for watching that nobody asked for."""
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:
        observer = pleo.observer
        assert not observer.active
        assert observer.observe(httpx.Request("GET", JOB_URL), "") is None
        await pleo.jobs.get(JOB_ID)
