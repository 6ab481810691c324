"""``with_options``: a view with its own timeout, retries and headers on the same pool, auth and
hooks, leaving the client it came from unchanged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from pleo_export import InvalidArgumentError, PleoExport, ServerError

if TYPE_CHECKING:
    from .conftest import Payloads

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
API_KEY = "sk-unit-test-0123456789abcdef"
JOB_ID = "3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10"
JOB_URL = f"{BASE_URL}/v3/export-jobs/{JOB_ID}"


async def test_view_has_its_own_settings_on_the_shared_pool(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """The view's requests carry its timeout and extra header, the parent's do not, and both
    use one pool and the same auth; fails if the view opened a pool or leaked its settings."""
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)}, is_reusable=True)
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:
        view = pleo.with_options(timeout=300, headers={"X-Trace-Me": "yes"})
        assert view.http_client is pleo.http_client
        assert view.files is pleo.files  # one file pool, closed with the parent
        assert view.observer is pleo.observer
        assert view.v3._coordinator is pleo.v3._coordinator  # one in-memory journal
        await view.jobs.get(JOB_ID)
        await pleo.jobs.get(JOB_ID)
        assert view._seam.deadlines.seconds == 600  # twice the view's read timeout
        assert pleo._seam.deadlines.seconds == 120
    slow, normal = httpx_mock.get_requests()
    assert slow.extensions["timeout"]["read"] == 300
    assert normal.extensions["timeout"]["read"] == 60
    assert slow.headers["x-trace-me"] == "yes"
    assert "x-trace-me" not in normal.headers
    assert slow.headers["authorization"] == normal.headers["authorization"]


async def test_view_max_retries_zero_does_not_retry(httpx_mock: HTTPXMock) -> None:
    """``max_retries=0`` on the view makes one attempt while the parent still retries; fails if
    the per-call policy were ignored or changed the client's."""
    httpx_mock.add_response(url=JOB_URL, status_code=503, is_reusable=True)
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL, max_retries=2) as pleo:
        with pytest.raises(ServerError):
            await pleo.with_options(max_retries=0).jobs.get(JOB_ID)
        assert len(httpx_mock.get_requests()) == 1
        with pytest.raises(ServerError):
            await pleo.jobs.get(JOB_ID)
        assert len(httpx_mock.get_requests()) == 4


async def test_view_shares_hooks_and_closing_it_keeps_the_pool(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """The parent's hooks see the view's calls, and closing the view leaves the parent usable;
    fails if a view copied the observer or closed the shared pool."""
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)}, is_reusable=True)
    seen: list[Any] = []
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL, on_request=seen.append) as pleo:
        async with pleo.with_options(timeout=5) as view:
            await view.jobs.get(JOB_ID)
        assert not pleo.http_client.is_closed
        await pleo.jobs.get(JOB_ID)
    assert len(seen) == 2


async def test_view_header_replaces_case_insensitively(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """A view's ``user-agent`` replaces the SDK's ``User-Agent`` instead of sending both; fails
    if headers were merged by exact spelling."""
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:
        await pleo.with_options(headers={"user-agent": "mine/1"}).jobs.get(JOB_ID)
    assert httpx_mock.get_requests()[0].headers.get_list("user-agent") == ["mine/1"]


@pytest.mark.parametrize(
    "options",
    [
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"timeout": 0},
        {"timeout": "3"},
        {"headers": {"a": 1}},
    ],
)
async def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    """Bad per-call settings raise InvalidArgumentError before any request; fails if they were
    accepted and broke requests later."""
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:
        with pytest.raises(InvalidArgumentError):
            pleo.with_options(**options)


async def test_a_timeout_object_is_used_as_given(httpx_mock: HTTPXMock, payloads: Payloads) -> None:
    """An ``httpx.Timeout`` passes through unchanged; fails if it were rebuilt with defaults."""
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as pleo:
        await pleo.with_options(timeout=httpx.Timeout(7, connect=1)).jobs.get(JOB_ID)
    sent = httpx_mock.get_requests()[0].extensions["timeout"]
    assert (sent["read"], sent["connect"]) == (7, 1)
