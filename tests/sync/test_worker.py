"""The sync ``ExportWorker``: a plain handler in a thread pool, exactly once with the in-memory,
SQLite and PostgreSQL coordinators, through a graceful stop, and through SIGKILLs of worker
processes that are started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from pleo_export import PleoError
from pleo_export.coordination import Coordinator, PostgresCoordinator, SQLiteCoordinator
from pleo_export.sync import (
    Booked,
    ExportWorker,
    Outcome,
    PleoExport,
    Progress,
    Rejected,
    WorkItem,
)
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

from .conftest import portal_threads

CHAOS_WORKER = Path(__file__).resolve().parents[1] / "reliability" / "_chaos_worker.py"


def _expected(entry: uuid.UUID | str) -> str:
    """Every seventh entry is refused, the rest booked."""
    return "failed" if int(str(entry)[-2:], 16) % 7 == 0 else "successful"


def _answer(work: WorkItem[object, object]) -> Booked | Rejected:
    if _expected(work.accounting_entry_id) == "failed":
        return Rejected("no such vendor", reason_type="vendor_unknown")
    return Booked(external_id=f"GL-{str(work.accounting_entry_id)[:8]}")


def _all_right(fake: FakePleo, jobs: list[str]) -> None:
    """Every job final and every item with its one right status."""
    for job in jobs:
        assert fake.job(job)["status"] in ("completed", "completed_with_errors")
        for entry in fake.accounting_entry_ids(job):
            assert fake.item(job, entry)["status"] == _expected(entry)


def test_a_plain_handler_runs_in_the_worker_pool(
    sync_pleo: PleoExport, fake_pleo: FakePleo
) -> None:
    """Each item goes to the handler once, on a pool thread (neither the caller's thread nor
    the loop's: a handler run on the loop would see the loop thread's name)."""
    jobs = [fake_pleo.add_job(fake_pleo.add_company(), items=30) for _ in range(3)]
    threads: set[str] = set()
    calls: Counter[uuid.UUID] = Counter()
    progress: list[str] = []

    def handler(work: WorkItem[object, object]) -> Booked | Rejected:
        threads.add(threading.current_thread().name)
        calls[work.accounting_entry_id] += 1
        return _answer(work)

    def on_progress(event: Progress) -> None:
        progress.append(event.stage)

    worker = ExportWorker(sync_pleo, handler, poll_interval=0.05, on_progress=on_progress)
    worker.run(until_idle=True)
    _all_right(fake_pleo, jobs)
    assert set(calls.values()) == {1}
    assert len(calls) == 90
    assert all(name.startswith("pleo-export-handler") for name in threads)
    assert worker.stats.jobs_processed == 3
    assert progress.count("finished") == 3


def test_a_plain_batch_handler_gets_batches_in_the_pool(
    sync_pleo: PleoExport, fake_pleo: FakePleo
) -> None:
    """``batch_size=10`` makes the plain function a batch handler: it is given up to ten work
    items at once, on a pool thread, and answers by entry id or in order; a batch that raises
    comes back whole, every item in doubt. Without ``batch_size`` passed through, the engine
    would call it with one ``WorkItem`` (no ``len``), and every item would end in doubt, then
    failed."""
    jobs = [fake_pleo.add_job(fake_pleo.add_company(), items=45) for _ in range(2)]
    sizes: list[int] = []
    threads: set[str] = set()
    calls: Counter[uuid.UUID] = Counter()
    doubted: set[uuid.UUID] = set()
    lock = threading.Lock()

    def book_many(
        batch: Sequence[WorkItem[object, object]],
    ) -> Mapping[uuid.UUID, Outcome] | Sequence[Outcome]:
        with lock:
            sizes.append(len(batch))
            threads.add(threading.current_thread().name)
            for work in batch:
                calls[work.accounting_entry_id] += 1
                if work.in_doubt:
                    doubted.add(work.accounting_entry_id)
            first = len(sizes) == 1
        if first:
            raise ConnectionError("the ERP hung up")  # the whole batch comes back in doubt
        if len(sizes) % 2:
            return {work.accounting_entry_id: _answer(work) for work in batch}
        return [_answer(work) for work in batch]

    worker = ExportWorker(sync_pleo, book_many, batch_size=10, poll_interval=0.05)
    assert worker.batch_size == 10
    worker.run(until_idle=True)
    _all_right(fake_pleo, jobs)
    assert max(sizes) == 10
    assert sum(sizes) == 90 + sizes[0]  # every item once, the first batch twice
    repeated = {entry for entry, count in calls.items() if count > 1}
    assert len(repeated) == sizes[0]
    assert repeated <= doubted
    assert all(name.startswith("pleo-export-handler") for name in threads)


def test_concurrency_keeps_several_plain_handler_calls_in_flight(
    sync_pleo: PleoExport, fake_pleo: FakePleo
) -> None:
    """``concurrency=4`` reaches the async engine and sizes the thread pool: four blocking
    calls of one job meet inside the handler. Without the keyword passed through (or with a
    pool of one thread per job) at most one call is ever inside, and the barrier times out."""
    job = fake_pleo.add_job(items=16)
    barrier = threading.Barrier(4, timeout=10)
    inside, most = 0, 0
    lock = threading.Lock()
    calls: Counter[uuid.UUID] = Counter()

    def handler(work: WorkItem[object, object]) -> Booked | Rejected:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
            calls[work.accounting_entry_id] += 1
        try:
            if len(calls) <= 4:
                barrier.wait()  # the first four calls must all be in flight at once
            time.sleep(0.01)
            return _answer(work)
        finally:
            with lock:
                inside -= 1

    worker = ExportWorker(sync_pleo, handler, poll_interval=0.05, max_jobs=1, concurrency=4)
    worker.run(until_idle=True)
    _all_right(fake_pleo, [job])
    assert set(calls.values()) == {1}
    assert most == 4


def test_a_slow_handler_does_not_block_the_loop(fake_pleo: FakePleo, tcp_url: str) -> None:
    """While the handler blocks, other calls on the client go through: the handler waits
    until the test's own call has answered. Run on the loop, it would hold that call up, its
    wait would time out and it would reject the item."""
    job = fake_pleo.add_job(items=1)
    entered, released = threading.Event(), threading.Event()

    def handler(work: WorkItem[object, object]) -> Booked | Rejected:
        entered.set()
        if not released.wait(30):
            return Rejected("the loop was blocked")
        # A handler may call the sync client itself (it is not on the loop thread).
        assert pleo.jobs.get(job).status == "in_progress"
        return Booked(external_id="GL-1")

    with PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url) as pleo:
        worker = ExportWorker(pleo, handler, poll_interval=0.05)
        runner = threading.Thread(target=worker.run, kwargs={"until_idle": True})
        runner.start()
        assert entered.wait(30)
        assert pleo.jobs.get(job).status == "in_progress"  # answered while the handler blocks
        released.set()
        runner.join(60)
    assert fake_pleo.item_status_counts(job) == {"successful": 1}


def test_stop_from_another_thread_then_resume(fake_pleo: FakePleo, tcp_url: str) -> None:
    """``stop()`` from another thread ends ``run()`` with the job left in progress; a new
    worker resumes it and every item ends booked once (the journal replays what the first
    recorded rather than offering it again)."""
    job = fake_pleo.add_job(items=60)
    calls: Counter[uuid.UUID] = Counter()
    holder: list[ExportWorker[object]] = []  # type: ignore[type-var]

    def handler(work: WorkItem[object, object]) -> Booked | Rejected:
        calls[work.accounting_entry_id] += 1
        if sum(calls.values()) == 20:
            holder[0].stop()
        return _answer(work)

    with PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url) as pleo:
        first = ExportWorker(pleo, handler, poll_interval=0.05, resume_idle=0)
        holder.append(first)  # type: ignore[arg-type]
        first.run()  # returns once stop() lands
        assert first.stats.jobs_paused == 1
        assert fake_pleo.job(job)["status"] == "in_progress"
        second = ExportWorker(pleo, handler, poll_interval=0.05, resume_idle=0)
        second.run(until_idle=True)
    _all_right(fake_pleo, [job])
    assert set(calls.values()) == {1}


def _coordinators(kind: str, tmp_path: Path, dsn: Callable[[], str]) -> Callable[[], Coordinator]:
    """Coordinators on one store: each call a new one (one per client: a coordinator is async
    and belongs to the event loop that first uses it, and each sync client has a loop)."""
    if kind == "sqlite":
        return lambda: SQLiteCoordinator(tmp_path / "journal.sqlite", lease_seconds=2)
    url, schema = dsn(), f"sync_{uuid.uuid4().hex[:8]}"
    return lambda: PostgresCoordinator(url, lease_seconds=2, schema=schema)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_two_sync_workers_share_a_coordinator(
    kind: str, fake_pleo: FakePleo, tcp_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Two sync workers (two clients, two threads), each with its coordinator on one store:
    the leases split the jobs, and no entry reaches a handler twice. (One coordinator object
    shared by the two clients' loops failed now and then: its asyncio.Lock, bound to one loop,
    raised "bound to a different event loop" on the other, and the jobs failed.)"""
    jobs = [fake_pleo.add_job(fake_pleo.add_company(), items=40) for _ in range(6)]
    coordinator = _coordinators(kind, tmp_path, lambda: request.getfixturevalue("postgres_dsn"))
    calls: Counter[uuid.UUID] = Counter()
    lock = threading.Lock()

    def handler(work: WorkItem[object, object]) -> Booked | Rejected:
        with lock:
            calls[work.accounting_entry_id] += 1
        time.sleep(0.001)
        return _answer(work)

    def serve() -> None:
        journal = coordinator()
        with PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url) as pleo:
            ExportWorker(pleo, handler, poll_interval=0.05, coordinator=journal).run(
                until_idle=True
            )
            pleo.call(journal.aclose)

    runners = [threading.Thread(target=serve) for _ in range(2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(120)
    _all_right(fake_pleo, jobs)
    assert len(calls) == 240
    assert set(calls.values()) == {1}


def _start(url: str, spec: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEO_")}
    env["CHAOS_WORKER_SYNC"] = "1"
    return subprocess.Popen(
        [sys.executable, str(CHAOS_WORKER), url, spec, str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=CHAOS_WORKER.parent,
    )


def _lines(log: Path) -> list[list[str]]:
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_sync_worker_processes_killed_and_started_again(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A sync worker process is SIGKILLed three times mid-export and started again each time:
    every item ends with its one right status, and an entry handed out again came with
    ``in_doubt`` (a sync worker that lost the journal's intents would repeat one silently)."""
    from tests.reliability._chaos_worker import expected_status

    fake = FakePleo(seed=5)
    jobs = [fake.add_job(fake.add_company(), items=80) for _ in range(3)]
    if kind == "sqlite":
        spec = f"sqlite:{tmp_path / 'journal.sqlite'}"
    else:
        spec = f"postgres:{request.getfixturevalue('postgres_dsn')}|sync_kill"
    log = tmp_path / "calls.log"
    began = time.monotonic()
    with fake.serve() as url:
        worker = _start(url, spec, log)
        try:
            for kill in range(3):
                while len(_lines(log)) < 60 * (kill + 1):
                    assert time.monotonic() - began < 90, "the worker made no progress"
                    time.sleep(0.01)
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
                worker = _start(url, spec, log)
            while any(fake.job(j)["status"] in ("pending", "in_progress") for j in jobs):
                assert time.monotonic() - began < 110, "the jobs did not finish"
                time.sleep(0.02)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
    seen: Counter[str] = Counter()
    for kind_, entry, in_doubt, *_ in _lines(log):
        if kind_ == "start":
            if seen[entry]:
                assert in_doubt == "1", f"{entry} handed out again without in_doubt"
            seen[entry] += 1
    for job in jobs:
        assert fake.job(job)["status"] in ("completed", "completed_with_errors")
        for entry in fake.accounting_entry_ids(job):
            assert fake.item(job, entry)["status"] == expected_status(entry)
    assert len(seen) == 240


def _handler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("pleo-export-handler")]


def test_keyboard_interrupt_stops_the_worker_and_the_job_resumes(
    fake_pleo: FakePleo, tcp_url: str
) -> None:
    """Ctrl-C while ``run()`` waits: KeyboardInterrupt reaches the caller, the job stays
    ``in_progress`` (what was booked is flushed), a new worker resumes it, and an item offered
    twice came back in doubt; afterwards no handler or loop thread is left. A portal that
    only stopped waiting would leave the async worker running (the job would finish without
    the second worker, or the loop thread would outlive ``close()``)."""
    job = fake_pleo.add_job(items=40)
    main = threading.main_thread().ident
    assert main == threading.get_ident()
    calls: Counter[uuid.UUID] = Counter()
    doubted: set[uuid.UUID] = set()
    before = len(portal_threads())

    def handler(work: WorkItem[object, object]) -> Booked | Rejected:
        calls[work.accounting_entry_id] += 1
        if work.in_doubt:
            doubted.add(work.accounting_entry_id)
        if sum(calls.values()) == 10:
            signal.pthread_kill(main, signal.SIGINT)
        time.sleep(0.005)
        return _answer(work)

    with PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url) as pleo:
        first = ExportWorker(pleo, handler, poll_interval=0.05, resume_idle=0)
        with pytest.raises(KeyboardInterrupt):
            first.run()
        assert fake_pleo.job(job)["status"] == "in_progress"
        assert 0 < fake_pleo.item_status_counts(job).get("pending", 0) < 40
        ExportWorker(pleo, handler, poll_interval=0.05, resume_idle=0).run(until_idle=True)
    _all_right(fake_pleo, [job])
    assert {entry for entry, count in calls.items() if count > 1} <= doubted
    deadline = time.monotonic() + 5
    while _handler_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _handler_threads() == []
    assert len(portal_threads()) == before


def test_a_coordinator_given_to_two_sync_clients_is_refused(tcp_url: str, tmp_path: Path) -> None:
    """A coordinator belongs to one sync client's loop (a PostgresCoordinator's lock binds to
    the first loop that waits on it, and its jobs then failed now and then on the other): a
    second client's worker, export run or shared budget with it is refused at once, while the
    first client may use it for any number of workers and runs."""
    journal = SQLiteCoordinator(tmp_path / "journal.sqlite")
    with (
        PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url) as first,
        PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url) as second,
    ):
        ExportWorker(first, _answer, coordinator=journal)
        ExportWorker(first.v3, _answer, coordinator=journal)  # the same client: fine
        with pytest.raises(PleoError, match="another sync client"):
            ExportWorker(second, _answer, coordinator=journal)
        with pytest.raises(PleoError, match="another sync client"):
            second.export_run(uuid.uuid4(), coordinator=journal)
        with pytest.raises(PleoError, match="another sync client"):
            PleoExport(
                api_key=DEFAULT_API_KEY,
                base_url=tcp_url,
                requests_per_minute=100,
                shared_budget=journal,
            )
        first.call(journal.aclose)
