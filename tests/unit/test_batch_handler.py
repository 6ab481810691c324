"""Batch handlers over an in-memory ``ExportPort``: up to ``batch_size`` items a call, one
answer per item (by accounting entry id or in order), and the single-item rules for each
answer; a raise or an answer that does not fit its batch retries the whole batch in doubt."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest
from memory_port import Entry, MemoryPort

from pleo_export import Booked, ExportWorker, Outcome, Rejected, Retry, WorkItem
from pleo_export._outcome import OutcomeStatus
from pleo_export.coordination import InMemoryCoordinator, ItemOutcome, Lease

WAIT = 5.0
Batch = Sequence[WorkItem[Entry, Entry]]


def _worker(port: MemoryPort, handler: Any, **options: Any) -> ExportWorker[Any]:
    # A bare ExportPort stands in for pleo.v3; the worker keeps its own in-memory journal.
    source: Any = port
    return ExportWorker(source, handler, resume_idle=0, **options)


def _statuses(port: MemoryPort) -> dict[uuid.UUID, OutcomeStatus]:
    return {o.accounting_entry_id: o.status for o in port.reported}


@pytest.mark.parametrize("form", ["mapping", "sequence"])
async def test_batches_are_cut_to_size_and_each_answer_counts_for_its_item(form: str) -> None:
    """Seven items at ``batch_size=3`` go out as 3 + 3 + 1, each item once; a mapping by entry
    id or a sequence in order books, rejects and retries item by item (the retried item comes
    back in the last batch, not in doubt). An answer applied to the wrong item, a lost item or
    a batch over the size fails this."""
    port = MemoryPort(items=7)
    entries = [item.accounting_entry_id for item in port.items]
    rejected, retried = entries[1], entries[4]
    sizes: list[int] = []
    again: list[bool] = []

    async def book(batch: Batch) -> Mapping[uuid.UUID, Outcome] | list[Outcome]:
        sizes.append(len(batch))
        answers: list[Outcome] = []
        for work in batch:
            entry = work.accounting_entry_id
            if entry == rejected:
                answers.append(Rejected("no vendor", reason_type="vendor_unknown"))
            elif entry == retried and len(sizes) == 2:
                answers.append(Retry(0.0, "ERP busy"))
            else:
                if entry == retried:
                    again.append(work.in_doubt)
                answers.append(Booked(external_id=f"JE-{entry.hex[:6]}"))
        if form == "mapping":  # reversed: the mapping's order must not matter
            pairs = zip((w.accounting_entry_id for w in batch), answers, strict=True)
            return dict(reversed(list(pairs)))
        return answers

    worker = _worker(port, book, batch_size=3)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    assert sizes == [3, 3, 2]  # the retried item first, then the last new one
    assert again == [False]
    statuses = _statuses(port)
    assert len(port.reported) == 7
    assert statuses[rejected] is OutcomeStatus.FAILED
    assert [e for e, s in statuses.items() if s is OutcomeStatus.SUCCESSFUL] == [
        e for e in statuses if e != rejected
    ]
    assert port.events == ["started", "completed_with_errors"]
    assert (worker.stats.items_booked, worker.stats.items_failed) == (6, 1)
    assert worker.stats.items_retried == 1


async def test_a_raising_batch_handler_retries_every_item_in_doubt() -> None:
    """The first call raises: each of its items is offered again with ``in_doubt`` (the ERP may
    have booked any of them) and booked then. Offering them again not in doubt, or failing
    them at once, fails this."""
    port = MemoryPort(items=4)
    calls: list[list[tuple[uuid.UUID, bool]]] = []

    def book(batch: Batch) -> list[Booked]:
        calls.append([(w.accounting_entry_id, w.in_doubt) for w in batch])
        if len(calls) == 1:
            raise ConnectionError("ledger down")
        return [Booked() for _ in batch]

    worker = _worker(port, book, batch_size=4)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    first = {entry for entry, _ in calls[0]}
    again = [(entry, doubt) for call in calls[1:] for entry, doubt in call]
    assert {entry for entry, _ in again} == first
    assert all(doubt for _, doubt in again)
    assert set(_statuses(port).values()) == {OutcomeStatus.SUCCESSFUL}
    assert port.events == ["started", "completed"]
    assert worker.stats.items_retried == 4


def _mismatched(kind: str, batch: Batch) -> object:
    """An answer that does not fit ``batch``, of one kind."""
    ids = [w.accounting_entry_id for w in batch]
    if kind == "missing id":
        return {entry: Booked() for entry in ids[1:]}
    if kind == "unknown id":
        return {**{entry: Booked() for entry in ids}, uuid.uuid4(): Booked()}
    if kind == "str keys":
        return {str(entry): Booked() for entry in ids}
    if kind == "short sequence":
        return [Booked() for _ in ids[1:]]
    return Booked()  # one answer for the whole batch


@pytest.mark.parametrize(
    "kind", ["missing id", "unknown id", "str keys", "short sequence", "not a collection"]
)
async def test_an_answer_that_does_not_fit_its_batch_is_treated_as_a_raise(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch answer with an id missing, an id not in the batch, or the wrong length is a bug
    in the handler: nothing is recorded from it, the ``BatchAnswerError`` is logged, every item
    comes back in doubt, and once the handler answers right all are booked. Recording the
    answered items of a bad answer, or an item left with no outcome, fails this."""
    caplog.set_level(logging.WARNING, logger="pleo_export")
    port = MemoryPort(items=3)
    calls: list[list[bool]] = []

    def book(batch: Batch) -> Any:
        calls.append([w.in_doubt for w in batch])
        if len(calls) == 1:
            return _mismatched(kind, batch)
        return [Booked() for _ in batch]

    worker = _worker(port, book, batch_size=3)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    assert calls == [[False] * 3, [True] * 3]
    assert len(port.reported) == 3
    assert set(_statuses(port).values()) == {OutcomeStatus.SUCCESSFUL}
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is not None]
    assert [r.exc_info[0].__name__ for r in logged if r.exc_info and r.exc_info[0]] == [
        "BatchAnswerError"
    ]


async def test_a_batch_handler_that_never_fits_fails_its_items_after_their_attempts() -> None:
    """A handler whose answer never fits fails each item ``unexpected_failure`` after
    ``max_attempts``, with the typed error as the short reason; none is left unreported."""
    port = MemoryPort(items=2)

    def book(batch: Batch) -> list[Booked]:
        return []

    worker = _worker(port, book, batch_size=2, max_attempts=2)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    assert len(port.reported) == 2
    assert {o.failure_reason_type for o in port.reported} == {"unexpected_failure"}
    assert {o.failure_reason for o in port.reported} == {
        "BatchAnswerError: the batch handler answered 0 outcomes for a batch of 2"
    }
    assert port.events == ["started", "failed"]


@pytest.mark.parametrize("batch_size", [None, 3])
async def test_concurrency_counts_calls_in_flight(batch_size: int | None) -> None:
    """``concurrency=2`` keeps two calls (batches, with ``batch_size``) in flight, never
    three; one at a time (a worker that drops the keyword), or more than two, fails this."""
    port = MemoryPort(items=20)
    inflight = peak = 0

    async def call(size: int) -> None:
        nonlocal inflight, peak
        inflight += 1
        peak = max(peak, inflight)
        await asyncio.sleep(0.01)
        inflight -= 1

    async def book_one(work: WorkItem[Entry, Entry]) -> Booked:
        await call(1)
        return Booked()

    async def book_many(batch: Batch) -> list[Booked]:
        await call(len(batch))
        return [Booked() for _ in batch]

    worker = (
        _worker(port, book_one, concurrency=2)
        if batch_size is None
        else _worker(port, book_many, batch_size=batch_size, concurrency=2)
    )
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    assert peak == 2
    assert worker.concurrency == 2
    assert len(port.reported) == 20


class _Recording(InMemoryCoordinator):
    """An in-memory coordinator that remembers every intent written."""

    def __init__(self) -> None:
        super().__init__()
        self.intents: set[uuid.UUID] = set()

    async def write(
        self,
        lease: Lease,
        *,
        intents: Iterable[uuid.UUID] = (),
        outcomes: Iterable[ItemOutcome] = (),
        confirmed: Iterable[uuid.UUID] = (),
    ) -> None:
        """Write, and remember the intents."""
        intents = list(intents)
        await super().write(lease, intents=intents, outcomes=outcomes, confirmed=confirmed)
        self.intents.update(intents)


async def test_a_whole_batch_is_journaled_before_its_call_and_comes_back_in_doubt() -> None:
    """When the handler is called every item of its batch is journaled as handed out; the run
    is cancelled mid-call (as a crash ends it) and the next run offers every item of that
    batch in doubt (with the rest of the intent batch read ahead: here all five). A batch
    handed out before its intents are written, or an item of it offered again as new, fails
    this."""
    port = MemoryPort(items=5)
    journal = _Recording()
    journaled: list[bool] = []
    entered = asyncio.Event()
    first: list[uuid.UUID] = []

    async def hang(batch: Batch) -> list[Booked]:
        first.extend(w.accounting_entry_id for w in batch)
        journaled.append(set(first) <= journal.intents)
        entered.set()
        await asyncio.Event().wait()
        return []

    worker = _worker(port, hang, batch_size=3, coordinator=journal, grace=0.01)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(entered.wait(), WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert journaled == [True]
    assert len(first) == 3
    doubts: dict[uuid.UUID, bool] = {}

    def book(batch: Batch) -> list[Booked]:
        doubts.update((w.accounting_entry_id, w.in_doubt) for w in batch)
        return [Booked() for _ in batch]

    await asyncio.wait_for(
        _worker(port, book, batch_size=3, coordinator=journal).run(until_idle=True), WAIT
    )
    assert set(first) <= {entry for entry, doubt in doubts.items() if doubt}
    assert len(doubts) == 5
    assert port.events == ["started", "completed"]


async def test_five_failing_batches_open_the_breaker_and_one_item_probes() -> None:
    """The breaker counts calls, not items: five batch calls failing in a row open it (a count
    by item would open it after the second call), the probe is a call of one item, and once it
    books, full batches resume; no item fails for the outage."""
    port = MemoryPort(items=12)
    sizes: list[int] = []

    def book(batch: Batch) -> list[Booked]:
        sizes.append(len(batch))
        if len(sizes) <= 5:
            raise ConnectionError("ERP down")
        return [Booked() for _ in batch]

    worker = _worker(port, book, batch_size=4)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    assert sizes[:6] == [4, 4, 4, 4, 4, 1]
    assert max(sizes[6:]) == 4
    assert worker.stats.outages == 1
    assert set(_statuses(port).values()) == {OutcomeStatus.SUCCESSFUL}
    assert port.events == ["started", "completed"]
