"""Export runs and batch updates against the fake Pleo: claim or resume, join items with their
data, report every item exactly once, and end the job with the event its outcomes call for."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from pleo_export import (
    BatchUpdateError,
    ExportRun,
    InvalidArgumentError,
    InvalidTransitionError,
    PleoError,
    PleoExport,
    ServerError,
)
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

from .conftest import IN_PROCESS_URL


def _job_events(fake: FakePleo, job_id: str) -> list[str | None]:
    return [event.event for event in fake.events(job_id, "job_status")]


def _reported_once(fake: FakePleo, job_id: str, count: int) -> bool:
    counts = fake.item_update_counts(job_id)
    return len(counts) == count and set(counts.values()) == {1}


async def _book_all(run: ExportRun, *, fail_every: int = 0) -> None:
    """Book every pending item, failing every ``fail_every``-th one (1-based)."""
    position = 0
    async for work in run.pending():
        position += 1
        if fail_every and position % fail_every == 0:
            run.failed(work, reason="No vendor matches", reason_type="vendor_unknown")
        else:
            run.succeeded(work, external_id=f"V-{position}", external_url="https://erp.test/v")


async def test_a_clean_run_completes_the_job(fake_pleo: FakePleo, pleo: PleoExport) -> None:
    """Every item booked: started, 3 batches for 250 items, each item reported once, completed."""
    job_id = fake_pleo.add_job(items=250)
    async with pleo.export_run(job_id) as run:
        await _book_all(run)
    assert run.final_status == "completed"
    assert fake_pleo.job(job_id)["status"] == "completed"
    assert _job_events(fake_pleo, job_id) == ["started", "completed"]
    assert _reported_once(fake_pleo, job_id, 250)
    assert run.stats.total == 250
    assert run.stats.succeeded == run.stats.delivered == 250
    assert run.stats.flushed_batches == 3
    assert fake_pleo.request_counts["updateExportJobItemsV3"] == 3
    item = fake_pleo.item(job_id, fake_pleo.accounting_entry_ids(job_id, 0, 1)[0])
    assert item["status"] == "successful"
    assert item["externalId"].startswith("V-")
    assert item["exportedAt"] is not None


async def test_some_failed_items_complete_with_errors(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """A few items failed: completed_with_errors, and the failures carry reason and type."""
    job_id = fake_pleo.add_job(items=40)
    async with pleo.export_run(job_id) as run:
        await _book_all(run, fail_every=10)
    assert run.final_status == "completed_with_errors"
    assert fake_pleo.item_status_counts(job_id) == {"successful": 36, "failed": 4}
    failed = [
        fake_pleo.item(job_id, entry)
        for entry in fake_pleo.accounting_entry_ids(job_id)
        if fake_pleo.item(job_id, entry)["status"] == "failed"
    ]
    assert {(item["failureReason"], item["failureReasonType"]) for item in failed} == {
        ("No vendor matches", "vendor_unknown")
    }
    assert (run.stats.succeeded, run.stats.failed) == (36, 4)


async def test_every_item_failing_fails_the_job(fake_pleo: FakePleo, pleo: PleoExport) -> None:
    """Nothing booked: the job fails, with a job-level type derived from the items' types."""
    job_id = fake_pleo.add_job(items=5)
    async with pleo.export_run(job_id) as run:
        await _book_all(run, fail_every=1)
    job = fake_pleo.job(job_id)
    assert job["status"] == "failed"
    assert job["failureReasonType"] == "validation_failure"
    assert "None of the job's items" in job["failureReason"]


async def test_an_empty_job_completes(fake_pleo: FakePleo, pleo: PleoExport) -> None:
    """A job without items has nothing that failed, so it completes."""
    job_id = fake_pleo.add_job(items=0)
    async with pleo.export_run(job_id) as run:
        await _book_all(run)
    assert fake_pleo.job(job_id)["status"] == "completed"


async def test_an_error_in_the_block_fails_the_job_and_propagates(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """What was recorded is flushed, the job fails as integration_unusable, the error goes on."""
    job_id = fake_pleo.add_job(items=30)
    run = pleo.export_run(job_id)

    async def export() -> None:
        async with run:
            async for work in run.pending():
                if run.stats.succeeded == 7:
                    raise KeyError("ledger account missing")
                run.succeeded(work)

    with pytest.raises(KeyError, match="ledger"):
        await export()
    job = fake_pleo.job(job_id)
    assert job["status"] == "failed"
    assert job["failureReasonType"] == "integration_unusable"
    assert "KeyError" in job["failureReason"]
    assert "ledger account missing" in job["failureReason"]
    assert sum(fake_pleo.item_update_counts(job_id).values()) == 7
    assert run.final_status == "failed"


async def test_resuming_an_in_progress_job_sends_no_second_started(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """An in_progress job is picked up as it is; the event log shows no ``started`` from us."""
    job_id = fake_pleo.add_job(items=12, status="in_progress")
    async with pleo.export_run(job_id) as run:
        assert run.resumed
        await _book_all(run)
    assert _job_events(fake_pleo, job_id) == ["seeded", "completed"]
    assert fake_pleo.request_counts["createExportJobEventV3"] == 1


async def test_a_paused_run_is_finished_by_the_next_one(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """Pause after 130 items (one failed): the job stays in_progress; a second run does only the
    rest, counts the earlier failure, and every item is reported exactly once."""
    job_id = fake_pleo.add_job(items=200)
    async with pleo.export_run(job_id) as first:
        async for work in first.pending():
            if first.stats.succeeded + first.stats.failed == 130:
                first.pause()
                break
            if first.stats.failed == 0:
                first.failed(work, reason="Tax code unknown", reason_type="tax_code_unknown")
            else:
                first.succeeded(work)
    assert first.final_status is None
    assert fake_pleo.job(job_id)["status"] == "in_progress"
    assert fake_pleo.item_status_counts(job_id) == {"failed": 1, "successful": 129, "pending": 70}

    async with pleo.export_run(job_id) as second:
        assert second.resumed
        await _book_all(second)
    assert second.stats.total == 70
    assert second.final_status == "completed_with_errors"
    assert _job_events(fake_pleo, job_id) == ["started", "completed_with_errors"]
    assert _reported_once(fake_pleo, job_id, 200)


async def test_a_run_left_early_leaves_no_reading_behind(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """The export data is read a batch ahead by a task of its own: a run paused in its second
    batch of 500 items stops that task and closes its pages as it exits. Without the
    cancellation the task would be left waiting for its turn to journal the next batch."""
    job_id = fake_pleo.add_job(items=500)
    async with pleo.export_run(job_id) as run:
        async for work in run.pending():
            run.succeeded(work)
            if run.stats.succeeded == 130:
                run.pause()
                break
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert fake_pleo.item_status_counts(job_id) == {"successful": 130, "pending": 370}


async def test_cancellation_flushes_and_leaves_the_job_resumable(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """A cancelled run sends what it recorded and leaves the job in_progress, not failed."""
    job_id = fake_pleo.add_job(items=50)
    ten_done = asyncio.Event()

    async def export() -> None:
        async with pleo.export_run(job_id) as run:
            async for work in run.pending():
                run.succeeded(work)
                if run.stats.succeeded == 10:
                    ten_done.set()
                    await asyncio.Event().wait()  # an ERP call that never returns

    task = asyncio.create_task(export())
    await ten_done.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fake_pleo.job(job_id)["status"] == "in_progress"
    assert fake_pleo.item_status_counts(job_id) == {"successful": 10, "pending": 40}


async def test_a_started_whose_answer_was_lost_counts_as_started(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """``started`` is applied but its answer lost; the retry meets 422, and the re-read job
    shows the claim was ours: the run goes ahead, with one ``started`` on the server."""
    job_id = fake_pleo.add_job(items=3)
    rule = fake_pleo.faults.add("lost_response", route="createExportJobEvent", times=1)
    async with pleo.export_run(job_id) as run:
        await _book_all(run)
    assert rule.injected == 1
    assert fake_pleo.request_counts["createExportJobEventV3"] == 3  # lost, retried, completed
    assert _job_events(fake_pleo, job_id) == ["started", "completed"]


async def test_a_final_job_is_refused_before_any_request(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """Given a completed job's model, neither the run nor ``start`` sends anything; given its
    id, the run reads the job once and posts no event."""
    job_id = fake_pleo.add_job(items=2, status="completed")
    job = await pleo.jobs.get(job_id)
    before = fake_pleo.request_counts
    with pytest.raises(InvalidTransitionError, match="final"):
        async with pleo.export_run(job):
            pass
    with pytest.raises(InvalidTransitionError):
        await pleo.jobs.start(job)
    assert fake_pleo.request_counts == before
    with pytest.raises(InvalidTransitionError):
        async with pleo.export_run(job_id):
            pass
    assert fake_pleo.request_counts - before == Counter({"getExportJobByIdV3": 1})


async def test_outcomes_are_sent_as_the_run_goes(fake_pleo: FakePleo, pleo: PleoExport) -> None:
    """Each 100th outcome sends a batch in the background, long before the block ends."""
    job_id = fake_pleo.add_job(items=300)
    seen_on_server = 0
    async with pleo.export_run(job_id) as run:
        async for work in run.pending():
            run.succeeded(work)
            await asyncio.sleep(0)  # an async ERP call lets the background batch run
            if run.stats.succeeded == 250:
                seen_on_server = fake_pleo.item_status_counts(job_id).get("successful", 0)
    assert seen_on_server == 200
    assert run.stats.flushed_batches == 3


async def test_an_old_outcome_is_sent_without_waiting_for_100(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """With ``flush_interval=0`` every outcome goes out at once, in a batch of its own."""
    job_id = fake_pleo.add_job(items=3)
    async with pleo.export_run(job_id, flush_interval=0) as run:
        async for work in run.pending():
            run.succeeded(work)
            await asyncio.sleep(0)
    assert fake_pleo.request_counts["updateExportJobItemsV3"] == 3
    assert run.stats.flushed_batches == 3


async def test_undeliverable_outcomes_stop_the_run_and_fail_the_job(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """A background batch that fails after every retry stops ``pending()``; the exit flush
    then delivers it, the job fails as service_unreachable and the error propagates."""
    job_id = fake_pleo.add_job(items=1000)
    fake_pleo.faults.add("status", status=500, route="updateExportJobItems", times=4)
    run = pleo.export_run(job_id)

    async def export() -> None:
        async with run:
            async for work in run.pending():
                run.succeeded(work)
                await asyncio.sleep(0)

    with pytest.raises(BatchUpdateError) as caught:
        await export()
    assert isinstance(caught.value.__cause__, ServerError)
    job = fake_pleo.job(job_id)
    assert (job["status"], job["failureReasonType"]) == ("failed", "service_unreachable")
    assert sum(fake_pleo.item_update_counts(job_id).values()) == run.stats.succeeded
    assert 100 <= run.stats.succeeded < 1000


async def test_an_explicit_flush_sends_a_partial_batch(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """``await run.flush()`` delivers what is buffered now."""
    job_id = fake_pleo.add_job(items=5)
    async with pleo.export_run(job_id) as run:
        async for work in run.pending():
            run.succeeded(work)
            if run.stats.succeeded == 2:
                await run.flush()
                assert fake_pleo.item_status_counts(job_id)["successful"] == 2
    assert run.stats.flushed_batches == 2


async def test_a_second_outcome_for_an_entry_is_refused(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """An entry takes one outcome per run; a second one is a caller bug and raises."""
    job_id = fake_pleo.add_job(items=2)
    async with pleo.export_run(job_id) as run:
        async for work in run.pending():
            run.succeeded(work)
            with pytest.raises(InvalidArgumentError, match="already has an outcome"):
                run.failed(work, reason="changed my mind")
            with pytest.raises(InvalidArgumentError):
                run.succeeded(str(work.accounting_entry_id))
    assert _reported_once(fake_pleo, job_id, 2)


async def test_outcome_arguments_are_checked_when_recorded(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """Bad reason types, naive datetimes and missing reasons raise at once, nothing recorded."""
    job_id = fake_pleo.add_job(items=1)
    async with pleo.export_run(job_id) as run:
        async for work in run.pending():
            with pytest.raises(InvalidArgumentError) as caught:
                run.failed(work, reason="x", reason_type="job_expired")
            assert caught.value.argument == "reason_type"
            with pytest.raises(InvalidArgumentError):
                run.failed(work, reason="")
            with pytest.raises(InvalidArgumentError, match="exported_at"):
                run.succeeded(work, exported_at=__import__("datetime").datetime(2025, 1, 1))
            run.succeeded(work)
    assert fake_pleo.job(job_id)["status"] == "completed"
    with pytest.raises(PleoError, match="not open"):
        run.succeeded(work)


async def test_pleo_s_per_item_errors_are_visible_on_the_run(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """An outcome for an entry not in the job comes back in ``run.errors``; the job then ends
    completed_with_errors rather than completed."""
    job_id = fake_pleo.add_job(items=3)
    stranger = uuid.uuid4()
    async with pleo.export_run(job_id) as run:
        await _book_all(run)
        run.succeeded(stranger)
    (error,) = run.errors
    assert error.accounting_entry_id == stranger
    assert error.type_ == "ACCOUNTING_ENTRY_DOES_NOT_EXIST"
    assert run.stats.item_errors == 1
    assert fake_pleo.job(job_id)["status"] == "completed_with_errors"


class _WithoutExportData(httpx.AsyncBaseTransport):
    """Passes requests to the fake but leaves one entry out of every export-items page."""

    def __init__(self, inner: httpx.AsyncBaseTransport, hidden: str) -> None:
        self._inner = inner
        self._hidden = hidden

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.url.path != "/v3/export-items":
            return response
        body = json.loads(await response.aread())
        body["data"] = [i for i in body["data"] if i["accountingEntryId"] != self._hidden]
        return httpx.Response(200, json=body)


async def test_an_entry_without_export_data_is_reported_failed(fake_pleo: FakePleo) -> None:
    """A job item Pleo has no export data for is never yielded; the run fails it itself."""
    job_id = fake_pleo.add_job(items=4)
    hidden = fake_pleo.accounting_entry_ids(job_id, 2, 3)[0]
    transport = _WithoutExportData(fake_pleo.transport(), hidden)
    async with (
        httpx.AsyncClient(transport=transport) as http,
        PleoExport(api_key=DEFAULT_API_KEY, base_url=IN_PROCESS_URL, http_client=http) as pleo,
    ):
        yielded: list[str] = []
        async with pleo.export_run(job_id) as run:
            async for work in run.pending():
                yielded.append(str(work.accounting_entry_id))
                run.succeeded(work)
    assert hidden not in yielded
    assert run.missing_export_data == [uuid.UUID(hidden)]
    item = fake_pleo.item(job_id, hidden)
    assert (item["status"], item["failureReasonType"]) == ("failed", "unexpected_failure")
    assert fake_pleo.job(job_id)["status"] == "completed_with_errors"


async def test_items_left_unreported_are_failed_on_exit(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """Leaving the loop early without pausing: the rest are failed so the job can end."""
    job_id = fake_pleo.add_job(items=10)
    async with pleo.export_run(job_id) as run:
        async for work in run.pending():
            run.succeeded(work)
            if run.stats.succeeded == 4:
                break
    assert fake_pleo.item_status_counts(job_id) == {"successful": 4, "failed": 6}
    assert fake_pleo.job(job_id)["status"] == "completed_with_errors"
    assert _reported_once(fake_pleo, job_id, 10)


async def test_abort_fails_the_job_with_the_callers_type(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """Pre-export validation failing: ``abort`` posts failed with the given reason and type."""
    job_id = fake_pleo.add_job(items=3)
    async with pleo.export_run(job_id) as run:
        await run.abort(reason="ERP login refused", reason_type="accounting_system_unreachable")
    job = fake_pleo.job(job_id)
    assert (job["status"], job["failureReasonType"]) == ("failed", "accounting_system_unreachable")
    assert _job_events(fake_pleo, job_id) == ["started", "failed"]


async def test_update_all_against_the_fake(fake_pleo: FakePleo, pleo: PleoExport) -> None:
    """230 known entries and 20 unknown ones: 3 PUTs, 230 items updated, 20 per-item errors."""
    job_id = fake_pleo.add_job(items=230)
    await pleo.jobs.start(job_id)
    known = fake_pleo.accounting_entry_ids(job_id)
    unknown = [str(uuid.uuid4()) for _ in range(20)]
    updates: list[dict[str, Any]] = [
        {"accountingEntryId": entry, "status": "successful"} for entry in known + unknown
    ]
    result = await pleo.job_items.update_all(job_id, updates)
    assert fake_pleo.request_counts["updateExportJobItemsV3"] == 3
    assert len(result.updated) == 230
    assert sorted(str(error.accounting_entry_id) for error in result.errors) == sorted(unknown)
    assert fake_pleo.item_status_counts(job_id) == {"successful": 230}

    with pytest.raises(BatchUpdateError) as caught:
        await pleo.job_items.update_all(job_id, updates[-30:], raise_on_error=True)
    assert len(caught.value.result.errors) == 20


async def test_update_all_on_a_finished_job_keeps_every_update(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """Each batch refused with 422 is returned with its updates; none is lost."""
    job_id = fake_pleo.add_job(items=150, status="completed")
    updates = [
        {"accountingEntryId": entry, "status": "successful"}
        for entry in fake_pleo.accounting_entry_ids(job_id)
    ]
    result = await pleo.job_items.update_all(job_id, updates)
    assert len(result.failed_batches) == 2
    assert result.failed_updates == updates


async def test_v2_runs_use_v2_item_reason_types(fake_pleo: FakePleo, pleo_v2: PleoExport) -> None:
    """On v2 the run works the same, and the v3-only ``vendor_unknown`` is refused."""
    job_id = fake_pleo.add_job(items=4)
    async with pleo_v2.export_run(job_id) as run:
        async for work in run.pending():
            with pytest.raises(InvalidArgumentError):
                run.failed(work, reason="no vendor", reason_type="vendor_unknown")
            run.failed(work, reason="no vendor", reason_type="accounting_system_validation_failure")
    assert fake_pleo.request_counts["updateExportJobItemsV2"] == 1
    assert fake_pleo.job(job_id)["status"] == "failed"


async def test_an_export_run_over_loopback_tcp(fake_pleo: FakePleo, pleo_tcp: PleoExport) -> None:
    """The whole flow over a real socket on 127.0.0.1, with a few items failing."""
    job_id = fake_pleo.add_job(items=120)
    async with pleo_tcp.export_run(job_id) as run:
        await _book_all(run, fail_every=40)
    assert run.final_status == "completed_with_errors"
    assert fake_pleo.item_status_counts(job_id) == {"successful": 117, "failed": 3}
    assert _reported_once(fake_pleo, job_id, 120)


async def test_a_stale_in_progress_model_is_read_again_before_resuming(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """A job listed as in_progress that finished since is refused, not resumed: the run reads
    the job again before resuming it."""
    job_id = fake_pleo.add_job(items=2)
    await pleo.jobs.start(job_id)
    listed = await pleo.jobs.get(job_id)
    await pleo.jobs.complete(job_id)
    with pytest.raises(InvalidTransitionError):
        async with pleo.export_run(listed):
            pass
    assert [e.event for e in fake_pleo.events(job_id, "job_status")] == ["started", "completed"]
