"""What a sync client and its views share: the async client, the portal that drives it, and the
rules for forks, closing and ``with_response``.

The async ``PleoExport`` is made at once in the caller's thread (so bad arguments raise there),
the portal on the first call. Everything that touches the async client runs on the portal's
loop (its lazily made resources are never built by two threads at once). A forked child
notices the new pid on its next call: it leaves the parent's loop and pool untouched and makes
its own from the same arguments.
"""

from __future__ import annotations

import contextvars
import os
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Final, Generic, ParamSpec, Protocol, TypeVar

import pleo_export
from pleo_export import PleoError

from ._portal import Portal, PortalClosedError, abandon, current_pid

__all__ = ["AsyncClosable", "Binding", "Core", "with_response"]

P = ParamSpec("P")
T = TypeVar("T")


class AsyncClosable(Protocol):
    """What a core needs of its async client (a ``pleo_export.PleoExport``): to close it. The
    core is generic in the client, so that it need not import the client."""

    async def aclose(self) -> None: ...


ClientT = TypeVar("ClientT", bound=AsyncClosable)
ClientT_co = TypeVar("ClientT_co", bound=AsyncClosable, covariant=True)

#: The list the innermost sync ``with_response`` collects into (in the caller's thread).
_capture: contextvars.ContextVar[list[pleo_export.ResponseMeta] | None] = contextvars.ContextVar(
    "pleo_export_sync_capture", default=None
)

#: Every live core, so that a fork can give each a fresh lock in the child.
_CORES: Final[weakref.WeakSet[Core[AsyncClosable]]] = weakref.WeakSet()

#: Each coordinator a sync client was given, and that client's core: an async coordinator
#: works on one event loop (its locks bind to the first loop that waits on them).
_COORDINATORS: Final[weakref.WeakKeyDictionary[object, Core[AsyncClosable]]] = (
    weakref.WeakKeyDictionary()
)


class Core(Generic[ClientT_co]):
    """One sync client's async client and portal (its ``with_options`` views share them)."""

    def __init__(self, factory: Callable[[], ClientT_co], *, borrowed: bool) -> None:
        self._factory = factory
        #: The async client every call goes through (replaced in a forked child).
        self.client = factory()
        #: True when the caller gave the pools (``http_client``/``file_client``): a forked
        #: child cannot make its own copy of them.
        self.borrowed = borrowed
        #: Incremented when a forked child replaces the client: objects made before refuse.
        self.generation = 0
        self.closed = False
        self._made_in = current_pid()
        self._portal: Portal | None = None
        self._lock = threading.Lock()
        _CORES.add(self)

    def portal(self) -> Portal:
        """The running portal of this process, started (or, after a fork, replaced) now."""
        portal = self._portal
        if portal is not None and portal.pid == current_pid() and not self.closed:
            return portal
        with self._lock:
            if self.closed:
                raise PortalClosedError("the sync client is closed")
            pid = current_pid()
            if self._made_in != pid:
                self._after_fork()
                self._made_in = pid
            if self._portal is None:
                self._portal = Portal()
            return self._portal

    def _after_fork(self) -> None:
        """In a forked child: drop what the parent used (never touching it), make anew."""
        if self._portal is None:
            return  # never used before the fork: the pool holds no connection to share
        if self.borrowed:
            raise PleoError(
                "pleo_export.sync: this client was used before os.fork() with a caller's "
                "http_client/file_client, which the child cannot copy; make the client in "
                "the child, or let the SDK make its own pool"
            )
        abandon(self._portal, self.client)
        self._portal = None
        self.client = self._factory()
        self.generation += 1

    def claim(self, coordinator: object | None) -> None:
        """Tie ``coordinator`` to this client: one already given to another sync client
        (another event loop) is refused, where it would fail now and then at run time.

        Raises:
            PleoError: the coordinator belongs to another sync client.
        """
        if coordinator is None:
            return
        owner = _COORDINATORS.setdefault(coordinator, self)
        if owner is not self:
            raise PleoError(
                "pleo_export.sync: this coordinator was given to another sync client; a "
                "coordinator works on one client's event loop, so make one per client (on the "
                "same file or database)"
            )

    def reset_lock(self) -> None:
        """A forked child's fresh lock (another thread may have held it at the fork)."""
        self._lock = threading.Lock()

    def run(self, op: Callable[[], Awaitable[T]]) -> T:
        """Await ``op()`` on the portal; a sync ``with_response`` around it gets its meta."""
        portal = self.portal()
        listening = _capture.get()
        if listening is None:
            return portal.run(op, op)
        result, meta = portal.call(pleo_export.with_response, op)
        listening[:] = [meta]
        return result

    def check(self, generation: int, what: str) -> Portal:
        """The portal, for an object made in ``generation`` (refused after a fork)."""
        portal = self.portal()
        if generation != self.generation:
            raise PleoError(
                f"pleo_export.sync: this {what} was made before os.fork(); make it again in "
                "the child process"
            )
        return portal

    def close(self) -> None:
        """Close the async client's pools on the loop, then stop the loop and its thread."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            portal, self._portal = self._portal, None
        if portal is None or not portal.alive:
            return  # never used here: no connection was opened, no thread started
        try:
            portal.call(self.client.aclose)
        finally:
            portal.stop()


def _reset_locks() -> None:
    for core in list(_CORES):
        core.reset_lock()


os.register_at_fork(after_in_child=_reset_locks)


class Binding(Generic[ClientT]):
    """Which async client a sync object's calls go to: the root's, or a ``with_options`` view
    of it (re-derived after a fork, when the root's client is replaced)."""

    __slots__ = ("_cached", "_options", "_parent", "core")

    def __init__(
        self,
        core: Core[ClientT],
        parent: Binding[ClientT] | None = None,
        derive: Callable[[ClientT], ClientT] | None = None,
    ) -> None:
        self.core = core
        self._parent = parent
        self._options = derive
        self._cached: tuple[int, ClientT] | None = None

    def resolve(self) -> ClientT:
        """The async client; call it on the portal's loop only."""
        if self._parent is None or self._options is None:
            return self.core.client
        cached = self._cached
        if cached is None or cached[0] != self.core.generation:
            cached = (self.core.generation, self._options(self._parent.resolve()))
            self._cached = cached
        return cached[1]


def with_response(
    call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> tuple[T, pleo_export.ResponseMeta]:
    """Call a sync SDK method and return its result with its HTTP response::

        job, meta = with_response(pleo.jobs.get, job_id)
        page, meta = with_response(pleo.jobs.list(statuses=["pending"]).first_page)

    The sync twin of ``pleo_export.with_response``: the same ``ResponseMeta``, of the call's
    last request.

    Raises:
        PleoError: whatever the call raises; or, when it made no request, a ``PleoError``.
    """
    collected: list[pleo_export.ResponseMeta] = []
    outer = _capture.get()
    token = _capture.set(collected)
    try:
        result = call(*args, **kwargs)
    finally:
        _capture.reset(token)
        if outer is not None and collected:
            outer[:] = collected
    if not collected:
        raise PleoError(f"{getattr(call, '__qualname__', call)!r} made no HTTP request")
    return result, collected[-1]
