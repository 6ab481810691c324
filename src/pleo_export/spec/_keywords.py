"""Keyword-by-keyword comparison of one pair of schemas, without recursion.

Type and format (with OpenAPI 3.1 type lists), nullability, enums, ``const``, defaults,
numeric/length/item bounds (3.1's numeric ``exclusiveMinimum``/``exclusiveMaximum`` as bounds of
their own), ``multipleOf``, ``uniqueItems``, ``pattern``, and the presence of the JSON Schema
2020-12 constraints (``prefixItems``, ``contains`` with its counts, ``if``/``then``/``else``,
``dependentRequired``/``dependentSchemas``, ``unevaluated*``, ``not``). Each check yields
``(kind, message)``: ``kind`` is the id's tail (``max-length-increased``); the walker prefixes
it with the location. Nothing here grades.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

__all__ = ["KEYWORD_CHECKS", "Finding", "Side", "enum_changes", "is_nullable", "type_set"]

#: The id's tail after the location prefix, and a message.
Finding = tuple[str, str]
Schema = dict[str, Any]

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
_COMPOSITION = ("oneOf", "anyOf", "allOf")
_MISSING = object()


@dataclass(frozen=True)
class Side:
    """Where a schema sits, which decides its ids and the direction of its changes.

    ``root`` and ``nested`` are the id prefixes for the schema itself and for what is inside it.
    ``holder`` says what owns the properties (a body, a parameter, a header parameter, or
    nothing walked). ``loose``: values travel as text, so any type may become a string.
    ``strong``: the media type is JSON, so a type swap is never "compatible".
    """

    direction: Literal["request", "response"]
    root: str
    nested: str
    holder: Literal["body", "parameter", "header", "none"] = "body"
    loose: bool = False
    strong: bool = True


def type_set(schema: Schema) -> frozenset[str] | None:
    """The schema's types without ``null`` (OpenAPI 3.1 lists), or None when it has no type."""
    raw = schema.get("type")
    if isinstance(raw, str):
        types = {raw}
    elif isinstance(raw, list):
        types = {t for t in raw if isinstance(t, str)}
    else:
        types = set()
    types.discard("null")
    return frozenset(types) or None


def is_nullable(schema: Schema) -> bool:
    """``nullable: true`` (3.0) or a ``"null"`` member of the type list (3.1)."""
    raw = schema.get("type")
    return (
        bool(schema.get("nullable")) or raw == "null" or (isinstance(raw, list) and "null" in raw)
    )


def _format(schema: Schema) -> str | None:
    value = schema.get("format")
    return value if isinstance(value, str) else None


def _describe_type(schema: Schema) -> str:
    kind = "|".join(sorted(type_set(schema) or {"any"}))
    return f"{kind}/{_format(schema)}" if _format(schema) else kind


def _accepts(wide: Schema, narrow: Schema, *, loose: bool) -> bool:
    """Whether every value valid for ``narrow``'s type and format is valid for ``wide``'s."""
    wide_types, narrow_types = type_set(wide), type_set(narrow)
    if wide_types is None:
        type_ok = True
    elif narrow_types is None:
        type_ok = False
    else:
        type_ok = all(
            t in wide_types
            or (t == "integer" and "number" in wide_types)
            or (loose and "string" in wide_types)
            for t in narrow_types
        )
    wide_format, narrow_format = _format(wide), _format(narrow)
    format_ok = (
        wide_format is None
        or wide_format == narrow_format
        or (narrow_format, wide_format) in _FORMAT_WIDENINGS
    )
    return type_ok and format_ok


def _type(old: Schema, new: Schema, side: Side) -> Iterator[Finding]:
    old_types, new_types = type_set(old), type_set(new)
    if (old_types, _format(old)) == (new_types, _format(new)):
        return
    listed = isinstance(old.get("type"), list) or isinstance(new.get("type"), list)
    if listed and old_types and new_types and _format(old) == _format(new):
        # OpenAPI 3.1 type lists: a type added to or removed from the list.
        message = f"type list changed from {_describe_type(old)} to {_describe_type(new)}"
        if new_types > old_types:
            yield "list-of-types-widened", message
            return
        if new_types < old_types:
            yield "list-of-types-narrowed", message
            return
    if (old_types is None or new_types is None) and any(
        key in schema for schema in (old, new) for key in _COMPOSITION
    ):
        return  # restructured into or out of a composition: the composition checks report it
    wider = _accepts(new, old, loose=side.loose)
    narrower = _accepts(old, new, loose=side.loose)
    old_text, new_text = "string" in (old_types or ()), "string" in (new_types or ())
    if side.direction == "request":
        text_swap = not side.strong and new_text
        kind = "type-generalized" if wider else "type-compatible" if text_swap else "type-changed"
    elif narrower:
        kind = "type-specialized"
    elif wider and _format(old) == _format(new):
        kind = "type-generalized"
    elif not side.strong and (old_text or new_text):
        kind = "type-compatible"
    else:
        kind = "type-changed"
    yield kind, f"type changed from {_describe_type(old)} to {_describe_type(new)}"


def _nullable(old: Schema, new: Schema, side: Side) -> Iterator[Finding]:
    was, now = is_nullable(old), is_nullable(new)
    if was != now:
        yield (
            ("became-nullable", "became nullable")
            if now
            else (
                "became-not-nullable",
                "is no longer nullable",
            )
        )


def _enum(old: Schema, new: Schema, side: Side) -> Iterator[Finding]:
    return enum_changes(old, new)


def enum_changes(old: Schema, new: Schema) -> Iterator[Finding]:
    """Values added to or removed from an enum, or an enum set or lifted."""
    old_enum, new_enum = old.get("enum"), new.get("enum")
    if isinstance(old_enum, list) and isinstance(new_enum, list):
        # A null member only spells out nullability (OpenAPI 3.0.3), compared on its own.
        old_enum = [value for value in old_enum if value is not None]
        new_enum = [value for value in new_enum if value is not None]
        for value in new_enum:
            if value not in old_enum:
                yield "enum-value-added", f"enum value {value!r} added"
        for value in old_enum:
            if value not in new_enum:
                yield "enum-value-removed", f"enum value {value!r} removed"
    elif isinstance(old_enum, list):
        yield "became-not-enum", "is no longer a closed enum"
    elif isinstance(new_enum, list):
        yield "became-enum", "is now restricted to an enum"


def _extensible_enum(old: Schema, new: Schema, side: Side) -> Iterator[Finding]:
    """``x-extensible-enum`` lists known values of an open enum; only a value a client could
    send and that is now gone matters (oasdiff checks nothing else of it)."""
    was, now = old.get("x-extensible-enum"), new.get("x-extensible-enum")
    if side.direction == "request" and isinstance(was, list) and isinstance(now, list):
        for value in was:
            if value not in now:
                yield (
                    "x-extensible-enum-value-removed",
                    f"x-extensible-enum value {value!r} removed",
                )


def _const(old: Schema, new: Schema, side: Side) -> Iterator[Finding]:
    was, now = old.get("const", _MISSING), new.get("const", _MISSING)
    if was is _MISSING and now is _MISSING:
        return
    if was is _MISSING:
        yield "const-added", f"const {now!r} set"
    elif now is _MISSING:
        yield "const-removed", f"const {was!r} removed"
    elif not _same(was, now):
        yield "const-changed", f"const changed from {was!r} to {now!r}"


def _same(a: Any, b: Any) -> bool:
    """JSON equality, where ``1`` and ``True`` differ (Python's ``==`` says they are equal)."""
    return type(a) is type(b) and a == b


def _default(old: Schema, new: Schema, side: Side) -> Iterator[Finding]:
    was, now = old.get("default", _MISSING), new.get("default", _MISSING)
    if was == now:
        return
    if was is _MISSING:
        yield "default-value-added", f"default {now!r} added"
    elif now is _MISSING:
        yield "default-value-removed", f"default {was!r} removed"
    else:
        yield "default-value-changed", f"default changed from {was!r} to {now!r}"


def _number(value: Any) -> Fraction | None:
    """A finite JSON number as an exact fraction (so 0.1 + 0.2 style noise cannot fake a change)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return Fraction(str(value))


def _limit(schema: Schema, keyword: str) -> tuple[Fraction, int] | None:
    """A bound as a comparable pair; for maximum/minimum the exclusive forms count too.

    The second member orders an exclusive bound as tighter than an inclusive one at the same
    value: for a maximum, larger pairs are looser; for a minimum, larger pairs are tighter.
    """
    value = _number(schema.get(keyword))
    if keyword not in ("maximum", "minimum"):
        # Also OpenAPI 3.1's numeric exclusiveMaximum/exclusiveMinimum (3.0's flag is a bool,
        # which ``_number`` refuses).
        return None if value is None else (value, 0)
    flag = "exclusiveMaximum" if keyword == "maximum" else "exclusiveMinimum"
    exclusive = schema.get(flag) is True  # OpenAPI 3.0: a flag on maximum/minimum
    if value is None:
        return None
    if keyword == "maximum":
        return value, 0 if exclusive else 1
    return value, 1 if exclusive else 0


_BOUNDS = (
    ("maximum", "max"),
    ("minimum", "min"),
    ("maxLength", "max-length"),
    ("minLength", "min-length"),
    ("maxItems", "max-items"),
    ("minItems", "min-items"),
    ("exclusiveMaximum", "exclusive-max"),
    ("exclusiveMinimum", "exclusive-min"),
)


def _bounds(old: Schema, new: Schema, side: Side) -> Iterator[Finding]:
    for keyword, part in _BOUNDS:
        was, now = _limit(old, keyword), _limit(new, keyword)
        if was == now:
            continue
        if was is None and now is not None:
            yield f"{part}-set", f"{keyword} {float(now[0]):g} set"
        elif now is None and was is not None:
            yield f"{part}-unset", f"{keyword} {float(was[0]):g} removed"
        elif was is not None and now is not None:
            kind = "increased" if now > was else "decreased"
            yield f"{part}-{kind}", f"{keyword} {kind} from {float(was[0]):g} to {float(now[0]):g}"


def _multiple_of(old: Schema, new: Schema, side: Side) -> Iterator[Finding]:
    was, now = _number(old.get("multipleOf")), _number(new.get("multipleOf"))
    if was == now:
        return
    if was is None or now is None:
        kind = "multiple-of-set" if was is None else "multiple-of-unset"
        yield kind, f"multipleOf {'set' if was is None else 'removed'}"
        return
    message = f"multipleOf changed from {float(was):g} to {float(now):g}"
    if side.direction == "request" and now and (was / now).denominator == 1:
        yield "multiple-of-generalized", message
    elif side.direction == "response" and was and (now / was).denominator == 1:
        yield "multiple-of-specialized", message
    else:
        yield "multiple-of-changed", message


def _unique_items(old: Schema, new: Schema, side: Side) -> Iterator[Finding]:
    was, now = bool(old.get("uniqueItems")), bool(new.get("uniqueItems"))
    if was != now:
        yield (
            ("unique-items-set", "uniqueItems set")
            if now
            else (
                "unique-items-unset",
                "uniqueItems removed",
            )
        )


#: Patterns that match every string: a change to one of them only widens.
_MATCH_ALL = frozenset({"", ".*", "^.*", ".*$", "^.*$", "[\\s\\S]*", "^[\\s\\S]*$"})


def _pattern(old: Schema, new: Schema, side: Side) -> Iterator[Finding]:
    was, now = old.get("pattern"), new.get("pattern")
    if was == now:
        return
    if was is None:
        yield "pattern-added", f"pattern {now!r} added"
    elif now is None:
        yield "pattern-removed", f"pattern {was!r} removed"
    elif side.direction == "request" and now in _MATCH_ALL:
        yield "pattern-generalized", f"pattern changed from {was!r} to {now!r}, which accepts all"
    else:
        yield "pattern-changed", f"pattern changed from {was!r} to {now!r}"


def _constrains(value: Any) -> bool:
    """Whether a subschema-valued keyword constrains anything (``true`` and ``{}`` do not)."""
    return value is False or (isinstance(value, dict) and bool(value))


def _presence(old: Schema, new: Schema, side: Side) -> Iterator[Finding]:
    """A JSON Schema 2020-12 constraint set or removed; what changed inside one that both sides
    have is the walker's business."""
    for keyword, part in (
        ("contains", "contains"),
        ("if", "if"),
        ("then", "then"),
        ("else", "else"),
        ("unevaluatedProperties", "unevaluated-properties"),
        ("unevaluatedItems", "unevaluated-items"),
        ("not", "not"),
    ):
        was, now = _constrains(old.get(keyword)), _constrains(new.get(keyword))
        if now and not was:
            yield f"{part}-added", f"{keyword} set"
        elif was and not now:
            yield f"{part}-removed", f"{keyword} removed"
        elif was and now and part == "not" and old["not"] != new["not"]:
            yield "not-changed", "not subschema changed"


def _count(schema: Schema, keyword: str, default: float) -> Fraction | float:
    value = _number(schema.get(keyword))
    return default if value is None else value


def _contains_counts(old: Schema, new: Schema, side: Side) -> Iterator[Finding]:
    """``minContains`` (default 1) and ``maxContains`` (default unbounded) of a ``contains``
    both sides have."""
    if not (_constrains(old.get("contains")) and _constrains(new.get("contains"))):
        return
    for keyword, part, default in (
        ("minContains", "min-contains", 1.0),
        ("maxContains", "max-contains", math.inf),
    ):
        was, now = _count(old, keyword, default), _count(new, keyword, default)
        if was != now:
            kind = "increased" if now > was else "decreased"
            yield f"{part}-{kind}", f"{keyword} {kind} from {float(was):g} to {float(now):g}"


def _prefix_items(old: Schema, new: Schema, side: Side) -> Iterator[Finding]:
    was, now = old.get("prefixItems"), new.get("prefixItems")
    was_n = len(was) if isinstance(was, list) else 0
    now_n = len(now) if isinstance(now, list) else 0
    if now_n > was_n:
        yield "prefix-items-added", f"prefixItems grew from {was_n} to {now_n} positions"
    elif now_n < was_n:
        yield "prefix-items-removed", f"prefixItems shrank from {was_n} to {now_n} positions"


def _dependencies(old: Schema, new: Schema, side: Side) -> Iterator[Finding]:
    """``dependentRequired`` lists and ``dependentSchemas`` entries, by the property that
    triggers them."""
    was, now = old.get("dependentRequired"), new.get("dependentRequired")
    was = was if isinstance(was, dict) else {}
    now = now if isinstance(now, dict) else {}
    for name in now.keys() - was.keys():
        yield "dependent-required-added", f"dependentRequired for {name!r} added"
    for name in was.keys() - now.keys():
        yield "dependent-required-removed", f"dependentRequired for {name!r} removed"
    for name in was.keys() & now.keys():
        if was[name] != now[name]:
            yield "dependent-required-changed", f"dependentRequired for {name!r} changed"
    was, now = old.get("dependentSchemas"), new.get("dependentSchemas")
    was = was if isinstance(was, dict) else {}
    now = now if isinstance(now, dict) else {}
    for name in now.keys() - was.keys():
        yield "dependent-schema-added", f"dependentSchemas for {name!r} added"
    for name in was.keys() - now.keys():
        yield "dependent-schema-removed", f"dependentSchemas for {name!r} removed"


#: Every keyword check, in the order their findings are reported.
KEYWORD_CHECKS: tuple[Callable[[Schema, Schema, Side], Iterator[Finding]], ...] = (
    _nullable,
    _type,
    _enum,
    _const,
    _extensible_enum,
    _default,
    _bounds,
    _multiple_of,
    _unique_items,
    _pattern,
    _presence,
    _contains_counts,
    _prefix_items,
    _dependencies,
)
