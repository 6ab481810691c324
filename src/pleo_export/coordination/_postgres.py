"""``PostgresCoordinator``: leases and the journal in PostgreSQL, for workers on many machines.

psycopg 3, one connection per coordinator, every call one short transaction that locks the
job's lease row and uses the server's clock for expiry. This module holds what each call reads
and writes; the connection, its transactions, timeouts and schema migrations are
``_pg_connection``'s (``MIGRATIONS`` is re-exported here). No session state, so it works
through PgBouncer in transaction pooling mode. Needs the ``[postgres]`` extra.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Final

import psycopg
from psycopg.conninfo import conninfo_to_dict

from .._config import (
    COORDINATOR_CALL_TIMEOUT,
    DEFAULT_COORDINATOR_SCHEMA,
    DEFAULT_LEASE_SECONDS,
)
from .._errors import InvalidArgumentError
from .._outcome import ItemOutcome, JobRef
from .._secrets import register
from ._budget import Bucket, take, valid_take
from ._pg_connection import MIGRATIONS, Cursor, PgConnection, one
from ._policy import (
    LeaseRow,
    check_lease,
    decide,
    journal_state,
    unique_ids,
    unique_outcomes,
    valid_holder,
    valid_job,
    valid_lease,
    valid_lease_seconds,
    valid_timeout,
)
from ._types import JournalShortcuts, JournalState, Lease, LeaseHeld, TokenGrant

__all__ = ["MIGRATIONS", "PostgresCoordinator"]

#: PostgreSQL truncates identifiers longer than this.
_IDENTIFIER_MAX: Final = 63

_CLOCK: Final = "extract(epoch FROM clock_timestamp())::float8"


class PostgresCoordinator(JournalShortcuts):
    """A ``Coordinator`` in PostgreSQL, for workers in several processes and on several machines.

    The schema and its tables are created on first use (the role needs ``CREATE`` on the
    database, or a DBA creates the schema for it; see docs/coordination.md). Each call is one
    short transaction on the coordinator's single connection, which is reopened after a
    failure; a call whose task is cancelled still commits or rolls back first.

    Args:
        dsn: a libpq connection string or URI; its password never appears in an error.
        lease_seconds: a lease lapses this long after it was taken or renewed, by the
            server's clock (default 30.0).
        schema: the PostgreSQL schema of the tables (default ``"pleo_export"``).
        timeout: the most seconds one call may take, waiting for its turn on the connection
            included (default 60.0); past it the call raises ``CoordinatorError`` and the
            connection is dropped, so a server that stopped answering cannot hang a run.

    Raises:
        InvalidArgumentError: ``dsn`` does not parse, ``schema`` is empty or too long, or
            ``lease_seconds`` or ``timeout`` is not a positive number.
    """

    def __init__(
        self,
        dsn: str,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        schema: str = DEFAULT_COORDINATOR_SCHEMA,
        timeout: float = COORDINATOR_CALL_TIMEOUT,
    ) -> None:
        try:
            params = conninfo_to_dict(dsn)
        except psycopg.Error:
            raise InvalidArgumentError(
                "dsn", "is not a valid PostgreSQL connection string"
            ) from None
        password = params.get("password")
        if isinstance(password, str):
            register(password)
        if not schema or len(schema.encode()) > _IDENTIFIER_MAX:
            raise InvalidArgumentError("schema", f"must be 1 to {_IDENTIFIER_MAX} bytes long")
        self._schema = schema
        self._sequence = '"{}".lease_tokens'.format(schema.replace('"', '""'))
        self._lease_seconds = valid_lease_seconds(lease_seconds)
        self._db = PgConnection(dsn, schema=schema, timeout=valid_timeout(timeout))

    def __repr__(self) -> str:
        return f"PostgresCoordinator(schema={self._schema!r}, lease_seconds={self._lease_seconds})"

    @property
    def lease_seconds(self) -> float:
        """Seconds a lease lasts after it was taken or last renewed."""
        return self._lease_seconds

    async def acquire(self, job: JobRef, holder: str) -> Lease | LeaseHeld:
        """Lease ``job`` and its company for ``holder`` (see ``Coordinator.acquire``)."""
        valid_job(job)
        valid_holder(holder)

        async def write(cur: Cursor) -> Lease | LeaseHeld:
            # Lock order everywhere: the job's row, then its company's row.
            await cur.execute(
                self._db.q(
                    "INSERT INTO {s}.leases (job_id, company_id, token) VALUES (%s, %s, 0)"
                    " ON CONFLICT (job_id) DO NOTHING"
                ),
                (job.job_id, job.company_id),
            )
            job_row, now = await self._job_row(cur, job.job_id, lock="UPDATE")
            company_row = None
            if job.company_id is not None:
                await cur.execute(
                    self._db.q(
                        "INSERT INTO {s}.company_leases (company_id) VALUES (%s)"
                        " ON CONFLICT (company_id) DO NOTHING"
                    ),
                    (job.company_id,),
                )
                await cur.execute(
                    self._db.q(
                        "SELECT job_id, holder, token, extract(epoch FROM expires_at)::float8"
                        " FROM {s}.company_leases WHERE company_id = %s FOR UPDATE"
                    ),
                    (job.company_id,),
                )
                row = await cur.fetchone()
                if row is not None and row[0] is not None:
                    company_row = LeaseRow(row[0], row[1], row[2], row[3])
            held = decide(job.job_id, holder, job_row, company_row, now)
            if held is not None:
                await cur.execute(
                    self._db.q("DELETE FROM {s}.leases WHERE job_id = %s AND token = 0"),
                    (job.job_id,),
                )
                return held
            await cur.execute(
                self._db.q(
                    "UPDATE {s}.leases SET company_id = %s, holder = %s,"
                    " token = nextval(%s::regclass),"
                    " expires_at = clock_timestamp() + make_interval(secs => %s)"
                    " WHERE job_id = %s RETURNING token, expires_at"
                ),
                (job.company_id, holder, self._sequence, self._lease_seconds, job.job_id),
            )
            token, expires_at = await one(cur)
            if job.company_id is not None:
                await cur.execute(
                    self._db.q(
                        "UPDATE {s}.company_leases SET job_id = %s, holder = %s, token = %s,"
                        " expires_at = %s WHERE company_id = %s"
                    ),
                    (job.job_id, holder, token, expires_at, job.company_id),
                )
            return Lease(job.job_id, job.company_id, holder, token, self._lease_seconds)

        return await self._db.transaction(write)

    async def renew(self, lease: Lease) -> None:
        """Extend the lease to ``lease_seconds`` from now (see ``Coordinator.renew``)."""
        valid_lease(lease)

        async def write(cur: Cursor) -> None:
            await self._check(cur, lease, lock="UPDATE")
            await cur.execute(
                self._db.q(
                    "UPDATE {s}.leases SET expires_at = clock_timestamp()"
                    " + make_interval(secs => %s) WHERE job_id = %s RETURNING expires_at"
                ),
                (self._lease_seconds, lease.job_id),
            )
            (expires_at,) = await one(cur)
            await cur.execute(
                self._db.q(
                    "UPDATE {s}.company_leases SET expires_at = %s"
                    " WHERE company_id = %s AND token = %s"
                ),
                (expires_at, lease.company_id, lease.token),
            )

        await self._db.transaction(write)

    async def release(self, lease: Lease) -> None:
        """Give up the lease if it is still this one (see ``Coordinator.release``)."""
        valid_lease(lease)

        async def write(cur: Cursor) -> None:
            await cur.execute(
                self._db.q(
                    "UPDATE {s}.leases SET holder = NULL, expires_at = NULL"
                    " WHERE job_id = %s AND token = %s"
                ),
                (lease.job_id, lease.token),
            )
            await self._drop_company(cur, lease)

        await self._db.transaction(write)

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
        # Ids travel as one comma-joined text and outcomes as one JSON array: psycopg's
        # per-element array escaping cost more than the database's work on them.
        intent_ids, confirm_ids = (
            _joined(unique_ids(intents, "intents")),
            _joined(unique_ids(confirmed, "confirmed")),
        )
        firsts = unique_outcomes(outcomes)
        records = json.dumps([o.to_record() for o in firsts]) if firsts else ""

        async def write(cur: Cursor) -> None:
            await self._check(cur, lease)
            if intent_ids:
                await cur.execute(
                    self._db.q(
                        "INSERT INTO {s}.journal AS j (job_id, entry_id, state, token, attempts)"
                        " SELECT %s, e::uuid, 'intent', %s, 1"
                        " FROM unnest(string_to_array(%s, ',')) AS e"
                        " ON CONFLICT (job_id, entry_id) DO UPDATE SET token = excluded.token,"
                        " attempts = j.attempts + 1 WHERE j.state = 'intent'"
                    ),
                    (lease.job_id, lease.token, intent_ids),
                )
            if records:
                await cur.execute(
                    self._db.q(
                        "INSERT INTO {s}.journal AS j"
                        " (job_id, entry_id, state, token, attempts, outcome)"
                        " SELECT %s, (r ->> 'accounting_entry_id')::uuid, 'outcome', %s, 0, r"
                        " FROM jsonb_array_elements(%s::jsonb) AS r"
                        " ON CONFLICT (job_id, entry_id) DO UPDATE SET state = 'outcome',"
                        " token = excluded.token, outcome = excluded.outcome"
                        " WHERE j.state = 'intent'"
                    ),
                    (lease.job_id, lease.token, records),
                )
            if confirm_ids:
                await cur.execute(
                    self._db.q(
                        "UPDATE {s}.journal SET state = 'confirmed' WHERE job_id = %s"
                        " AND entry_id = ANY(string_to_array(%s, ',')::uuid[])"
                        " AND state = 'outcome'"
                    ),
                    (lease.job_id, confirm_ids),
                )

        await self._db.transaction(write)

    async def load(self, lease: Lease) -> JournalState:
        """Read the job's journal (see ``Coordinator.load``)."""
        valid_lease(lease)

        async def read(cur: Cursor) -> JournalState:
            await self._check(cur, lease)
            await cur.execute(
                self._db.q(
                    "SELECT entry_id, state, outcome::text FROM {s}.journal WHERE job_id = %s"
                ),
                (lease.job_id,),
            )
            rows = await cur.fetchall()
            return journal_state(
                rows,
                where="PostgreSQL coordinator",
                table=f"{self._schema}.journal (job_id={lease.job_id})",
            )

        return await self._db.transaction(read)

    async def purge(self, lease: Lease) -> None:
        """Delete the job's journal and lease rows (see ``Coordinator.purge``)."""
        valid_lease(lease)

        async def write(cur: Cursor) -> None:
            await self._check(cur, lease, lock="UPDATE")
            await cur.execute(
                self._db.q("DELETE FROM {s}.journal WHERE job_id = %s"), (lease.job_id,)
            )
            await cur.execute(
                self._db.q("DELETE FROM {s}.leases WHERE job_id = %s"), (lease.job_id,)
            )
            await self._drop_company(cur, lease)

        await self._db.transaction(write)

    async def take_tokens(
        self, key: str, *, count: int, rate: float, capacity: int, pause: float = 0.0
    ) -> TokenGrant:
        """Take tokens from the request budget ``key``, shared by every process on this schema
        and machine alike, by the server's clock (see ``Coordinator.take_tokens``)."""
        valid_take(key, count, rate, capacity, pause)

        async def write(cur: Cursor) -> TokenGrant:
            # A row to lock first, so two first takers of a key cannot both find it full.
            await cur.execute(
                self._db.q(
                    "INSERT INTO {s}.budgets (key, tokens, updated_at, paused_until)"
                    f" VALUES (%s, %s, {_CLOCK}, 0) ON CONFLICT (key) DO NOTHING"
                ),
                (key, float(capacity)),
            )
            await cur.execute(
                self._db.q(
                    f"SELECT tokens, updated_at, paused_until, {_CLOCK}"
                    " FROM {s}.budgets WHERE key = %s FOR UPDATE"
                ),
                (key,),
            )
            tokens, updated, paused_until, now = await one(cur)
            bucket, grant = take(
                Bucket(tokens, updated, paused_until),
                now,
                count=count,
                rate=rate,
                capacity=capacity,
                pause=pause,
            )
            await cur.execute(
                self._db.q(
                    "UPDATE {s}.budgets SET tokens = %s, updated_at = %s, paused_until = %s"
                    " WHERE key = %s"
                ),
                (bucket.tokens, bucket.updated, bucket.paused_until, key),
            )
            return grant

        return await self._db.transaction(write)

    async def aclose(self) -> None:
        """Close the database connection."""
        await self._db.aclose()

    async def _job_row(
        self, cur: Cursor, job_id: uuid.UUID, *, lock: str = "SHARE"
    ) -> tuple[LeaseRow | None, float]:
        """The job's lease row, locked, and the server's clock."""
        await cur.execute(
            self._db.q(
                f"SELECT holder, token, extract(epoch FROM expires_at)::float8, {_CLOCK}"
                f" FROM {{s}}.leases WHERE job_id = %s FOR {lock}"
            ),
            (job_id,),
        )
        row = await cur.fetchone()
        if row is None:
            await cur.execute(f"SELECT {_CLOCK}")
            (now,) = await one(cur)
            return None, now
        if row[1] == 0:  # the placeholder acquire inserts to have a row to lock: never leased
            return None, row[3]
        return LeaseRow(job_id, row[0], row[1], row[2]), row[3]

    async def _check(self, cur: Cursor, lease: Lease, *, lock: str = "SHARE") -> None:
        """Raise ``LeaseLostError`` unless ``lease`` is current; lock its row until commit, so
        no acquirer can supersede it before this transaction's write lands."""
        job_row, now = await self._job_row(cur, lease.job_id, lock=lock)
        check_lease(lease, job_row, now)

    async def _drop_company(self, cur: Cursor, lease: Lease) -> None:
        if lease.company_id is not None:
            await cur.execute(
                self._db.q(
                    "UPDATE {s}.company_leases SET job_id = NULL, holder = NULL,"
                    " token = NULL, expires_at = NULL WHERE company_id = %s AND token = %s"
                ),
                (lease.company_id, lease.token),
            )


def _joined(ids: list[uuid.UUID]) -> str:
    return ",".join(map(str, ids))
