"""The ``backend`` fixture: each coordinator test runs against memory, SQLite and PostgreSQL.

``backend.open()`` gives a coordinator on the test's own store (a fresh SQLite file, a fresh
PostgreSQL schema); opening again gives a second coordinator on the same store, as a restarted
or second process would (in memory: the same instance, which is all one process has).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pleo_export.coordination import (
    Coordinator,
    InMemoryCoordinator,
    PostgresCoordinator,
    SQLiteCoordinator,
)


@dataclass
class Backend:
    """Opens coordinators on one store; ``spec`` tells a racer process how to open its own."""

    name: str
    spec: str
    durable: bool
    opened: list[Coordinator] = field(default_factory=list)

    def open(self, lease_seconds: float = 30.0) -> Coordinator:
        """A coordinator on this backend's store."""
        coordinator = open_spec(self.spec, lease_seconds)
        if self.name == "memory":
            if not self.opened:
                self.opened.append(coordinator)
            return self.opened[0]
        self.opened.append(coordinator)
        return coordinator


def open_spec(spec: str, lease_seconds: float) -> Coordinator:
    """A coordinator from ``memory:``, ``sqlite:<path>`` or ``postgres:<schema>:<dsn>``."""
    kind, _, rest = spec.partition(":")
    if kind == "sqlite":
        return SQLiteCoordinator(rest, lease_seconds=lease_seconds)
    if kind == "postgres":
        schema, _, dsn = rest.partition(":")
        return PostgresCoordinator(dsn, lease_seconds=lease_seconds, schema=schema)
    return InMemoryCoordinator(lease_seconds=lease_seconds)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Each backend in turn, on a store of the test's own; closes what the test opened."""
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
