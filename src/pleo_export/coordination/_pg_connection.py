"""The PostgreSQL coordinator's connection: one psycopg connection, one short transaction per
call, its schema migrated on first use.

``PostgresCoordinator`` (``_postgres``) says what each call reads and writes; this module says
how a call reaches the server: serialised on one connection by a lock, shielded from its
caller's cancellation, bounded by the call timeout, the connection dropped and reopened after a
failure. No session state (no server-side prepared statements, ``SET LOCAL`` only, a
transaction-scoped advisory lock for the migrations), so it works through PgBouncer in
transaction pooling mode.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

import psycopg
from psycopg import sql

from .._config import (
    COORDINATOR_CONNECT_TIMEOUT,
    COORDINATOR_LOCK_TIMEOUT,
    COORDINATOR_STATEMENT_TIMEOUT,
)
from .._errors import CoordinatorError
from .._secrets import redact
from ._policy import mark_exception_seen

__all__ = ["MIGRATIONS", "Cursor", "PgConnection", "one"]

_T = TypeVar("_T")
Cursor = psycopg.AsyncCursor[tuple[Any, ...]]
_ERROR_CHARS: Final = 300

#: Schema versions and the statements that reach each (``{s}`` is the schema); applied once,
#: in order, on first use, under a transaction-scoped advisory lock.
MIGRATIONS: Final[tuple[tuple[int, tuple[str, ...]], ...]] = (
    (
        1,
        (
            "CREATE SEQUENCE {s}.lease_tokens",
            "CREATE TABLE {s}.leases (job_id uuid PRIMARY KEY, company_id uuid, holder text,"
            " token bigint NOT NULL, expires_at timestamptz)",
            "CREATE TABLE {s}.company_leases (company_id uuid PRIMARY KEY, job_id uuid,"
            " holder text, token bigint, expires_at timestamptz)",
            "CREATE TABLE {s}.journal (job_id uuid NOT NULL, entry_id uuid NOT NULL,"
            " state text NOT NULL CHECK (state IN ('intent', 'outcome', 'confirmed')),"
            " token bigint NOT NULL, attempts integer NOT NULL, outcome jsonb,"
            " PRIMARY KEY (job_id, entry_id))",
        ),
    ),
    (
        2,
        (
            # The shared request budgets: one token bucket per key (a credential's hash).
            "CREATE TABLE {s}.budgets (key text PRIMARY KEY, tokens float8 NOT NULL,"
            " updated_at float8 NOT NULL, paused_until float8 NOT NULL)",
        ),
    ),
)

_SETUP: Final = (
    "SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)"
)


class PgConnection:
    """One coordinator's connection to PostgreSQL: ``transaction(work)`` runs ``work`` on a
    cursor in one transaction; ``q(text)`` binds ``{s}`` in a statement to the schema.

    Args:
        dsn: a libpq connection string or URI (already checked by the coordinator).
        schema: the PostgreSQL schema of the tables.
        timeout: the most seconds one call may take, its wait for the lock included.
    """

    def __init__(self, dsn: str, *, schema: str, timeout: float) -> None:
        self._dsn = dsn
        self._schema = schema
        self._timeout = timeout
        self._conn: psycopg.AsyncConnection[tuple[Any, ...]] | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    async def aclose(self) -> None:
        """Close the database connection; later calls raise ``CoordinatorError``."""
        self._closed = True
        async with self._lock:
            if self._conn is not None:
                await self._conn.close()
                self._conn = None

    def q(self, text: str) -> sql.Composed:
        """``text`` with ``{s}`` bound to the schema, quoted as an identifier."""
        return sql.SQL(text).format(s=sql.Identifier(self._schema))

    async def transaction(self, work: Callable[[Cursor], Awaitable[_T]]) -> _T:
        """Run ``work`` in one transaction, shielded, so a cancelled caller never leaves it half
        done; the connection is serialised by a lock and reopened after a failure."""
        if self._closed:
            raise CoordinatorError("the coordinator is closed")
        task = asyncio.ensure_future(self._locked(work))
        task.add_done_callback(mark_exception_seen)
        try:
            async with asyncio.timeout(self._timeout):
                return await asyncio.shield(task)
        except TimeoutError:
            # The server (or the call ahead of this one) stopped answering. Closing the
            # connection ends the call's wait on its socket; whether a commit in flight
            # landed is unknown, as after any lost connection.
            conn, self._conn = self._conn, None
            if conn is not None:
                await conn.close()
            task.cancel()
            raise CoordinatorError(
                f"PostgreSQL coordinator: no answer within {self._timeout:g} s (timeout=); "
                "the connection is dropped and reopened on the next call"
            ) from None

    async def _locked(self, work: Callable[[Cursor], Awaitable[_T]]) -> _T:
        async with self._lock:
            try:
                conn = await self._connection()
                async with conn.transaction(), conn.cursor() as cur:
                    await cur.execute(_SETUP, _timeouts())
                    return await work(cur)
            except psycopg.Error as exc:
                if self._conn is not None and (self._conn.broken or self._conn.closed):
                    self._conn = None
                raise CoordinatorError(self._describe(exc)) from exc

    async def _connection(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        if self._conn is None or self._conn.closed:
            conn = await psycopg.AsyncConnection.connect(
                self._dsn,
                autocommit=True,  # transactions are explicit, so idle connections hold none
                prepare_threshold=None,  # no server-side prepared statements: PgBouncer-safe
                connect_timeout=int(COORDINATOR_CONNECT_TIMEOUT),
            )
            try:
                await self._migrate(conn)
            except BaseException:
                await conn.close()
                raise
            self._conn = conn
        return self._conn

    async def _migrate(self, conn: psycopg.AsyncConnection[tuple[Any, ...]]) -> None:
        async with conn.transaction(), conn.cursor() as cur:
            await cur.execute(_SETUP, _timeouts())
            await cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._schema,))
            await cur.execute(self.q("CREATE SCHEMA IF NOT EXISTS {s}"))
            await cur.execute(
                self.q("CREATE TABLE IF NOT EXISTS {s}.schema_version (version integer NOT NULL)")
            )
            await cur.execute(self.q("SELECT coalesce(max(version), 0) FROM {s}.schema_version"))
            (current,) = await one(cur)
            newest = MIGRATIONS[-1][0]
            if current > newest:
                raise CoordinatorError(
                    f"schema {self._schema!r} is version {current}; this SDK knows up to {newest}"
                )
            for version, statements in MIGRATIONS:
                if version > current:
                    for statement in statements:
                        await cur.execute(self.q(statement))
                    await cur.execute(
                        self.q("INSERT INTO {s}.schema_version (version) VALUES (%s)"), (version,)
                    )

    def _describe(self, exc: psycopg.Error) -> str:
        return redact(f"PostgreSQL coordinator: {type(exc).__name__}: {exc}")[:_ERROR_CHARS]


async def one(cur: Cursor) -> tuple[Any, ...]:
    """The one row a statement returns."""
    row = await cur.fetchone()
    if row is None:
        raise CoordinatorError("PostgreSQL coordinator: a statement returned no row")
    return row


def _timeouts() -> tuple[str, str]:
    return (
        f"{int(COORDINATOR_LOCK_TIMEOUT * 1000)}ms",
        f"{int(COORDINATOR_STATEMENT_TIMEOUT * 1000)}ms",
    )
