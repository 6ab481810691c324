"""Change ids, their levels, and the schema comparison behind ``spec_drift.py``.

Holds the rule table (every id the checker can emit, its level and whether that level is
oasdiff's), the ``Change`` record, and the recursive comparison of two schemas with ``$ref``
resolution. Loading documents, matching operations and printing live in ``spec_drift.py``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

__all__ = [
    "RULES",
    "Change",
    "Level",
    "Operation",
    "Origin",
    "Resolver",
    "Rule",
    "SchemaDiffer",
    "Side",
    "iter_rules",
]


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

    OASDIFF = "oasdiff"  # same id, same default level as oasdiff v1.28.0
    RAISED = "raised"  # oasdiff's id, level raised because it breaks a generated client
    OWN = "own"  # no oasdiff counterpart; named in oasdiff's style


class Rule(NamedTuple):
    """The static level of one change id and where it comes from."""

    level: Level
    origin: Origin


_B, _W, _I = Level.BREAKING, Level.WARNING, Level.INFO
_O, _R, _N = Origin.OASDIFF, Origin.RAISED, Origin.OWN

#: Every id the checker emits. One id has one level, whatever the context: direction is part of
#: the id (request-… vs response-…), as in oasdiff.
RULES: dict[str, Rule] = {
    # Operations.
    "endpoint-added": Rule(_I, _O),
    "api-path-removed-without-deprecation": Rule(_B, _O),
    "api-path-removed-with-deprecation": Rule(_I, _O),
    "api-removed-without-deprecation": Rule(_B, _O),
    "api-removed-with-deprecation": Rule(_I, _O),
    "endpoint-deprecated": Rule(_I, _O),
    "endpoint-reactivated": Rule(_I, _O),
    # openapi-python-client names each generated function and module after the operationId.
    "api-operation-id-removed": Rule(_W, _R),
    "api-operation-id-added": Rule(_W, _R),
    "api-tag-added": Rule(_I, _O),
    "api-tag-removed": Rule(_I, _O),
    # Parameters.
    "new-required-request-parameter": Rule(_B, _O),
    "new-request-path-parameter": Rule(_B, _O),
    "new-optional-request-parameter": Rule(_I, _O),
    "request-parameter-removed": Rule(_W, _O),
    # Same position in the path template, new name: the generated function's argument is renamed.
    "request-path-parameter-renamed": Rule(_W, _N),
    "request-parameter-removed-with-deprecation": Rule(_I, _O),
    "request-parameter-became-required": Rule(_B, _O),
    "request-parameter-became-optional": Rule(_I, _O),
    "request-parameter-deprecated": Rule(_I, _O),
    "request-parameter-reactivated": Rule(_I, _O),
    # The wire form of the value changes; for a scalar the two forms are often identical.
    "request-parameter-style-changed": Rule(_W, _N),
    "request-parameter-explode-changed": Rule(_W, _N),
    "request-parameter-type-changed": Rule(_B, _O),
    "request-parameter-type-generalized": Rule(_I, _O),
    "request-parameter-became-nullable": Rule(_I, _O),
    "request-parameter-became-not-nullable": Rule(_B, _O),
    "request-parameter-enum-value-added": Rule(_I, _O),
    "request-parameter-enum-value-removed": Rule(_B, _O),
    "request-parameter-became-enum": Rule(_B, _O),
    "request-parameter-became-not-enum": Rule(_I, _N),
    "request-parameter-default-value-added": Rule(_B, _O),
    "request-parameter-default-value-changed": Rule(_B, _O),
    "request-parameter-default-value-removed": Rule(_B, _O),
    "request-parameter-schema-ref-changed": Rule(_W, _N),
    # Inside a parameter's schema, e.g. the items of an array-valued query parameter.
    "request-parameter-property-type-changed": Rule(_W, _O),
    "request-parameter-property-type-generalized": Rule(_I, _N),
    "request-parameter-property-became-nullable": Rule(_I, _N),
    "request-parameter-property-became-not-nullable": Rule(_B, _N),
    "request-parameter-property-enum-value-added": Rule(_I, _O),
    "request-parameter-property-enum-value-removed": Rule(_B, _O),
    "request-parameter-property-became-enum": Rule(_B, _N),
    "request-parameter-property-became-not-enum": Rule(_I, _N),
    "request-parameter-property-default-value-added": Rule(_I, _N),
    "request-parameter-property-default-value-changed": Rule(_I, _N),
    "request-parameter-property-default-value-removed": Rule(_I, _N),
    "request-parameter-property-deprecated": Rule(_I, _N),
    "request-parameter-property-reactivated": Rule(_I, _N),
    "request-parameter-property-schema-ref-changed": Rule(_W, _N),
    # Request body.
    "request-body-added-required": Rule(_B, _O),
    "request-body-added-optional": Rule(_I, _O),
    "request-body-removed": Rule(_B, _O),
    "request-body-became-required": Rule(_B, _O),
    "request-body-became-optional": Rule(_I, _O),
    "request-body-media-type-added": Rule(_I, _O),
    "request-body-media-type-removed": Rule(_B, _O),
    "request-body-media-type-schema-added": Rule(_W, _N),
    "request-body-media-type-schema-removed": Rule(_I, _N),
    "request-body-type-changed": Rule(_B, _O),
    "request-body-type-generalized": Rule(_I, _O),
    "request-body-became-nullable": Rule(_I, _O),
    "request-body-became-not-nullable": Rule(_B, _O),
    "request-body-enum-value-added": Rule(_I, _N),
    "request-body-enum-value-removed": Rule(_B, _O),
    "request-body-became-enum": Rule(_B, _O),
    "request-body-became-not-enum": Rule(_I, _N),
    "request-body-default-value-added": Rule(_I, _N),
    "request-body-default-value-changed": Rule(_I, _N),
    "request-body-default-value-removed": Rule(_I, _N),
    # A different $ref renames the generated model class that callers import.
    "request-body-schema-ref-changed": Rule(_W, _N),
    # Request body properties.
    "new-required-request-property": Rule(_B, _O),
    "new-optional-request-property": Rule(_I, _O),
    "request-property-removed": Rule(_W, _O),
    "request-property-became-required": Rule(_B, _O),
    "request-property-became-optional": Rule(_I, _O),
    "request-property-type-changed": Rule(_B, _O),
    "request-property-type-generalized": Rule(_I, _O),
    "request-property-became-nullable": Rule(_I, _O),
    "request-property-became-not-nullable": Rule(_B, _O),
    "request-property-enum-value-added": Rule(_I, _O),
    "request-property-enum-value-removed": Rule(_B, _O),
    "request-property-became-enum": Rule(_B, _O),
    "request-property-became-not-enum": Rule(_I, _N),
    "request-property-default-value-added": Rule(_I, _O),
    "request-property-default-value-changed": Rule(_I, _O),
    "request-property-default-value-removed": Rule(_I, _O),
    "request-property-deprecated": Rule(_I, _O),
    "request-property-reactivated": Rule(_I, _O),
    "request-property-schema-ref-changed": Rule(_W, _N),
    # Responses.
    "response-success-status-added": Rule(_I, _O),
    "response-success-status-removed": Rule(_B, _O),
    "response-non-success-status-added": Rule(_I, _O),
    "response-non-success-status-removed": Rule(_I, _O),
    # oasdiff ignores `default`; Pleo's v0 operations declare nothing else, so the generated
    # client parses every reply with the default response's schema.
    "response-default-status-added": Rule(_I, _N),
    "response-default-status-removed": Rule(_W, _N),
    "response-media-type-added": Rule(_I, _O),
    "response-media-type-removed": Rule(_B, _O),
    "response-body-media-type-schema-added": Rule(_I, _O),
    "response-body-media-type-schema-removed": Rule(_W, _O),
    "response-body-type-changed": Rule(_B, _O),
    "response-body-type-generalized": Rule(_B, _O),
    "response-body-type-specialized": Rule(_I, _O),
    "response-body-became-nullable": Rule(_B, _O),
    "response-body-became-not-nullable": Rule(_I, _O),
    # oasdiff reports nothing for a value added to a root enum; a closed generated enum breaks
    # on it just as it does for a property, so we grade it like the property case.
    "response-mediatype-enum-value-added": Rule(_W, _N),
    "response-mediatype-enum-value-removed": Rule(_I, _O),
    "response-body-became-enum": Rule(_I, _N),
    "response-body-became-not-enum": Rule(_W, _N),
    "response-body-default-value-added": Rule(_I, _N),
    "response-body-default-value-changed": Rule(_I, _N),
    "response-body-default-value-removed": Rule(_I, _N),
    "response-body-schema-ref-changed": Rule(_W, _N),
    # Response body properties.
    "response-required-property-removed": Rule(_B, _O),
    "response-optional-property-removed": Rule(_W, _O),
    "response-required-property-added": Rule(_I, _O),
    "response-optional-property-added": Rule(_I, _O),
    "response-property-became-optional": Rule(_B, _O),
    "response-property-became-required": Rule(_I, _O),
    "response-property-type-changed": Rule(_B, _O),
    "response-property-type-generalized": Rule(_B, _O),
    "response-property-type-specialized": Rule(_I, _O),
    "response-property-became-nullable": Rule(_B, _O),
    "response-property-became-not-nullable": Rule(_I, _O),
    "response-property-enum-value-added": Rule(_W, _O),
    "response-property-enum-value-removed": Rule(_I, _O),
    "response-property-became-enum": Rule(_I, _N),
    # A closed enum becoming an open string (Pleo's v2 → v3): any value may now arrive, which
    # breaks exactly the clients that an added enum value breaks.
    "response-property-became-not-enum": Rule(_W, _N),
    "response-property-default-value-added": Rule(_I, _O),
    "response-property-default-value-changed": Rule(_I, _O),
    "response-property-default-value-removed": Rule(_I, _O),
    "response-property-deprecated": Rule(_I, _O),
    "response-property-reactivated": Rule(_I, _O),
    "response-property-schema-ref-changed": Rule(_W, _N),
    # Security and servers.
    "api-global-security-added": Rule(_I, _O),
    "api-global-security-removed": Rule(_I, _O),
    "api-global-security-scope-added": Rule(_I, _O),
    "api-global-security-scope-removed": Rule(_I, _O),
    "api-security-added": Rule(_I, _O),
    "api-security-removed": Rule(_I, _O),
    "api-security-scope-added": Rule(_I, _O),
    "api-security-scope-removed": Rule(_I, _O),
    "api-security-component-added": Rule(_I, _O),
    "api-security-component-removed": Rule(_I, _O),
    "api-security-component-type-changed": Rule(_I, _O),
    "api-server-added": Rule(_I, _N),
    "api-server-removed": Rule(_I, _N),
    "api-schema-removed": Rule(_I, _O),
}


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


@dataclass(frozen=True)
class Side:
    """Where a schema sits, which decides the ids and the direction of its changes.

    ``root`` and ``nested`` are the id prefixes for the schema itself and for what is inside it;
    ``loose`` says values travel as text (parameters), so any type may become a string.
    """

    direction: Literal["request", "response"]
    root: str
    nested: str
    loose: bool = False
    walk_properties: bool = True


#: Called with (change id, JSON path, message) for each change found.
Emit = Callable[[str, str, str], None]

# Format pairs (narrow, wide) where every value of the first is valid for the second.
_FORMAT_WIDENINGS = frozenset(
    {
        ("float", "double"),
        ("int32", "int64"),
        ("int32", "bigint"),
        ("int64", "bigint"),
        ("date", "date-time"),
        ("time", "date-time"),
    }
)
_MISSING = object()


def _accepts(wide: dict[str, Any], narrow: dict[str, Any], *, loose: bool) -> bool:
    """Whether every value valid for ``narrow``'s type and format is valid for ``wide``'s."""
    wide_type, narrow_type = wide.get("type"), narrow.get("type")
    type_ok = (
        wide_type is None
        or wide_type == narrow_type
        or (wide_type == "number" and narrow_type == "integer")
        or (loose and wide_type == "string")
    )
    wide_format, narrow_format = wide.get("format"), narrow.get("format")
    format_ok = (
        wide_format is None
        or wide_format == narrow_format
        or (narrow_format, wide_format) in _FORMAT_WIDENINGS
    )
    return type_ok and format_ok


def _describe_type(schema: dict[str, Any]) -> str:
    kind = str(schema.get("type", "any"))
    return f"{kind}/{schema['format']}" if "format" in schema else kind


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _where(path: str) -> str:
    if not path:
        return "schema"
    return "array items" if path == "[]" else f"property {path}"


class SchemaDiffer:
    """Compares two schemas of one side of an operation and emits what changed.

    Follows ``$ref`` on both sides; a pair of references already being compared higher up is not
    entered again, so recursive schemas terminate. ``allOf``/``oneOf``/``anyOf`` are not walked
    (the Pleo 3.0.1 spec uses none).
    """

    def __init__(self, old: Resolver, new: Resolver, side: Side, emit: Emit) -> None:
        self._old = old
        self._new = new
        self._side = side
        self._emit = emit

    def compare(self, old_node: Any, new_node: Any, path: str = "") -> None:
        """Compare two schemas (or references to them) found at JSON path ``path``."""
        self._compare(old_node, new_node, path, frozenset())

    def _compare(
        self, old_node: Any, new_node: Any, path: str, active: frozenset[tuple[str, str]]
    ) -> None:
        old, old_ref = self._old.deref(old_node)
        new, new_ref = self._new.deref(new_node)
        if old_ref is not None and new_ref is not None:
            if (old_ref, new_ref) in active:
                return
            active = active | {(old_ref, new_ref)}
            if old_ref != new_ref:
                self._report(
                    path, "schema-ref-changed", f"schema changed from {old_ref} to {new_ref}"
                )
        self._compare_flags(old, new, path)
        self._compare_type(old, new, path)
        self._compare_enum(old, new, path)
        self._compare_default(old, new, path)
        if self._side.walk_properties and self._is_object(old) and self._is_object(new):
            self._compare_properties(old, new, path, active)
        if "items" in old and "items" in new:
            self._compare(old["items"], new["items"], f"{path}[]", active)
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, dict) and isinstance(new_extra, dict):
            self._compare(old_extra, new_extra, f"{path}{{}}", active)

    def _report(self, path: str, kind: str, message: str) -> None:
        """Emit ``kind`` under the id prefix that fits ``path`` (schema root or nested)."""
        if path:
            prefix = self._side.nested
        elif kind.startswith("enum-value") and self._side.direction == "response":
            prefix = "response-mediatype"  # oasdiff's name for a root response enum
        else:
            prefix = self._side.root
        self._emit(f"{prefix}-{kind}", path, message)

    @staticmethod
    def _is_object(schema: dict[str, Any]) -> bool:
        return schema.get("type") == "object" or "properties" in schema

    def _compare_flags(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        old_null, new_null = bool(old.get("nullable")), bool(new.get("nullable"))
        if old_null != new_null:
            kind = "became-nullable" if new_null else "became-not-nullable"
            self._report(path, kind, f"{_where(path)} {kind.replace('-', ' ')}")
        if path and bool(old.get("deprecated")) != bool(new.get("deprecated")):
            kind = "deprecated" if new.get("deprecated") else "reactivated"
            state = "is now" if new.get("deprecated") else "is no longer"
            self._report(path, kind, f"{_where(path)} {state} deprecated")

    def _compare_type(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        if (old.get("type"), old.get("format")) == (new.get("type"), new.get("format")):
            return
        loose = self._side.loose
        wider = _accepts(new, old, loose=loose)
        narrower = _accepts(old, new, loose=loose)
        if self._side.direction == "request":
            kind = "type-generalized" if wider else "type-changed"
        elif narrower:
            kind = "type-specialized"
        elif wider and old.get("format") == new.get("format"):
            kind = "type-generalized"
        else:
            kind = "type-changed"
        message = f"{_where(path)} type changed from {_describe_type(old)} to {_describe_type(new)}"
        self._report(path, kind, message)

    def _compare_enum(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        old_enum, new_enum = old.get("enum"), new.get("enum")
        if isinstance(old_enum, list) and isinstance(new_enum, list):
            for value in new_enum:
                if value not in old_enum:
                    self._report(
                        path, "enum-value-added", f"enum value {value!r} added to {_where(path)}"
                    )
            for value in old_enum:
                if value not in new_enum:
                    self._report(
                        path,
                        "enum-value-removed",
                        f"enum value {value!r} removed from {_where(path)}",
                    )
        elif isinstance(old_enum, list):
            self._report(path, "became-not-enum", f"{_where(path)} is no longer a closed enum")
        elif isinstance(new_enum, list):
            self._report(path, "became-enum", f"{_where(path)} is now restricted to an enum")

    def _compare_default(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        old_default, new_default = old.get("default", _MISSING), new.get("default", _MISSING)
        if old_default == new_default:
            return
        if old_default is _MISSING:
            kind, message = "default-value-added", f"default {new_default!r} added"
        elif new_default is _MISSING:
            kind, message = "default-value-removed", f"default {old_default!r} removed"
        else:
            kind, message = (
                "default-value-changed",
                f"default changed from {old_default!r} to {new_default!r}",
            )
        self._report(path, kind, f"{_where(path)}: {message}")

    def _compare_properties(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        path: str,
        active: frozenset[tuple[str, str]],
    ) -> None:
        old_props: dict[str, Any] = old.get("properties") or {}
        new_props: dict[str, Any] = new.get("properties") or {}
        old_required = set(old.get("required") or ())
        new_required = set(new.get("required") or ())
        for name in old_props:
            if name not in new_props:
                self._property_gone(_join(path, name), old_props[name], name in old_required)
        for name in new_props:
            if name not in old_props:
                self._property_new(_join(path, name), new_props[name], name in new_required)
        for name in old_props:
            if name in new_props:
                child = _join(path, name)
                self._requiredness(child, name in old_required, name in new_required)
                self._compare(old_props[name], new_props[name], child, active)

    def _skipped(self, schema: dict[str, Any]) -> bool:
        """readOnly properties are never sent, writeOnly ones never returned."""
        flag = "readOnly" if self._side.direction == "request" else "writeOnly"
        return bool(schema.get(flag))

    def _property_gone(self, path: str, node: Any, required: bool) -> None:
        if self._skipped(self._old.deref(node)[0]):
            return
        if self._side.direction == "request":
            rule_id = "request-property-removed"
        else:
            rule_id = f"response-{'required' if required else 'optional'}-property-removed"
        kind = "required" if required else "optional"
        self._emit(rule_id, path, f"{kind} property {path} removed")

    def _property_new(self, path: str, node: Any, required: bool) -> None:
        if self._skipped(self._new.deref(node)[0]):
            return
        kind = "required" if required else "optional"
        if self._side.direction == "request":
            rule_id = f"new-{kind}-request-property"
        else:
            rule_id = f"response-{kind}-property-added"
        self._emit(rule_id, path, f"{kind} property {path} added")

    def _requiredness(self, path: str, was_required: bool, is_required: bool) -> None:
        if was_required == is_required:
            return
        kind = "became-required" if is_required else "became-optional"
        rule_id = f"{self._side.direction}-property-{kind}"
        self._emit(rule_id, path, f"property {path} {kind.replace('-', ' ')}")


def iter_rules() -> Iterator[tuple[str, Rule]]:
    """Yield the rule table sorted by id, for documentation and ``--list-rules``."""
    yield from sorted(RULES.items())
