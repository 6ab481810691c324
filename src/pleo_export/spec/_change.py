"""The records a diff produces: one ``Change`` per finding, tied to its ``Operation``.

A change carries only an id from the rule table; its level is looked up there, so no code path
can grade a finding differently from what ``--list-rules`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from ._rules import RULES, Level

__all__ = ["Change", "Entry", "Operation"]


@dataclass(frozen=True)
class Operation:
    """The operation a change belongs to."""

    method: str
    path: str
    operation_id: str | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Change:
    """One contract change between two documents.

    ``location`` names the container (``response 200 application/json``, ``query parameter
    limit``); ``json_path`` is the property's path inside that schema (``data[].status``), empty
    for the schema root or when there is no schema.

    Raises:
        ValueError: the id is not in the rule table.
    """

    id: str
    message: str
    operation: Operation | None = None
    location: str = ""
    json_path: str = ""

    def __post_init__(self) -> None:
        if self.id not in RULES:
            raise ValueError(f"unknown change id {self.id!r}")

    @property
    def level(self) -> Level:
        """The rule table's level for this change's id."""
        return RULES[self.id].level

    def to_dict(self) -> dict[str, Any]:
        """Return the change as a JSON-ready mapping."""
        op = self.operation
        return {
            "id": self.id,
            "level": self.level.label,
            "operation": str(op) if op else None,
            "method": op.method if op else None,
            "path": op.path if op else None,
            "operationId": op.operation_id if op else None,
            "location": self.location,
            "jsonPath": self.json_path,
            "message": self.message,
        }


class Entry(NamedTuple):
    """One operation as found in a document."""

    path: str
    path_item: dict[str, Any]
    operation: dict[str, Any]
