"""A coordinator whose database stops answering: every call ends, within its ``timeout``, in a
``CoordinatorError``, and the coordinator works again once the database answers.

PostgreSQL: a throwaway cluster of this test's own whose server processes are all stopped with
SIGSTOP (a frozen host, a hung disk) so that neither the socket nor the server's own
statement_timeout ends a call; before, ``write()`` was still waiting after 45 s. SQLite: a
second connection holds the write lock, and the call ends at its ``timeout``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from _pg import PgCluster, PgUnavailable, start_cluster
from reliability._figures import record

from pleo_export import CoordinatorError, InvalidArgumentError
from pleo_export._outcome import ItemOutcome, JobRef, OutcomeStatus
from pleo_export.coordination import Lease, PostgresCoordinator, SQLiteCoordinator

pytestmark = pytest.mark.timeout(120)

#: A liveness guard, not a speed check: a call still waiting this long has hung.
HUNG = 30.0
FROZEN = "PostgreSQL server processes stopped (SIGSTOP) under write() and load()"


def _outcome() -> ItemOutcome:
    return ItemOutcome(
        accounting_entry_id=uuid.uuid4(),
        status=OutcomeStatus.SUCCESSFUL,
        external_id="JE-1",
        exported_at=datetime(2026, 1, 2, tzinfo=UTC),
    )


def _server_pids(cluster: PgCluster) -> list[int]:
    """The postmaster and every process it started (backends, checkpointer, walwriter, …)."""
    postmaster = int((cluster.directory / "data" / "postmaster.pid").read_text().split()[0])
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == postmaster:
                children.append(int(entry.name))
    return [postmaster, *children]


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    """A cluster for this test alone (freezing the session's would stall other tests)."""
    try:
        started = start_cluster()
    except PgUnavailable as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(str(exc))
    try:
        yield started
    finally:
        for pid in _server_pids(started):  # never leave a stopped server behind
            os.kill(pid, signal.SIGCONT)
        started.stop()


async def test_frozen_postgres_fails_each_call_within_its_timeout(cluster: PgCluster) -> None:
    """With the server stopped, write() and the calls queued behind it each end in a
    CoordinatorError naming the timeout (a hang trips HUNG); after SIGCONT the same
    coordinator reconnects and its next write and load succeed, the lease still its."""
    coordinator = PostgresCoordinator(cluster.dsn, timeout=1.5)
    lease = await coordinator.acquire(JobRef(uuid.uuid4(), uuid.uuid4(), "v3"), "a")
    assert isinstance(lease, Lease)
    pids = _server_pids(cluster)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    started = time.monotonic()
    try:
        async with asyncio.timeout(HUNG):
            results = await asyncio.gather(
                coordinator.write(lease, outcomes=[_outcome()]),
                coordinator.load(lease),
                return_exceptions=True,
            )
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    took = time.monotonic() - started
    record("hostile_servers", **{FROZEN: f"CoordinatorError in {took:.2f} s (timeout=1.5)"})
    # Each call's bound starts as it is made, the load's too although it queues behind the
    # write: bounds that add up along the queue, or none (HUNG), fail this.
    assert took < 1.5 + 1.0, took
    for result in results:
        assert isinstance(result, CoordinatorError), result
        assert "no answer within 1.5 s" in str(result)
    kept = _outcome()
    async with asyncio.timeout(HUNG):
        await coordinator.write(lease, outcomes=[kept])
        state = await coordinator.load(lease)
    assert kept in state.unconfirmed
    await coordinator.aclose()


async def test_sqlite_call_waiting_for_the_lock_ends_at_its_timeout(tmp_path: Path) -> None:
    """Another connection holds the write lock and never lets go: write() ends in a
    CoordinatorError at timeout=0.5 (the busy wait bounded by it, not by the 10 s lock
    timeout); once the lock is free the coordinator writes again."""
    path = tmp_path / "journal.db"
    coordinator = SQLiteCoordinator(path, timeout=0.5)
    lease = await coordinator.acquire(JobRef(uuid.uuid4(), None, "v3"), "a")
    assert isinstance(lease, Lease)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        async with asyncio.timeout(HUNG):
            with pytest.raises(CoordinatorError):
                await coordinator.write(lease, outcomes=[_outcome()])
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await coordinator.write(lease, outcomes=[_outcome()])
    await coordinator.aclose()


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan"), float("inf"), True, "5"])
def test_timeout_is_checked(tmp_path: Path, timeout: object) -> None:
    """A timeout that is no positive finite number is refused by both, naming it."""
    for make in (
        lambda: SQLiteCoordinator(tmp_path / "j.db", timeout=timeout),  # type: ignore[arg-type]
        lambda: PostgresCoordinator("dbname=x", timeout=timeout),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidArgumentError) as caught:
            make()
        assert caught.value.argument == "timeout"
