"""Helpers shared by the spec scripts: reading a spec from a path or URL, canonical YAML output.

Only I/O and formatting live here; what a script does with the document is its own business.
"""

from __future__ import annotations

import hashlib
import urllib.request
from pathlib import Path
from typing import Any

import yaml

__all__ = ["REPO_ROOT", "dump_yaml", "load_yaml", "read_source", "sha256_hex"]

REPO_ROOT = Path(__file__).resolve().parents[1]


def read_source(source: str) -> bytes:
    """Return the bytes of a spec given as a file path or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:
            data: bytes = response.read()
            return data
    return Path(source).read_bytes()


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
