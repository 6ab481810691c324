"""Retries: which statuses and failures retry for which methods, Retry-After in both forms and
its cap, and the backoff stamina computes (recorded by the conftest, never slept)."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import uuid
from collections.abc import Iterator
from time import perf_counter as now
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import stamina
from pytest_httpx import HTTPXMock
from stamina.instrumentation import RetryDetails, get_on_retry_hooks, set_on_retry_hooks

from pleo_export import (
    APIConnectionError,
    APITimeoutError,
    InvalidArgumentError,
    PleoExport,
    RateLimitError,
    RetryInfo,
    RetryPolicy,
    ServerError,
)
from pleo_export._config import RETRY_AFTER_MAX
from pleo_export._retry import (
    retry_after,
    route_retry_notices,
    should_retry_status,
    transport_error_is_safe_to_retry,
)

if TYPE_CHECKING:
    from .conftest import Payloads

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
JOB_ID = "3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10"
JOB_URL = f"{BASE_URL}/v3/export-jobs/{JOB_ID}"
EVENTS_URL = f"{BASE_URL}/v3/export-job-events"
CREATE_URL = f"{BASE_URL}/v3/export-jobs"
NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("status", "retry"),
    [(408, True), (429, True), (500, True), (502, True), (503, True), (504, True), (520, True)]
    + [(s, False) for s in (200, 301, 400, 401, 403, 404, 409, 413, 422, 451)],
)
def test_which_statuses_are_transient(status: int, retry: bool) -> None:
    """408, 429 and every 5xx are transient; other statuses are final."""
    assert should_retry_status(status) is retry


@pytest.mark.parametrize(
    ("error", "idempotent", "retry"),
    [
        (httpx.ConnectError("x"), False, True),
        (httpx.ConnectTimeout("x"), False, True),
        (httpx.PoolTimeout("x"), False, True),
        (httpx.ReadTimeout("x"), False, False),
        (httpx.RemoteProtocolError("x"), False, False),
        (httpx.ReadTimeout("x"), True, True),
        (httpx.RemoteProtocolError("x"), True, True),
    ],
)
def test_transport_errors_retry_for_posts_only_when_nothing_was_sent(
    error: httpx.TransportError, idempotent: bool, retry: bool
) -> None:
    """A non-idempotent request retries only failures that happen before sending."""
    assert transport_error_is_safe_to_retry(error, idempotent=idempotent) is retry


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-3", 0.0),
        ("86400", RETRY_AFTER_MAX),
        ("1e400", RETRY_AFTER_MAX),
        ("Wed, 01 May 2024 12:00:30 GMT", 30.0),
        ("Wed, 01 May 2024 11:00:00 GMT", 0.0),
        ("Wed, 01 May 2024 14:00:00 GMT", RETRY_AFTER_MAX),
        ("Wed, 01 May 2024 12:00:10 -0000", 10.0),
        ("soon", None),
        ("", None),
        ("nan", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str, expected: float | None) -> None:
    """Retry-After is seconds or an HTTP date, clamped to [0, cap]; junk gives None."""
    headers = httpx.Headers({"Retry-After": value})
    assert retry_after(headers, cap=RETRY_AFTER_MAX, now=NOW) == expected


def test_retry_after_absent_is_none() -> None:
    """Without the header the normal backoff applies."""
    assert retry_after(httpx.Headers(), cap=60.0) is None


def _client(retries: list[RetryInfo], **options: Any) -> PleoExport:
    """A client whose ``on_retry`` hook (public) records each retry's ``RetryInfo``: its
    ``wait`` is the Retry-After wait the SDK chose (None: the policy's backoff)."""
    return PleoExport(api_key="k", base_url=BASE_URL, on_retry=retries.append, **options)


def _gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


@pytest.mark.parametrize("status", [503, 429])
async def test_transient_status_is_retried_honouring_retry_after_seconds(
    httpx_mock: HTTPXMock, payloads: Payloads, status: int
) -> None:
    """503 and 429 with ``Retry-After: 7`` wait 7 s (the retry says so), then succeed."""
    httpx_mock.add_response(url=JOB_URL, status_code=status, headers={"Retry-After": "7"})
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    retries: list[RetryInfo] = []
    async with _client(retries) as pleo:
        job = await pleo.jobs.get(JOB_ID)
    assert str(job.id) == JOB_ID
    assert [r.wait for r in retries] == [7.0]
    assert len(httpx_mock.get_requests()) == 2


async def test_retry_after_is_slept_not_the_backoff(
    httpx_mock: HTTPXMock, payloads: Payloads, real_backoff: None
) -> None:
    """With real waits, a ``Retry-After: 0.2`` against a 5 s backoff: the retry comes after
    0.2 s (at least) and well before 5 s; a backoff that replaced the header fails this."""
    httpx_mock.add_response(url=JOB_URL, status_code=503, headers={"Retry-After": "0.2"})
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    sent: list[float] = []
    policy = RetryPolicy(wait_initial=5.0, wait_max=5.0, wait_jitter=0.0)
    async with PleoExport(
        api_key="k", base_url=BASE_URL, retry=policy, on_request=lambda _: sent.append(now())
    ) as pleo:
        await pleo.jobs.get(JOB_ID)
    (gap,) = _gaps(sent)
    assert 0.2 <= gap < 2.5, gap


async def test_retry_after_http_date_is_honoured(httpx_mock: HTTPXMock, payloads: Payloads) -> None:
    """A Retry-After HTTP date 20 s ahead makes the SDK wait about 20 s."""
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=20)
    header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    httpx_mock.add_response(url=JOB_URL, status_code=503, headers={"Retry-After": header})
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    retries: list[RetryInfo] = []
    async with _client(retries) as pleo:
        await pleo.jobs.get(JOB_ID)
    (wait,) = [r.wait for r in retries]
    assert wait is not None
    assert 17.0 <= wait <= 20.0


@pytest.mark.parametrize(("cap", "expected"), [(None, RETRY_AFTER_MAX), (5.0, 5.0)])
async def test_retry_after_is_capped(
    httpx_mock: HTTPXMock, payloads: Payloads, cap: float | None, expected: float
) -> None:
    """A Retry-After of an hour is cut to retry_after_max (60 s by default)."""
    httpx_mock.add_response(url=JOB_URL, status_code=429, headers={"Retry-After": "3600"})
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    policy = RetryPolicy() if cap is None else RetryPolicy(retry_after_max=cap)
    retries: list[RetryInfo] = []
    async with _client(retries, retry=policy) as pleo:
        await pleo.jobs.get(JOB_ID)
    assert [r.wait for r in retries] == [expected]


async def test_backoff_doubles_with_jitter_when_there_is_no_retry_after(
    httpx_mock: HTTPXMock, real_backoff: None
) -> None:
    """Without Retry-After the waits double from wait_initial with up to wait_jitter added
    (timed on a 50 ms policy: 50, 100, 200 ms plus up to 50 ms); then it raises. A backoff
    that does not double, or none, fails the lower bounds; one far too long the upper."""
    httpx_mock.add_response(url=JOB_URL, status_code=503, is_reusable=True)
    sent: list[float] = []
    retries: list[RetryInfo] = []
    policy = RetryPolicy(wait_initial=0.05, wait_max=10.0, wait_jitter=0.05)
    async with PleoExport(
        api_key="k",
        base_url=BASE_URL,
        retry=policy,
        on_request=lambda _: sent.append(now()),
        on_retry=retries.append,
    ) as pleo:
        with pytest.raises(ServerError) as caught:
            await pleo.jobs.get(JOB_ID)
    assert caught.value.status_code == 503
    assert len(httpx_mock.get_requests()) == 4  # 1 + 3 retries
    assert [r.wait for r in retries] == [None, None, None]  # the backoff chose each wait
    gaps = _gaps(sent)
    for gap, base in zip(gaps, (0.05, 0.1, 0.2), strict=True):
        assert base <= gap, gaps
    assert sum(gaps) < 0.35 + 1.5, gaps


async def test_backoff_is_capped_at_wait_max(httpx_mock: HTTPXMock, real_backoff: None) -> None:
    """Exponential waits stop growing at wait_max: 50, 100, 200, 200, 200, 200 ms (0.95 s in
    all, where uncapped they would take 3.15 s)."""
    httpx_mock.add_response(url=JOB_URL, status_code=500, is_reusable=True)
    sent: list[float] = []
    policy = RetryPolicy(max_retries=6, wait_initial=0.05, wait_max=0.2, wait_jitter=0.0)
    async with PleoExport(
        api_key="k", base_url=BASE_URL, retry=policy, on_request=lambda _: sent.append(now())
    ) as pleo:
        with pytest.raises(ServerError):
            await pleo.jobs.get(JOB_ID)
    gaps = _gaps(sent)
    for gap, base in zip(gaps, (0.05, 0.1, 0.2, 0.2, 0.2, 0.2), strict=True):
        assert base <= gap, gaps
    assert sum(gaps) < 0.95 + 1.2, gaps


async def test_exhausted_429_raises_rate_limit_error(httpx_mock: HTTPXMock) -> None:
    """When every attempt gets 429 the last one raises RateLimitError."""
    httpx_mock.add_response(url=JOB_URL, status_code=429, is_reusable=True)
    async with PleoExport(api_key="k", base_url=BASE_URL, max_retries=2) as pleo:
        with pytest.raises(RateLimitError):
            await pleo.jobs.get(JOB_ID)
    assert len(httpx_mock.get_requests()) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422, 418])
async def test_other_client_errors_are_not_retried(httpx_mock: HTTPXMock, status: int) -> None:
    """A 4xx other than 408/429 is raised after one attempt."""
    httpx_mock.add_response(url=JOB_URL, status_code=status, json={"type": "X"})
    retries: list[RetryInfo] = []
    async with _client(retries) as pleo:
        with pytest.raises(Exception, match=str(status)):
            await pleo.jobs.get(JOB_ID)
    assert len(httpx_mock.get_requests()) == 1
    assert retries == []


async def test_max_retries_zero_makes_one_attempt(httpx_mock: HTTPXMock) -> None:
    """max_retries=0 turns retrying off."""
    httpx_mock.add_response(url=JOB_URL, status_code=503)
    async with PleoExport(api_key="k", base_url=BASE_URL, max_retries=0) as pleo:
        with pytest.raises(ServerError):
            await pleo.jobs.get(JOB_ID)
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
async def test_post_is_not_retried_on_server_errors(
    httpx_mock: HTTPXMock, payloads: Payloads, status: int
) -> None:
    """jobs.create (a POST) is sent once when the answer is a 5xx or 408."""
    httpx_mock.add_response(url=CREATE_URL, method="POST", status_code=status)
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        with pytest.raises(Exception, match=str(status)):
            await pleo.jobs.create(
                company_id=payloads.company_id, accounting_entry_ids=[uuid.uuid4()]
            )
    assert len(httpx_mock.get_requests()) == 1


async def test_post_is_retried_on_429(httpx_mock: HTTPXMock, payloads: Payloads) -> None:
    """A 429 means the POST was not processed, so it is retried after Retry-After."""
    httpx_mock.add_response(
        url=CREATE_URL, method="POST", status_code=429, headers={"Retry-After": "1"}
    )
    httpx_mock.add_response(
        url=CREATE_URL, method="POST", status_code=201, json={"data": payloads.job(JOB_ID)}
    )
    retries: list[RetryInfo] = []
    async with _client(retries) as pleo:
        job = await pleo.jobs.create(
            company_id=payloads.company_id, accounting_entry_ids=[uuid.uuid4()]
        )
    assert str(job.id) == JOB_ID
    assert [r.wait for r in retries] == [1.0]


async def test_post_is_retried_on_connect_errors(httpx_mock: HTTPXMock, payloads: Payloads) -> None:
    """A connect failure means nothing was sent, so even a POST is retried."""
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=CREATE_URL)
    httpx_mock.add_response(
        url=CREATE_URL, method="POST", status_code=201, json={"data": payloads.job(JOB_ID)}
    )
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        await pleo.jobs.create(company_id=payloads.company_id, accounting_entry_ids=[uuid.uuid4()])
    assert len(httpx_mock.get_requests()) == 2


async def test_post_is_not_retried_after_a_read_timeout(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """A read timeout may have reached Pleo, so a POST is not repeated."""
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=CREATE_URL)
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        with pytest.raises(APITimeoutError):
            await pleo.jobs.create(
                company_id=payloads.company_id, accounting_entry_ids=[uuid.uuid4()]
            )
    assert len(httpx_mock.get_requests()) == 1


async def test_job_event_with_retry_true_retries_server_errors(httpx_mock: HTTPXMock) -> None:
    """post_event(retry=True) (retry_post) lets a 503 on a POST be retried."""
    httpx_mock.add_response(url=EVENTS_URL, method="POST", status_code=503)
    httpx_mock.add_response(url=EVENTS_URL, method="POST", status_code=202)
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        await pleo.jobs.post_event(JOB_ID, "started", retry=True)
    assert len(httpx_mock.get_requests()) == 2


async def test_job_event_without_retry_is_sent_once(httpx_mock: HTTPXMock) -> None:
    """post_event() by default does not repeat a POST that got a 503."""
    httpx_mock.add_response(url=EVENTS_URL, method="POST", status_code=503)
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        with pytest.raises(ServerError):
            await pleo.jobs.post_event(JOB_ID, "started")
    assert len(httpx_mock.get_requests()) == 1


async def test_put_is_retried_on_server_errors(httpx_mock: HTTPXMock) -> None:
    """job_items.update (an idempotent PUT) retries a 502."""
    url = f"{BASE_URL}/v3/export-jobs/{JOB_ID}/items"
    httpx_mock.add_response(url=url, method="PUT", status_code=502)
    httpx_mock.add_response(url=url, method="PUT", json={"data": [], "errors": []})
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        result = await pleo.job_items.update(
            JOB_ID, [{"accountingEntryId": str(uuid.uuid4()), "status": "successful"}]
        )
    assert result.errors == []
    assert len(httpx_mock.get_requests()) == 2
    first, second = httpx_mock.get_requests()
    assert first.content == second.content


async def test_get_is_retried_on_read_timeouts_and_disconnects(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """A GET survives a read timeout and a dropped connection."""
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=JOB_URL)
    httpx_mock.add_exception(httpx.RemoteProtocolError("dropped"), url=JOB_URL)
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        await pleo.jobs.get(JOB_ID)
    assert len(httpx_mock.get_requests()) == 3


async def test_exhausted_connect_errors_raise_api_connection_error(httpx_mock: HTTPXMock) -> None:
    """After the last retry a connect failure is an APIConnectionError (not a timeout)."""
    httpx_mock.add_exception(httpx.ConnectError("refused"), is_reusable=True)
    async with PleoExport(api_key="k", base_url=BASE_URL, max_retries=2) as pleo:
        with pytest.raises(APIConnectionError) as caught:
            await pleo.jobs.get(JOB_ID)
    assert not isinstance(caught.value, APITimeoutError)
    assert len(httpx_mock.get_requests()) == 3
    # The count is in the text (it was missing): a wrong count or none fails this.
    assert "connection failed after 3 attempts: ConnectError" in str(caught.value)


async def test_a_single_attempt_is_counted_too(httpx_mock: HTTPXMock) -> None:
    """With retries off the text says one attempt (singular), for timeouts as for refusals."""
    httpx_mock.add_exception(httpx.ReadTimeout("slow"))
    async with PleoExport(api_key="k", base_url=BASE_URL, max_retries=0) as pleo:
        with pytest.raises(APITimeoutError, match="timed out after 1 attempt: ReadTimeout"):
            await pleo.jobs.get(JOB_ID)


def test_negative_max_retries_is_a_typed_argument_error() -> None:
    """A negative ``max_retries`` raises ``InvalidArgumentError`` naming it (a plain ValueError,
    or none, fails this)."""
    with pytest.raises(InvalidArgumentError) as caught:
        RetryPolicy(max_retries=-1)
    assert caught.value.argument == "max_retries"


@pytest.fixture
def own_hook() -> Iterator[list[RetryDetails]]:
    """An application's own stamina hook, installed for the test; stamina's defaults after."""
    seen: list[RetryDetails] = []
    set_on_retry_hooks([seen.append])
    yield seen
    set_on_retry_hooks(None)


async def test_sdk_retries_are_noted_on_pleo_export_not_by_stamina(
    httpx_mock: HTTPXMock, payloads: Payloads, caplog: pytest.LogCaptureFixture
) -> None:
    """With stamina's default hooks, an SDK retry logs its INFO line on ``pleo_export`` and
    nothing on ``stamina``, whose bare ``stamina.retry_scheduled`` would fail this."""
    set_on_retry_hooks(None)
    httpx_mock.add_response(url=JOB_URL, status_code=503)
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    caplog.set_level(logging.DEBUG)
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        await pleo.jobs.get(JOB_ID)
    assert [r.name for r in caplog.records if r.name.startswith("stamina")] == []
    messages = [r.getMessage() for r in caplog.records if r.name == "pleo_export"]
    assert any(m.startswith("retrying GET /v3/export-jobs/") for m in messages), messages


async def test_an_applications_own_hooks_still_see_its_own_retries(
    httpx_mock: HTTPXMock, payloads: Payloads, own_hook: list[RetryDetails]
) -> None:
    """The SDK wraps the hooks it finds: the application's hook is not called for the SDK's
    retry but is for its own ``stamina.retry_context``; replacing hooks globally fails this."""
    httpx_mock.add_response(url=JOB_URL, status_code=503)
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        await pleo.jobs.get(JOB_ID)
    assert own_hook == []

    failures = iter([ValueError("once")])
    async for attempt in stamina.retry_context(on=ValueError, attempts=2, wait_initial=0):
        with attempt:
            if (failure := next(failures, None)) is not None:
                raise failure
    assert [d.name for d in own_hook] == ["<context block>"]


def test_hooks_set_after_the_first_retry_are_wrapped_again(own_hook: list[RetryDetails]) -> None:
    """Routing is checked before each retry loop, so hooks an application sets later are kept
    behind the router instead of silently receiving the SDK's retries."""
    route_retry_notices()
    later: list[RetryDetails] = []
    set_on_retry_hooks([later.append])
    route_retry_notices()
    (router,) = get_on_retry_hooks()
    assert router is not later.append
    assert getattr(router, "others", None) == (later.append,)
