"""``SQLiteCoordinator``: leases and the journal in one SQLite file, for processes on one machine.

stdlib ``sqlite3`` on one thread per coordinator, WAL mode, every call one ``BEGIN IMMEDIATE``
transaction (so writers from all processes take turns) with a busy timeout. Lease expiry uses
the machine's wall clock, which all processes on it share. Not for network file systems.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

from .._config import COORDINATOR_CALL_TIMEOUT, COORDINATOR_LOCK_TIMEOUT, DEFAULT_LEASE_SECONDS
from .._errors import CoordinatorError, InvalidArgumentError
from .._outcome import ItemOutcome, JobRef
from ._budget import Bucket, take, valid_take
from ._policy import (
    LeaseRow,
    check_lease,
    decide,
    journal_state,
    lease_row,
    mark_exception_seen,
    unique_ids,
    unique_outcomes,
    valid_holder,
    valid_job,
    valid_lease,
    valid_lease_seconds,
    valid_timeout,
)
from ._types import JournalShortcuts, JournalState, Lease, LeaseHeld, TokenGrant

__all__ = ["MIGRATIONS", "SQLiteCoordinator"]

_T = TypeVar("_T")
_ERROR_CHARS: Final = 300

#: Schema versions and the statements that reach each; applied once, in order, on first use.
MIGRATIONS: Final[tuple[tuple[int, tuple[str, ...]], ...]] = (
    (
        1,
        (
            "CREATE TABLE pleo_export_tokens (id INTEGER PRIMARY KEY CHECK (id = 1),"
            " value INTEGER NOT NULL)",
            "INSERT INTO pleo_export_tokens (id, value) VALUES (1, 0)",
            "CREATE TABLE pleo_export_leases (job_id TEXT PRIMARY KEY, company_id TEXT,"
            " holder TEXT, token INTEGER NOT NULL, expires_at REAL)",
            "CREATE TABLE pleo_export_company_leases (company_id TEXT PRIMARY KEY,"
            " job_id TEXT NOT NULL, holder TEXT NOT NULL, token INTEGER NOT NULL,"
            " expires_at REAL NOT NULL)",
            "CREATE TABLE pleo_export_journal (job_id TEXT NOT NULL, entry_id TEXT NOT NULL,"
            " state TEXT NOT NULL CHECK (state IN ('intent', 'outcome', 'confirmed')),"
            " token INTEGER NOT NULL, attempts INTEGER NOT NULL, outcome TEXT,"
            " PRIMARY KEY (job_id, entry_id)) WITHOUT ROWID",
        ),
    ),
    (
        2,
        (
            # The shared request budgets: one token bucket per key (a credential's hash).
            "CREATE TABLE pleo_export_budgets (key TEXT PRIMARY KEY, tokens REAL NOT NULL,"
            " updated_at REAL NOT NULL, paused_until REAL NOT NULL) WITHOUT ROWID",
        ),
    ),
)

_UPSERT_LEASE: Final = (
    "INSERT INTO pleo_export_leases (job_id, company_id, holder, token, expires_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id) DO UPDATE SET company_id = excluded.company_id,"
    " holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at"
)
_UPSERT_COMPANY: Final = (
    "INSERT INTO pleo_export_company_leases (company_id, job_id, holder, token, expires_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (company_id) DO UPDATE SET job_id = excluded.job_id,"
    " holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at"
)
_INTENT: Final = (
    "INSERT INTO pleo_export_journal (job_id, entry_id, state, token, attempts)"
    " VALUES (?, ?, 'intent', ?, 1) ON CONFLICT (job_id, entry_id) DO UPDATE"
    " SET token = excluded.token, attempts = attempts + 1 WHERE state = 'intent'"
)
_OUTCOME: Final = (
    "INSERT INTO pleo_export_journal (job_id, entry_id, state, token, attempts, outcome)"
    " VALUES (?, ?, 'outcome', ?, 0, ?) ON CONFLICT (job_id, entry_id) DO UPDATE"
    " SET state = 'outcome', token = excluded.token, outcome = excluded.outcome"
    " WHERE state = 'intent'"
)
_CONFIRM: Final = (
    "UPDATE pleo_export_journal SET state = 'confirmed'"
    " WHERE job_id = ? AND entry_id = ? AND state = 'outcome'"
)


class SQLiteCoordinator(JournalShortcuts):
    """A ``Coordinator`` in a SQLite file, safe for several processes on one machine.

    The file and its tables are created on first use. Each call is one short ``BEGIN
    IMMEDIATE`` transaction on the coordinator's own thread; a call whose task is cancelled
    still commits or rolls back before the thread takes the next one.

    Args:
        path: the database file (created if missing); keep it on a local disk.
        lease_seconds: a lease lapses this long after it was taken or renewed (default 30.0).
        timeout: the most seconds one call may take, waiting for another process's write lock
            included (default 60.0; the busy wait itself stops at 10 s or this, if shorter);
            past it the call raises ``CoordinatorError`` and its statement is interrupted.

    Raises:
        InvalidArgumentError: ``path`` is empty, or ``lease_seconds`` or ``timeout`` not a
            positive number.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        timeout: float = COORDINATOR_CALL_TIMEOUT,
    ) -> None:
        self._path = os.fspath(path)
        if not self._path:
            raise InvalidArgumentError("path", "must name a database file")
        self._lease_seconds = valid_lease_seconds(lease_seconds)
        self._timeout = valid_timeout(timeout)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="pleo-export-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"SQLiteCoordinator({self._path!r}, lease_seconds={self._lease_seconds})"

    @property
    def lease_seconds(self) -> float:
        """Seconds a lease lasts after it was taken or last renewed."""
        return self._lease_seconds

    async def acquire(self, job: JobRef, holder: str) -> Lease | LeaseHeld:
        """Lease ``job`` and its company for ``holder`` (see ``Coordinator.acquire``)."""
        valid_job(job)
        valid_holder(holder)
        job_id, company_id = str(job.job_id), _text(job.company_id)

        def write(conn: sqlite3.Connection, now: float) -> Lease | LeaseHeld:
            company_row = None if company_id is None else _company_row(conn, company_id)
            held = decide(job.job_id, holder, _job_row(conn, job_id), company_row, now)
            if held is not None:
                return held
            conn.execute("UPDATE pleo_export_tokens SET value = value + 1 WHERE id = 1")
            token = self._token(conn)
            expires_at = now + self._lease_seconds
            conn.execute(_UPSERT_LEASE, (job_id, company_id, holder, token, expires_at))
            if company_id is not None:
                conn.execute(_UPSERT_COMPANY, (company_id, job_id, holder, token, expires_at))
            return Lease(job.job_id, job.company_id, holder, token, self._lease_seconds)

        return await self._transaction(write)

    async def renew(self, lease: Lease) -> None:
        """Extend the lease to ``lease_seconds`` from now (see ``Coordinator.renew``)."""
        valid_lease(lease)

        def write(conn: sqlite3.Connection, now: float) -> None:
            _check(conn, lease, now)
            expires_at = now + self._lease_seconds
            conn.execute(
                "UPDATE pleo_export_leases SET expires_at = ? WHERE job_id = ?",
                (expires_at, str(lease.job_id)),
            )
            conn.execute(
                "UPDATE pleo_export_company_leases SET expires_at = ?"
                " WHERE company_id = ? AND token = ?",
                (expires_at, _text(lease.company_id), lease.token),
            )

        await self._transaction(write)

    async def release(self, lease: Lease) -> None:
        """Give up the lease if it is still this one (see ``Coordinator.release``)."""
        valid_lease(lease)

        def write(conn: sqlite3.Connection, now: float) -> None:
            conn.execute(
                "UPDATE pleo_export_leases SET holder = NULL, expires_at = NULL"
                " WHERE job_id = ? AND token = ?",
                (str(lease.job_id), lease.token),
            )
            _drop_company(conn, lease)

        await self._transaction(write)

    async def write(
        self,
        lease: Lease,
        *,
        intents: Iterable[uuid.UUID] = (),
        outcomes: Iterable[ItemOutcome] = (),
        confirmed: Iterable[uuid.UUID] = (),
    ) -> None:
        """Journal intents, outcomes and confirmations in one transaction (see
        ``Coordinator.write``)."""
        valid_lease(lease)
        job_id = str(lease.job_id)
        intent_rows = [
            (job_id, str(entry), lease.token) for entry in unique_ids(intents, "intents")
        ]
        outcome_rows = [
            (job_id, str(o.accounting_entry_id), lease.token, json.dumps(o.to_record()))
            for o in unique_outcomes(outcomes)
        ]
        confirm_rows = [(job_id, str(entry)) for entry in unique_ids(confirmed, "confirmed")]

        def write(conn: sqlite3.Connection, now: float) -> None:
            _check(conn, lease, now)
            conn.executemany(_INTENT, intent_rows)
            conn.executemany(_OUTCOME, outcome_rows)
            conn.executemany(_CONFIRM, confirm_rows)

        await self._transaction(write)

    async def load(self, lease: Lease) -> JournalState:
        """Read the job's journal (see ``Coordinator.load``)."""
        valid_lease(lease)

        def read(conn: sqlite3.Connection, now: float) -> JournalState:
            _check(conn, lease, now)
            rows = conn.execute(
                "SELECT entry_id, state, outcome FROM pleo_export_journal WHERE job_id = ?",
                (str(lease.job_id),),
            ).fetchall()
            return journal_state(
                rows, where=self._where(), table=f"pleo_export_journal (job_id={lease.job_id})"
            )

        return await self._transaction(read)

    async def purge(self, lease: Lease) -> None:
        """Delete the job's journal and lease rows (see ``Coordinator.purge``)."""
        valid_lease(lease)
        job_id = str(lease.job_id)

        def write(conn: sqlite3.Connection, now: float) -> None:
            _check(conn, lease, now)
            conn.execute("DELETE FROM pleo_export_journal WHERE job_id = ?", (job_id,))
            conn.execute("DELETE FROM pleo_export_leases WHERE job_id = ?", (job_id,))
            _drop_company(conn, lease)

        await self._transaction(write)

    async def take_tokens(
        self, key: str, *, count: int, rate: float, capacity: int, pause: float = 0.0
    ) -> TokenGrant:
        """Take tokens from the request budget ``key``, shared by every process using this
        file (see ``Coordinator.take_tokens``)."""
        valid_take(key, count, rate, capacity, pause)

        def write(conn: sqlite3.Connection, now: float) -> TokenGrant:
            row = conn.execute(
                "SELECT tokens, updated_at, paused_until FROM pleo_export_budgets WHERE key = ?",
                (key,),
            ).fetchone()
            bucket, grant = take(
                None if row is None else Bucket(*row),
                now,
                count=count,
                rate=rate,
                capacity=capacity,
                pause=pause,
            )
            conn.execute(
                "INSERT INTO pleo_export_budgets (key, tokens, updated_at, paused_until)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens,"
                " updated_at = excluded.updated_at, paused_until = excluded.paused_until",
                (key, bucket.tokens, bucket.updated, bucket.paused_until),
            )
            return grant

        return await self._transaction(write)

    async def aclose(self) -> None:
        """Close the database connection and the coordinator's thread."""
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close_in_thread)
        self._executor.shutdown(wait=False)

    async def _transaction(self, work: Callable[[sqlite3.Connection, float], _T]) -> _T:
        """Run ``work`` in one ``BEGIN IMMEDIATE`` transaction on the thread; shielded, so a
        cancelled caller never leaves it half done."""
        if self._closed:
            raise CoordinatorError("the coordinator is closed")
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self._in_thread, work)
        future.add_done_callback(mark_exception_seen)
        try:
            async with asyncio.timeout(self._timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            if not future.done() and self._conn is not None:
                self._conn.interrupt()  # thread-safe: the statement ends, the call rolls back
            raise CoordinatorError(
                f"{self._where()}: no answer within {self._timeout:g} s (timeout=)"
            ) from None

    def _in_thread(self, work: Callable[[sqlite3.Connection, float], _T]) -> _T:
        try:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn, time.time())
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise CoordinatorError(self._describe(exc)) from exc
        return result

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self._path,
                timeout=min(COORDINATOR_LOCK_TIMEOUT, self._timeout),
                isolation_level=None,
            )
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                # FULL: a committed intent or outcome survives a power cut, not only a crash.
                conn.execute("PRAGMA synchronous = FULL")
                _migrate(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _close_in_thread(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _describe(self, exc: sqlite3.Error) -> str:
        return f"{self._where()}: {exc}"[:_ERROR_CHARS]

    def _where(self) -> str:
        return f"SQLite coordinator at {self._path!r}"[:_ERROR_CHARS]

    def _token(self, conn: sqlite3.Connection) -> int:
        """The fencing token just incremented; its row deleted or not an integer is corrupt."""
        row = conn.execute("SELECT value FROM pleo_export_tokens WHERE id = 1").fetchone()
        if row is None or isinstance(row[0], bool) or not isinstance(row[0], int):
            raise CoordinatorError(
                f"{self._where()}: the pleo_export_tokens row id=1 is "
                f"{'missing' if row is None else 'corrupt'}; no lease was handed out"
            )
        token: int = row[0]
        return token


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the file's tables to the newest schema version, once, under the write lock."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS pleo_export_schema (version INTEGER NOT NULL)")
        (current,) = conn.execute(
            "SELECT coalesce(max(version), 0) FROM pleo_export_schema"
        ).fetchone()
        newest = MIGRATIONS[-1][0]
        if current > newest:
            raise CoordinatorError(
                f"the coordinator's schema is version {current}; this SDK knows up to {newest}"
            )
        for version, statements in MIGRATIONS:
            if version > current:
                for statement in statements:
                    conn.execute(statement)
                conn.execute("INSERT INTO pleo_export_schema (version) VALUES (?)", (version,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _job_row(conn: sqlite3.Connection, job_id: str) -> LeaseRow | None:
    row = conn.execute(
        "SELECT holder, token, expires_at FROM pleo_export_leases WHERE job_id = ?", (job_id,)
    ).fetchone()
    if row is None:
        return None
    where = f"pleo_export_leases job_id={job_id!r}"
    return lease_row(job_id, *row, where="SQLite coordinator", row=where)


def _company_row(conn: sqlite3.Connection, company_id: str) -> LeaseRow | None:
    row = conn.execute(
        "SELECT job_id, holder, token, expires_at FROM pleo_export_company_leases"
        " WHERE company_id = ?",
        (company_id,),
    ).fetchone()
    if row is None:
        return None
    where = f"pleo_export_company_leases company_id={company_id!r}"
    return lease_row(*row, where="SQLite coordinator", row=where)


def _check(conn: sqlite3.Connection, lease: Lease, now: float) -> None:
    check_lease(lease, _job_row(conn, str(lease.job_id)), now)


def _drop_company(conn: sqlite3.Connection, lease: Lease) -> None:
    if lease.company_id is not None:
        conn.execute(
            "DELETE FROM pleo_export_company_leases WHERE company_id = ? AND token = ?",
            (str(lease.company_id), lease.token),
        )
