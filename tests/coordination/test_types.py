"""The shared contract values: the protocol check, holder names and the error classes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pleo_export
import pleo_export.coordination as coordination
from pleo_export.coordination import (
    Coordinator,
    CoordinatorError,
    InMemoryCoordinator,
    JournalState,
    LeaseLostError,
    PostgresCoordinator,
    SQLiteCoordinator,
    new_holder,
)


def test_every_backend_is_a_coordinator(tmp_path: Path) -> None:
    """All three backends satisfy the ``Coordinator`` protocol; fails if one misses a method."""
    for backend in (
        InMemoryCoordinator(),
        SQLiteCoordinator(tmp_path / "j.db"),
        PostgresCoordinator("dbname=x"),
    ):
        assert isinstance(backend, Coordinator)
        assert backend.lease_seconds == 30.0


def test_holder_names_are_unique_and_short() -> None:
    """``new_holder()`` names differ between calls and fit the 200-character limit."""
    names = {new_holder() for _ in range(100)}
    assert len(names) == 100
    assert all(0 < len(name) <= 200 for name in names)


def test_lease_lost_is_a_coordinator_error_and_a_pleo_error() -> None:
    """LeaseLostError sits under CoordinatorError under PleoError, at the top level too, and
    names the job, token and reason; fails if ``except PleoError`` would miss it."""
    error = LeaseLostError("job-1", 7, "superseded by token 8")
    assert isinstance(error, CoordinatorError)
    assert isinstance(error, pleo_export.PleoError)
    assert pleo_export.LeaseLostError is LeaseLostError
    assert str(error) == "lease on job job-1 with token 7 is lost: superseded by token 8"


def test_the_namespace_lists_its_public_names() -> None:
    """``pleo_export.coordination.__all__`` is sorted and every name resolves and is documented."""
    assert coordination.__all__ == sorted(coordination.__all__)
    assert sorted(dir(coordination)) == coordination.__all__
    for name in coordination.__all__:
        assert getattr(coordination, name).__doc__, name


def test_an_empty_journal_state_is_empty() -> None:
    """``JournalState()`` is empty; one with anything in it is not."""
    assert JournalState().is_empty
    assert not JournalState(in_doubt=frozenset({uuid.uuid4()})).is_empty
