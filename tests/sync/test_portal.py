"""The portal's promises: many threads on one client, calls from inside a running event loop,
a client used before ``fork()`` and in the child, iterators that clean up after ``break`` and
garbage collection, ``close()`` leaving no thread, and ``KeyboardInterrupt`` cancelling the
call. Each test names what in the sync client would make it fail."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from pleo_export import PleoError
from pleo_export.sync import PleoExport, PortalClosedError
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

from .conftest import IN_PROCESS_URL, loop_tasks, portal_threads


def test_eight_threads_share_one_client(sync_pleo: PleoExport, fake_pleo: FakePleo) -> None:
    """8 threads × 40 calls each, gets and listings interleaved, on one client: every answer
    is the right job's (a portal that mixed up results between callers, or raced building the
    async resources, would fail)."""
    jobs = [fake_pleo.add_job(items=3) for _ in range(8)]

    def worker(job_id: str) -> int:
        done = 0
        for n in range(40):
            if n % 4 == 0:
                assert len(list(sync_pleo.job_items.list(job_id))) == 3
            else:
                assert str(sync_pleo.jobs.get(job_id).id) == job_id
            done += 1
        return done

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(worker, jobs)) == 320
    assert len(portal_threads()) >= 1


async def test_a_call_inside_a_running_event_loop(fake_pleo: FakePleo, tcp_url: str) -> None:
    """A coroutine (a notebook cell, an async view) calls the sync client: it blocks and
    answers, no "already running" (asyncio.run per call would raise here)."""
    job_id = fake_pleo.add_job(items=4)
    with PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url) as pleo:
        assert pleo.jobs.get(job_id).status == "pending"
        assert len(list(pleo.export_items.list(job_id))) == 4
        await asyncio.sleep(0)  # this loop keeps running afterwards
        assert len(list(pleo.jobs.list())) == 1


def _in_child(check: str) -> tuple[int, str]:
    """Fork; the child runs ``check`` (a function of this module, by name) and reports."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        try:
            message = globals()[check]()
            code = 0
        except BaseException as exc:
            message, code = f"{type(exc).__name__}: {exc}", 1
        os.write(write, message.encode()[:4000])
        os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        message = pipe.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), message


_FORKED: dict[str, object] = {}


def _child_uses_client() -> str:
    pleo = _FORKED["pleo"]
    assert isinstance(pleo, PleoExport)
    parent_portal = _FORKED["portal"]
    job = pleo.jobs.get(str(_FORKED["job_id"]))
    listed = len(list(pleo.export_items.list(str(_FORKED["job_id"]))))
    fresh = pleo._core.portal()
    assert fresh is not parent_portal
    assert fresh.pid == os.getpid()
    assert pleo._core.client is not _FORKED["client"]  # a new async client and pool
    pleo.close()
    assert not fresh.thread.is_alive()
    return f"{job.status} {listed}"


def test_client_used_before_fork_and_in_the_child(fake_pleo: FakePleo, tcp_url: str) -> None:
    """A client used in the parent works in a forked child, on a loop and pool of the
    child's own (a client that reused the parent's loop would hang or fail in the child);
    the parent's client keeps working afterwards."""
    job_id = fake_pleo.add_job(items=7)
    with PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url) as pleo:
        assert pleo.jobs.get(job_id).status == "pending"
        _FORKED.update(
            pleo=pleo, portal=pleo._core.portal(), client=pleo._core.client, job_id=job_id
        )
        code, message = _in_child("_child_uses_client")
        assert (code, message) == (0, "pending 7")
        assert len(list(pleo.export_items.list(job_id))) == 7  # the parent is untouched


def _child_uses_borrowed() -> str:
    pleo = _FORKED["borrowed"]
    assert isinstance(pleo, PleoExport)
    try:
        pleo.jobs.get(uuid.uuid4())
    except PleoError as exc:
        return str(exc)
    return "no error"


def test_a_caller_http_client_is_refused_in_the_child(fake_pleo: FakePleo) -> None:
    """With a caller's ``http_client`` (which the SDK cannot copy), the child gets a clear
    PleoError instead of sharing the parent's connections."""
    job_id = fake_pleo.add_job(items=1)
    http = httpx.AsyncClient(transport=fake_pleo.transport())
    with PleoExport(api_key=DEFAULT_API_KEY, base_url=IN_PROCESS_URL, http_client=http) as pleo:
        pleo.jobs.get(job_id)
        _FORKED["borrowed"] = pleo
        code, message = _in_child("_child_uses_borrowed")
    assert code == 0
    assert "os.fork()" in message


def test_early_break_leaves_no_task(sync_pleo: PleoExport, fake_pleo: FakePleo) -> None:
    """Leaving a ``for`` early closes the async iterator on the loop, cancelling its
    prefetch: without the cleanup the prefetch task stays pending on its semaphore."""
    for _ in range(5):
        fake_pleo.add_job(items=1)
    for _job in sync_pleo.jobs.list(limit=1):
        break
    assert loop_tasks(sync_pleo) == 0
    job_id = fake_pleo.add_job(items=50)
    with sync_pleo.export_run(job_id) as run:
        for work in run.pending():
            run.succeeded(work)
            break
        assert loop_tasks(sync_pleo) <= 1  # at most the run's own lease renewal
    other = fake_pleo.add_job(items=50)
    for _item in sync_pleo.export_items.list(other, limit=5, max_items=20):
        break
    assert loop_tasks(sync_pleo) == 0


def test_a_collected_iterator_leaves_no_task(sync_pleo: PleoExport, fake_pleo: FakePleo) -> None:
    """An iterator dropped half-way (never closed by a ``for``) is cleaned up when it is
    garbage-collected."""
    for _ in range(5):
        fake_pleo.add_job(items=1)
    iterator = iter(sync_pleo.jobs.list(limit=1))
    next(iterator)
    assert loop_tasks(sync_pleo) == 1  # the prefetch of page 2
    del iterator
    gc.collect()
    assert loop_tasks(sync_pleo) == 0


def test_pager_close_stops_its_iterations(sync_pleo: PleoExport, fake_pleo: FakePleo) -> None:
    for _ in range(4):
        fake_pleo.add_job(items=1)
    pager = sync_pleo.jobs.list(limit=1)
    with pager:
        iterator = iter(pager)
        next(iterator)
    assert loop_tasks(sync_pleo) == 0
    assert list(iterator) == []  # the async iteration behind it was closed


def test_close_leaves_no_thread(fake_pleo: FakePleo, tcp_url: str) -> None:
    """``close()`` (and leaving ``with``) stops the loop thread; later calls are refused with
    a PleoError rather than hanging on a dead loop."""
    before = len(portal_threads())
    job_id = fake_pleo.add_job(items=2)
    pleo = PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url)
    assert len(portal_threads()) == before  # nothing starts until the first call
    pleo.jobs.get(job_id)
    assert len(portal_threads()) == before + 1
    pleo.close()
    pleo.close()  # idempotent
    assert len(portal_threads()) == before
    with pytest.raises(PortalClosedError):
        pleo.jobs.get(job_id)
    with PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url) as other:
        other.jobs.get(job_id)
    assert len(portal_threads()) == before


def test_keyboard_interrupt_cancels_the_call(fake_pleo: FakePleo, tcp_url: str) -> None:
    """Ctrl-C while a call waits on a slow answer: KeyboardInterrupt is raised in the caller
    and the call's task is cancelled on the loop (a portal that only stopped waiting would
    leave it running: ``loop_tasks`` would count it)."""
    job_id = fake_pleo.add_job(items=2)
    rule = fake_pleo.faults.add("delay", seconds=60)
    main = threading.main_thread().ident
    assert main == threading.get_ident()
    with PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url, max_retries=0) as pleo:
        pleo.v3  # noqa: B018 - built before the timer starts
        timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
        timer.start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            pleo.jobs.get(job_id)
        assert time.monotonic() - started < 60  # it did not wait for the answer
        assert loop_tasks(pleo) == 0
        rule.enabled = False
        assert pleo.jobs.get(job_id).status == "pending"  # the client still works


def test_a_hook_calling_the_sync_client_is_refused(fake_pleo: FakePleo, tcp_url: str) -> None:
    """A hook runs on the client's loop thread: a sync call from there would wait for itself
    forever, so it raises a PleoError instead (hooks' errors are logged, so it is caught)."""
    job_id = fake_pleo.add_job(items=1)
    seen: list[BaseException] = []
    holder: list[PleoExport] = []

    def on_request(_info: object) -> None:
        if not seen:
            try:
                holder[0].jobs.get(job_id)
            except PleoError as exc:
                seen.append(exc)

    with PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url, on_request=on_request) as pleo:
        holder.append(pleo)
        assert pleo.jobs.get(job_id).status == "pending"
    assert seen
    assert "own event loop thread" in str(seen[0])


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")
def test_each_thread_reuses_one_waiter_and_frees_it(
    sync_pleo: PleoExport, fake_pleo: FakePleo
) -> None:
    """A calling thread sleeps on a pipe of its own, made on its first call and reused: 200
    calls from one thread open no descriptor after the first, and 40 short-lived threads
    leave none behind (a waiter made per call, or never closed when its thread ends, would
    leak two descriptors a call or a thread)."""
    job_id = fake_pleo.add_job(items=1)
    sync_pleo.jobs.get(job_id)
    before = _open_fds()
    for _ in range(200):
        sync_pleo.jobs.get(job_id)
    assert _open_fds() == before

    def one_call() -> None:
        sync_pleo.jobs.get(job_id)

    for _ in range(40):
        thread = threading.Thread(target=one_call)
        thread.start()
        thread.join()
    gc.collect()
    assert _open_fds() <= before + 2  # a connection the pool may have opened meanwhile


@pytest.mark.timeout(60)
def test_a_call_from_a_signal_handler_during_a_call(fake_pleo: FakePleo, tcp_url: str) -> None:
    """A signal handler (a SIGTERM hook, say) that calls the client while the main thread
    waits on a slow call: both answer. Both requests are slowed, so the outer one ends while
    the handler's call waits; on one shared waiter the handler's wait would read the outer
    call's wake-up and the outer wait would then block for good."""
    first, second = fake_pleo.add_job(items=1), fake_pleo.add_job(items=1)
    fake_pleo.faults.add("delay", seconds=0.6)
    main = threading.main_thread().ident
    assert main == threading.get_ident()
    inner: list[str] = []
    with PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url, max_retries=0) as pleo:
        pleo.v3  # noqa: B018 - built before the signal can come

        def on_signal(_signum: int, _frame: object) -> None:
            inner.append(pleo.jobs.get(second).status)

        previous = signal.signal(signal.SIGUSR1, on_signal)
        try:
            timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGUSR1))
            timer.start()
            assert pleo.jobs.get(first).status == "pending"
            timer.join()
        finally:
            signal.signal(signal.SIGUSR1, previous)
    assert inner == ["pending"]


def test_the_pipe_waiter_off_linux(
    sync_pleo: PleoExport, fake_pleo: FakePleo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where there is no eventfd the waiter is a pipe and the loop is woken with
    ``call_soon_threadsafe``: threads that start now wait on pipes, and 4 threads × 25 calls
    answer right (a pipe waiter that lost or kept a wake-up would hang or hand back the
    previous call's empty result; a portal that still posted to its inbox with no bell to
    ring would hang)."""
    from pleo_export.sync import _portal

    monkeypatch.setattr(_portal, "_EVENTFD", False)
    jobs = [fake_pleo.add_job(items=1) for _ in range(4)]
    assert sync_pleo.jobs.get(jobs[0]).status == "pending"  # the portal starts now
    assert sync_pleo._core.portal()._bell is None

    def calls(job_id: str) -> int:
        return sum(str(sync_pleo.jobs.get(job_id).id) == job_id for _ in range(25))

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(calls, jobs)) == [25] * 4


@pytest.mark.parametrize("eventfd", [True, False] if hasattr(os, "eventfd") else [False])
def test_a_leftover_wake_up_does_not_end_the_next_wait(
    eventfd: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call that ended before its caller began to wait leaves its wake-up unread; the
    thread's next wait must still last until its own call ends (a wait that returned on any
    wake-up would hand back a call still running, its result not there yet)."""
    from types import SimpleNamespace

    from pleo_export.sync import _portal

    monkeypatch.setattr(_portal, "_EVENTFD", eventfd)
    waiter = _portal._Waiter()
    first = SimpleNamespace(finished=True)
    waiter.wake()  # the loop finished the first call before its caller waited
    waiter.wait(first)  # type: ignore[arg-type]  # returns at once, the wake-up left unread
    second = SimpleNamespace(finished=False)

    def finish() -> None:
        second.finished = True
        waiter.wake()

    timer = threading.Timer(0.2, finish)
    started = time.monotonic()
    timer.start()
    waiter.wait(second)  # type: ignore[arg-type]
    assert time.monotonic() - started >= 0.15
    assert second.finished


@pytest.mark.timeout(30)
def test_a_call_after_the_loop_ended_on_its_own_is_refused() -> None:
    """The loop stopped without ``stop()`` (a callback stopped it, say) and its thread ended:
    a call made then is refused with PortalClosedError at once. Posted to the inbox, it would
    wait for good for a drain that never comes (red without the portal's ``_ended`` check:
    the call hangs until the timeout)."""
    from pleo_export.sync._portal import Portal

    async def answer() -> int:
        return 42

    portal = Portal()
    assert portal.run(answer) == 42
    portal._loop.call_soon_threadsafe(portal._loop.stop)
    portal.thread.join(5)
    assert not portal.thread.is_alive()
    with pytest.raises(PortalClosedError):
        portal.run(answer)
