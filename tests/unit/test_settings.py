"""_settings: PleoExport's arguments and the environment become settings, without a client.

The client-level behaviour (what reaches the wire) is tests/unit/test_client.py's; these pin the
pure resolution functions the client calls.
"""

from __future__ import annotations

import httpx
import pytest

from pleo_export import ApiKeyAuth, BearerAuth, InvalidArgumentError, PleoError, RetryPolicy
from pleo_export._config import DEFAULT_TIMEOUT, USER_AGENT
from pleo_export._settings import (
    is_loopback,
    resolve_auth,
    resolve_headers,
    resolve_retry,
    resolve_timeout,
)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("[::1]", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("external.pleo.io", False),
        ("127.0.0.1.example", False),
    ],
)
def test_loopback_is_this_machine_only(host: str, loopback: bool) -> None:
    """Loopback names and all of 127.0.0.0/8 and ::1 count as this machine, nothing else does;
    fails if a lookalike name or a private address were let through for plain http."""
    assert is_loopback(host) is loopback


def test_auth_prefers_the_argument_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """An argument wins over PLEO_API_KEY, which wins over PLEO_BEARER_TOKEN; with neither and
    no client of the caller's it is an error; fails if the order of the sources changed."""
    monkeypatch.setenv("PLEO_API_KEY", "env-key")
    monkeypatch.setenv("PLEO_BEARER_TOKEN", "env-token")
    assert isinstance(resolve_auth(None, "token", None, has_client=False), BearerAuth)
    assert isinstance(resolve_auth(None, None, None, has_client=False), ApiKeyAuth)
    monkeypatch.delenv("PLEO_API_KEY")
    assert isinstance(resolve_auth(None, None, None, has_client=False), BearerAuth)
    monkeypatch.delenv("PLEO_BEARER_TOKEN")
    assert resolve_auth(None, None, None, has_client=True) is None
    with pytest.raises(PleoError, match="no credentials"):
        resolve_auth(None, None, None, has_client=False)
    with pytest.raises(InvalidArgumentError, match="give only one"):
        resolve_auth("k", "t", None, has_client=False)


def test_timeout_retry_and_headers_defaults() -> None:
    """A bare number is read/write/pool with 5 s to connect; a caller's non-default timeout is
    kept (None); max_retries builds the default policy; a caller's User-Agent is kept; fails if
    any default moved."""
    assert resolve_timeout(3.0, None) == httpx.Timeout(3.0, connect=5.0)
    assert resolve_timeout(None, None) == DEFAULT_TIMEOUT
    assert resolve_timeout(None, httpx.AsyncClient(timeout=9.0)) is None
    assert resolve_timeout(None, httpx.AsyncClient()) == DEFAULT_TIMEOUT
    assert resolve_retry(2, None) == RetryPolicy(max_retries=2)
    with pytest.raises(InvalidArgumentError, match="either max_retries or retry"):
        resolve_retry(2, RetryPolicy())
    assert resolve_headers({"X-A": "1"}, None) == {
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
        "X-A": "1",
    }
    mine = httpx.AsyncClient(headers={"User-Agent": "ledger/2"})
    assert "User-Agent" not in resolve_headers(None, mine)
    assert resolve_headers(None, httpx.AsyncClient())["User-Agent"] == USER_AGENT
