"""How the coordinator tests open a backend: in this process (``Backend.open``) or in a racer
process (``open_spec``, from a one-line spec a command line can carry)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pleo_export.coordination import (
    Coordinator,
    InMemoryCoordinator,
    PostgresCoordinator,
    SQLiteCoordinator,
)

__all__ = ["Backend", "open_spec"]


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
