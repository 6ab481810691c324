"""How the command line prints: aligned tables, key/value blocks, JSON, and a progress bar.

Results go to stdout, progress and errors to stderr. Nothing here knows about Pleo; the command
modules turn models into rows first.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final, TextIO

__all__ = ["ProgressBar", "print_json", "print_kv", "print_table", "progress_enabled"]

#: Characters of the bar itself, and the least time between two redraws.
_BAR_WIDTH: Final = 30
_REDRAW_SECONDS: Final = 0.1


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], *, out: TextIO | None = None
) -> None:
    """Print ``rows`` under ``headers`` as left-aligned columns separated by two spaces.

    Args:
        headers: the column titles, printed in capitals.
        rows: one sequence per row, as long as ``headers``; ``None`` prints as ``-``.
        out: where to print (default stdout).
    """
    out = out or sys.stdout
    cells = [[h.upper() for h in headers], *([_cell(v) for v in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def print_kv(pairs: Mapping[str, Any], *, out: TextIO | None = None) -> None:
    """Print ``name: value`` lines with the values aligned.

    Args:
        pairs: names and values, in the order to print; ``None`` prints as ``-``.
        out: where to print (default stdout).
    """
    out = out or sys.stdout
    width = max((len(k) for k in pairs), default=0) + 1
    for key, value in pairs.items():
        out.write(f"{key + ':':<{width}} {_cell(value)}\n")


def print_json(value: Any, *, out: TextIO | None = None) -> None:
    """Print ``value`` as indented JSON (dates and UUIDs as strings)."""
    out = out or sys.stdout
    out.write(json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n")


def progress_enabled(mode: str, stream: TextIO | None = None) -> bool:
    """Whether to draw a progress bar: ``always``, ``never``, or ``auto`` (stderr is a terminal).

    Args:
        mode: ``"auto"``, ``"always"`` or ``"never"``.
        stream: the stream the bar goes to (default stderr).
    """
    if mode == "auto":
        stream = stream or sys.stderr
        return bool(getattr(stream, "isatty", lambda: False)())
    return mode == "always"


class ProgressBar:
    """A one-line ``label [#####.....] done/total unit`` bar on stderr, redrawn in place.

    Disabled bars do nothing, so callers need no ``if``. ``total`` may be unknown (None) and set
    later, once the first page says how many items there are.

    Args:
        label: the word in front of the bar, e.g. ``"export"``.
        unit: what is counted, e.g. ``"items"``.
        enabled: draw at all (see ``progress_enabled``).
        stream: where to draw (default stderr).
    """

    def __init__(
        self, label: str, *, unit: str, enabled: bool, stream: TextIO | None = None
    ) -> None:
        self.label = label
        self.unit = unit
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.done = 0
        self.total: int | None = None
        self._drawn_at = 0.0

    def advance(self, count: int, *, total: int | None = None) -> None:
        """Count ``count`` more done (and learn the total), redrawing at most every 0.1 s."""
        self.done += count
        if total is not None:
            self.total = total
        now = time.monotonic()
        if self.enabled and now - self._drawn_at >= _REDRAW_SECONDS:
            self._drawn_at = now
            self._draw()

    def finish(self) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        if self.total:
            filled = min(_BAR_WIDTH, _BAR_WIDTH * self.done // self.total)
            bar = "#" * filled + "." * (_BAR_WIDTH - filled)
            text = f"{self.label} [{bar}] {self.done}/{self.total} {self.unit}"
        else:
            text = f"{self.label} {self.done} {self.unit}"
        self.stream.write("\r" + text)
        self.stream.flush()
