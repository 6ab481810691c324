"""The ASGI application type that the fake's public signatures name, without ``Any``.

Starlette's and httpx's ASGI types hold ``Any``; an app typed with theirs fits this one, and
this one fits theirs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TypeAlias

__all__ = ["ASGIApp"]

Scope: TypeAlias = MutableMapping[str, object]
Message: TypeAlias = MutableMapping[str, object]
ASGIApp: TypeAlias = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]
