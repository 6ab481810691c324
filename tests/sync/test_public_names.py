"""``pleo_export.sync`` is built on the async API's public names only, so the async internals
(``_client``, ``_resources``, the engine) can be reshaped without breaking it: an import of a
private module (``from .._run import …``, ``pleo_export._client``) fails this test."""

from __future__ import annotations

import ast
from pathlib import Path

import pleo_export
import pleo_export.sync

SYNC = Path(pleo_export.sync.__file__).parent
#: The sync package's own private modules are its business.
OWN = {f"pleo_export.sync.{path.stem}" for path in SYNC.glob("_*.py")}


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names.add(f"pleo_export.sync.{node.module}")
            elif node.level > 1:
                names.add(f"pleo_export.{node.module}")  # reaching out of the package
            elif node.module:
                names.add(node.module)
                names |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return {name for name in names if name.startswith("pleo_export")}


def test_only_public_names_of_the_async_api() -> None:
    offending = {
        f"{path.name}: {name}"
        for path in SYNC.glob("*.py")
        for name in _imported(path) - OWN
        if any(part.startswith("_") for part in name.split(".")[1:])
    }
    assert offending == set()


def test_reexported_values_are_the_async_apis_own() -> None:
    """``Booked``, ``WorkItem``, the errors… are the async API's classes, not copies: an
    ``except pleo_export.PleoError`` catches what the sync client raises."""
    for name in ("Booked", "Rejected", "WorkItem", "Page", "PleoError", "ResponseMeta"):
        assert getattr(pleo_export.sync, name) is getattr(pleo_export, name)
    assert issubclass(pleo_export.sync.PortalClosedError, pleo_export.PleoError)
    assert pleo_export.sync.__all__ == sorted(pleo_export.sync.__all__)
