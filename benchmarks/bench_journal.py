"""Journal cost per item: intents, outcomes and confirmations for N items in batches of 100.

Each case takes a lease on a fresh job, then for every batch of 100 entries journals their
intents, their outcomes and their confirmation, and purges the job at the end: either as three
transactions a batch (``record_intents``, ``record_outcomes``, ``confirm``) or as one
pipelined ``write`` a batch (this batch's intents, the previous one's outcomes, the one
before's confirmations), as an export run that batches its journal writes would.
Coordinators: ``InMemoryCoordinator``, ``SQLiteCoordinator`` on a temp file (WAL,
``synchronous=FULL``) and ``PostgresCoordinator`` on a throwaway local cluster with
PostgreSQL's default durability (fsync on), over its unix socket. After each run the journal
must have held exactly the N confirmed entries before the purge, or the benchmark fails. The
end-to-end ratio with and without a coordinator belongs to the export run that uses it
(issue 16, part 2).

Run alone: ``.venv/bin/python benchmarks/bench_journal.py`` (``--quick``: 500 items, 1 round).
"""

from __future__ import annotations

import asyncio
import functools
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

from _common import REPO, Report, fmt, interleave_async

from pleo_export._config import BATCH_LIMIT
from pleo_export._outcome import ItemOutcome, JobRef, OutcomeStatus
from pleo_export.coordination import (
    Coordinator,
    InMemoryCoordinator,
    Lease,
    PostgresCoordinator,
    SQLiteCoordinator,
)

# The throwaway-cluster helper the tests use lives in tests/.
sys.path.insert(0, str(REPO / "tests"))
from _pg import PgUnavailable, start_cluster

__all__ = ["main", "run"]

#: Items journaled per run.
ITEMS = 2000
#: Interleaved rounds; the figure is the median.
ROUNDS = 5


async def _journal(coordinator: Coordinator, items: int, pipelined: bool) -> None:
    """One run: lease a fresh job, journal ``items`` entries batch by batch, check, purge.

    Three transactions a batch (intents, outcomes, confirmation), or with ``pipelined`` one:
    this batch's intents with the previous batch's outcomes and the one before's confirmation.
    """
    lease = await coordinator.acquire(JobRef(uuid.uuid4(), uuid.uuid4(), "v3"), "bench")
    assert isinstance(lease, Lease)
    entries = [uuid.uuid4() for _ in range(items)]
    batches = [entries[n : n + BATCH_LIMIT] for n in range(0, items, BATCH_LIMIT)]
    if pipelined:
        for n in range(len(batches) + 2):
            await coordinator.write(
                lease,
                intents=batches[n] if n < len(batches) else (),
                outcomes=_outcomes(batches[n - 1]) if 0 < n <= len(batches) else (),
                confirmed=batches[n - 2] if n > 1 else (),
            )
    else:
        for batch in batches:
            await coordinator.record_intents(lease, batch)
            await coordinator.record_outcomes(lease, _outcomes(batch))
            await coordinator.confirm(lease, batch)
    state = await coordinator.load(lease)
    if state.confirmed != frozenset(entries) or state.unconfirmed or state.in_doubt:
        raise AssertionError("the journal does not hold exactly the confirmed entries")
    await coordinator.purge(lease)


def _outcomes(batch: list[uuid.UUID]) -> list[ItemOutcome]:
    return [ItemOutcome(e, OutcomeStatus.SUCCESSFUL, external_id=f"ERP-{e.hex[:8]}") for e in batch]


async def _measure(quick: bool) -> Report:
    items, rounds = (500, 1) if quick else (ITEMS, ROUNDS)
    notes: list[str] = []
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-journal-")))
        coordinators: dict[str, Coordinator] = {
            "in-memory": InMemoryCoordinator(),
            "SQLite": SQLiteCoordinator(directory / "journal.db"),
        }
        try:
            cluster = start_cluster(durable=True)
        except PgUnavailable as exc:
            notes.append(f"PostgreSQL not measured: {exc}.")
        else:
            stack.callback(cluster.stop)
            coordinators["PostgreSQL"] = PostgresCoordinator(cluster.dsn)
        cases: dict[str, Callable[[], Awaitable[object]]] = {}
        for name, coordinator in coordinators.items():
            for pipelined in (False, True):
                label = f"{name}, {'1 transaction' if pipelined else '3 transactions'} a batch"
                cases[label] = functools.partial(_journal, coordinator, items, pipelined)
        for case in cases.values():
            await case()  # warm-up: connections, migrations, page cache
        times = await interleave_async(cases, rounds=rounds, clock=time.perf_counter)
        for coordinator in coordinators.values():
            await coordinator.aclose()
    rows = []
    for name, seconds in times.items():
        run_seconds = statistics.median(seconds)
        rows.append(
            [name, fmt(items / run_seconds), fmt(run_seconds / items * 1e6), fmt(run_seconds * 1e3)]
        )
    notes.append(
        f"{items} items a run in batches of {BATCH_LIMIT}; median of "
        f"{rounds} interleaved round(s), wall time. SQLite commits with synchronous=FULL and "
        "PostgreSQL with fsync on, so each transaction waits for the disk of this machine."
    )
    return Report(
        title=f"Journal cost per item ({items} items, batches of {BATCH_LIMIT})",
        header=["Coordinator", "items/s", "µs/item", "ms/run"],
        rows=rows,
        notes=notes,
    )


def run(quick: bool = False) -> list[Report]:
    """Measure every coordinator's journal cost; one report."""
    return [asyncio.run(_measure(quick))]


def main() -> None:
    """Print the report."""
    for report in run(quick="--quick" in sys.argv):
        print(report.text())


if __name__ == "__main__":
    main()
