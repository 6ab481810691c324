"""Batch updates: the chunking rule, one aggregate result with nothing dropped, validation before
any request, bounded concurrency, ``raise_on_error`` and clean cancellation; the run's outbox
sending through the journal and keeping each answer."""

from __future__ import annotations

import asyncio
import collections.abc
import dataclasses
import json
import types
import typing
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from memory_port import COMPANY, Answer, MemoryPort
from pytest_httpx import HTTPXMock

from pleo_export import (
    BatchUpdateError,
    InvalidArgumentError,
    JobFinishedError,
    PleoExport,
)
from pleo_export._batch import Outbox, chunk
from pleo_export._journal import RunJournal
from pleo_export._outcome import ItemOutcome, JobRef, OutcomeStatus
from pleo_export._reader import RunStats
from pleo_export.coordination import InMemoryCoordinator

JOB_ID = "0d6e4a2b-7c1f-4e3a-9b5d-2f8a6c4e1b3d"
ITEMS_URL = f"http://127.0.0.1:9/v3/export-jobs/{JOB_ID}/items"


def _updates(count: int) -> list[dict[str, Any]]:
    return [
        {
            "accountingEntryId": str(uuid.UUID(int=n + 1)),
            "status": "successful",
            "externalId": f"V{n}",
        }
        for n in range(count)
    ]


def _echo(request: httpx.Request, *, error_every: int = 0) -> httpx.Response:
    """Answer a PUT the way Pleo does: updated items in ``data``, refusals in ``errors``."""
    data, errors = [], []
    for position, update in enumerate(json.loads(request.content)):
        entry = update["accountingEntryId"]
        if error_every and position % error_every == 0:
            errors.append(
                {
                    "accountingEntryId": entry,
                    "message": "no such entry",
                    "type": "ACCOUNTING_ENTRY_DOES_NOT_EXIST",
                }
            )
        else:
            data.append(
                {"accountingEntryId": entry, "exportJobId": JOB_ID, "status": update["status"]}
            )
    return httpx.Response(200, json={"data": data, "errors": errors})


@pytest.mark.parametrize(
    ("count", "sizes"),
    [(0, []), (1, [1]), (100, [100]), (101, [100, 1]), (250, [100, 100, 50])],
)
def test_chunk_splits_into_batches_of_at_most_100(count: int, sizes: list[int]) -> None:
    """Consecutive slices of 100, the last one shorter, order kept."""
    items = list(range(count))
    batches = chunk(items)
    assert [len(batch) for batch in batches] == sizes
    assert [item for batch in batches for item in batch] == items


def test_chunk_refuses_a_size_below_one() -> None:
    """A batch size must be positive."""
    with pytest.raises(ValueError, match="size"):
        chunk([1, 2], 0)


async def test_250_updates_go_in_3_batches_with_every_error_kept(
    pleo: PleoExport, httpx_mock: HTTPXMock
) -> None:
    """100 + 100 + 50; the items updated and the per-item errors of all batches are returned."""
    httpx_mock.add_callback(
        lambda request: _echo(request, error_every=10), url=ITEMS_URL, is_reusable=True
    )
    result = await pleo.job_items.update_all(JOB_ID, _updates(250))
    sizes = sorted(len(json.loads(request.content)) for request in httpx_mock.get_requests())
    assert sizes == [50, 100, 100]
    assert result.batches == 3
    assert len(result.updated) == 225
    assert len(result.errors) == 25
    assert {error.type_ for error in result.errors} == {"ACCOUNTING_ENTRY_DOES_NOT_EXIST"}
    assert result.failed_batches == []
    assert not result.ok


async def test_a_failed_batch_is_kept_with_its_updates_and_error(
    pleo: PleoExport, httpx_mock: HTTPXMock
) -> None:
    """A batch Pleo refuses as a whole is reported with its exception and the caller's updates."""
    updates = _updates(150)
    httpx_mock.add_response(
        url=ITEMS_URL,
        status_code=422,
        json={"type": "EXPORT_JOB_STATUS_UNPROCESSABLE", "message": "finished"},
        match_json=updates[100:],
    )
    httpx_mock.add_callback(_echo, url=ITEMS_URL, match_json=updates[:100])
    result = await pleo.job_items.update_all(JOB_ID, updates, concurrency=1)
    assert len(result.updated) == 100
    (failed,) = result.failed_batches
    assert failed.index == 1
    assert isinstance(failed.error, JobFinishedError)
    assert list(failed.updates) == updates[100:]
    assert result.failed_updates == updates[100:]


async def test_raise_on_error_raises_one_error_with_the_whole_result(
    pleo: PleoExport, httpx_mock: HTTPXMock
) -> None:
    """``raise_on_error=True`` turns any unapplied update into one BatchUpdateError."""
    httpx_mock.add_callback(
        lambda request: _echo(request, error_every=50), url=ITEMS_URL, is_reusable=True
    )
    with pytest.raises(BatchUpdateError) as caught:
        await pleo.job_items.update_all(JOB_ID, _updates(120), raise_on_error=True)
    result = caught.value.result
    assert result.batches == 2
    assert len(result.updated) + len(result.errors) == 120
    assert "refused by Pleo" in str(caught.value)


async def test_a_clean_call_does_not_raise(pleo: PleoExport, httpx_mock: HTTPXMock) -> None:
    """With every update applied, ``raise_on_error`` has nothing to raise."""
    httpx_mock.add_callback(_echo, url=ITEMS_URL)
    result = await pleo.job_items.update_all(JOB_ID, _updates(3), raise_on_error=True)
    assert result.ok


async def test_nothing_to_send_sends_nothing(pleo: PleoExport, httpx_mock: HTTPXMock) -> None:
    """An empty list is a no-op, not an error."""
    result = await pleo.job_items.update_all(JOB_ID, [])
    assert result.batches == 0
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    ("bad", "argument"),
    [
        ({"accountingEntryId": "nope", "status": "successful"}, "updates[150]"),
        ({"accountingEntryId": str(uuid.UUID(int=1)), "status": "successful"}, "updates[150]"),
        ({"accountingEntryId": str(uuid.uuid4()), "status": "succesful"}, "updates[150].status"),
    ],
    ids=["bad-id", "duplicate", "typo"],
)
async def test_every_update_is_checked_before_the_first_request(
    pleo: PleoExport, httpx_mock: HTTPXMock, bad: dict[str, Any], argument: str
) -> None:
    """A malformed or repeated update deep in the list stops the call before any batch goes."""
    updates = [*_updates(150), bad]
    with pytest.raises(InvalidArgumentError) as caught:
        await pleo.job_items.update_all(JOB_ID, updates)
    assert caught.value.argument == argument
    assert httpx_mock.get_requests() == []


async def test_concurrency_bounds_the_batches_in_flight(
    pleo: PleoExport, httpx_mock: HTTPXMock
) -> None:
    """With ``concurrency=3`` no more than three PUTs are ever outstanding."""
    in_flight, peak = 0, 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.005)
        in_flight -= 1
        return _echo(request)

    httpx_mock.add_callback(slow, url=ITEMS_URL, is_reusable=True)
    result = await pleo.job_items.update_all(JOB_ID, _updates(1000), concurrency=3)
    assert result.batches == 10
    assert len(result.updated) == 1000
    assert peak == 3


async def test_a_concurrency_below_one_is_refused(pleo: PleoExport) -> None:
    """At least one batch must be allowed in flight."""
    with pytest.raises(InvalidArgumentError, match="concurrency"):
        await pleo.job_items.update_all(JOB_ID, _updates(1), concurrency=0)


async def test_cancelling_update_all_leaves_no_task_behind(
    pleo: PleoExport, httpx_mock: HTTPXMock
) -> None:
    """Cancelled mid-flight, the call raises CancelledError and its senders are gone."""
    entered = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        entered.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    httpx_mock.add_callback(hang, url=ITEMS_URL, is_reusable=True)
    before = asyncio.all_tasks()
    task = asyncio.create_task(pleo.job_items.update_all(JOB_ID, _updates(400)))
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert asyncio.all_tasks() == before


async def test_v2_update_all_uses_the_v2_endpoint(pleo: PleoExport, httpx_mock: HTTPXMock) -> None:
    """``pleo.v2.job_items.update_all`` batches against /v2 with the v2 models."""
    url = f"http://127.0.0.1:9/v2/export-jobs/{JOB_ID}/items"
    httpx_mock.add_callback(_echo, url=url, is_reusable=True)
    result = await pleo.v2.job_items.update_all(JOB_ID, _updates(101))
    assert result.batches == 2
    assert len(result.updated) == 101


def test_the_outbox_is_given_values_not_callables() -> None:
    """Outcomes flow one way (issue 25): the outbox is handed the journal, the version and the
    run's counters, and no function to call back up into the recorder. Fails if a parameter is
    annotated as a ``Callable`` or as a protocol with ``__call__`` (a send lambda, an
    ``on_result``)."""
    hints = typing.get_type_hints(Outbox.__init__)
    hints.pop("return")
    assert set(hints) >= {"journal", "port", "job_id", "counts"}
    for name, hint in hints.items():
        union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        for option in typing.get_args(hint) if union else (hint,):
            kind = typing.get_origin(option) or option
            assert kind is not collections.abc.Callable, name
            if isinstance(kind, type):
                calls = [k for k in kind.__mro__ if k is not object and "__call__" in vars(k)]
                assert not calls, (name, calls)


async def test_the_outbox_sends_through_the_journal_and_keeps_each_answer() -> None:
    """A flushed batch is journaled, then reported through the version, and its answer lands
    in the values the run reads: the counters it was given, and its own ``delivered`` and
    ``errors``. Fails if the outbox bypassed the journal (no outcome journaled), or dropped or
    miscounted the answer (batches, delivered, statuses, item errors)."""
    port = MemoryPort(3)
    refused = port.items[2].accounting_entry_id

    async def report(job_id: uuid.UUID, outcomes: Sequence[ItemOutcome]) -> Answer:
        answer = await MemoryPort.report(port, job_id, outcomes[:2])
        answer.errors.append(_Refusal(refused, "ACCOUNTING_ENTRY_DOES_NOT_EXIST", "no such"))
        return answer

    port.report = report  # type: ignore[method-assign]
    coordinator = InMemoryCoordinator()
    journal = RunJournal(coordinator, "holder")
    await journal.acquire(JobRef(port.job.id, COMPANY, "v3"))
    counts = RunStats()
    outbox = Outbox(journal, port, port.job.id, counts)
    outcomes = [
        ItemOutcome(item.accounting_entry_id, OutcomeStatus.SUCCESSFUL) for item in port.items
    ]
    for outcome in outcomes:
        journal.note(outcome)
        outbox.add(outcome)
    await outbox.flush()
    assert journal.journaled == {o.accounting_entry_id for o in outcomes}
    assert [o.accounting_entry_id for o in port.reported] == [
        o.accounting_entry_id for o in outcomes[:2]
    ]
    assert (counts.flushed_batches, counts.delivered, counts.item_errors) == (1, 2, 1)
    assert outbox.delivered == {"successful": 2}
    assert [error.accounting_entry_id for error in outbox.errors] == [refused]
    assert len(outbox) == 0
    assert outbox.failure is None


@dataclasses.dataclass
class _Refusal:
    accounting_entry_id: uuid.UUID
    type_: str
    message: str
