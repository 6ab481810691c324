"""Reading composed schemas: ``allOf`` merged into one schema, a ``null`` branch read as
nullability, and the identity by which ``oneOf``/``anyOf``/``allOf`` branches are paired."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ._load import Resolver, mapping, sequence

__all__ = ["branches", "compose", "unwrap_null"]

Schema = dict[str, Any]
_ALL_OF_DEPTH = 16  # allOf nested deeper than this (or looping through $ref) is not composed


def compose(schema: Schema, resolver: Resolver, depth: int = 0) -> Schema:
    """``schema`` with its ``allOf`` merged in: properties and ``required`` united, the first
    value of any other keyword kept (the schema's own before its subschemas')."""
    parts = schema.get("allOf")
    if not isinstance(parts, list) or depth > _ALL_OF_DEPTH:
        return schema
    merged = {key: value for key, value in schema.items() if key != "allOf"}
    for part in parts:
        sub = compose(resolver.deref(part)[0], resolver, depth + 1)
        for key, value in sub.items():
            if key == "properties" and isinstance(value, dict):
                properties = dict(mapping(merged, "properties"))
                for name, child in value.items():
                    properties.setdefault(name, child)
                merged["properties"] = properties
            elif key == "required" and isinstance(value, list):
                names = [*sequence(merged, "required"), *value]
                # a malformed spec may list non-names here; they name no property, so drop them
                merged["required"] = list(dict.fromkeys(n for n in names if isinstance(n, str)))
            else:
                merged.setdefault(key, value)
    return merged


def unwrap_null(schema: Schema, resolver: Resolver) -> Schema:
    """Read ``oneOf``/``anyOf: [{type: "null"}, X]`` as X made nullable (OpenAPI 3.1 style)."""
    for key in ("oneOf", "anyOf"):
        found = schema.get(key)
        if not isinstance(found, list) or len(found) != 2:
            continue
        resolved = [resolver.deref(branch)[0] for branch in found]
        others = [branch for branch in resolved if branch.get("type") != "null"]
        if len(others) == 1:
            merged = {k: v for k, v in schema.items() if k != key}
            for name, value in compose(others[0], resolver).items():
                merged.setdefault(name, value)
            merged["nullable"] = True
            return merged
    return schema


def _identity(node: Any, resolver: Resolver) -> str:
    """How a composition branch is recognised across versions: its ``$ref`` name, its title,
    else a digest of its content."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        return str(node["$ref"]).rsplit("/", 1)[-1]
    schema = resolver.deref(node)[0]
    if isinstance(schema.get("title"), str):
        return str(schema["title"])
    content = json.dumps(schema, sort_keys=True, default=str).encode()
    return "#" + hashlib.sha256(content).hexdigest()[:8]


def branches(schema: Schema, key: str, resolver: Resolver) -> dict[str, Any] | None:
    """The ``key`` (oneOf, anyOf, allOf) branches of ``schema`` by identity; None without any."""
    found = schema.get(key)
    if not isinstance(found, list):
        return None
    return {_identity(branch, resolver): branch for branch in found}
