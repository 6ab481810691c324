"""Authentication: the exact headers of both schemes, token callables per attempt, environment
fallbacks, and secrets kept out of reprs."""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING

import httpx
import pytest
from pytest_httpx import HTTPXMock

from pleo_export import (
    ApiKeyAuth,
    BearerAuth,
    InvalidArgumentError,
    PleoError,
    PleoExport,
    RetryPolicy,
)

if TYPE_CHECKING:
    from .conftest import Payloads

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
JOB_ID = "3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10"
JOB_URL = f"{BASE_URL}/v3/export-jobs/{JOB_ID}"


def _authorization(httpx_mock: HTTPXMock) -> list[str | None]:
    return [request.headers.get("authorization") for request in httpx_mock.get_requests()]


async def test_api_key_is_basic_with_the_key_as_username_and_empty_password(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """An API key is sent as ``Basic base64("key:")``."""
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    async with PleoExport(api_key="my-key", base_url=BASE_URL) as pleo:
        await pleo.jobs.get(JOB_ID)
    expected = "Basic " + base64.b64encode(b"my-key:").decode()
    assert _authorization(httpx_mock) == [expected]
    assert expected == "Basic bXkta2V5Og=="


async def test_static_bearer_token_is_sent_as_bearer(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """A string bearer token is sent as ``Bearer <token>``."""
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    async with PleoExport(bearer_token="tok-123", base_url=BASE_URL) as pleo:
        await pleo.jobs.get(JOB_ID)
    assert _authorization(httpx_mock) == ["Bearer tok-123"]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_bearer_callable_is_called_again_for_each_retry(
    httpx_mock: HTTPXMock, payloads: Payloads, kind: str
) -> None:
    """A token callable, sync or async, supplies a fresh token to every attempt."""
    sent: list[str | None] = []
    for status in (503, 503, 200):

        def answer(request: httpx.Request, status: int = status) -> httpx.Response:
            sent.append(request.headers.get("authorization"))  # as it is at sending time
            return httpx.Response(status, json={"data": payloads.job(JOB_ID)})

        httpx_mock.add_callback(answer, url=JOB_URL)
    issued: list[str] = []

    def mint() -> str:
        issued.append(f"token-{len(issued) + 1}")
        return issued[-1]

    async def mint_async() -> str:
        return mint()

    source = mint if kind == "sync" else mint_async
    async with PleoExport(bearer_token=source, base_url=BASE_URL) as pleo:
        await pleo.jobs.get(JOB_ID)
    assert sent == ["Bearer token-1", "Bearer token-2", "Bearer token-3"]


@pytest.mark.parametrize("bad", ["", None, 42])
async def test_bearer_callable_returning_no_token_fails_before_sending(
    httpx_mock: HTTPXMock, bad: object
) -> None:
    """A token callable that returns an empty or non-string value is refused, nothing sent."""
    async with PleoExport(bearer_token=lambda: bad, base_url=BASE_URL) as pleo:  # type: ignore[arg-type,return-value]
        with pytest.raises(TypeError, match="non-empty string"):
            await pleo.jobs.get(JOB_ID)
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PLEO_API_KEY": "env-key"}, "Basic " + base64.b64encode(b"env-key:").decode()),
        ({"PLEO_BEARER_TOKEN": "env-token"}, "Bearer env-token"),
        (
            {"PLEO_API_KEY": "env-key", "PLEO_BEARER_TOKEN": "env-token"},
            "Basic " + base64.b64encode(b"env-key:").decode(),
        ),
    ],
)
async def test_credentials_fall_back_to_environment_variables(
    httpx_mock: HTTPXMock,
    payloads: Payloads,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    expected: str,
) -> None:
    """PLEO_API_KEY, then PLEO_BEARER_TOKEN, are used when no credential is passed."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    async with PleoExport(base_url=BASE_URL) as pleo:
        await pleo.jobs.get(JOB_ID)
    assert _authorization(httpx_mock) == [expected]


async def test_explicit_credentials_win_over_the_environment(
    httpx_mock: HTTPXMock, payloads: Payloads, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An argument is preferred to PLEO_API_KEY."""
    monkeypatch.setenv("PLEO_API_KEY", "env-key")
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    async with PleoExport(bearer_token="arg-token", base_url=BASE_URL) as pleo:
        await pleo.jobs.get(JOB_ID)
    assert _authorization(httpx_mock) == ["Bearer arg-token"]


def test_missing_credentials_name_both_variables() -> None:
    """With no credential anywhere the error says how to provide one."""
    with pytest.raises(PleoError, match="PLEO_API_KEY") as caught:
        PleoExport(base_url=BASE_URL)
    assert "PLEO_BEARER_TOKEN" in str(caught.value)


def test_two_credentials_are_refused() -> None:
    """Passing more than one of api_key, bearer_token and auth is an argument error."""
    with pytest.raises(InvalidArgumentError) as caught:
        PleoExport(api_key="k", bearer_token="t", base_url=BASE_URL)
    assert caught.value.argument == "bearer_token"
    assert "k" not in str(caught.value).replace("bearer_token", "").replace("api_key", "")


@pytest.mark.parametrize("kwargs", [{"api_key": ""}, {"bearer_token": ""}])
def test_empty_credentials_are_argument_errors(kwargs: dict[str, str]) -> None:
    """An empty key or token is an InvalidArgumentError (also a ValueError)."""
    with pytest.raises(InvalidArgumentError):
        PleoExport(base_url=BASE_URL, **kwargs)  # type: ignore[arg-type]


async def test_custom_httpx_auth_is_used(httpx_mock: HTTPXMock, payloads: Payloads) -> None:
    """Any ``httpx.Auth`` given as ``auth=`` signs the requests."""
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)})
    async with PleoExport(auth=httpx.BasicAuth("user", "pass"), base_url=BASE_URL) as pleo:
        await pleo.jobs.get(JOB_ID)
    assert _authorization(httpx_mock) == ["Basic " + base64.b64encode(b"user:pass").decode()]


async def test_http_client_without_credentials_keeps_its_own_auth(payloads: Payloads) -> None:
    """With no SDK credential, a caller's client authenticates with its own ``auth``."""
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json={"data": payloads.job(JOB_ID)})

    own = httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=("a", "b"))
    async with own, PleoExport(http_client=own, base_url=BASE_URL) as pleo:
        await pleo.jobs.get(JOB_ID)
    assert seen == ["Basic " + base64.b64encode(b"a:b").decode()]


def test_reprs_mask_secrets() -> None:
    """Neither auth objects nor the client show the key or token in their repr."""
    key, token = "sk-live-SECRET-KEY", "SECRET-BEARER-TOKEN"
    encoded = base64.b64encode(f"{key}:".encode()).decode()
    texts = [
        repr(ApiKeyAuth(key)),
        repr(BearerAuth(token)),
        repr(BearerAuth(lambda: token)),
        repr(PleoExport(api_key=key, base_url=BASE_URL)),
        repr(PleoExport(bearer_token=token, base_url=BASE_URL)),
        str(PleoExport(api_key=key, base_url=BASE_URL)),
    ]
    for text in texts:
        assert key not in text
        assert token not in text
        assert encoded not in text
        assert "[secure]" in text


def test_bearer_auth_refuses_sync_clients() -> None:
    """BearerAuth is async-only and says so on a sync client."""
    with (
        httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as client,
        pytest.raises(RuntimeError, match="AsyncClient"),
    ):
        client.get("http://127.0.0.1:9/", auth=BearerAuth("t"))


def test_api_key_auth_also_works_on_sync_clients() -> None:
    """ApiKeyAuth is a plain httpx flow, usable with a sync client too."""
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        client.get("http://127.0.0.1:9/", auth=ApiKeyAuth("k"))
    assert seen == ["Basic " + base64.b64encode(b"k:").decode()]


async def test_retry_policy_is_independent_of_auth(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """With retries off a token callable is asked exactly once."""
    httpx_mock.add_response(url=JOB_URL, status_code=503)
    calls: list[int] = []

    def mint() -> str:
        calls.append(1)
        return f"t{uuid.uuid4().hex}"

    async with PleoExport(
        bearer_token=mint, base_url=BASE_URL, retry=RetryPolicy(max_retries=0)
    ) as pleo:
        with pytest.raises(PleoError):
            await pleo.jobs.get(JOB_ID)
    assert calls == [1]
