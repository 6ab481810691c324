"""The ``backend`` fixture: each coordinator test runs against memory, SQLite and PostgreSQL.

``backend.open()`` gives a coordinator on the test's own store (a fresh SQLite file, a fresh
PostgreSQL schema); opening again gives a second coordinator on the same store, as a restarted
or second process would (in memory: the same instance, which is all one process has).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _backends import Backend


async def _backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        chosen = Backend("sqlite", f"sqlite:{tmp_path / 'journal.db'}", durable=True)
    elif request.param == "postgres":
        dsn = request.getfixturevalue("postgres_dsn")
        chosen = Backend("postgres", f"postgres:t_{uuid.uuid4().hex[:12]}:{dsn}", durable=True)
    else:
        chosen = Backend("memory", "memory:", durable=False)
    yield chosen
    for coordinator in chosen.opened:
        await coordinator.aclose()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Each backend in turn, on a store of the test's own; closes what the test opened."""
    async for chosen in _backend(request, tmp_path):
        yield chosen


@pytest.fixture(params=["sqlite", "postgres"])
async def durable_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """The backends that outlive a process and serve several (not the in-memory one)."""
    async for chosen in _backend(request, tmp_path):
        yield chosen
