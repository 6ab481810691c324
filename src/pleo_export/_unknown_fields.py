"""Unknown fields at run time: warn once when Pleo sends a field or enum value this SDK's spec
does not list (the spec-diff tooling compares contracts; this module watches live responses).

Read-only and silent otherwise: values are never changed or rejected. v3's open string fields
(``status: str``) have nothing to compare with, so they are not checked here.
"""

from __future__ import annotations

import enum
import logging
import re
import threading

import attrs

from ._config import SPEC_VERSION

__all__ = ["SPEC_VERSION", "note_unknowns", "reset"]


_logger = logging.getLogger("pleo_export.drift")

# Names in a generated field's type annotation that can never hold a model, enum or list.
_SCALAR_NAMES = frozenset(
    {"None", "Unset", "str", "int", "float", "bool", "bytes", "UUID", "datetime", "date", "File"}
)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
# Generated classes keep response fields the spec does not declare in this attribute; it is
# typed dict[str, Any] unless the schema declares additionalProperties (a map), e.g. links.
_EXTRAS = "additional_properties"
_UNTYPED_EXTRAS = "dict[str, Any]"


@attrs.frozen
class _Shape:
    """What to look at on instances of one generated class."""

    walk: tuple[str, ...]  # fields whose values may be models, enums or lists
    extras_are_unknown: bool  # additional_properties holds undeclared fields, not map entries
    extras_walk: bool  # additional_properties is a declared map whose values may be models


_shapes: dict[type, _Shape] = {}
_seen: set[str] = set()
_lock = threading.Lock()


def note_unknowns(value: object, *, where: str) -> None:
    """Log a WARNING, once per process per name, for each unknown field or enum value in ``value``.

    Args:
        value: a parsed generated model, an enum member, or a list of them; anything else is
            ignored.
        where: what the value came from (e.g. ``"GET /v3/export-jobs/{jobId}"``), for the log.
    """
    if isinstance(value, list):
        for item in value:
            note_unknowns(item, where=where)
    elif isinstance(value, enum.Enum):
        if getattr(value, "is_known", True) is False:
            _warn(f"{type(value).__name__}={value.value!r}", "value", where)
    elif attrs.has(type(value)):
        shape = _shape(type(value))
        for name in shape.walk:
            note_unknowns(getattr(value, name), where=where)
        extras = getattr(value, _EXTRAS, None)
        if isinstance(extras, dict) and extras:
            if shape.extras_are_unknown:
                for key in extras:
                    _warn(f"{type(value).__name__}.{key}", "field", where)
            elif shape.extras_walk:
                for item in extras.values():
                    note_unknowns(item, where=where)


def reset() -> None:
    """Forget which names were already reported, so they are reported again (for tests)."""
    with _lock:
        _seen.clear()


def _shape(cls: type) -> _Shape:
    shape = _shapes.get(cls)
    if shape is None:
        walk: list[str] = []
        extras_type = ""
        for field in attrs.fields(cls):
            annotation = field.type if isinstance(field.type, str) else repr(field.type)
            if field.name == _EXTRAS:
                extras_type = annotation.replace("typing.", "")
            elif not _is_scalar(annotation):
                walk.append(field.name)
        shape = _Shape(
            walk=tuple(walk),
            extras_are_unknown=extras_type == _UNTYPED_EXTRAS,
            extras_walk=bool(extras_type)
            and extras_type != _UNTYPED_EXTRAS
            and not _is_scalar(extras_type.removeprefix("dict[str,")),
        )
        _shapes[cls] = shape
    return shape


def _is_scalar(annotation: str) -> bool:
    return all(name in _SCALAR_NAMES for name in _IDENTIFIER.findall(annotation))


def _warn(name: str, kind: str, where: str) -> None:
    if name in _seen:
        return
    with _lock:
        if name in _seen:
            return
        _seen.add(name)
    _logger.warning(
        "Pleo sent %s %s (in %s), which the Export API spec %s this SDK was built from does not"
        " list; it is kept as received. Upgrade pleo-export, or in its repository run"
        " `make update-spec SOURCE=<newer spec>`.",
        kind,
        name,
        where,
        SPEC_VERSION,
    )
