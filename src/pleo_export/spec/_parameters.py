"""Parameters of one operation: presence, requiredness, deprecation, style and schema.

Path-level and operation-level parameters are merged as OpenAPI 3.0 says (the operation's win);
a path parameter renamed in place is recognised by its position in the path template.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Any, Protocol

from ._change import Entry
from ._keywords import Side
from ._load import Resolver, mapping, sequence
from ._schema import SchemaDiffer

__all__ = ["ParameterDiff", "Recorder", "parameter_schema", "sunset_pending"]

# Parameters travel as text, so any type may become a string.
_PARAMETER = Side(
    "request",
    root="request-parameter",
    nested="request-parameter-property",
    holder="parameter",
    loose=True,
)
_HEADER_PARAMETER = dataclasses.replace(_PARAMETER, holder="header")


class Recorder(Protocol):
    """Where an operation's findings go, and how its schemas are compared."""

    def add(self, rule_id: str, message: str, location: str = "", prop: str = "") -> None:
        """Record one finding of the operation."""

    def schemas(self, side: Side, location: str) -> SchemaDiffer:
        """A schema walker whose findings are recorded at ``location``."""


def sunset_pending(node: dict[str, Any]) -> bool:
    """Whether ``node`` has an ``x-sunset`` date (``YYYY-MM-DD`` or RFC 3339) still to come."""
    sunset = node.get("x-sunset")
    return bool(sunset) and str(sunset)[:10] > datetime.date.today().isoformat()


def _effective_style(parameter: dict[str, Any]) -> tuple[str, bool]:
    """Style and explode with OpenAPI's defaults filled in."""
    default = "form" if parameter.get("in") in ("query", "cookie") else "simple"
    style = str(parameter.get("style") or default)
    return style, bool(parameter.get("explode", style == "form"))


def parameter_schema(parameter: dict[str, Any]) -> Any:
    if "schema" in parameter:
        return parameter["schema"]
    for media in mapping(parameter, "content").values():
        if isinstance(media, dict):
            return media.get("schema")
    return None


def _parameter_location(key: tuple[str, str]) -> str:
    return f"{key[0]} parameter {key[1]}"


def _parameter_map(
    resolver: Resolver, entry: Entry
) -> dict[tuple[str, str], tuple[dict[str, Any], bool]]:
    """Path-level and operation-level parameters, each with whether it is path-level; the
    operation's win (OpenAPI 3.0). Header names are case-insensitive."""
    merged: dict[tuple[str, str], tuple[dict[str, Any], bool]] = {}
    for items, path_level in (
        (sequence(entry.path_item, "parameters"), True),
        (sequence(entry.operation, "parameters"), False),
    ):
        for item in items:
            parameter, _ = resolver.deref(item)
            name, where = parameter.get("name"), parameter.get("in")
            if isinstance(name, str) and isinstance(where, str):
                key = (where, name.lower() if where == "header" else name)
                merged[key] = (parameter, path_level)
    return merged


class ParameterDiff:
    """The parameter changes of one operation present in both documents."""

    def __init__(
        self, resolvers: tuple[Resolver, Resolver], entries: tuple[Entry, Entry], recorder: Recorder
    ) -> None:
        self._old_resolver, self._new_resolver = resolvers
        self._old, self._new = entries
        self._recorder = recorder
        self._add = recorder.add

    def _path_renames(self) -> dict[str, str]:
        """New path-parameter names mapped to the old ones, paired by position in the template."""
        old_names = re.findall(r"\{([^}]*)\}", self._old.path)
        new_names = re.findall(r"\{([^}]*)\}", self._new.path)
        return {new: old for old, new in zip(old_names, new_names, strict=False) if old != new}

    def run(self) -> None:
        """Report parameters removed, added, renamed and changed."""
        old = _parameter_map(self._old_resolver, self._old)
        new: dict[tuple[str, str], tuple[dict[str, Any], bool]] = {}
        renames = self._path_renames()
        for key, value in _parameter_map(self._new_resolver, self._new).items():
            if key[0] == "path" and key[1] in renames and ("path", renames[key[1]]) in old:
                key = ("path", renames[key[1]])
                message = f"renamed to {value[0]['name']} (renames the generated argument)"
                self._add("request-path-parameter-renamed", message, _parameter_location(key))
            new[key] = value
        for key, (parameter, _) in old.items():
            if key not in new:
                self._parameter_removed(key, parameter)
        for key, (parameter, path_level) in new.items():
            if key in old:
                self._parameter(key, old[key][0], parameter)
            else:
                self._parameter_added(key, parameter, path_level)

    def _parameter_removed(self, key: tuple[str, str], parameter: dict[str, Any]) -> None:
        if not parameter.get("deprecated"):
            rule_id, message = "request-parameter-removed", "removed"
        elif sunset_pending(parameter):
            rule_id = "request-parameter-removed-before-sunset"
            message = f"removed before its sunset {parameter['x-sunset']}"
        else:
            rule_id, message = "request-parameter-removed-with-deprecation", "removed (deprecated)"
        self._add(rule_id, message, _parameter_location(key))

    def _parameter_added(
        self, key: tuple[str, str], parameter: dict[str, Any], path_level: bool
    ) -> None:
        required = "required" if parameter.get("required") else "optional"
        if key[0] == "path":
            rule_id = "new-request-path-parameter"
        elif path_level:
            rule_id = f"new-{required}-request-default-parameter-to-existing-path"
        else:
            rule_id = f"new-{required}-request-parameter"
        self._add(rule_id, f"added ({required})", _parameter_location(key))

    def _parameter(self, key: tuple[str, str], old: dict[str, Any], new: dict[str, Any]) -> None:
        location = _parameter_location(key)
        if bool(old.get("required")) != bool(new.get("required")):
            kind = "became-required" if new.get("required") else "became-optional"
            self._add(f"request-parameter-{kind}", kind.replace("-", " "), location)
        if bool(old.get("deprecated")) != bool(new.get("deprecated")):
            if new.get("deprecated"):
                self._add("request-parameter-deprecated", "now deprecated", location)
            else:
                self._add("request-parameter-reactivated", "no longer deprecated", location)
        (old_style, old_explode), (new_style, new_explode) = (
            _effective_style(old),
            _effective_style(new),
        )
        if old_style != new_style:
            message = f"style changed from {old_style} to {new_style}"
            self._add("request-parameter-style-changed", message, location)
        if old_explode != new_explode:
            message = f"explode changed from {old_explode} to {new_explode}".lower()
            self._add("request-parameter-explode-changed", message, location)
        old_schema, new_schema = parameter_schema(old), parameter_schema(new)
        if old_schema is not None and new_schema is not None:
            side = _HEADER_PARAMETER if key[0] == "header" else _PARAMETER
            self._recorder.schemas(side, location).compare(old_schema, new_schema)
