"""PleoExport: environments and base URLs, the shared connection pool, a caller's own
``http_client``, headers, API versions, and ``pleo.raw``."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pleo_export_raw.api.export_api_v_1 import get_export_job_by_id_v1, get_export_jobs_list_v1
from pytest_httpx import HTTPXMock

from pleo_export import (
    ExportNotFoundError,
    InvalidArgumentError,
    PleoExport,
    RetryPolicy,
    ServerError,
)
from pleo_export._config import DEFAULT_TIMEOUT, ENVIRONMENTS, USER_AGENT
from pleo_export._resources import ExportJobsV2, ExportJobsV3

if TYPE_CHECKING:
    from .conftest import Payloads

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
JOB_ID = "3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10"


def _recording_client(
    payloads: Payloads, seen: list[httpx.Request], **kwargs: Any
) -> httpx.AsyncClient:
    """A caller-made client whose transport records each request and answers with a job."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": payloads.job(JOB_ID)})

    return httpx.AsyncClient(transport=httpx.MockTransport(handler), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "env", "expected"),
    [
        ({}, {}, "https://external.pleo.io"),
        ({"environment": "production"}, {}, "https://external.pleo.io"),
        ({"environment": "staging"}, {}, "https://external.staging.pleo.io"),
        ({}, {"PLEO_ENVIRONMENT": "staging"}, "https://external.staging.pleo.io"),
        ({}, {"PLEO_BASE_URL": "https://proxy.example/"}, "https://proxy.example"),
        (
            {"environment": "staging"},
            {"PLEO_BASE_URL": "https://x.example"},
            ENVIRONMENTS["staging"],
        ),
        ({"base_url": "https://a.example/"}, {"PLEO_ENVIRONMENT": "staging"}, "https://a.example"),
        ({"base_url": "http://localhost:8000"}, {}, "http://localhost:8000"),
        ({"base_url": "http://127.0.0.1:8000/"}, {}, "http://127.0.0.1:8000"),
        ({"base_url": "http://127.0.0.2:8000"}, {}, "http://127.0.0.2:8000"),
        ({"base_url": "http://[::1]:8000"}, {}, "http://[::1]:8000"),
    ],
)
def test_base_url_resolution(
    monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, str], env: dict[str, str], expected: str
) -> None:
    """Environment names, PLEO_ENVIRONMENT, PLEO_BASE_URL and base_url resolve in that order."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert PleoExport(api_key="k", **kwargs).base_url == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_url": "http://api.example.com"},
        {"base_url": "http://10.0.0.5:8080"},
        {"base_url": "ftp://127.0.0.1"},
        {"base_url": "not a url"},
        {"environment": "sandbox"},
        {"environment": "staging", "base_url": "https://a.example"},
    ],
)
def test_unsafe_or_ambiguous_base_urls_are_refused(kwargs: dict[str, str]) -> None:
    """Plain http to a non-loopback host, other schemes, unknown environments are refused."""
    with pytest.raises(InvalidArgumentError):
        PleoExport(api_key="k", **kwargs)  # type: ignore[arg-type]


def test_plain_http_elsewhere_needs_an_explicit_opt_in() -> None:
    """allow_insecure_http=True permits plain http to another host."""
    pleo = PleoExport(api_key="k", base_url="http://api.internal", allow_insecure_http=True)
    assert pleo.base_url == "http://api.internal"


def test_insecure_http_error_names_the_escape_hatch() -> None:
    """The refusal explains why and how to opt in."""
    with pytest.raises(InvalidArgumentError, match="allow_insecure_http=True") as caught:
        PleoExport(api_key="k", base_url="http://api.example.com")
    assert caught.value.argument == "base_url"


async def test_requests_go_to_the_base_url_with_sdk_headers(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """Requests join base_url and the API path and carry User-Agent, Accept and extra headers."""
    httpx_mock.add_response(
        url=f"{BASE_URL}/prefix/v3/export-jobs/{JOB_ID}", json={"data": payloads.job(JOB_ID)}
    )
    async with PleoExport(
        api_key="k", base_url=f"{BASE_URL}/prefix/", default_headers={"X-Team": "ledger"}
    ) as pleo:
        await pleo.jobs.get(JOB_ID)
    (request,) = httpx_mock.get_requests()
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["accept"] == "application/json"
    assert request.headers["x-team"] == "ledger"
    assert request.extensions["timeout"] == DEFAULT_TIMEOUT.as_dict()


async def test_one_pool_serves_every_resource_and_raw(payloads: Payloads) -> None:
    """jobs, v2.jobs, job_items and a generated endpoint on pleo.raw share one client."""
    seen: list[httpx.Request] = []
    own = _recording_client(payloads, seen)
    async with own, PleoExport(api_key="k", base_url=BASE_URL, http_client=own) as pleo:
        assert pleo.http_client is own
        await pleo.jobs.get(JOB_ID)
        await pleo.v2.jobs.get(JOB_ID)
        await get_export_job_by_id_v1.asyncio(uuid.UUID(JOB_ID), client=pleo.raw)
    assert [r.url.path.split("/")[1] for r in seen] == ["v3", "v2", "v1"]


async def test_owned_pool_is_shared_by_resources_and_raw(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """With no http_client given, the SDK's own client sends for resources and raw alike:
    counted by a request event hook on that client (httpx's public hooks), so a resource or
    pleo.raw sending through another client fails this."""
    httpx_mock.add_response(json={"data": payloads.job(JOB_ID)}, is_reusable=True)
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        pool = pleo.http_client
        sent: list[str] = []

        async def record(request: httpx.Request) -> None:
            sent.append(request.url.path.split("/")[1])

        pool.event_hooks = {**pool.event_hooks, "request": [*pool.event_hooks["request"], record]}
        await pleo.jobs.get(JOB_ID)
        await pleo.v2.jobs.get(JOB_ID)
        await get_export_job_by_id_v1.asyncio(uuid.UUID(JOB_ID), client=pleo.raw)
    assert sent == ["v3", "v2", "v1"]
    assert len(httpx_mock.get_requests()) == 3
    assert pool.is_closed


async def test_raw_requests_carry_sdk_headers_auth_and_timeout(payloads: Payloads) -> None:
    """pleo.raw requests get the SDK's User-Agent, default headers, auth and timeout."""
    seen: list[httpx.Request] = []
    own = _recording_client(payloads, seen, headers={"X-Client": "mine"})
    async with (
        own,
        PleoExport(
            api_key="k", base_url=BASE_URL, http_client=own, default_headers={"X-Extra": "1"}
        ) as pleo,
    ):
        await pleo.jobs.get(JOB_ID)
        await get_export_job_by_id_v1.asyncio(uuid.UUID(JOB_ID), client=pleo.raw)
    facade, raw = seen
    for name in ("user-agent", "authorization", "x-extra", "x-client", "accept"):
        assert raw.headers.get(name) == facade.headers.get(name), name
    assert raw.extensions["timeout"] == facade.extensions["timeout"] == DEFAULT_TIMEOUT.as_dict()


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, {"type": "EXPORT_NOT_FOUND", "message": "no such job"}, ExportNotFoundError),
        (500, {"message": "boom"}, ServerError),
        (502, "<html><body>Bad gateway</body></html>", ServerError),
    ],
)
async def test_raw_default_only_endpoint_raises_typed_errors(
    httpx_mock: HTTPXMock, status: int, body: Any, error: type[Exception]
) -> None:
    """A v1 operation (``default`` response only) turns an error status into the typed error."""
    kwargs: dict[str, Any] = {"json": body} if isinstance(body, dict) else {"text": body}
    httpx_mock.add_response(status_code=status, is_reusable=True, **kwargs)
    async with PleoExport(api_key="k", base_url=BASE_URL, retry=RetryPolicy(max_retries=0)) as pleo:
        with pytest.raises(error) as caught:
            await get_export_job_by_id_v1.asyncio(uuid.UUID(JOB_ID), client=pleo.raw)
    assert caught.value.path == f"/v1/export-jobs/{JOB_ID}"  # type: ignore[attr-defined]


async def test_raw_success_parses_with_the_generated_model(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """A 2xx through pleo.raw is parsed by the generated client as usual."""
    httpx_mock.add_response(json=payloads.page([payloads.job(JOB_ID)]))
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        result = await get_export_jobs_list_v1.asyncio(client=pleo.raw, limit=5)
    assert result is not None
    assert str(result.data[0].id) == JOB_ID
    assert httpx_mock.get_requests()[0].url.params["limit"] == "5"


async def test_raw_retries_like_the_facade(httpx_mock: HTTPXMock, payloads: Payloads) -> None:
    """A 503 on a raw GET is retried on the shared seam."""
    httpx_mock.add_response(status_code=503)
    httpx_mock.add_response(json={"data": payloads.job(JOB_ID)})
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        job = await get_export_job_by_id_v1.asyncio(uuid.UUID(JOB_ID), client=pleo.raw)
    assert job is not None
    assert len(httpx_mock.get_requests()) == 2


async def test_caller_client_with_httpx_defaults_gets_sdk_timeout_and_user_agent(
    payloads: Payloads,
) -> None:
    """A caller's client left at httpx's defaults gets the SDK's timeout and User-Agent."""
    seen: list[httpx.Request] = []
    own = _recording_client(payloads, seen)
    async with own, PleoExport(api_key="k", base_url=BASE_URL, http_client=own) as pleo:
        await pleo.jobs.get(JOB_ID)
    assert seen[0].headers["user-agent"] == USER_AGENT
    assert seen[0].extensions["timeout"] == DEFAULT_TIMEOUT.as_dict()


async def test_caller_client_settings_are_kept(payloads: Payloads) -> None:
    """A caller's own timeout and User-Agent are not overridden."""
    seen: list[httpx.Request] = []
    own = _recording_client(payloads, seen, timeout=3.0, headers={"User-Agent": "ledger-sync/2"})
    async with own, PleoExport(api_key="k", base_url=BASE_URL, http_client=own) as pleo:
        await pleo.jobs.get(JOB_ID)
    assert seen[0].headers["user-agent"] == "ledger-sync/2"
    assert seen[0].extensions["timeout"] == httpx.Timeout(3.0).as_dict()


async def test_explicit_timeout_wins_over_the_callers_client(payloads: Payloads) -> None:
    """timeout= applies to each request, a float as read/write/pool with a 5 s connect."""
    seen: list[httpx.Request] = []
    own = _recording_client(payloads, seen, timeout=3.0)
    async with (
        own,
        PleoExport(api_key="k", base_url=BASE_URL, http_client=own, timeout=20.0) as pleo,
    ):
        await pleo.jobs.get(JOB_ID)
    assert seen[0].extensions["timeout"] == httpx.Timeout(20.0, connect=5.0).as_dict()


async def test_aclose_leaves_the_callers_client_open(payloads: Payloads) -> None:
    """aclose() (and async with) close only a pool the SDK created."""
    own = _recording_client(payloads, [])
    async with PleoExport(api_key="k", base_url=BASE_URL, http_client=own) as pleo:
        _ = pleo.raw
    assert not own.is_closed
    await own.aclose()
    owned = PleoExport(api_key="k", base_url=BASE_URL)
    await owned.aclose()
    assert owned.http_client.is_closed


@pytest.mark.parametrize(
    ("version", "jobs_class", "prefix"),
    [("v3", ExportJobsV3, "/v3/"), ("v2", ExportJobsV2, "/v2/")],
)
async def test_api_version_selects_the_default_resources(
    httpx_mock: HTTPXMock, payloads: Payloads, version: str, jobs_class: type, prefix: str
) -> None:
    """api_version picks v3 or v2 for jobs/job_items/export_items, the same objects as in the
    .v3 or .v2 namespace; .v2 is always v2 and .v3 always v3."""
    httpx_mock.add_response(json={"data": payloads.job(JOB_ID)})
    async with PleoExport(api_key="k", base_url=BASE_URL, api_version=version) as pleo:  # type: ignore[arg-type]
        assert isinstance(pleo.jobs, jobs_class)
        assert isinstance(pleo.v2.jobs, ExportJobsV2)
        assert isinstance(pleo.v3.jobs, ExportJobsV3)
        namespace = pleo.v3 if version == "v3" else pleo.v2
        assert (pleo.jobs, pleo.job_items, pleo.export_items) == (
            namespace.jobs,
            namespace.job_items,
            namespace.export_items,
        )
        await pleo.jobs.get(JOB_ID)
    assert httpx_mock.get_requests()[0].url.path.startswith(prefix)


def test_unknown_api_version_is_refused() -> None:
    """api_version must be "v3" or "v2"."""
    with pytest.raises(InvalidArgumentError, match="api_version"):
        PleoExport(api_key="k", api_version="v4")  # type: ignore[arg-type]


def test_max_retries_and_retry_are_exclusive() -> None:
    """Giving both max_retries and a RetryPolicy is an argument error."""
    with pytest.raises(InvalidArgumentError, match="max_retries"):
        PleoExport(api_key="k", max_retries=1, retry=RetryPolicy())


async def test_max_retries_shorthand(httpx_mock: HTTPXMock) -> None:
    """max_retries=1 allows exactly two attempts."""
    httpx_mock.add_response(status_code=503, is_reusable=True)
    async with PleoExport(api_key="k", base_url=BASE_URL, max_retries=1) as pleo:
        with pytest.raises(ServerError):
            await pleo.jobs.get(JOB_ID)
    assert len(httpx_mock.get_requests()) == 2


def test_negative_max_retries_is_refused() -> None:
    """A RetryPolicy cannot have a negative retry count."""
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


async def test_clients_share_one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients the SDK builds reuse one TLS context instead of loading the CA bundle each time;
    building one per client (the ~50 ms httpx spends) fails this."""
    from pleo_export import _settings

    built: list[object] = []
    create = httpx.create_ssl_context

    def counting() -> object:
        built.append(create())
        return built[-1]

    _settings.ssl_context.cache_clear()
    monkeypatch.setattr(httpx, "create_ssl_context", counting)
    try:
        for _ in range(3):
            async with PleoExport(api_key="k", base_url="https://pleo.example"):
                pass
    finally:
        _settings.ssl_context.cache_clear()
    assert len(built) == 1
