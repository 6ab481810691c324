"""Turning ``PleoExport``'s arguments and the environment into settings: credentials, the base
URL (plain http only to this machine), the per-request timeout, the retry policy, the headers and
the TLS context.

Pure resolution, no I/O beyond reading the environment: the client builds its seam and pools
from what these return. The default numbers live in ``_config``.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import ssl
from collections.abc import Mapping

import httpx

from ._auth import ApiKeyAuth, BearerAuth, TokenSource
from ._config import (
    API_KEY_ENV,
    BASE_URL_ENV,
    BEARER_TOKEN_ENV,
    CONNECT_TIMEOUT,
    DEFAULT_LIMITS,
    DEFAULT_TIMEOUT,
    ENVIRONMENT_ENV,
    ENVIRONMENTS,
    LOOPBACK_HOSTS,
    USER_AGENT,
)
from ._errors import InvalidArgumentError, PleoError
from ._retry import RetryPolicy

__all__ = [
    "is_loopback",
    "new_pool",
    "resolve_auth",
    "resolve_base_url",
    "resolve_headers",
    "resolve_retry",
    "resolve_timeout",
    "ssl_context",
]

#: httpx's own default timeout: a caller's client still on it gets ours.
_HTTPX_DEFAULT_TIMEOUT = httpx.Timeout(5.0)


def resolve_auth(
    api_key: str | None,
    bearer_token: TokenSource | None,
    auth: httpx.Auth | None,
    *,
    has_client: bool,
) -> httpx.Auth | None:
    """The one credential given (or found in ``PLEO_API_KEY`` / ``PLEO_BEARER_TOKEN``).

    None only when the caller's own ``http_client`` authenticates.

    Raises:
        InvalidArgumentError: more than one of the three is given.
        PleoError: none is given or found, and no client of the caller's.
    """
    given = [
        name
        for name, value in (("api_key", api_key), ("bearer_token", bearer_token), ("auth", auth))
        if value is not None
    ]
    if len(given) > 1:
        raise InvalidArgumentError(
            given[1], f"give only one of api_key, bearer_token, auth (got {', '.join(given)})"
        )
    if auth is not None:
        return auth
    if api_key is not None:
        return ApiKeyAuth(api_key)
    if bearer_token is not None:
        return BearerAuth(bearer_token)
    if env_key := os.environ.get(API_KEY_ENV):
        return ApiKeyAuth(env_key)
    if env_token := os.environ.get(BEARER_TOKEN_ENV):
        return BearerAuth(env_token)
    if has_client:
        return None  # the caller's http_client authenticates
    raise PleoError(
        f"no credentials: pass api_key=, bearer_token= or auth=, or set {API_KEY_ENV} "
        f"or {BEARER_TOKEN_ENV}"
    )


def resolve_base_url(environment: str | None, base_url: str | None, allow_insecure: bool) -> str:
    """The API's base URL, without a trailing slash: ``base_url``, else ``PLEO_BASE_URL``, else
    the environment's (``environment``, else ``PLEO_ENVIRONMENT``, else production).

    Raises:
        InvalidArgumentError: both given, an unknown environment, a URL that is not http(s), or
            plain http to another machine without ``allow_insecure``.
    """
    if base_url is not None and environment is not None:
        raise InvalidArgumentError("base_url", "give either base_url or environment, not both")
    url = base_url or (None if environment else os.environ.get(BASE_URL_ENV))
    if url is None:
        name = environment or os.environ.get(ENVIRONMENT_ENV) or "production"
        if name not in ENVIRONMENTS:
            raise InvalidArgumentError(
                "environment", f"unknown {name!r}; expected one of {', '.join(ENVIRONMENTS)}"
            )
        return ENVIRONMENTS[name]
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidArgumentError("base_url", f"not an http(s) URL: {url!r}")
    if parsed.scheme == "http" and not is_loopback(parsed.host) and not allow_insecure:
        raise InvalidArgumentError(
            "base_url",
            f"plain http to {parsed.host} would send credentials in clear text; use https, "
            "or pass allow_insecure_http=True",
        )
    return url.rstrip("/")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine: a loopback name or any 127.0.0.0/8 or ::1 address."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_timeout(
    timeout: httpx.Timeout | float | None, http_client: httpx.AsyncClient | None
) -> httpx.Timeout | None:
    """The per-request timeout; None keeps a caller's client's own non-default timeout."""
    if timeout is not None:
        return (
            timeout
            if isinstance(timeout, httpx.Timeout)
            else httpx.Timeout(timeout, connect=CONNECT_TIMEOUT)
        )
    if http_client is not None and http_client.timeout != _HTTPX_DEFAULT_TIMEOUT:
        return None
    return DEFAULT_TIMEOUT


def resolve_retry(max_retries: int | None, retry: RetryPolicy | None) -> RetryPolicy:
    """The retry policy: ``retry``, or the default one with ``max_retries``.

    Raises:
        InvalidArgumentError: both are given.
    """
    if retry is None:
        return RetryPolicy() if max_retries is None else RetryPolicy(max_retries=max_retries)
    if max_retries is not None:
        raise InvalidArgumentError("max_retries", "give either max_retries or retry, not both")
    return retry


def resolve_headers(
    default_headers: Mapping[str, str] | None, http_client: httpx.AsyncClient | None
) -> dict[str, str]:
    """The headers of every request: our User-Agent (unless the caller's client sets its own),
    JSON, then the caller's ``default_headers``."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(default_headers or {})}
    if http_client is not None:
        agent = http_client.headers.get("user-agent")
        if agent is not None and not agent.startswith("python-httpx/"):
            headers.pop("User-Agent")  # the caller chose one
    return headers


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's CA bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``),
    built once per process: loading the bundle takes ~50 ms, which every ``PleoExport()`` paid.
    The environment is read when the first client is made."""
    return httpx.create_ssl_context()


def new_pool() -> httpx.AsyncClient:
    """The SDK's own connection pool, for a client given no ``http_client``: ``DEFAULT_LIMITS``,
    ``DEFAULT_TIMEOUT`` and the TLS context above."""
    return httpx.AsyncClient(limits=DEFAULT_LIMITS, timeout=DEFAULT_TIMEOUT, verify=ssl_context())
