"""The three levels a change can have, where a rule's id and level come from, and a rule."""

from __future__ import annotations

import enum
from typing import NamedTuple

__all__ = ["Level", "Origin", "Rule"]


class Level(enum.IntEnum):
    """How bad a change is for a client built on the old document."""

    INFO = 1  # oasdiff INFO: not breaking
    WARNING = 2  # oasdiff WARN: may break; the document alone cannot tell
    BREAKING = 3  # oasdiff ERR: breaks a client that followed the old contract

    @property
    def label(self) -> str:
        """The lower-case name used in text and JSON output."""
        return self.name.lower()


class Origin(enum.Enum):
    """Where a rule's id and level come from."""

    OASDIFF = "oasdiff"  # oasdiff's id at oasdiff's default level
    RAISED = "raised"  # oasdiff's id, level raised because it breaks a generated client
    OWN = "own"  # no oasdiff counterpart; named in oasdiff's style


class Rule(NamedTuple):
    """The static level of one change id, where it comes from, and what it means."""

    level: Level
    origin: Origin
    meaning: str
