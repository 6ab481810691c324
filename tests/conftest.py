"""Fixtures every test directory can use: a throwaway PostgreSQL cluster for the session.

Tests that take ``postgres_dsn`` skip with the reason when PostgreSQL's binaries are absent,
except under ``CI=true``, where a missing PostgreSQL fails them instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from _pg import PgCluster, PgUnavailable, start_cluster


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL cluster started for this test session and stopped at its end."""
    try:
        cluster = start_cluster()
    except PgUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_dsn(postgres_cluster: PgCluster) -> str:
    """A DSN for the session's PostgreSQL cluster (superuser, unix socket)."""
    return postgres_cluster.dsn
