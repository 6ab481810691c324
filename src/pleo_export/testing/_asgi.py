"""The ASGI application type that the fake's public signatures name, without ``Any``, and what
the fault layer and the two things that run it (the loopback server, the in-process transport)
agree on: the scope extensions the server adds, and the drop the transport raises.

Starlette's and httpx's ASGI types hold ``Any``; an app typed with theirs fits this one, and
this one fits theirs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TypeAlias

__all__ = ["ABORT_EXTENSION", "STOPPING_EXTENSION", "ASGIApp", "ConnectionDropped"]

#: The scope extension holding the server's abort callable (close the socket, no answer).
ABORT_EXTENSION = "pleo_export.abort"
#: The scope extension holding the server's "stopping" event.
STOPPING_EXTENSION = "pleo_export.stopping"

Scope: TypeAlias = MutableMapping[str, object]
Message: TypeAlias = MutableMapping[str, object]
ASGIApp: TypeAlias = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


class ConnectionDropped(Exception):
    """Raised in-process where a real server would close the socket without answering."""
