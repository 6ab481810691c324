"""The seam's own pieces outside the send loop (retries, budget, deadlines and hooks have their
own test files): ``RawTransport``, which routes the generated client through the seam, and
``endpoint_kwargs``."""

from __future__ import annotations

import json

import httpx
import pytest
from pleo_export_raw.api.export_api_v_1 import get_export_jobs_list_v1
from pytest_httpx import HTTPXMock

from pleo_export import PleoExport, ResponseValidationError
from pleo_export._wire import endpoint_kwargs
from pleo_export._wire._seam import RawTransport

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
JOB_URL = f"{BASE_URL}/v3/export-jobs/3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10"


async def test_raw_transport_refuses_an_undocumented_2xx_status(httpx_mock: HTTPXMock) -> None:
    """A 2xx status outside HTTPStatus (e.g. 299) cannot reach the generated parser."""
    httpx_mock.add_response(status_code=299, json={})
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        transport = RawTransport(pleo._seam)
        with pytest.raises(ResponseValidationError, match="undocumented status 299"):
            await transport.handle_async_request(httpx.Request("GET", JOB_URL))


async def test_raw_transport_returns_a_decoded_copy(httpx_mock: HTTPXMock) -> None:
    """The response handed to the generated client has no stale encoding headers."""
    httpx_mock.add_response(json={"ok": True}, headers={"Content-Encoding": "identity"})
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        transport = RawTransport(pleo._seam)
        response = await transport.handle_async_request(httpx.Request("GET", JOB_URL))
    assert "content-encoding" not in response.headers
    assert json.loads(await response.aread()) == {"ok": True}


def test_endpoint_kwargs_is_the_generated_request_description() -> None:
    """endpoint_kwargs returns what the generated builder makes of the arguments."""
    kwargs = endpoint_kwargs(get_export_jobs_list_v1, limit=3)
    assert kwargs["url"] == "/v1/export-jobs"
    assert kwargs["params"] == {"limit": 3}
