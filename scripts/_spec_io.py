"""Helpers shared by the spec scripts: reading a spec from a path or URL, canonical YAML output.

Only I/O and formatting live here; what a script does with the document is its own business.
Reading is the package's own ``pleo_export.spec.read_source`` (bounded in size and time).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from pleo_export.spec import read_source

__all__ = ["REPO_ROOT", "dump_yaml", "load_yaml", "read_source", "sha256_hex"]

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_yaml(data: bytes | str) -> Any:
    """Parse YAML (or JSON, which is YAML) without executing any tags."""
    return yaml.safe_load(data)


def dump_yaml(document: Any) -> str:
    """Serialise a document as canonical YAML: sorted keys, no line folding, stable quoting."""
    return yaml.safe_dump(
        document,
        sort_keys=True,
        allow_unicode=True,
        width=10_000,
        default_flow_style=False,
    )


def sha256_hex(data: bytes) -> str:
    """Return the hex SHA-256 digest of some bytes."""
    return hashlib.sha256(data).hexdigest()
