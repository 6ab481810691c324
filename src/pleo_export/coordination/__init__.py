"""Fenced leases on export jobs and a durable journal of their items' outcomes.

``from pleo_export.coordination import SQLiteCoordinator`` (one machine, the embedded default),
``PostgresCoordinator`` (several machines; needs the ``[postgres]`` extra) or
``InMemoryCoordinator`` (one process). All three follow the ``Coordinator`` protocol, which
takes a ``JobRef`` and journals ``ItemOutcome`` values (re-exported here); see
docs/coordination.md for the order of writes that makes each booking happen once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .._errors import CoordinatorError, LeaseHeldError, LeaseLostError
from .._outcome import ItemOutcome, JobRef, OutcomeStatus
from ._memory import InMemoryCoordinator
from ._sqlite import SQLiteCoordinator
from ._types import Coordinator, JournalState, Lease, LeaseHeld, TokenGrant, new_holder

if TYPE_CHECKING:
    from ._postgres import PostgresCoordinator

__all__ = [
    "Coordinator",
    "CoordinatorError",
    "InMemoryCoordinator",
    "ItemOutcome",
    "JobRef",
    "JournalState",
    "Lease",
    "LeaseHeld",
    "LeaseHeldError",
    "LeaseLostError",
    "OutcomeStatus",
    "PostgresCoordinator",
    "SQLiteCoordinator",
    "TokenGrant",
    "new_holder",
]


def __getattr__(name: str) -> Any:
    """Import ``PostgresCoordinator`` (and psycopg) only when it is asked for."""
    if name != "PostgresCoordinator":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module("._postgres", __name__)
    except ModuleNotFoundError as exc:
        if exc.name is None or not exc.name.startswith("psycopg"):
            raise
        raise ImportError(
            "PostgresCoordinator needs psycopg: pip install 'pleo-export[postgres]'"
        ) from exc
    value = module.PostgresCoordinator
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
