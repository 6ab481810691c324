"""Reading OpenAPI documents and following their local ``$ref`` pointers.

A source is a file path or an http(s) URL holding YAML, JSON, or a text page that embeds the
document in fenced ```yaml blocks. Reads are bounded in size and in total time (``_config``), and a
parsed document in depth and in how far YAML aliases expand it; a ``$ref`` to another file or a URL
is refused, so reading a spec never opens anything but the source the user named. What the
documents say is compared elsewhere; only ``Resolver`` is shared with the walker.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from .._config import SPEC_FETCH_TIMEOUT, SPEC_MAX_BYTES
from .._errors import PleoError

__all__ = [
    "MAX_DEPTH",
    "Resolver",
    "SpecError",
    "check_document",
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
#: Deepest nesting of mappings and lists a document may have. Pleo's spec nests 12 deep; the
#: walker recurses a few frames per level, so this keeps it far from Python's stack limit.
MAX_DEPTH = 128
#: Nodes a document may hold beyond one per character of its text. Without YAML aliases a
#: document has fewer nodes than characters; an alias bomb expands to far more.
_NODE_SLACK = 10_000


class SpecError(PleoError):
    """A spec could not be read, parsed, or holds no OpenAPI description."""


def _name(source: str) -> str:
    return source if len(source) <= _SOURCE_CHARS else source[:_SOURCE_CHARS] + "…"


def read_source(
    source: str, *, max_bytes: int = SPEC_MAX_BYTES, timeout: float = SPEC_FETCH_TIMEOUT
) -> bytes:
    """Return the bytes of a spec given as a file path or an http(s) URL.

    Args:
        source: a path, or an ``http://`` / ``https://`` URL.
        max_bytes: refuse anything larger (default ``SPEC_MAX_BYTES``, 32 MiB).
        timeout: seconds the whole fetch of a URL may take (default ``SPEC_FETCH_TIMEOUT``,
            30 s), however slowly the server drips its bytes. A single read that stalls is cut
            by the same bound, so a fetch ends within twice ``timeout`` at worst.

    Raises:
        SpecError: the source cannot be read, answers with an error, is too large, or its
            fetch runs past ``timeout``.
    """
    if source.startswith(("http://", "https://")):
        deadline = time.monotonic() + timeout
        try:
            with httpx.stream("GET", source, timeout=timeout, follow_redirects=True) as response:
                if response.status_code >= 400:
                    raise SpecError(f"cannot read {_name(source)}: HTTP {response.status_code}")
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > max_bytes:
                        raise SpecError(f"{_name(source)} is larger than {max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise SpecError(f"cannot read {_name(source)}: took over {timeout:g} s")
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


def _parse(text: str, source: str) -> Any:
    """``parse_text``, with nesting too deep for the parser itself reported as a ``SpecError``."""
    try:
        return parse_text(text)
    except RecursionError as error:  # the json module and PyYAML both recurse per level
        raise SpecError(f"{_name(source)}: nested deeper than {MAX_DEPTH} levels") from error


def check_document(document: Any, source: str, text_size: int) -> None:
    """Refuse a parsed document that the diff could not walk in bounded time and stack.

    Walks it without recursion, counting every node as often as YAML aliases make it appear.

    Raises:
        SpecError: it nests deeper than ``MAX_DEPTH`` (a self-containing YAML anchor nests
            without end), expands to more nodes than its text could hold without aliases, or
            holds a ``$ref`` to another file or a URL (never read).
    """
    budget = text_size + _NODE_SLACK
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise SpecError(
                f"{_name(source)}: YAML aliases expand it beyond {text_size + _NODE_SLACK} nodes"
            )
        if depth > MAX_DEPTH:
            raise SpecError(
                f"{_name(source)}: nested deeper than {MAX_DEPTH} levels (or contains itself)"
            )
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                raise SpecError(
                    f"{_name(source)}: $ref {_name(ref)!r} points outside the document; "
                    "only local references (#/...) are read"
                )
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)


def _is_openapi(node: Any) -> bool:
    return isinstance(node, dict) and "openapi" in node


def extract_openapi_documents(text: str, source: str = "text") -> list[dict[str, Any]]:
    """Return the OpenAPI documents in ``text``: the text itself, or its fenced yaml/json blocks.

    Blocks that do not parse, or parse to something other than an OpenAPI document, are skipped.

    Raises:
        SpecError: a document found fails ``check_document`` (``source`` names it).
    """
    whole = _parse(text, source)
    if _is_openapi(whole):
        check_document(whole, source, len(text))
        return [whole]
    documents = []
    for match in _FENCE.finditer(text):
        body = match.group("body")
        block = _parse(body, source)
        if _is_openapi(block):
            check_document(block, source, len(body))
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


def load_document(source: str, *, timeout: float = SPEC_FETCH_TIMEOUT) -> dict[str, Any]:
    """Load an OpenAPI document from a path or URL (YAML, JSON, or a page embedding one).

    ``timeout`` bounds the whole fetch of a URL (see ``read_source``).

    Raises:
        SpecError: the source cannot be read, holds no OpenAPI document, or holds one the diff
            cannot walk safely (``check_document``).
    """
    try:
        text = read_source(source, timeout=timeout).decode("utf-8")
    except UnicodeDecodeError as error:
        raise SpecError(f"cannot read {_name(source)}: not UTF-8 text") from error
    documents = extract_openapi_documents(text, source)
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
    """Follows local ``$ref`` pointers inside one document.

    In OpenAPI 3.1 the keywords beside a ``$ref`` apply too (3.0 ignores them): they are laid
    over the referenced schema, properties merged and ``required`` lists united.
    """

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document
        self._siblings = str(document.get("openapi", "")).startswith("3.1")

    def deref(self, node: Any) -> tuple[dict[str, Any], str | None]:
        """Return ``node`` with its ``$ref`` chain followed, and the last reference's name.

        A chain that loops, or points outside the document, resolves to an empty schema.
        """
        name: str | None = None
        seen: set[str] = set()
        overlays: list[dict[str, Any]] = []
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref: str = node["$ref"]
            if ref in seen:
                return {}, name
            seen.add(ref)
            if self._siblings and len(node) > 1:
                overlays.append(node)
            name = ref.rsplit("/", 1)[-1]
            node = self._lookup(ref)
        resolved = node if isinstance(node, dict) else {}
        for overlay in reversed(overlays):  # the outermost keywords are laid on last
            resolved = _overlay(resolved, overlay)
        return resolved, name

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


def _overlay(schema: dict[str, Any], siblings: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the keywords beside a ``$ref`` applied (OpenAPI 3.1)."""
    merged = dict(schema)
    for key, value in siblings.items():
        if key == "$ref":
            continue
        if key == "properties" and isinstance(value, dict):
            merged["properties"] = {**mapping(schema, "properties"), **value}
        elif key == "required" and isinstance(value, list):
            merged["required"] = list(dict.fromkeys([*sequence(schema, "required"), *value]))
        else:
            merged[key] = value
    return merged
