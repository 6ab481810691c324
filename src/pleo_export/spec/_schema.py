"""The schema walker: pairs two schemas and everything inside them, and names each change.

It follows ``$ref`` (a pair of references already being compared higher up is not entered
again, so recursive schemas end), composes ``allOf`` into one schema, reads a two-branch
``oneOf``/``anyOf`` with a ``null`` branch as nullability, pairs the other ``oneOf``/``anyOf``
branches by identity (``$ref`` name, else ``title``, else content), and walks properties,
``items`` and ``additionalProperties``. Keyword checks live in ``_keywords``; levels in ``_rules``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._compose import branches, compose, unwrap_null
from ._keywords import KEYWORD_CHECKS, Side, enum_changes, type_set
from ._load import Resolver, mapping, names
from ._rules import RULES

__all__ = ["Emit", "SchemaDiffer"]

#: Called with (change id, JSON path, message) for each change found.
Emit = Callable[[str, str, str], None]
Schema = dict[str, Any]
Active = frozenset[tuple[str, str]]

_BRANCHES = (("oneOf", "one-of"), ("anyOf", "any-of"))
#: Schemas nested deeper than this (through properties, items, branches or a chain of distinct
#: ``$ref``s) are not entered: far beyond any real API, and well inside Python's stack.
MAX_NESTING = 64


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _inline(part: Any) -> bool:
    return not (isinstance(part, dict) and isinstance(part.get("$ref"), str))


def _where(path: str) -> str:
    if not path:
        return "schema"
    return "array items" if path == "[]" else f"property {path}"


def _is_object(schema: Schema) -> bool:
    return "object" in (type_set(schema) or ()) or "properties" in schema


def _unsent(old: Schema, new: Schema, side: Side) -> str | None:
    """The enum change still worth naming for a property that never travels this way (readOnly
    in a request, writeOnly in a response, on both sides), else None when it does travel.

    Nothing else about such a property can narrow what a client sends or widen what it
    receives, so nothing else is reported for it or inside it.
    """
    if side.holder != "body":
        return None
    if side.direction == "request" and old.get("readOnly") and new.get("readOnly"):
        return "enum-value-removed"
    if side.direction == "response" and old.get("writeOnly") and new.get("writeOnly"):
        return "enum-value-added"
    return None


class SchemaDiffer:
    """Compares two schemas found at one place of an operation and emits what changed."""

    def __init__(self, old: Resolver, new: Resolver, side: Side, emit: Emit) -> None:
        self._old = old
        self._new = new
        self._side = side
        self._emit = emit
        self._depth = 0

    def compare(self, old_node: Any, new_node: Any, path: str = "") -> None:
        """Compare two schemas (or references to them) found at JSON path ``path``."""
        self._compare(old_node, new_node, path, frozenset())

    def _compare(self, old_node: Any, new_node: Any, path: str, active: Active) -> None:
        if self._depth >= MAX_NESTING:
            return
        self._depth += 1
        try:
            self._compare_entered(old_node, new_node, path, active)
        finally:
            self._depth -= 1

    def _compare_entered(self, old_node: Any, new_node: Any, path: str, active: Active) -> None:
        old_raw, old_ref = self._old.deref(old_node)
        new_raw, new_ref = self._new.deref(new_node)
        if old_ref is not None and new_ref is not None:
            if (old_ref, new_ref) in active:
                return
            active = active | {(old_ref, new_ref)}
            if old_ref != new_ref:
                message = f"schema changed from {old_ref} to {new_ref}"
                self._report(path, "schema-ref-changed", message, old_raw, new_raw)
        old = unwrap_null(compose(old_raw, self._old), self._old)
        new = unwrap_null(compose(new_raw, self._new), self._new)
        unsent = _unsent(old, new, self._side) if path else None
        if unsent is not None:
            for kind, message in enum_changes(old, new):
                if kind == unsent:
                    self._report(path, kind, message, old, new)
            return
        if path and bool(old.get("deprecated")) != bool(new.get("deprecated")):
            kind = "deprecated" if new.get("deprecated") else "reactivated"
            if new.get("deprecated") and new.get("x-sunset"):
                kind = "deprecated-with-sunset"
            self._report(
                path,
                kind,
                f"is {'now' if new.get('deprecated') else 'no longer'} deprecated",
                old,
                new,
            )
        for check in KEYWORD_CHECKS:
            for kind, message in check(old, new, self._side):
                self._report(path, kind, message, old, new)
        self._all_of(old_raw, new_raw, path)
        self._one_of(old, new, path, active)
        self._discriminator(old, new, path)
        if self._side.holder != "none" and _is_object(old) and _is_object(new):
            self._properties(old, new, path, active)
        if "items" in old and "items" in new:
            self._compare(old["items"], new["items"], f"{path}[]", active)
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, dict) and isinstance(new_extra, dict):
            self._compare(old_extra, new_extra, f"{path}{{}}", active)
        self._json_schema(old, new, path, active)

    def _json_schema(self, old: Schema, new: Schema, path: str, active: Active) -> None:
        """Subschemas of the JSON Schema 2020-12 keywords that both sides have (their presence
        is a keyword check). ``if`` and ``not`` are not entered: a change inside a condition or
        a negation cannot be graded by direction."""
        old_prefix, new_prefix = old.get("prefixItems"), new.get("prefixItems")
        if isinstance(old_prefix, list) and isinstance(new_prefix, list):
            for index, (was, now) in enumerate(zip(old_prefix, new_prefix, strict=False)):
                self._compare(was, now, f"{path}[{index}]", active)
        for keyword in ("contains", "then", "else", "unevaluatedProperties", "unevaluatedItems"):
            was, now = old.get(keyword), new.get(keyword)
            if isinstance(was, dict) and isinstance(now, dict):
                self._compare(was, now, _join(path, keyword), active)
        was_deps, now_deps = mapping(old, "dependentSchemas"), mapping(new, "dependentSchemas")
        for name in was_deps.keys() & now_deps.keys():
            self._compare(
                was_deps[name], now_deps[name], _join(path, f"dependentSchemas[{name}]"), active
            )

    def _report(self, path: str, kind: str, message: str, old: Schema, new: Schema) -> None:
        """Emit ``kind`` under the id prefix that fits ``path`` (schema root or nested)."""
        side = self._side
        rule_id = f"{side.nested if path else side.root}-{kind}"
        if not path and side.root == "response-body" and kind.startswith("enum-value"):
            rule_id = f"response-mediatype-{kind}"  # oasdiff's name for a root response enum
        elif path and side.holder == "body":
            if kind == "enum-value-removed" and side.direction == "request" and old.get("readOnly"):
                rule_id = "request-read-only-property-enum-value-removed"  # never sent
            elif (
                kind == "enum-value-added" and side.direction == "response" and new.get("writeOnly")
            ):
                rule_id = "response-write-only-property-enum-value-added"  # never returned
        elif path and side.holder == "header" and kind == "became-enum":
            rule_id = "request-header-property-became-enum"
        # Some places have no id for some changes (oasdiff has none for, say, a discriminator
        # inside a parameter); those are not reported rather than invented.
        if rule_id in RULES:
            self._emit(rule_id, path, f"{_where(path)} {message}")

    def _all_of(self, old: Schema, new: Schema, path: str) -> None:
        """Subschemas added to or removed from an ``allOf`` both sides have; their content is
        compared on the composed schemas."""
        old_parts, new_parts = (
            branches(old, "allOf", self._old),
            branches(new, "allOf", self._new),
        )
        if old_parts is None or new_parts is None:
            return
        added = sorted(new_parts.keys() - old_parts.keys())
        removed = sorted(old_parts.keys() - new_parts.keys())
        # An inline part whose content changed is the same part edited, not one removed and
        # another added: pair unmatched inline parts one to one, and report only the surplus.
        old_inline = [key for key in removed if _inline(old_parts[key])]
        new_inline = [key for key in added if _inline(new_parts[key])]
        for was, now in zip(old_inline, new_inline, strict=False):
            removed.remove(was)
            added.remove(now)
        for key in added:
            self._report(path, "all-of-added", f"allOf subschema {key} added", old, new)
        for key in removed:
            self._report(path, "all-of-removed", f"allOf subschema {key} removed", old, new)

    def _one_of(self, old: Schema, new: Schema, path: str, active: Active) -> None:
        for key, part in _BRANCHES:
            old_map, new_map = branches(old, key, self._old), branches(new, key, self._new)
            if old_map is None and new_map is None:
                continue
            wrapped = f"{self._side.root}-wrapped-in-one-of"
            if key == "oneOf" and old_map is None and not path and wrapped in RULES:
                self._emit(wrapped, path, "schema restructured into a oneOf")
                continue
            old_map, new_map = old_map or {}, new_map or {}
            for name in sorted(new_map.keys() - old_map.keys()):
                self._report(path, f"{part}-added", f"{key} branch {name} added", old, new)
            for name in sorted(old_map.keys() - new_map.keys()):
                self._report(path, f"{part}-removed", f"{key} branch {name} removed", old, new)
            for name in old_map.keys() & new_map.keys():
                branch_path = _join(path, f"{key}[{name}]")
                self._compare(old_map[name], new_map[name], branch_path, active)

    def _discriminator(self, old: Schema, new: Schema, path: str) -> None:
        was, now = old.get("discriminator"), new.get("discriminator")
        if not isinstance(was, dict) and not isinstance(now, dict):
            return
        if not isinstance(was, dict) or not isinstance(now, dict):
            kind = "discriminator-added" if isinstance(now, dict) else "discriminator-removed"
            self._report(path, kind, kind.replace("-", " "), old, new)
            return
        if was.get("propertyName") != now.get("propertyName"):
            message = f"discriminator property {was.get('propertyName')!r} renamed"
            self._report(path, "discriminator-property-name-changed", message, old, new)
        old_map, new_map = mapping(was, "mapping"), mapping(now, "mapping")
        for value in new_map.keys() - old_map.keys():
            self._report(path, "discriminator-mapping-added", f"mapping {value!r} added", old, new)
        for value in old_map.keys() - new_map.keys():
            message = f"mapping {value!r} removed"
            self._report(path, "discriminator-mapping-deleted", message, old, new)
        for value in old_map.keys() & new_map.keys():
            if old_map[value] != new_map[value]:
                message = f"mapping {value!r} changed"
                self._report(path, "discriminator-mapping-changed", message, old, new)

    def _properties(self, old: Schema, new: Schema, path: str, active: Active) -> None:
        old_props, new_props = mapping(old, "properties"), mapping(new, "properties")
        old_required, new_required = names(old, "required"), names(new, "required")
        for name in old_props.keys() - new_props.keys():
            schema = self._old.deref(old_props[name])[0]
            self._existence(_join(path, name), schema, name in old_required, added=False)
        for name in new_props.keys() - old_props.keys():
            schema = self._new.deref(new_props[name])[0]
            self._existence(_join(path, name), schema, name in new_required, added=True)
        for name in old_props:
            if name not in new_props:
                continue
            child = _join(path, name)
            old_schema = self._old.deref(old_props[name])[0]
            new_schema = self._new.deref(new_props[name])[0]
            self._requiredness(child, new_schema, name in old_required, name in new_required)
            self._access(child, old_schema, new_schema, name in new_required)
            self._compare(old_props[name], new_props[name], child, active)

    def _existence(self, path: str, schema: Schema, required: bool, *, added: bool) -> None:
        side, kind = self._side, "required" if required else "optional"
        if side.holder in ("parameter", "header"):
            if not added:
                rule_id = "request-parameter-property-removed"
            elif required and side.holder == "header":
                rule_id = "new-required-request-header-property"
            else:
                rule_id = f"new-{kind}-request-parameter-property"
        elif side.direction == "request":
            if schema.get("readOnly"):
                return  # clients never send it
            if not added:
                rule_id = "request-property-removed"
            else:
                default = "-with-default" if required and "default" in schema else ""
                rule_id = f"new-{kind}-request-property{default}"
        else:
            write_only = "write-only-" if schema.get("writeOnly") else ""
            verb = "added" if added else "removed"
            rule_id = f"response-{kind}-{write_only}property-{verb}"
        self._emit(rule_id, path, f"{kind} property {path} {'added' if added else 'removed'}")

    def _requiredness(self, path: str, schema: Schema, was: bool, now: bool) -> None:
        if was == now:
            return
        side, kind = self._side, "became-required" if now else "became-optional"
        if side.holder in ("parameter", "header"):
            header = side.holder == "header" and now
            rule_id = f"request-{'header' if header else 'parameter'}-property-{kind}"
        elif side.direction == "request":
            if now and schema.get("readOnly"):
                return  # a readOnly property is never sent, so requiring it changes nothing
            default = "-with-default" if now and "default" in schema else ""
            rule_id = f"request-property-{kind}{default}"
        elif not now and schema.get("writeOnly"):
            rule_id = "response-write-only-property-became-optional"  # never returned anyway
        else:
            rule_id = f"response-property-{kind}"
        self._emit(rule_id, path, f"property {path} {kind.replace('-', ' ')}")

    def _access(self, path: str, old: Schema, new: Schema, required: bool) -> None:
        """readOnly / writeOnly flags set or cleared on a body property."""
        if self._side.holder != "body":
            return
        kind = "required" if required else "optional"
        for flag, part in (("readOnly", "read-only"), ("writeOnly", "write-only")):
            was, now = bool(old.get(flag)), bool(new.get(flag))
            if was != now:
                state = part if now else f"non-{part}"
                rule_id = f"{self._side.direction}-{kind}-property-became-{state}"
                self._emit(
                    rule_id, path, f"property {path} {'is now' if now else 'is no longer'} {flag}"
                )
