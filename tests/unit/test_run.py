"""``ExportRun`` against an in-memory ``ExportPort``: outcomes flow one way, as ``ItemOutcome``
values, from ``succeeded``/``failed`` to the port's ``report``; no HTTP, no generated models."""

from __future__ import annotations

import asyncio
import uuid
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from memory_port import Entry, MemoryPort

from pleo_export import InvalidArgumentError, PleoError, PleoExport
from pleo_export._errors import InvalidTransitionError
from pleo_export._outcome import ItemOutcome, OutcomeStatus
from pleo_export._run import ExportRun, WorkItem
from pleo_export.testing import DEFAULT_API_KEY, FakePleo


async def test_outcomes_reach_the_port_as_item_outcomes() -> None:
    """``succeeded`` and ``failed`` become ``ItemOutcome`` values the port reports, with every
    field the caller gave; a dict or a generated model reaching the port fails this."""
    port = MemoryPort(items=2)
    booked_at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    async with ExportRun(port, port.job) as run:
        works = [work async for work in run.pending()]
        run.succeeded(
            works[0], external_id="JE-1", external_url="https://erp/1", exported_at=booked_at
        )
        run.failed(works[1], reason="no vendor", reason_type="vendor_unknown")
    ok, bad = works[0].accounting_entry_id, works[1].accounting_entry_id
    assert port.reported == [
        ItemOutcome(ok, OutcomeStatus.SUCCESSFUL, "JE-1", "https://erp/1", booked_at),
        ItemOutcome(
            bad,
            OutcomeStatus.FAILED,
            failure_reason="no vendor",
            failure_reason_type="vendor_unknown",
        ),
    ]
    assert port.events == ["started", "completed_with_errors"]
    assert run.final_status == "completed_with_errors"


async def test_work_items_pair_job_item_and_export_item() -> None:
    """Each ``WorkItem`` joins the job item and export item of one entry; a mismatched pair or a
    missing item fails this."""
    port = MemoryPort(items=3)
    async with ExportRun(port, port.job.id) as run:
        works: list[WorkItem[Entry, Entry]] = [work async for work in run.pending()]
        for work in works:
            run.succeeded(work)
    assert sorted(w.accounting_entry_id for w in works) == sorted(
        i.accounting_entry_id for i in port.items
    )
    assert all(w.item.accounting_entry_id == w.export_item.accounting_entry_id for w in works)
    assert port.events == ["started", "completed"]


async def test_an_unknown_failure_type_is_refused_and_nothing_is_recorded() -> None:
    """The port's enum check refuses an unknown reason type before the outcome is recorded, so
    the entry can still be reported; recording it anyway fails this."""
    port = MemoryPort(items=1)
    async with ExportRun(port, port.job) as run:
        (work,) = [work async for work in run.pending()]
        with pytest.raises(InvalidArgumentError):
            run.failed(work, reason="x", reason_type="no_such_type")
        run.failed(work, reason="x", reason_type="vendor_unknown")
    assert [o.failure_reason_type for o in port.reported] == ["vendor_unknown"]


async def test_a_second_outcome_for_one_entry_is_refused() -> None:
    """Each entry takes one outcome per run; accepting a second (which Pleo would apply in
    either order) fails this."""
    port = MemoryPort(items=1)
    async with ExportRun(port, port.job) as run:
        (work,) = [work async for work in run.pending()]
        run.succeeded(work)
        with pytest.raises(InvalidArgumentError, match="already has an outcome"):
            run.failed(work, reason="late")
    assert len(port.reported) == 1


async def test_a_run_is_entered_once_and_closed_after() -> None:
    """Entering a run twice, or recording after it closed, raises ``PleoError``; a run state
    that reopens fails this."""
    port = MemoryPort(items=0)
    run = ExportRun(port, port.job)
    async with run:
        pass
    with pytest.raises(PleoError, match="entered only once"):
        await run.__aenter__()
    with pytest.raises(PleoError, match="not open"):
        run.succeeded(uuid.uuid4())
    assert port.events == ["started", "completed"]


async def test_a_final_job_is_refused_before_any_event() -> None:
    """A completed job cannot be run: ``InvalidTransitionError`` and no event posted."""
    port = MemoryPort(items=1, status="completed")
    with pytest.raises(InvalidTransitionError):
        async with ExportRun(port, port.job):
            pass
    assert port.events == []


class _SlowPort(MemoryPort):
    """A port whose update batches take a moment, counting the most in flight at once."""

    inflight = peak = 0

    async def report(self, job_id: uuid.UUID, outcomes: Sequence[ItemOutcome]) -> Any:
        self.inflight += 1
        self.peak = max(self.peak, self.inflight)
        await asyncio.sleep(0.01)
        self.inflight -= 1
        return await super().report(job_id, outcomes)


async def _peak_puts(**options: Any) -> int:
    port = _SlowPort(items=500)
    async with ExportRun(port, port.job, **options) as run:
        async for work in run.pending():
            run.succeeded(work)
    assert port.events == ["started", "completed"]
    return port.peak


async def test_update_concurrency_bounds_the_puts_and_concurrency_is_its_old_name() -> None:
    """``update_concurrency`` is the number of update batches in flight; ``concurrency=`` still
    sets it for one release, with a ``DeprecationWarning`` naming the new keyword; both at once
    with different values are refused. A shim that ignores the value, or stays silent, fails
    this."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new name warns of nothing
        assert await _peak_puts(update_concurrency=3) == 3
    with pytest.warns(DeprecationWarning, match=r"concurrency= is deprecated.*update_concurrency="):
        assert await _peak_puts(concurrency=2) == 2
    port = MemoryPort(items=1)
    with pytest.raises(InvalidArgumentError, match="update_concurrency"):
        ExportRun(port, port.job, concurrency=2, update_concurrency=3)


async def test_export_run_takes_the_new_name_and_warns_only_for_the_old() -> None:
    """``pleo.v3.export_run(concurrency=8)`` warns at the caller's line; ``pleo.export_run(job)``
    and ``pleo.v3.export_run(job, update_concurrency=8)`` do not warn."""
    fake = FakePleo(seed=5)
    job = fake.add_job(items=1)
    http = httpx.AsyncClient(transport=fake.transport())
    async with PleoExport(
        api_key=DEFAULT_API_KEY, base_url="http://127.0.0.1", http_client=http
    ) as pleo:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pleo.export_run(job)
            pleo.v3.export_run(job, update_concurrency=8)
        with pytest.warns(DeprecationWarning, match="update_concurrency=") as caught:
            pleo.v3.export_run(job, concurrency=8)
    await http.aclose()
    assert [Path(w.filename).name for w in caught] == ["test_run.py"]
