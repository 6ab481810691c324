"""Reading OpenAPI documents and following their local ``$ref`` pointers.

A source is a file path or an http(s) URL holding YAML, JSON, or a text page that embeds the
document in fenced ```yaml blocks. Reads are bounded in size and time (``_config``). What the
documents say is compared elsewhere; only ``Resolver`` is shared with the walker.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from .._config import SPEC_FETCH_TIMEOUT, SPEC_MAX_BYTES
from .._errors import PleoError

__all__ = [
    "Resolver",
    "SpecError",
    "extract_openapi_documents",
    "load_document",
    "mapping",
    "merge_documents",
    "names",
    "parse_text",
    "read_source",
    "sequence",
]

_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?:ya?ml|json)\b[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL | re.IGNORECASE,
)
_SOURCE_CHARS = 200  # a source named in an error message is cut to this many characters


class SpecError(PleoError):
    """A spec could not be read, parsed, or holds no OpenAPI description."""


def _name(source: str) -> str:
    return source if len(source) <= _SOURCE_CHARS else source[:_SOURCE_CHARS] + "…"


def read_source(source: str, *, max_bytes: int = SPEC_MAX_BYTES) -> bytes:
    """Return the bytes of a spec given as a file path or an http(s) URL.

    Args:
        source: a path, or an ``http://`` / ``https://`` URL (fetched with a
            ``SPEC_FETCH_TIMEOUT`` of 30 s).
        max_bytes: refuse anything larger (default ``SPEC_MAX_BYTES``, 32 MiB).

    Raises:
        SpecError: the source cannot be read, answers with an error, or is too large.
    """
    if source.startswith(("http://", "https://")):
        try:
            with httpx.stream(
                "GET", source, timeout=SPEC_FETCH_TIMEOUT, follow_redirects=True
            ) as response:
                if response.status_code >= 400:
                    raise SpecError(f"cannot read {_name(source)}: HTTP {response.status_code}")
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > max_bytes:
                        raise SpecError(f"{_name(source)} is larger than {max_bytes} bytes")
                return bytes(data)
        except httpx.HTTPError as error:
            raise SpecError(f"cannot read {_name(source)}: {type(error).__name__}") from error
    path = Path(source)
    try:
        if path.stat().st_size > max_bytes:
            raise SpecError(f"{_name(source)} is larger than {max_bytes} bytes")
        return path.read_bytes()
    except OSError as error:
        raise SpecError(f"cannot read {_name(source)}: {error.strerror or error}") from error


def parse_text(text: str) -> Any:
    """Parse JSON, or YAML when PyYAML is installed (the ``spec`` or ``cli`` extra).

    Raises:
        SpecError: the text is YAML but PyYAML is missing. Text that does not parse gives None.
    """
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        import yaml
    except ImportError as error:
        raise SpecError(
            "reading YAML specs needs PyYAML: pip install 'pleo-export[spec]'"
        ) from error
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml parses ~5x faster
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError:
        return None


def _is_openapi(node: Any) -> bool:
    return isinstance(node, dict) and "openapi" in node


def extract_openapi_documents(text: str) -> list[dict[str, Any]]:
    """Return the OpenAPI documents in ``text``: the text itself, or its fenced yaml/json blocks.

    Blocks that do not parse, or parse to something other than an OpenAPI document, are skipped.
    """
    whole = parse_text(text)
    if _is_openapi(whole):
        return [whole]
    documents = []
    for match in _FENCE.finditer(text):
        block = parse_text(match.group("body"))
        if _is_openapi(block):
            documents.append(block)
    return documents


def merge_documents(documents: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Merge excerpts of one API into one document; the first definition of anything wins."""
    merged = copy.deepcopy(documents[0])
    for document in documents[1:]:
        for path, item in (document.get("paths") or {}).items():
            target = merged.setdefault("paths", {}).setdefault(path, {})
            for key, value in item.items():
                target.setdefault(key, copy.deepcopy(value))
        for section, entries in (document.get("components") or {}).items():
            target = merged.setdefault("components", {}).setdefault(section, {})
            for name, value in entries.items():
                target.setdefault(name, copy.deepcopy(value))
    return merged


def load_document(source: str) -> dict[str, Any]:
    """Load an OpenAPI document from a path or URL (YAML, JSON, or a page embedding one).

    Raises:
        SpecError: the source cannot be read or holds no OpenAPI document.
    """
    try:
        text = read_source(source).decode("utf-8")
    except UnicodeDecodeError as error:
        raise SpecError(f"cannot read {_name(source)}: not UTF-8 text") from error
    documents = extract_openapi_documents(text)
    if not documents:
        raise SpecError(f"{_name(source)}: no OpenAPI document found")
    return merge_documents(documents)


def mapping(node: Any, key: str) -> dict[Any, Any]:
    """``node[key]`` when both are mappings, else an empty one: a malformed spec is read as
    saying nothing there, never as a crash."""
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, dict) else {}


def sequence(node: Any, key: str) -> list[Any]:
    """``node[key]`` when it is a list, else an empty one."""
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, list) else []


def names(node: Any, key: str) -> set[str]:
    """The strings in the list ``node[key]`` (a ``required`` list), ignoring anything else."""
    return {item for item in sequence(node, key) if isinstance(item, str)}


class Resolver:
    """Follows local ``$ref`` pointers inside one document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document

    def deref(self, node: Any) -> tuple[dict[str, Any], str | None]:
        """Return ``node`` with its ``$ref`` chain followed, and the last reference's name.

        A chain that loops, or points outside the document, resolves to an empty schema.
        """
        name: str | None = None
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref: str = node["$ref"]
            if ref in seen:
                return {}, name
            seen.add(ref)
            name = ref.rsplit("/", 1)[-1]
            node = self._lookup(ref)
        return (node if isinstance(node, dict) else {}), name

    def _lookup(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            return None
        node: Any = self._document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node
