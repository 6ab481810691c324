"""Authentication for Pleo: API keys (HTTP Basic) and OAuth bearer tokens, static or refreshed.

Both are ``httpx.Auth`` flows, so httpx runs them once per attempt: a token callable is asked
again on every retry. Secrets never appear in a repr. Token *acquisition* (the OAuth dance) is
left to the caller's callable.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator

import httpx

from ._errors import InvalidArgumentError
from ._secrets import register

__all__ = ["ApiKeyAuth", "BearerAuth", "TokenSource"]

#: A bearer token, or a sync or async callable returning a fresh one.
TokenSource = str | Callable[[], str] | Callable[[], Awaitable[str]]


class ApiKeyAuth(httpx.Auth):
    """HTTP Basic with the API key as the username and an empty password."""

    def __init__(self, api_key: str) -> None:
        if not api_key:
            raise InvalidArgumentError("api_key", "must not be empty")
        token = base64.b64encode(f"{api_key}:".encode()).decode("ascii")
        self._header = f"Basic {token}"
        register(api_key, token)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Set the Authorization header."""
        request.headers["Authorization"] = self._header
        yield request

    def fingerprint(self) -> str:
        """A SHA-256 of the credential, never the credential: names its shared request budget."""
        return hashlib.sha256(self._header.encode()).hexdigest()

    def __repr__(self) -> str:
        return "ApiKeyAuth(api_key='[secure]')"


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>``, with the token fetched anew for every attempt."""

    def __init__(self, token: TokenSource) -> None:
        if isinstance(token, str):
            if not token:
                raise InvalidArgumentError("bearer_token", "must not be empty")
            register(token)
        self._token = token

    async def _current(self) -> str:
        if isinstance(self._token, str):
            return self._token
        value = self._token()
        if inspect.isawaitable(value):
            value = await value
        if not isinstance(value, str) or not value:
            raise TypeError("the bearer_token callable must return a non-empty string")
        register(value)
        return value

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Set the Authorization header from the current token."""
        request.headers["Authorization"] = f"Bearer {await self._current()}"
        yield request

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Refuse sync use: the SDK is async-only."""
        raise RuntimeError("BearerAuth is for httpx.AsyncClient only")

    def fingerprint(self) -> str | None:
        """A SHA-256 of a static token, never the token: names its shared request budget; None
        for a callable, whose tokens change."""
        if not isinstance(self._token, str):
            return None
        return hashlib.sha256(self._token.encode()).hexdigest()

    def __repr__(self) -> str:
        kind = "str" if isinstance(self._token, str) else "callable"
        return f"BearerAuth(token=<{kind}: [secure]>)"
