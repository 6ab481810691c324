"""Context variables across the portal: a call runs in a copy of its caller's context, so what
a Django view sets (a request id, a span) is seen by that call's hooks and log records on the
loop thread; a sync worker's handler runs in a copy of the context ``run()`` was called in.
Each test says what a portal that ran calls in a fresh context (as it did before) would do."""

from __future__ import annotations

import contextvars
import logging
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from pleo_export import RequestInfo
from pleo_export.sync import Booked, ExportWorker, PleoExport, WorkItem
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def test_hooks_see_their_callers_context_and_cannot_change_it(
    fake_pleo: FakePleo, tcp_url: str
) -> None:
    """Eight threads, each with its own request id, call one client at once: every
    ``on_request`` (on the loop thread) sees its own caller's id, and what the hook sets does
    not reach the caller. In a fresh context every hook would see "-"."""
    job_id = fake_pleo.add_job(items=1)
    seen: list[tuple[str, str]] = []  # (the id the caller set, the id the hook saw)
    expected: contextvars.ContextVar[str] = contextvars.ContextVar("expected", default="")

    def on_request(_info: RequestInfo) -> None:
        seen.append((expected.get(), request_id.get()))
        request_id.set("changed-by-the-hook")

    with PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url, on_request=on_request) as pleo:

        def view(n: int) -> str:
            mine = f"req-{n}"
            request_id.set(mine)
            expected.set(mine)
            for _ in range(10):
                pleo.jobs.get(job_id)
            return request_id.get()

        with ThreadPoolExecutor(8) as pool:
            after = list(pool.map(lambda n: contextvars.copy_context().run(view, n), range(8)))
    assert after == [f"req-{n}" for n in range(8)]  # the hook's set() stayed in its copy
    assert len(seen) == 80
    assert all(caller == hook for caller, hook in seen)


def test_log_records_of_a_call_carry_the_callers_context(
    fake_pleo: FakePleo, tcp_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A logging filter that stamps each record with the request id (the usual Django
    set-up) finds the caller's id on the SDK's debug records, written on the loop thread."""
    job_id = fake_pleo.add_job(items=1)
    stamped: list[tuple[str, str]] = []

    class Stamp(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            stamped.append((record.threadName or "", request_id.get()))
            return True

    stamp = Stamp()
    logger = logging.getLogger("pleo_export")
    logger.addFilter(stamp)
    try:
        with (
            caplog.at_level(logging.DEBUG, logger="pleo_export"),
            PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url) as pleo,
        ):
            token = request_id.set("req-log")
            try:
                pleo.jobs.get(job_id)
            finally:
                request_id.reset(token)
    finally:
        logger.removeFilter(stamp)
    on_loop = [rid for thread, rid in stamped if thread == "pleo-export-sync"]
    assert on_loop
    assert set(on_loop) == {"req-log"}


def test_the_callers_async_library_marker_stays_behind(fake_pleo: FakePleo, tcp_url: str) -> None:
    """A caller whose context says "trio" (sniffio's marker) still gets asyncio on the
    client's loop: httpcore picks its locks by that marker. Copied as it is, the hook would
    see "trio"."""
    sniffio = pytest.importorskip("sniffio")
    job_id = fake_pleo.add_job(items=1)
    libraries: list[str] = []

    def on_request(_info: RequestInfo) -> None:
        libraries.append(sniffio.current_async_library())

    with PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url, on_request=on_request) as pleo:
        token = sniffio.current_async_library_cvar.set("trio")
        try:
            assert pleo.jobs.get(job_id).status == "pending"
        finally:
            sniffio.current_async_library_cvar.reset(token)
    assert libraries == ["asyncio"]


@pytest.mark.parametrize("batch_size", [None, 5])
def test_a_worker_handler_sees_the_context_run_was_called_in(
    batch_size: int | None, sync_pleo: PleoExport, fake_pleo: FakePleo
) -> None:
    """A variable set before ``worker.run()`` is seen by every handler call in the pool (one
    item or a batch), and what one call sets is not seen by the next (each gets a copy). With
    the pool's own context every call would see "-"."""
    fake_pleo.add_job(items=12)
    seen: list[str] = []
    lock = threading.Lock()

    def note() -> None:
        with lock:
            seen.append(request_id.get())
        request_id.set("set-by-a-handler")

    def book(work: WorkItem[object, object]) -> Booked:
        note()
        return Booked(external_id=str(work.accounting_entry_id)[:8])

    def book_many(batch: Sequence[WorkItem[object, object]]) -> dict[uuid.UUID, Booked]:
        note()
        return {work.accounting_entry_id: Booked() for work in batch}

    token = request_id.set("cron-42")
    try:
        if batch_size is None:
            ExportWorker(sync_pleo, book, poll_interval=0.05).run(until_idle=True)
        else:
            worker = ExportWorker(sync_pleo, book_many, batch_size=batch_size, poll_interval=0.05)
            worker.run(until_idle=True)
    finally:
        request_id.reset(token)
    assert len(seen) == (12 if batch_size is None else 3)
    assert set(seen) == {"cron-42"}
