"""Chaos with sync workers: the harness of ``test_chaos`` (four worker processes, 15 SIGKILLs,
faults on every route) with each process running ``pleo_export.sync.ExportWorker`` and a
plain, blocking handler in its thread pool (``CHAOS_WORKER_SYNC=1``, read by
``_chaos_worker.py``).

The judge is the same: every item booked with its one right status, no two handler calls for
one entry overlapping, every repeat marked in doubt. A sync worker whose handler thread kept
booking after its run moved on, or whose portal lost an outcome on the way to the loop,
fails it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import test_chaos

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]


def test_chaos_with_sync_workers_on_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four sync workers sharing one SQLiteCoordinator file survive the kills and faults."""
    monkeypatch.setenv("CHAOS_WORKER_SYNC", "1")
    chaos = test_chaos._run(f"sqlite:{tmp_path / 'journal.sqlite'}", tmp_path, seed=43)
    assert chaos.kills == test_chaos.KILLS
    test_chaos._figures("sync_sqlite", chaos)


def test_chaos_with_sync_batch_handlers_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The short form with plain batch handlers (10 items a call, 8 in flight per job, both
    answer forms) in sync workers' thread pools: every item right, every repeat in doubt."""
    monkeypatch.setenv("CHAOS_WORKER_SYNC", "1")
    monkeypatch.setenv("CHAOS_WORKER_BATCH", str(test_chaos.BATCH))
    chaos = test_chaos._run(
        f"sqlite:{tmp_path / 'journal.sqlite'}",
        tmp_path,
        seed=45,
        jobs_count=test_chaos.SHORT_JOBS,
        kills=test_chaos.SHORT_KILLS,
    )
    assert chaos.kills == test_chaos.SHORT_KILLS
    test_chaos._figures("sync_batches_sqlite", chaos, jobs_count=test_chaos.SHORT_JOBS)
