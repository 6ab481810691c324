"""An export run on a coordinator: the lease taken before anything is posted, resume from the
journal (replayed outcomes, in-doubt items), fencing, purge; and ``critical``'s cancel rules."""

from __future__ import annotations

import asyncio

import pytest
from memory_port import COMPANY, MemoryPort

from pleo_export import LeaseHeldError, LeaseLostError
from pleo_export._journal import RunJournal, critical
from pleo_export._outcome import ItemOutcome, JobRef, OutcomeStatus
from pleo_export._run import ExportRun
from pleo_export.coordination import InMemoryCoordinator, Lease


def _ref(port: MemoryPort) -> JobRef:
    return JobRef(port.job.id, COMPANY, "v3")


async def _lease(coordinator: InMemoryCoordinator, port: MemoryPort, holder: str) -> Lease:
    lease = await coordinator.acquire(_ref(port), holder)
    assert isinstance(lease, Lease)
    return lease


async def test_a_resumed_run_reports_journaled_outcomes_and_offers_intents_in_doubt() -> None:
    """Resuming a job whose journal holds one outcome and one bare intent: the outcome is
    reported without its item being offered, the intent's item comes back ``in_doubt``, the
    rest come fresh, and the journal is purged at the end. Offering the journaled item again,
    or the intent's item as new, fails this."""
    port = MemoryPort(items=3, status="in_progress")
    done, doubtful, fresh = (item.accounting_entry_id for item in port.items)
    coordinator = InMemoryCoordinator()
    earlier = await _lease(coordinator, port, "earlier")
    journaled = ItemOutcome(done, OutcomeStatus.SUCCESSFUL, external_id="JE-1")
    await coordinator.write(earlier, intents=[done, doubtful], outcomes=[journaled])
    await coordinator.release(earlier)

    async with ExportRun(port, port.job, coordinator=coordinator, holder="now") as run:
        works = [work async for work in run.pending()]
        for work in works:
            run.succeeded(work, external_id="JE-2")
    assert {w.accounting_entry_id: w.in_doubt for w in works} == {doubtful: True, fresh: False}
    assert all(w.fencing_token == run.fencing_token > earlier.token for w in works)
    assert journaled in port.reported
    assert (run.stats.replayed, run.stats.in_doubt) == (1, 1)
    assert port.events == ["completed"]
    lease = await _lease(coordinator, port, "after")
    assert (await coordinator.load(lease)).is_empty  # purged once final


async def test_a_job_leased_elsewhere_is_refused_before_any_event() -> None:
    """Another holder's live lease makes entering raise ``LeaseHeldError`` with nothing posted;
    a run that claims the job anyway fails this."""
    port = MemoryPort(items=2)
    coordinator = InMemoryCoordinator()
    await _lease(coordinator, port, "other")
    with pytest.raises(LeaseHeldError) as caught:
        async with ExportRun(port, port.job, coordinator=coordinator, holder="me"):
            pass
    assert caught.value.holder == "other"
    assert port.events == []


async def test_a_superseded_run_stops_without_reporting_or_posting() -> None:
    """Once a newer holder has the job, the old run's next journal write raises
    ``LeaseLostError``: it reports nothing, posts no final event, and hands out nothing beyond
    the batch in hand and the one journaled ahead before the takeover."""
    port = MemoryPort(items=350)
    coordinator = InMemoryCoordinator()
    run = ExportRun(port, port.job, coordinator=coordinator, holder="old")
    handed = 0

    async def work_through() -> None:
        nonlocal handed
        async with run:
            async for work in run.pending():
                handed += 1
                run.succeeded(work)
                if handed == 10:  # a restarted instance of the holder takes the job over
                    lease = await _lease(coordinator, port, "old")
                    assert lease.token > run.fencing_token

    with pytest.raises(LeaseLostError):
        await work_through()
    assert handed <= 200  # the third intent batch's write was refused
    assert port.reported == []
    assert port.events == ["started"]


async def test_critical_finishes_its_step_through_two_cancels_then_reraises() -> None:
    """A step under ``critical`` runs to its end although the caller is cancelled twice while
    it runs; the caller still ends cancelled. A plain ``await`` would abandon the step."""
    finished = asyncio.Event()

    async def step() -> None:
        await asyncio.sleep(0.02)
        finished.set()

    task = asyncio.create_task(critical(step()))
    await asyncio.sleep(0.005)
    task.cancel()
    await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished.is_set()


class _Watch:
    """Records what a journal tells about its lease."""

    def __init__(self) -> None:
        self.renewed = asyncio.Event()
        self.renewals = 0
        self.losses = 0

    def lease_renewed(self) -> None:
        self.renewals += 1
        self.renewed.set()

    def lease_lost(self) -> None:
        self.losses += 1


async def test_the_lease_watch_hears_each_renewal_and_one_loss() -> None:
    """The journal tells its watch (the worker metrics' lease counters) of a background renewal,
    and of the loss of its lease once, however many later calls find it lost; fails if either
    call is not wired or a loss is counted per failed call."""
    port = MemoryPort(items=1)
    coordinator = InMemoryCoordinator(lease_seconds=0.3)
    watch = _Watch()
    journal = RunJournal(coordinator, "watched", watch)
    await journal.acquire(_ref(port))
    journal.start_renewing()
    await asyncio.wait_for(watch.renewed.wait(), timeout=5)
    assert watch.renewals >= 1
    newer = await _lease(coordinator, port, "watched")  # a restarted instance takes it over
    assert newer.token > journal.token
    for _ in range(2):
        with pytest.raises(LeaseLostError):
            await journal.load()
    assert watch.losses == 1
    await journal.close(purge=False)
