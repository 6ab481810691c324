"""The credentials the fake accepts: API keys (Basic, key as user, no password) and bearer tokens.

Both sets change at runtime, so a test can rotate an OAuth access token under a running client.
Credentials never appear in reprs or error bodies.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Iterable

__all__ = ["Credentials"]


class Credentials:
    """The API keys and bearer tokens one fake accepts; thread-safe and changeable at runtime.

    Args:
        api_keys: Keys accepted as the Basic-auth user name (the password must be empty).
        bearer_tokens: Tokens accepted after ``Authorization: Bearer``.
    """

    def __init__(self, api_keys: Iterable[str], bearer_tokens: Iterable[str]) -> None:
        self._lock = threading.Lock()
        self._api_keys = set(api_keys)
        self._tokens = set(bearer_tokens)

    def __repr__(self) -> str:
        return f"<Credentials api_keys={len(self._api_keys)} bearer_tokens={len(self._tokens)}>"

    def add_api_key(self, key: str) -> None:
        """Accept ``key`` from now on."""
        with self._lock:
            self._api_keys.add(key)

    def revoke_api_key(self, key: str) -> None:
        """Stop accepting ``key`` (no error if it was not accepted)."""
        with self._lock:
            self._api_keys.discard(key)

    def add_token(self, token: str) -> None:
        """Accept bearer ``token`` from now on."""
        with self._lock:
            self._tokens.add(token)

    def revoke_token(self, token: str) -> None:
        """Stop accepting bearer ``token`` (no error if it was not accepted)."""
        with self._lock:
            self._tokens.discard(token)

    def rotate_token(self, old: str, new: str) -> None:
        """Replace bearer token ``old`` by ``new`` in one step, as an OAuth refresh does."""
        with self._lock:
            self._tokens.discard(old)
            self._tokens.add(new)

    def accepts(self, authorization: str | None) -> bool:
        """Return whether an ``Authorization`` header value carries accepted credentials."""
        if not authorization:
            return False
        scheme, _, value = authorization.partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if scheme == "bearer":
            with self._lock:
                return value in self._tokens
        if scheme != "basic":
            return False
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        key, colon, password = decoded.partition(":")
        if not colon or password:
            return False
        with self._lock:
            return key in self._api_keys
