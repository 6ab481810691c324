"""Corrupted journal rows: a row that does not parse is a ``CoordinatorError`` naming its table
and row, never a ``JSONDecodeError``/``ValueError``/``TypeError`` from the parser (as each was
before), and nothing is reported from it (``load`` returns nothing at all)."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from pleo_export import CoordinatorError
from pleo_export._outcome import ItemOutcome, JobRef, OutcomeStatus
from pleo_export.coordination import Lease, PostgresCoordinator, SQLiteCoordinator

ENTRY = uuid.uuid4()


def _outcome(entry: uuid.UUID = ENTRY) -> ItemOutcome:
    return ItemOutcome(
        accounting_entry_id=entry,
        status=OutcomeStatus.SUCCESSFUL,
        external_id="JE-1",
        exported_at=datetime(2026, 1, 2, tzinfo=UTC),
    )


#: SQL that corrupts one row of a journaled job, what the error must name, and the old error.
SQLITE_DAMAGE: dict[str, tuple[str, str]] = {
    "truncated outcome JSON": (
        "UPDATE pleo_export_journal SET outcome = substr(outcome, 1, 20)",
        "pleo_export_journal",
    ),  # JSONDecodeError before
    "outcome JSON of no record": (
        "UPDATE pleo_export_journal SET outcome = '[1, 2]'",
        "pleo_export_journal",
    ),  # TypeError before
    "non-UUID entry id": (
        "UPDATE pleo_export_journal SET entry_id = 'not-a-uuid', state = 'intent'",
        "pleo_export_journal",
    ),  # ValueError before
    "outcome of another entry": (
        f"UPDATE pleo_export_journal SET entry_id = '{uuid.uuid4()}'",
        "pleo_export_journal",
    ),  # reported under the wrong entry before
}


async def _journaled(path: Path) -> tuple[SQLiteCoordinator, Lease]:
    coordinator = SQLiteCoordinator(path)
    lease = await coordinator.acquire(JobRef(uuid.uuid4(), uuid.uuid4(), "v3"), "a")
    assert isinstance(lease, Lease)
    await coordinator.write(lease, outcomes=[_outcome()])
    return coordinator, lease


@pytest.mark.parametrize("damage", list(SQLITE_DAMAGE))
async def test_sqlite_corrupt_journal_row_is_a_coordinator_error(
    tmp_path: Path, damage: str
) -> None:
    """Each damage fails ``load`` with the table and entry named (the old error in each
    case's comment); returning the other rows, or the outcome under another entry, fails."""
    path = tmp_path / "journal.db"
    coordinator, lease = await _journaled(path)
    statement, table = SQLITE_DAMAGE[damage]
    with sqlite3.connect(path) as conn:
        conn.execute(statement)
    with pytest.raises(CoordinatorError) as caught:
        await coordinator.load(lease)
    assert table in str(caught.value)
    assert "entry_id=" in str(caught.value)
    assert len(str(caught.value)) < 500
    await coordinator.aclose()


async def test_sqlite_deleted_token_row_is_a_coordinator_error(tmp_path: Path) -> None:
    """The fencing token's row deleted: acquire raised TypeError (unpacking None) before."""
    path = tmp_path / "journal.db"
    coordinator, _ = await _journaled(path)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM pleo_export_tokens")
    with pytest.raises(CoordinatorError, match="pleo_export_tokens row id=1 is missing"):
        await coordinator.acquire(JobRef(uuid.uuid4(), None, "v3"), "b")
    await coordinator.aclose()


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ("UPDATE pleo_export_company_leases SET job_id = 'not-a-uuid'", "company_leases"),
        ("UPDATE pleo_export_leases SET token = 'seven'", "pleo_export_leases"),
    ],
)
async def test_sqlite_corrupt_lease_row_is_a_coordinator_error(
    tmp_path: Path, statement: str, table: str
) -> None:
    """A company lease naming a non-UUID job (ValueError before) or a lease whose token is text
    (a silently lost lease before): the next acquire of that job or company names the row."""
    path = tmp_path / "journal.db"
    coordinator, lease = await _journaled(path)
    with sqlite3.connect(path) as conn:
        conn.execute(statement)
    again = JobRef(lease.job_id, lease.company_id, "v3")
    with pytest.raises(CoordinatorError, match=table):
        await coordinator.acquire(again, "b")
    await coordinator.aclose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {s}.journal SET outcome = '[1, 2]'::jsonb",
        'UPDATE {s}.journal SET outcome = \'{{"status": "successful"}}\'::jsonb',
        f"UPDATE {{s}}.journal SET outcome = jsonb_set(outcome, '{{{{accounting_entry_id}}}}',"
        f" '\"{uuid.uuid4()}\"')",
    ],
    ids=["no record", "record without an entry", "another entry's record"],
)
async def test_postgres_corrupt_journal_row_is_a_coordinator_error(
    postgres_dsn: str, statement: str
) -> None:
    """PostgreSQL's typed columns keep ids valid, but an outcome's jsonb can still hold what is
    no outcome record: TypeError/KeyError before, or an outcome under the wrong entry."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    coordinator = PostgresCoordinator(postgres_dsn, schema=schema)
    lease = await coordinator.acquire(JobRef(uuid.uuid4(), uuid.uuid4(), "v3"), "a")
    assert isinstance(lease, Lease)
    await coordinator.write(lease, outcomes=[_outcome()])
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        await conn.execute(statement.format(s=schema))  # type: ignore[arg-type]
    with pytest.raises(CoordinatorError) as caught:
        await coordinator.load(lease)
    assert f"{schema}.journal" in str(caught.value)
    assert f"entry_id='{ENTRY}'" in str(caught.value)
    await coordinator.aclose()
