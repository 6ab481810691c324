"""The fake requires an API key over HTTP Basic or a bearer token, both changeable at runtime."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest

from pleo_export.testing import FakePleo

_JOB = "66666666-6666-4666-8666-666666666666"
_ROUTES = [
    ("GET", "/v2/export-jobs"),
    ("GET", "/v3/export-jobs"),
    ("POST", "/v3/export-jobs"),
    ("GET", f"/v2/export-jobs/{_JOB}"),
    ("GET", f"/v3/export-jobs/{_JOB}/items"),
    ("PUT", f"/v2/export-jobs/{_JOB}/items"),
    ("POST", "/v3/export-job-events"),
    ("GET", "/v3/export-items"),
    ("GET", "/v3/export-job-items"),
    ("POST", "/v3/export-job-items:search"),
]


def _basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
async def anonymous(
    fake_pleo_transport: httpx.AsyncBaseTransport,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no credentials of its own."""
    async with httpx.AsyncClient(transport=fake_pleo_transport, base_url="http://pleo") as http:
        yield http


@pytest.mark.parametrize(("method", "path"), _ROUTES)
async def test_missing_credentials_are_401_on_every_operation(
    anonymous: httpx.AsyncClient, method: str, path: str
) -> None:
    """Every operation answers 401 with an ExceptionInfo body when no credentials are sent."""
    response = await anonymous.request(method, path)
    assert response.status_code == 401
    assert response.json()["type"] == "UNAUTHORIZED"
    assert "Bearer" in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "authorization",
    [
        _basic("wrong-key"),
        _basic("pleo-test-key", "a-password"),
        "Basic pleo-test-key",
        "Basic " + base64.b64encode(b"pleo-test-key").decode(),
        "Bearer wrong-token",
        "Bearer ",
        "Token pleo-test-token",
        "pleo-test-key",
    ],
)
async def test_wrong_credentials_are_401(anonymous: httpx.AsyncClient, authorization: str) -> None:
    """A wrong key, a non-empty password, a raw key, a wrong token or scheme all answer 401."""
    response = await anonymous.get("/v3/export-jobs", headers={"authorization": authorization})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "authorization", [_basic("pleo-test-key"), "Bearer pleo-test-token", "bearer pleo-test-token"]
)
async def test_default_credentials_are_accepted(
    anonymous: httpx.AsyncClient, authorization: str
) -> None:
    """The default API key (Basic, empty password) and bearer token are accepted."""
    response = await anonymous.get("/v3/export-jobs", headers={"authorization": authorization})
    assert response.status_code == 200


async def test_authentication_comes_before_lookup(anonymous: httpx.AsyncClient) -> None:
    """An unknown job answers 401, not 404, to a caller without credentials."""
    assert (await anonymous.get(f"/v3/export-jobs/{_JOB}")).status_code == 401


async def test_tokens_rotate_at_runtime(anonymous: httpx.AsyncClient, fake_pleo: FakePleo) -> None:
    """After rotate_token the old token is refused and the new one accepted, as on OAuth refresh."""
    fake_pleo.credentials.rotate_token("pleo-test-token", "refreshed")
    old = await anonymous.get(
        "/v3/export-jobs", headers={"authorization": "Bearer pleo-test-token"}
    )
    new = await anonymous.get("/v3/export-jobs", headers={"authorization": "Bearer refreshed"})
    assert (old.status_code, new.status_code) == (401, 200)
    fake_pleo.credentials.revoke_token("refreshed")
    again = await anonymous.get("/v3/export-jobs", headers={"authorization": "Bearer refreshed"})
    assert again.status_code == 401


async def test_api_keys_can_be_added_and_revoked(
    anonymous: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """API keys are added and revoked while the fake runs."""
    fake_pleo.credentials.add_api_key("second-key")
    assert (await anonymous.get("/v2/export-jobs", auth=("second-key", ""))).status_code == 200
    fake_pleo.credentials.revoke_api_key("second-key")
    assert (await anonymous.get("/v2/export-jobs", auth=("second-key", ""))).status_code == 401


async def test_configured_credentials_replace_the_defaults() -> None:
    """Credentials given to FakePleo replace the defaults."""
    fake = FakePleo(api_keys=["k1"], bearer_tokens=["t1"])
    async with httpx.AsyncClient(transport=fake.transport(), base_url="http://pleo") as http:
        assert (await http.get("/v3/export-jobs", auth=("k1", ""))).status_code == 200
        assert (await http.get("/v3/export-jobs", auth=("pleo-test-key", ""))).status_code == 401
        bearer = {"authorization": "Bearer t1"}
        assert (await http.get("/v3/export-jobs", headers=bearer)).status_code == 200


def test_credentials_repr_hides_secrets(fake_pleo: FakePleo) -> None:
    """The credentials' repr counts keys and tokens without showing them."""
    text = repr(fake_pleo.credentials)
    assert "pleo-test" not in text
    assert "api_keys=1" in text
