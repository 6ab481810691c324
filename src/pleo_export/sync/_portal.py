"""The portal: one private asyncio event loop in a thread of its own, driven from sync code.

Every sync call hands a coroutine to the loop and blocks its own thread until the coroutine is
done, so any number of threads can call at once, and a thread that has an event loop of its
own (a notebook, an async Django view) simply waits: the portal's loop is never that loop.

The round trip is what a sync call costs over an async one, so it is kept to the least. The
caller puts the call in the portal's inbox and rings the loop's bell, an eventfd the loop
watches (a task is made there); the loop writes back once to an eventfd of the calling
thread's own, made once and reused. That is one system call a side each way, where
``call_soon_threadsafe`` wakes the loop through its self-pipe: a socket written once and read
twice, the second read ending in an exception (an empty round trip: about 33 µs of CPU against
55, both threads on one CPU). The caller's eventfd is written with the GIL released, so the
woken thread can take the GIL at once; waking it through a ``threading.Lock`` (or a
``concurrent.futures`` future, what ``asyncio.run_coroutine_threadsafe`` uses) wakes it while
the loop thread still holds the GIL, and it sleeps again on the GIL: about twice the thread
switches per call. Off Linux the loop is woken with ``call_soon_threadsafe`` and the caller
through a pipe.

Why not anyio's ``BlockingPortal``: it spawns each call with a blocking round trip into the
loop (``run_sync`` of ``start_soon``) and then waits for the result, two thread hand-offs and
a task group entry per call; and it still leaves the fork, interrupt and iterator-cleanup rules
to the caller. Those rules are what this module is: a portal belongs to the process that
started it (``pid``) and a forked child never touches it, an interrupt cancels the call and
waits for it to end, and cleanup asked for on the loop's own thread (a garbage-collected
iterator) is scheduled, not waited for.

Context variables: a call runs in a copy of the caller's context (what ``asyncio.to_thread``
does the other way round), so a request id or an OpenTelemetry span set in a Django view is
seen by the hooks, token callables and log records of that call. The one variable cleared in
the copy is sniffio's marker of the caller's async library (a trio caller's would make httpcore
pick trio's primitives on the asyncio loop). What the call sets stays in its copy.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import functools
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final, Generic, NoReturn, ParamSpec, TypeVar

from pleo_export import PleoError

__all__ = ["Portal", "PortalClosedError", "abandon", "caller_context", "current_pid"]

P = ParamSpec("P")
T = TypeVar("T")

logger: Final = logging.getLogger("pleo_export")

#: Portals of a parent process, kept referenced in a forked child: letting one be collected
#: would close its loop, and closing unregisters the self-pipe from the epoll instance the
#: child shares with the parent, which would break the parent's loop.
_ABANDONED: list[object] = []

#: This process's id, kept up to date by an at-fork hook: read on every call, where
#: ``os.getpid()`` would be a system call.
_pid = os.getpid()


def current_pid() -> int:
    """The id of the running process (set again in a forked child)."""
    return _pid


class PortalClosedError(PleoError):
    """The sync client's event loop was stopped (``close()``) before or during the call."""


class _Waiter:
    """A thread's way to sleep until the loop has finished its call, made on the thread's
    first call and reused: an eventfd on Linux (one descriptor), else a pipe. The loop writes
    once per finished call; the thread reads until its call is marked finished, so a write
    left over (a call that finished before its caller began to wait, an interrupted wait)
    only makes a later wait look once more."""

    __slots__ = ("_counter", "_read", "_write", "busy", "pid")

    def __init__(self) -> None:
        self.pid = _pid
        #: A call of this thread waits on it: a call made meanwhile (from a signal handler,
        #: during that wait) gets a waiter of its own, or it could read the first one's wake.
        self.busy = False
        self._counter = _EVENTFD
        if self._counter:
            self._read = self._write = os.eventfd(0, os.EFD_CLOEXEC)
        else:
            self._read, self._write = os.pipe()

    def wake(self) -> None:
        """From the loop's thread, once the call is marked finished."""
        with contextlib.suppress(OSError):  # closed under us: nobody is waiting any more
            if self._counter:
                os.eventfd_write(self._write, 1)
            else:
                os.write(self._write, b"\0")

    def wait(self, call: _Call[Any]) -> None:
        """Block until ``call`` is finished (a signal's exception may cut it short)."""
        while not call.finished:
            if self._counter:
                # Takes every wake written so far. Unlike os.read it does not retry after a
                # signal whose handler returned (an exception from the handler propagates).
                with contextlib.suppress(InterruptedError):
                    os.eventfd_read(self._read)
            else:
                os.read(self._read, 64)

    def __del__(self) -> None:  # the thread ended (its thread-local storage went)
        for fd in {self._read, self._write}:
            with contextlib.suppress(OSError):
                os.close(fd)


#: Whether this system has eventfd (Linux); waiters made afterwards use a pipe when False.
_EVENTFD = hasattr(os, "eventfd")

_threads = threading.local()


def _waiter() -> _Waiter:
    """This thread's waiter (a forked child's thread makes its own); a fresh one for a call
    made while the thread's own is busy."""
    waiter: _Waiter | None = getattr(_threads, "waiter", None)
    if waiter is None or waiter.pid != _pid:
        waiter = _threads.waiter = _Waiter()
    elif waiter.busy:
        return _Waiter()
    return waiter


def caller_context() -> contextvars.Context:
    """A copy of the calling thread's context for a call on the loop (see the module's
    docstring), without the caller's async-library marker."""
    context = contextvars.copy_context()
    sniffio = sys.modules.get("sniffio")
    marker: contextvars.ContextVar[str | None] | None = getattr(
        sniffio, "current_async_library_cvar", None
    )
    if marker is not None and context.get(marker) is not None:
        context.run(marker.set, None)
    return context


class _Call(Generic[T]):
    """One coroutine on its way through the loop, and the waiter its caller sleeps on.

    The coroutine stores its own outcome and wakes the caller as it ends, a loop iteration
    sooner than a done callback would. Only a cancelled call gets a done callback too: a task
    cancelled before its first step never runs its body (nor its ``finally``).
    """

    __slots__ = ("error", "finished", "make", "task", "value", "waiter")

    def __init__(self, make: Callable[[], Awaitable[T]], waiter: _Waiter) -> None:
        self.make = make
        self.waiter = waiter
        self.finished = False
        self.task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None
        self.value: T | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop: make the awaitable and its task (in the caller's copied context)."""
        try:
            awaitable = self.make()
        except BaseException as exc:  # the call raised before it had anything to await
            self.error = exc
            self.finish()
            return
        self.task = loop.create_task(self._run(awaitable))

    async def _run(self, awaitable: Awaitable[T]) -> None:
        try:
            self.value = await awaitable
        except asyncio.CancelledError as exc:
            self.error = exc
            raise
        except BaseException as exc:  # handed to the caller; not left on the task
            self.error = exc
            if not isinstance(exc, Exception):
                raise
        finally:
            self.finish()

    def _finished(self, _task: object) -> None:
        self.finish()

    def finish(self) -> None:
        """Wake the caller (once; only ever called on the loop's thread)."""
        if not self.finished:
            self.finished = True
            self.waiter.wake()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.add_done_callback(self._finished)
            self.task.cancel()

    def result(self, what: object) -> T:
        error = self.error
        if isinstance(error, asyncio.CancelledError) or (
            error is None and self.task is not None and self.task.cancelled()
        ):
            raise PortalClosedError(f"the sync client was closed during {_name(what)}")
        if error is not None:
            raise error
        return self.value  # type: ignore[return-value]  # set by _run, T may include None


def _name(what: object) -> str:
    return getattr(what, "__qualname__", None) or "the call"


class Portal:
    """An event loop running in a daemon thread, and the ways to use it from other threads."""

    def __init__(self, name: str = "pleo-export-sync") -> None:
        #: The process that started the loop; a forked child must start its own.
        self.pid = _pid
        #: What the calling threads hand the loop, in order, and the eventfd that rings for
        #: it; None off Linux, where ``call_soon_threadsafe`` does both.
        self._bell: int | None = (
            os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC) if _EVENTFD else None
        )
        self._inbox: collections.deque[tuple[Callable[[], object], contextvars.Context]] = (
            collections.deque()
        )
        self._loop = asyncio.new_event_loop()
        self._stopped = False
        #: The loop thread has ended (on its own or by ``stop()``): nothing handed over now runs.
        self._ended = False
        self._cleanups: set[asyncio.Task[Any]] = set()
        #: Calls whose callers wait: released with an error if the loop ends first.
        self._waiting: set[_Call[Any]] = set()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self._ident = self._thread.ident

    def __repr__(self) -> str:
        return f"<Portal pid={self.pid} thread={self._thread.name} stopped={self._stopped}>"

    @property
    def alive(self) -> bool:
        """Whether calls can still go through: this process's portal, not stopped."""
        return not self._stopped and self.pid == _pid

    @property
    def thread(self) -> threading.Thread:
        """The thread the loop runs in."""
        return self._thread

    def in_loop_thread(self) -> bool:
        """Whether the caller is the loop's own thread (a hook, a finalizer)."""
        return threading.get_ident() == self._ident

    def call(self, function: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``function(*args, **kwargs)`` on the loop and wait for its result.

        An interrupt (``KeyboardInterrupt``, or any exception raised in this thread while it
        waits) cancels the call, waits for it to wind down, and is raised.

        Raises:
            PleoError: called from the loop's own thread, which would wait for itself.
            PortalClosedError: the portal was stopped before or during the call.
        """
        return self.run(lambda: function(*args, **kwargs), function)

    def run_sync(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a plain function on the loop's thread (for state only the loop may touch)."""

        async def run() -> T:
            return function(*args, **kwargs)

        return self.run(run, function)

    def soon(self, function: Callable[[], object]) -> None:
        """Schedule ``function()`` on the loop without waiting (safe in a signal handler)."""
        if not self.alive:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed in the meantime
            self._loop.call_soon_threadsafe(function, context=contextvars.Context())

    def cleanup(self, function: Callable[[], Coroutine[Any, Any, object]]) -> None:
        """Run a cleanup coroutine: waited for from other threads, scheduled from the loop's
        own, skipped when the portal is gone (another process's, or stopped)."""
        if not self.alive:
            return
        if self.in_loop_thread():
            task = self._loop.create_task(function())
            self._cleanups.add(task)
            task.add_done_callback(self._cleanups.discard)
            return
        with contextlib.suppress(PortalClosedError):
            self.run(function, function)

    def _post(self, function: Callable[[], object], context: contextvars.Context) -> None:
        """Have the loop run ``function()`` in ``context``, after what was posted before.

        Raises:
            RuntimeError: the loop thread has ended.
        """
        if self._ended:
            raise RuntimeError("the portal's loop has ended")
        if self._bell is None:
            self._loop.call_soon_threadsafe(function, context=context)
            return
        self._inbox.append((function, context))
        os.eventfd_write(self._bell, 1)

    def _drain(self) -> None:
        """On the loop, when the bell rang: run what the inbox holds, oldest first."""
        assert self._bell is not None
        with contextlib.suppress(BlockingIOError):  # rang for entries an earlier drain took
            os.eventfd_read(self._bell)
        inbox = self._inbox
        while inbox:
            function, context = inbox.popleft()
            context.run(function)

    def run(self, make: Callable[[], Awaitable[T]], what: object = None) -> T:
        """Await ``make()`` on the loop and return its result: what every call comes down to
        (``what`` names the call in errors)."""
        if self._stopped or self.pid != _pid or threading.get_ident() == self._ident:
            self._refuse(what)
        waiter = _waiter()
        call = _Call(make, waiter)
        waiter.busy = True
        self._waiting.add(call)
        try:
            try:
                self._post(functools.partial(call.start, self._loop), caller_context())
            except RuntimeError:
                self._refuse(what)
            try:
                waiter.wait(call)
            except BaseException:
                # Interrupted while waiting: cancel the call (start() was posted first, so the
                # task exists by the time this runs) and let it wind down before raising.
                with contextlib.suppress(RuntimeError):  # the loop is gone: nothing to cancel
                    self._post(call.cancel, contextvars.Context())
                waiter.wait(call)
                raise
        finally:
            self._waiting.discard(call)
            waiter.busy = False
        return call.result(what)

    def _refuse(self, what: object) -> NoReturn:
        name = _name(what)
        if self.in_loop_thread():
            raise PleoError(
                f"pleo_export.sync: {name} was called on the sync client's own event loop "
                "thread (from a hook or callback?), where it would wait for itself forever; "
                "use the async client there"
            )
        raise PortalClosedError(f"the sync client is closed ({name})")

    def stop(self) -> None:
        """Stop the loop: cancel what is still running, close async generators, end the
        thread and wait for it. Idempotent; a forked child's copy is left alone."""
        if self._stopped or self.pid != _pid:
            return
        if self.in_loop_thread():
            raise PleoError("pleo_export.sync: close() cannot run on the client's own loop")
        self._stopped = True
        try:
            self._loop.call_soon_threadsafe(self._loop.stop)
        except RuntimeError:  # already closed
            return
        self._thread.join()

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        if self._bell is not None:
            self._loop.add_reader(self._bell, self._drain)
        try:
            self._loop.run_forever()
        finally:
            try:
                self._wind_down()
            finally:
                asyncio.set_event_loop(None)
                self._loop.close()
                # A call posted from now on is refused; one posted before is in _waiting.
                self._ended = True
                for call in list(self._waiting):
                    if not call.finished:
                        call.error = PortalClosedError("the sync client was closed during the call")
                        call.finish()

    def __del__(self) -> None:  # no thread runs the loop any more: nobody rings the bell
        bell = getattr(self, "_bell", None)
        if bell is not None:
            with contextlib.suppress(OSError):
                os.close(bell)

    def _wind_down(self) -> None:
        loop = self._loop
        while tasks := asyncio.all_tasks(loop):  # a call queued as the loop stopped adds one
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())


def abandon(*objects: object) -> None:
    """Keep a parent process's portal and client referenced for good (see ``_ABANDONED``)."""
    _ABANDONED.append(objects)


def _forked() -> None:
    global _pid  # the one process-wide fact a fork changes
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)
