"""What only one backend has: SQLite's file and migration, PostgreSQL's connection, schema,
credentials and reconnection, and the ``[postgres]`` extra being optional."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import psycopg
import pytest
from _pg import PgUnavailable, pg_bindir

from pleo_export import CoordinatorError, InvalidArgumentError
from pleo_export._outcome import JobRef
from pleo_export.coordination import Lease, PostgresCoordinator, SQLiteCoordinator
from pleo_export.coordination._postgres import MIGRATIONS as POSTGRES_MIGRATIONS
from pleo_export.coordination._sqlite import MIGRATIONS as SQLITE_MIGRATIONS


def _job() -> JobRef:
    return JobRef(uuid.uuid4(), uuid.uuid4(), "v3")


async def test_sqlite_migrates_once_in_wal_mode(tmp_path: Path) -> None:
    """Opening a file twice applies each schema version once and leaves it in WAL mode; fails if
    the migration is not idempotent or the file is left in rollback-journal mode."""
    path = tmp_path / "journal.db"
    for _ in range(2):
        coordinator = SQLiteCoordinator(path)
        assert isinstance(await coordinator.acquire(_job(), "a"), Lease)
        await coordinator.aclose()
    with sqlite3.connect(path) as conn:
        versions = [(version,) for version, _ in SQLITE_MIGRATIONS]
        assert conn.execute("SELECT version FROM pleo_export_schema").fetchall() == versions
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    """A file migrated by a newer SDK raises CoordinatorError naming both versions; fails if
    an old SDK would write into tables it does not know."""
    path = tmp_path / "journal.db"
    coordinator = SQLiteCoordinator(path)
    await coordinator.acquire(_job(), "a")
    await coordinator.aclose()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO pleo_export_schema (version) VALUES (99)")
    coordinator = SQLiteCoordinator(path)
    newest = SQLITE_MIGRATIONS[-1][0]
    with pytest.raises(CoordinatorError, match=f"version 99; this SDK knows up to {newest}"):
        await coordinator.acquire(_job(), "a")
    await coordinator.aclose()


async def test_sqlite_errors_are_typed_and_bounded(tmp_path: Path) -> None:
    """A file that is not a database raises a short CoordinatorError, not sqlite3's own; fails
    if a driver exception escapes the PleoError tree."""
    path = tmp_path / "not-a-db"
    path.write_bytes(b"this is not a sqlite file" * 100)
    coordinator = SQLiteCoordinator(path)
    with pytest.raises(CoordinatorError, match="not a database") as caught:
        await coordinator.acquire(_job(), "a")
    assert len(str(caught.value)) <= 300
    assert isinstance(caught.value.__cause__, sqlite3.Error)
    await coordinator.aclose()


@pytest.mark.parametrize("lease_seconds", [0, -1.0, float("nan"), float("inf")])
def test_bad_lease_seconds_are_refused(tmp_path: Path, lease_seconds: float) -> None:
    """A lease of zero, negative, NaN or infinite seconds raises InvalidArgumentError."""
    with pytest.raises(InvalidArgumentError, match="lease_seconds"):
        SQLiteCoordinator(tmp_path / "x.db", lease_seconds=lease_seconds)
    with pytest.raises(InvalidArgumentError, match="lease_seconds"):
        PostgresCoordinator("dbname=x", lease_seconds=lease_seconds)


@pytest.mark.parametrize("schema", ["", "s" * 64])
def test_postgres_refuses_a_bad_schema_name(schema: str) -> None:
    """An empty schema name, or one PostgreSQL would truncate, raises InvalidArgumentError."""
    with pytest.raises(InvalidArgumentError, match="schema"):
        PostgresCoordinator("dbname=x", schema=schema)


async def test_postgres_never_shows_the_password(postgres_dsn: str) -> None:
    """Neither a bad DSN's error, nor the server's refusal (which echoes the role name, here
    equal to the password), nor the repr holds the DSN's password; fails if a credential
    could reach a log line."""
    secret = "pg-secret-" + uuid.uuid4().hex
    with pytest.raises(InvalidArgumentError) as bad:
        PostgresCoordinator(f"host=127.0.0.1 password={secret} nonsense_option=1")
    assert secret not in str(bad.value)
    assert bad.value.__cause__ is None
    coordinator = PostgresCoordinator(f"{postgres_dsn} user={secret} password={secret}")
    assert secret not in repr(coordinator)
    with pytest.raises(CoordinatorError) as failed:
        await coordinator.acquire(_job(), "a")
    assert secret not in str(failed.value)
    assert "[secure]" in str(failed.value)
    await coordinator.aclose()


async def test_postgres_quotes_the_schema_name(postgres_dsn: str) -> None:
    """A schema name with capitals, spaces and quotes works end to end; fails if any statement
    (the token sequence included) pastes the name unquoted."""
    coordinator = PostgresCoordinator(postgres_dsn, schema=f'Odd "name" {uuid.uuid4().hex[:6]}')
    lease = await coordinator.acquire(_job(), "a")
    assert isinstance(lease, Lease)
    await coordinator.record_intents(lease, [uuid.uuid4()])
    assert len((await coordinator.load(lease)).in_doubt) == 1
    await coordinator.aclose()


async def test_postgres_refuses_a_newer_schema(postgres_dsn: str) -> None:
    """A schema migrated by a newer SDK raises CoordinatorError; fails if it is written to."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    coordinator = PostgresCoordinator(postgres_dsn, schema=schema)
    await coordinator.acquire(_job(), "a")
    await coordinator.aclose()
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f"INSERT INTO {schema}.schema_version (version) VALUES (99)")
    coordinator = PostgresCoordinator(postgres_dsn, schema=schema)
    newest = POSTGRES_MIGRATIONS[-1][0]
    with pytest.raises(CoordinatorError, match=f"version 99; this SDK knows up to {newest}"):
        await coordinator.acquire(_job(), "a")
    await coordinator.aclose()


async def test_postgres_reconnects_after_losing_its_connection(postgres_dsn: str) -> None:
    """When the server ends the coordinator's session, that call raises CoordinatorError and
    the next one reconnects, with the lease intact; fails if a broken connection is reused."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    coordinator = PostgresCoordinator(postgres_dsn, schema=schema)
    lease = await coordinator.acquire(_job(), "a")
    assert isinstance(lease, Lease)
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE pid <> pg_backend_pid() AND datname = current_database()"
            " AND backend_type = 'client backend'"
        )
    with pytest.raises(CoordinatorError):
        await coordinator.renew(lease)
    await coordinator.renew(lease)
    await coordinator.record_intents(lease, [uuid.uuid4()])
    await coordinator.aclose()


def test_the_postgres_extra_is_optional() -> None:
    """Without psycopg, the other coordinators import and PostgresCoordinator names the extra
    to install; fails if psycopg became a hard dependency of pleo_export.coordination."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["psycopg"] = None
        from pleo_export.coordination import SQLiteCoordinator, InMemoryCoordinator
        try:
            from pleo_export.coordination import PostgresCoordinator
        except ImportError as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "pip install 'pleo-export[postgres]'" in done.stdout


def test_missing_postgres_binaries_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without initdb and pg_ctl on the PATH the cluster helper says so (the reason a skip, or
    under CI=true a failure, shows); fails if it would pick a half-installed PostgreSQL."""
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PgUnavailable, match="initdb, pg_ctl"):
        pg_bindir()
