"""The graded set: one base/revision pair per rule id with the id and level oasdiff gives it.

Each case is a small OpenAPI 3.0 document pair of our own, written from oasdiff's rule
documentation (``shared/reference/oasdiff-taxonomy.md`` and oasdiff's checker docs), never from
its fixtures. A case passes only when the diff reports exactly the expected findings, so a
missed change, a wrong level or an extra finding all fail it. ``NO_CHANGE`` holds pairs that
differ only cosmetically and must report nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from pleo_export.spec import RULES, Level, Origin, diff_specs

B, W, N = Level.BREAKING, Level.WARNING, Level.INFO  # N: not breaking (info)
JSON = "application/json"
Doc = dict[str, Any]
Finding = tuple[str, Level]


class Case(NamedTuple):
    """A base/revision pair and every finding the diff must report for it."""

    name: str
    old: Doc
    new: Doc
    expected: frozenset[Finding]


def _document(paths: dict[str, Any], **top: Any) -> Doc:
    return {"openapi": "3.0.1", "info": {"title": "t", "version": "1"}, "paths": paths, **top}


def _operation(**fields: Any) -> dict[str, Any]:
    return {"operationId": "touch", "responses": {"200": {"description": "ok"}}, **fields}


def _at(where: str, schema: Any, media: str = JSON) -> Doc:
    """A one-operation document holding ``schema`` at the place ``where`` names."""
    op = _operation()
    ok = op["responses"]["200"]
    if where == "req-prop":
        wrapped = {"type": "object", "properties": {"value": schema}}
        op["requestBody"] = {"content": {media: {"schema": wrapped}}}
    elif where == "req-body":
        op["requestBody"] = {"content": {media: {"schema": schema}}}
    elif where == "resp-prop":
        ok["content"] = {media: {"schema": {"type": "object", "properties": {"value": schema}}}}
    elif where == "resp-body":
        ok["content"] = {media: {"schema": schema}}
    elif where == "resp-header":
        ok["headers"] = {"X-Value": {"schema": schema}}
    elif where == "query":
        op["parameters"] = [{"name": "value", "in": "query", "schema": schema}]
    elif where == "query-items":
        items = {"type": "array", "items": schema}
        op["parameters"] = [{"name": "value", "in": "query", "schema": items}]
    elif where == "deep-object":
        op["parameters"] = [
            {"name": "filter", "in": "query", "style": "deepObject", "schema": schema}
        ]
    elif where == "header-object":
        op["parameters"] = [{"name": "X-Filter", "in": "header", "schema": schema}]
    else:
        raise AssertionError(where)
    return _document({"/things": {"post": op}})


def _schema_case(
    where: str, old: Any, new: Any, rule_id: str, level: Level, *also: Finding, media: str = JSON
) -> Case:
    expected = frozenset({(rule_id, level), *also})
    return Case(f"{rule_id}@{where}", _at(where, old, media), _at(where, new, media), expected)


def _edit_case(
    rule_id: str, level: Level, base: Doc, edit: Callable[[Doc], None], *also: Finding
) -> Case:
    revised = copy.deepcopy(base)
    edit(revised)
    return Case(rule_id, base, revised, frozenset({(rule_id, level), *also}))


S = _schema_case
INT, STR, ARR = (
    {"type": "integer"},
    {"type": "string"},
    {"type": "array", "items": {"type": "string"}},
)


def _with(base: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**base, **extra}


def _obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props, **extra}
    if required:
        schema["required"] = required
    return schema


BOUNDS = [
    S(
        "req-prop",
        _with(INT, maximum=10),
        _with(INT, maximum=5),
        "request-property-max-decreased",
        B,
    ),
    S(
        "req-prop",
        _with(INT, maximum=10),
        _with(INT, maximum=15),
        "request-property-max-increased",
        N,
    ),
    S("req-prop", INT, _with(INT, maximum=10), "request-property-max-set", W),
    S("req-prop", _with(INT, maximum=10), INT, "request-property-max-unset", N),
    S(
        "req-prop",
        _with(INT, minimum=10),
        _with(INT, minimum=15),
        "request-property-min-increased",
        B,
    ),
    S(
        "req-prop",
        _with(INT, minimum=10),
        _with(INT, minimum=5),
        "request-property-min-decreased",
        N,
    ),
    S("req-prop", INT, _with(INT, minimum=1), "request-property-min-set", W),
    S("req-prop", _with(INT, minimum=1), INT, "request-property-min-unset", N),
    Case(
        "exclusive maximum",
        _at("req-prop", _with(INT, maximum=10)),
        _at("req-prop", _with(INT, maximum=10, exclusiveMaximum=True)),
        frozenset({("request-property-max-decreased", B)}),
    ),
    S(
        "req-prop",
        _with(STR, maxLength=9),
        _with(STR, maxLength=5),
        "request-property-max-length-decreased",
        B,
    ),
    S(
        "req-prop",
        _with(STR, maxLength=5),
        _with(STR, maxLength=9),
        "request-property-max-length-increased",
        N,
    ),
    S("req-prop", STR, _with(STR, maxLength=5), "request-property-max-length-set", W),
    S("req-prop", _with(STR, maxLength=5), STR, "request-property-max-length-unset", N),
    S(
        "req-prop",
        _with(STR, minLength=1),
        _with(STR, minLength=3),
        "request-property-min-length-increased",
        B,
    ),
    S(
        "req-prop",
        _with(STR, minLength=3),
        _with(STR, minLength=1),
        "request-property-min-length-decreased",
        N,
    ),
    S("req-prop", STR, _with(STR, minLength=3), "request-property-min-length-set", W),
    S("req-prop", _with(STR, minLength=3), STR, "request-property-min-length-unset", N),
    S(
        "req-prop",
        _with(ARR, maxItems=9),
        _with(ARR, maxItems=3),
        "request-property-max-items-decreased",
        B,
    ),
    S(
        "req-prop",
        _with(ARR, maxItems=3),
        _with(ARR, maxItems=9),
        "request-property-max-items-increased",
        N,
    ),
    S("req-prop", ARR, _with(ARR, maxItems=3), "request-property-max-items-set", W),
    S("req-prop", _with(ARR, maxItems=3), ARR, "request-property-max-items-unset", N),
    S(
        "req-prop",
        _with(ARR, minItems=1),
        _with(ARR, minItems=2),
        "request-property-min-items-increased",
        B,
    ),
    S(
        "req-prop",
        _with(ARR, minItems=2),
        _with(ARR, minItems=1),
        "request-property-min-items-decreased",
        N,
    ),
    S("req-prop", ARR, _with(ARR, minItems=1), "request-property-min-items-set", W),
    S("req-prop", _with(ARR, minItems=1), ARR, "request-property-min-items-unset", N),
    S("req-prop", INT, _with(INT, multipleOf=5), "request-property-multiple-of-set", W),
    S("req-prop", _with(INT, multipleOf=5), INT, "request-property-multiple-of-unset", N),
    S(
        "req-prop",
        _with(INT, multipleOf=3),
        _with(INT, multipleOf=5),
        "request-property-multiple-of-changed",
        B,
    ),
    S(
        "req-prop",
        _with(INT, multipleOf=10),
        _with(INT, multipleOf=5),
        "request-property-multiple-of-generalized",
        N,
    ),
    S("req-prop", ARR, _with(ARR, uniqueItems=True), "request-property-unique-items-set", W),
    S("req-prop", _with(ARR, uniqueItems=True), ARR, "request-property-unique-items-unset", N),
    S("req-prop", STR, _with(STR, pattern="^[a-z]+$"), "request-property-pattern-added", B),
    S(
        "req-prop",
        _with(STR, pattern="^[a-z]+$"),
        _with(STR, pattern="^[a-f]+$"),
        "request-property-pattern-changed",
        W,
    ),
    S("req-prop", _with(STR, pattern="^[a-z]+$"), STR, "request-property-pattern-removed", N),
    S("req-body", STR, _with(STR, maxLength=64), "request-body-max-length-set", W),
    S(
        "req-body",
        _with(ARR, minItems=1),
        _with(ARR, minItems=2),
        "request-body-min-items-increased",
        B,
    ),
    S("req-body", _with(INT, maximum=10), _with(INT, maximum=5), "request-body-max-decreased", B),
    S("req-body", _with(INT, minimum=1), _with(INT, minimum=2), "request-body-min-increased", B),
    S(
        "query",
        _with(INT, maximum=100),
        _with(INT, maximum=50),
        "request-parameter-max-decreased",
        B,
    ),
    S("query", _with(INT, minimum=1), _with(INT, minimum=5), "request-parameter-min-increased", B),
    S("query", INT, _with(INT, maximum=100), "request-parameter-max-set", W),
    S("query", INT, _with(INT, minimum=1), "request-parameter-min-set", W),
    S(
        "query",
        _with(STR, maxLength=9),
        _with(STR, maxLength=5),
        "request-parameter-max-length-decreased",
        B,
    ),
    S(
        "query",
        _with(STR, maxLength=5),
        _with(STR, maxLength=9),
        "request-parameter-max-length-increased",
        N,
    ),
    S(
        "query",
        _with(STR, minLength=1),
        _with(STR, minLength=5),
        "request-parameter-min-length-increased",
        B,
    ),
    S("query", STR, _with(STR, maxLength=5), "request-parameter-max-length-set", W),
    S(
        "query",
        _with(ARR, maxItems=9),
        _with(ARR, maxItems=3),
        "request-parameter-max-items-decreased",
        B,
    ),
    S(
        "query",
        _with(ARR, minItems=1),
        _with(ARR, minItems=2),
        "request-parameter-min-items-increased",
        B,
    ),
    S("query", ARR, _with(ARR, minItems=1), "request-parameter-min-items-set", W),
    S("query", STR, _with(STR, pattern="^[0-9]+$"), "request-parameter-pattern-added", B),
    S(
        "query",
        _with(STR, pattern="^[0-9]+$"),
        _with(STR, pattern="^[0-9a-f]+$"),
        "request-parameter-pattern-changed",
        W,
    ),
    S("query", _with(STR, pattern="^[0-9]+$"), STR, "request-parameter-pattern-removed", N),
    S(
        "resp-prop",
        _with(INT, maximum=10),
        _with(INT, maximum=15),
        "response-property-max-increased",
        B,
    ),
    S(
        "resp-prop",
        _with(INT, maximum=15),
        _with(INT, maximum=10),
        "response-property-max-decreased",
        N,
    ),
    S("resp-prop", _with(INT, maximum=10), INT, "response-property-max-unset", B),
    S("resp-prop", INT, _with(INT, maximum=10), "response-property-max-set", N),
    S(
        "resp-prop",
        _with(INT, minimum=5),
        _with(INT, minimum=1),
        "response-property-min-decreased",
        B,
    ),
    S(
        "resp-prop",
        _with(INT, minimum=1),
        _with(INT, minimum=5),
        "response-property-min-increased",
        N,
    ),
    S(
        "resp-prop",
        _with(STR, maxLength=5),
        _with(STR, maxLength=9),
        "response-property-max-length-increased",
        B,
    ),
    S("resp-prop", _with(STR, maxLength=5), STR, "response-property-max-length-unset", B),
    S(
        "resp-prop",
        _with(STR, minLength=3),
        _with(STR, minLength=1),
        "response-property-min-length-decreased",
        B,
    ),
    S(
        "resp-prop",
        _with(ARR, minItems=2),
        _with(ARR, minItems=1),
        "response-property-min-items-decreased",
        B,
    ),
    S("resp-prop", _with(ARR, minItems=1), ARR, "response-property-min-items-unset", B),
    S(
        "resp-prop",
        _with(ARR, maxItems=3),
        _with(ARR, maxItems=9),
        "response-property-max-items-increased",
        B,
    ),
    S("resp-prop", STR, _with(STR, pattern="^a"), "response-property-pattern-added", N),
    S(
        "resp-prop",
        _with(STR, pattern="^a"),
        _with(STR, pattern="^b"),
        "response-property-pattern-changed",
        N,
    ),
    S("resp-prop", _with(STR, pattern="^a"), STR, "response-property-pattern-removed", N),
    S(
        "resp-prop",
        _with(INT, multipleOf=5),
        _with(INT, multipleOf=10),
        "response-property-multiple-of-specialized",
        N,
    ),
    S(
        "resp-prop",
        _with(INT, multipleOf=5),
        _with(INT, multipleOf=3),
        "response-property-multiple-of-changed",
        B,
    ),
    S("resp-prop", _with(ARR, uniqueItems=True), ARR, "response-property-unique-items-unset", B),
    S(
        "resp-body",
        _with(STR, maxLength=5),
        _with(STR, maxLength=9),
        "response-body-max-length-increased",
        B,
    ),
    S(
        "resp-body",
        _with(ARR, minItems=2),
        _with(ARR, minItems=1),
        "response-body-min-items-decreased",
        B,
    ),
    S(
        "resp-header",
        _with(STR, maxLength=5),
        _with(STR, maxLength=9),
        "response-header-max-length-increased",
        B,
    ),
    S(
        "deep-object",
        _obj({"n": _with(INT, maximum=9)}),
        _obj({"n": _with(INT, maximum=5)}),
        "request-parameter-property-max-decreased",
        B,
    ),
]

TYPES = [
    S("req-prop", INT, STR, "request-property-type-changed", B),
    S("req-prop", INT, {"type": "number"}, "request-property-type-generalized", N),
    S("req-prop", STR, _with(STR, format="uuid"), "request-property-type-changed", B),
    S("req-prop", INT, STR, "request-property-type-compatible", N, media="application/xml"),
    S("resp-prop", STR, INT, "response-property-type-changed", B),
    S("resp-prop", INT, {"type": "number"}, "response-property-type-generalized", B),
    S("resp-prop", {"type": "number"}, INT, "response-property-type-specialized", N),
    S("resp-prop", STR, INT, "response-property-type-compatible", N, media="text/plain"),
    S("req-body", {"type": "number"}, STR, "request-body-type-changed", B),
    S("req-body", INT, {"type": "number"}, "request-body-type-generalized", N),
    S("resp-body", STR, {"type": "number"}, "response-body-type-changed", B),
    S("resp-body", INT, {"type": "number"}, "response-body-type-generalized", B),
    S("resp-body", {"type": "number"}, INT, "response-body-type-specialized", N),
    S("query", STR, INT, "request-parameter-type-changed", B),
    S("query", INT, STR, "request-parameter-type-generalized", N),
    S("query-items", STR, INT, "request-parameter-property-type-changed", W),
    S(
        "query-items",
        _with(STR, format="uuid"),
        STR,
        "request-parameter-property-type-generalized",
        N,
    ),
    S("resp-header", INT, STR, "response-header-type-compatible", N),
    S("resp-header", INT, {"type": "boolean"}, "response-header-type-changed", B),
    S("resp-header", INT, {"type": "number"}, "response-header-type-generalized", B),
    S("resp-header", {"type": "number"}, INT, "response-header-type-specialized", N),
]

NULLABILITY = [
    S("req-prop", STR, _with(STR, nullable=True), "request-property-became-nullable", N),
    S("req-prop", _with(STR, nullable=True), STR, "request-property-became-not-nullable", B),
    S("resp-prop", STR, _with(STR, nullable=True), "response-property-became-nullable", B),
    S("resp-prop", _with(STR, nullable=True), STR, "response-property-became-not-nullable", N),
    S("resp-prop", STR, {"type": ["string", "null"]}, "response-property-became-nullable", B),
    S("resp-prop", STR, {"oneOf": [{"type": "null"}, STR]}, "response-property-became-nullable", B),
    S("req-body", _obj({}), _obj({}, nullable=True), "request-body-became-nullable", N),
    S("req-body", _obj({}, nullable=True), _obj({}), "request-body-became-not-nullable", B),
    S("resp-body", _obj({}), _obj({}, nullable=True), "response-body-became-nullable", B),
    S("resp-body", _obj({}, nullable=True), _obj({}), "response-body-became-not-nullable", N),
    S("query", STR, _with(STR, nullable=True), "request-parameter-became-nullable", N),
    S("query", _with(STR, nullable=True), STR, "request-parameter-became-not-nullable", B),
    S(
        "query-items",
        STR,
        _with(STR, nullable=True),
        "request-parameter-property-became-nullable",
        N,
    ),
    S(
        "query-items",
        _with(STR, nullable=True),
        STR,
        "request-parameter-property-became-not-nullable",
        B,
    ),
    S("resp-header", STR, _with(STR, nullable=True), "response-header-became-nullable", B),
    S("resp-header", _with(STR, nullable=True), STR, "response-header-became-not-nullable", N),
]


def _enum(*values: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "enum": list(values), **extra}


ENUMS = [
    S("req-prop", _enum("a"), _enum("a", "b"), "request-property-enum-value-added", N),
    S("req-prop", _enum("a", "b"), _enum("a"), "request-property-enum-value-removed", B),
    S("req-prop", STR, _enum("a"), "request-property-became-enum", B),
    S("req-prop", _enum("a"), STR, "request-property-became-not-enum", N),
    S(
        "req-prop",
        _enum("a", "b", readOnly=True),
        _enum("a", readOnly=True),
        "request-read-only-property-enum-value-removed",
        N,
    ),
    S("resp-prop", _enum("a"), _enum("a", "b"), "response-property-enum-value-added", W),
    S("resp-prop", _enum("a", "b"), _enum("a"), "response-property-enum-value-removed", N),
    S("resp-prop", STR, _enum("a"), "response-property-became-enum", N),
    S("resp-prop", _enum("a"), STR, "response-property-became-not-enum", W),
    S(
        "resp-prop",
        _enum("a", writeOnly=True),
        _enum("a", "b", writeOnly=True),
        "response-write-only-property-enum-value-added",
        N,
    ),
    S("req-body", _enum("a", "b"), _enum("a"), "request-body-enum-value-removed", B),
    S("req-body", _enum("a"), _enum("a", "b"), "request-body-enum-value-added", N),
    S("req-body", STR, _enum("a"), "request-body-became-enum", B),
    S("resp-body", _enum("a", "b"), _enum("a"), "response-mediatype-enum-value-removed", N),
    S("resp-body", _enum("a"), _enum("a", "b"), "response-mediatype-enum-value-added", W),
    S("query", _enum("a", "b"), _enum("a"), "request-parameter-enum-value-removed", B),
    S("query", _enum("a"), _enum("a", "b"), "request-parameter-enum-value-added", N),
    S("query", STR, _enum("a"), "request-parameter-became-enum", B),
    S(
        "query-items",
        _enum("a", "b"),
        _enum("a"),
        "request-parameter-property-enum-value-removed",
        B,
    ),
    S("query-items", _enum("a"), _enum("a", "b"), "request-parameter-property-enum-value-added", N),
    S(
        "deep-object",
        _obj({"s": _enum("a", "b")}),
        _obj({"s": _enum("a")}),
        "request-parameter-property-enum-value-removed",
        B,
    ),
    S(
        "header-object",
        _obj({"s": STR}),
        _obj({"s": _enum("a")}),
        "request-header-property-became-enum",
        B,
    ),
    S("resp-header", _enum("a"), _enum("a", "b"), "response-header-enum-value-added", W),
    S(
        "req-prop",
        _with(STR, **{"x-extensible-enum": ["a", "b"]}),
        _with(STR, **{"x-extensible-enum": ["a"]}),
        "request-property-x-extensible-enum-value-removed",
        B,
    ),
    S(
        "query",
        _with(STR, **{"x-extensible-enum": ["a", "b"]}),
        _with(STR, **{"x-extensible-enum": ["a"]}),
        "request-parameter-x-extensible-enum-value-removed",
        B,
    ),
    Case(
        "x-extensible-enum value added to a response",
        _at("resp-prop", _with(STR, **{"x-extensible-enum": ["a"]})),
        _at("resp-prop", _with(STR, **{"x-extensible-enum": ["a", "b"]})),
        frozenset(),
    ),
]

DEFAULTS = [
    S("query", INT, _with(INT, default=50), "request-parameter-default-value-added", B),
    S(
        "query",
        _with(INT, default=50),
        _with(INT, default=20),
        "request-parameter-default-value-changed",
        B,
    ),
    S("query", _with(INT, default=50), INT, "request-parameter-default-value-removed", B),
    S("req-prop", INT, _with(INT, default=1), "request-property-default-value-added", N),
    S(
        "req-prop",
        _with(INT, default=1),
        _with(INT, default=2),
        "request-property-default-value-changed",
        N,
    ),
    S("req-prop", _with(INT, default=1), INT, "request-property-default-value-removed", N),
    S(
        "resp-prop",
        _with(INT, default=1),
        _with(INT, default=2),
        "response-property-default-value-changed",
        N,
    ),
    S("req-body", INT, _with(INT, default=1), "request-body-default-value-added", N),
    S("req-prop", STR, _with(STR, deprecated=True), "request-property-deprecated", N),
    S("req-prop", _with(STR, deprecated=True), STR, "request-property-reactivated", N),
    S("resp-prop", STR, _with(STR, deprecated=True), "response-property-deprecated", N),
    S(
        "req-prop",
        STR,
        _with(STR, deprecated=True, **{"x-sunset": "2999-01-01"}),
        "request-property-deprecated-with-sunset",
        N,
    ),
]

P = {"a": STR, "b": STR}
PROPERTIES = [
    S("req-body", _obj({"a": STR}), _obj(P, ["b"]), "new-required-request-property", B),
    S(
        "req-body",
        _obj({"a": STR}),
        _obj({**P, "b": _with(STR, default="x")}, ["b"]),
        "new-required-request-property-with-default",
        B,
    ),
    S("req-body", _obj({"a": STR}), _obj(P), "new-optional-request-property", N),
    S("req-body", _obj(P), _obj({"a": STR}), "request-property-removed", W),
    S("req-body", _obj(P), _obj(P, ["b"]), "request-property-became-required", B),
    S(
        "req-body",
        _obj({**P, "b": _with(STR, default="x")}),
        _obj({**P, "b": _with(STR, default="x")}, ["b"]),
        "request-property-became-required-with-default",
        B,
    ),
    S("req-body", _obj(P, ["b"]), _obj(P), "request-property-became-optional", N),
    S("resp-body", _obj(P, ["b"]), _obj({"a": STR}), "response-required-property-removed", B),
    S("resp-body", _obj(P), _obj({"a": STR}), "response-optional-property-removed", W),
    S("resp-body", _obj({"a": STR}), _obj(P, ["b"]), "response-required-property-added", N),
    S("resp-body", _obj({"a": STR}), _obj(P), "response-optional-property-added", N),
    S(
        "resp-body",
        _obj({**P, "b": _with(STR, writeOnly=True)}, ["b"]),
        _obj({"a": STR}),
        "response-required-write-only-property-removed",
        N,
    ),
    S(
        "resp-body",
        _obj({"a": STR}),
        _obj({**P, "b": _with(STR, writeOnly=True)}),
        "response-optional-write-only-property-added",
        N,
    ),
    S("resp-body", _obj(P, ["b"]), _obj(P), "response-property-became-optional", B),
    S("resp-body", _obj(P), _obj(P, ["b"]), "response-property-became-required", N),
    S(
        "resp-body",
        _obj({**P, "b": _with(STR, writeOnly=True)}, ["b"]),
        _obj({**P, "b": _with(STR, writeOnly=True)}),
        "response-write-only-property-became-optional",
        N,
    ),
    S(
        "req-body",
        _obj(P),
        _obj({**P, "b": _with(STR, readOnly=True)}),
        "request-optional-property-became-read-only",
        N,
    ),
    S(
        "req-body",
        _obj({**P, "b": _with(STR, readOnly=True)}, ["b"]),
        _obj(P, ["b"]),
        "request-required-property-became-non-read-only",
        N,
    ),
    S(
        "resp-body",
        _obj(P),
        _obj({**P, "b": _with(STR, writeOnly=True)}),
        "response-optional-property-became-write-only",
        N,
    ),
    S(
        "resp-body",
        _obj({**P, "b": _with(STR, writeOnly=True)}, ["b"]),
        _obj(P, ["b"]),
        "response-required-property-became-non-write-only",
        W,
    ),
    S("header-object", _obj({"a": STR}), _obj(P, ["b"]), "new-required-request-header-property", B),
    S("header-object", _obj(P), _obj(P, ["b"]), "request-header-property-became-required", B),
    S(
        "deep-object",
        _obj({"a": STR}),
        _obj(P, ["b"]),
        "new-required-request-parameter-property",
        B,
    ),
    S("deep-object", _obj({"a": STR}), _obj(P), "new-optional-request-parameter-property", N),
    S("deep-object", _obj(P), _obj({"a": STR}), "request-parameter-property-removed", W),
    S("deep-object", _obj(P, ["b"]), _obj(P), "request-parameter-property-became-optional", N),
]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_PETS = {
    "Dog": _obj({"bark": STR, "name": STR}, ["bark", "name"]),
    "Cat": _obj({"meow": STR}),
    "Bird": _obj({"tweet": STR}),
    "Base": _obj({"id": STR}, ["id"]),
    "Extra": _obj({"note": STR}),
}


def _composed(where: str, schema: Any, pets: dict[str, Any] | None = None) -> Doc:
    document = _at(where, schema)
    document["components"] = {"schemas": copy.deepcopy(pets or _PETS)}
    return document


def _composition(where: str, old: Any, new: Any, *expected: Finding, pets: Any = None) -> Case:
    name = f"{expected[0][0]}@{where}"
    return Case(name, _composed(where, old), _composed(where, new, pets), frozenset(expected))


_DOG_LOSES_NAME = {**_PETS, "Dog": _obj({"bark": STR}, ["bark"])}
COMPOSITION = [
    _composition(
        "resp-body",
        {"allOf": [_ref("Base"), _obj({"status": STR}, ["status"])]},
        {"allOf": [_ref("Base"), _obj({}, [])]},
        # The inline part is edited, not removed: only what it lost is reported.
        ("response-required-property-removed", B),
    ),
    _composition(
        "req-body",
        {"allOf": [_ref("Base")]},
        {"allOf": [_ref("Base"), _ref("Extra")]},
        ("request-body-all-of-added", B),
        ("new-optional-request-property", N),
    ),
    _composition(
        "req-body",
        {"allOf": [_ref("Base"), _ref("Extra")]},
        {"allOf": [_ref("Base")]},
        ("request-body-all-of-removed", W),
        ("request-property-removed", W),
    ),
    _composition(
        "resp-body",
        {"allOf": [_ref("Base"), _ref("Extra")]},
        {"allOf": [_ref("Base")]},
        ("response-body-all-of-removed", N),
        ("response-optional-property-removed", W),
    ),
    _composition(
        "req-prop",
        {"allOf": [_ref("Base")]},
        {"allOf": [_ref("Base"), _ref("Extra")]},
        ("request-property-all-of-added", B),
        ("new-optional-request-property", N),
    ),
    _composition(
        "req-body",
        {"oneOf": [_ref("Dog"), _ref("Cat")]},
        {"oneOf": [_ref("Dog")]},
        ("request-body-one-of-removed", B),
    ),
    _composition(
        "req-body",
        {"oneOf": [_ref("Dog")]},
        {"oneOf": [_ref("Dog"), _ref("Cat")]},
        ("request-body-one-of-added", N),
    ),
    _composition(
        "resp-body",
        {"oneOf": [_ref("Dog")]},
        {"oneOf": [_ref("Dog"), _ref("Cat")]},
        ("response-body-one-of-added", B),
    ),
    _composition(
        "resp-body",
        {"oneOf": [_ref("Dog"), _ref("Cat")]},
        {"oneOf": [_ref("Dog")]},
        ("response-body-one-of-removed", N),
    ),
    _composition(
        "req-body",
        {"anyOf": [_ref("Dog"), _ref("Cat")]},
        {"anyOf": [_ref("Dog")]},
        ("request-body-any-of-removed", B),
    ),
    _composition(
        "req-body",
        {"anyOf": [_ref("Dog")]},
        {"anyOf": [_ref("Dog"), _ref("Cat")]},
        ("request-body-any-of-added", N),
    ),
    _composition(
        "resp-body",
        {"anyOf": [_ref("Dog")]},
        {"anyOf": [_ref("Dog"), _ref("Cat")]},
        ("response-body-any-of-added", N),
    ),
    _composition(
        "resp-body",
        {"anyOf": [_ref("Dog"), _ref("Cat")]},
        {"anyOf": [_ref("Dog")]},
        ("response-body-any-of-removed", N),
    ),
    _composition(
        "req-prop",
        {"oneOf": [_ref("Dog"), _ref("Cat")]},
        {"oneOf": [_ref("Cat")]},
        ("request-property-one-of-removed", B),
    ),
    _composition(
        "resp-prop",
        {"oneOf": [_ref("Dog")]},
        {"oneOf": [_ref("Dog"), _ref("Bird")]},
        ("response-property-one-of-added", B),
    ),
    _composition(
        "req-body",
        _ref("Dog"),
        {"oneOf": [_ref("Dog"), _ref("Cat")]},
        ("request-body-wrapped-in-one-of", B),
    ),
    _composition(
        "resp-body",
        _ref("Dog"),
        {"oneOf": [_ref("Dog"), _ref("Cat")]},
        ("response-body-wrapped-in-one-of", B),
    ),
    _composition(
        "resp-body",
        {"oneOf": [_ref("Dog"), _ref("Cat")]},
        {"oneOf": [_ref("Dog"), _ref("Cat")]},
        ("response-required-property-removed", B),
        pets=_DOG_LOSES_NAME,
    ),
    _composition(
        "resp-body",
        {"oneOf": [_ref("Dog"), _ref("Cat")]},
        {"oneOf": [_ref("Dog"), _ref("Cat")], "discriminator": {"propertyName": "kind"}},
        ("response-body-discriminator-added", N),
    ),
    _composition(
        "req-body",
        {"oneOf": [_ref("Dog")], "discriminator": {"propertyName": "kind"}},
        {
            "oneOf": [_ref("Dog")],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {"dog": "#/components/schemas/Dog"},
            },
        },
        ("request-body-discriminator-mapping-added", N),
    ),
    _composition(
        "resp-prop",
        {"oneOf": [_ref("Dog")], "discriminator": {"propertyName": "kind"}},
        {"oneOf": [_ref("Dog")], "discriminator": {"propertyName": "type"}},
        ("response-property-discriminator-property-name-changed", N),
    ),
    _composition(
        "req-prop",
        _ref("Dog"),
        _ref("Cat"),
        ("request-property-schema-ref-changed", W),
        ("request-property-removed", W),
        ("new-optional-request-property", N),
    ),
    _composition(
        "resp-body",
        _ref("Cat"),
        _ref("Bird"),
        ("response-body-schema-ref-changed", W),
        ("response-optional-property-removed", W),
        ("response-optional-property-added", N),
    ),
]


def _body(media: dict[str, Any], required: bool | None = None) -> Doc:
    body: dict[str, Any] = {"content": media}
    if required is not None:
        body["required"] = required
    return _document({"/things": {"post": _operation(requestBody=body)}})


def _responses(responses: dict[str, Any]) -> Doc:
    return _document({"/things": {"get": _operation(responses=responses)}})


_OK = {"description": "ok"}
_JSON_BODY = {JSON: {"schema": STR}}
_HEADERS = _responses(
    {
        "200": {
            **_OK,
            "headers": {"X-Rate": {"required": True, "schema": INT}, "X-Opt": {"schema": INT}},
        }
    }
)


def _headers(edit: Callable[[dict[str, Any]], None]) -> Callable[[Doc], None]:
    def apply(document: Doc) -> None:
        edit(document["paths"]["/things"]["get"]["responses"]["200"]["headers"])

    return apply


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda mapping: mapping.pop(key)


BODIES = [
    Case(
        "request-body-added-required",
        _document({"/things": {"post": _operation()}}),
        _body(_JSON_BODY, True),
        frozenset({("request-body-added-required", B)}),
    ),
    Case(
        "request-body-added-optional",
        _document({"/things": {"post": _operation()}}),
        _body(_JSON_BODY),
        frozenset({("request-body-added-optional", N)}),
    ),
    Case(
        "request-body-removed",
        _body(_JSON_BODY),
        _document({"/things": {"post": _operation()}}),
        frozenset({("request-body-removed", B)}),
    ),
    Case(
        "request-body-became-required",
        _body(_JSON_BODY, False),
        _body(_JSON_BODY, True),
        frozenset({("request-body-became-required", B)}),
    ),
    Case(
        "request-body-became-optional",
        _body(_JSON_BODY, True),
        _body(_JSON_BODY),
        frozenset({("request-body-became-optional", N)}),
    ),
    Case(
        "request-body-media-type-added",
        _body(_JSON_BODY),
        _body({**_JSON_BODY, "text/csv": {}}),
        frozenset({("request-body-media-type-added", N)}),
    ),
    Case(
        "request-body-media-type-removed",
        _body({**_JSON_BODY, "text/csv": {}}),
        _body(_JSON_BODY),
        frozenset({("request-body-media-type-removed", B)}),
    ),
    Case(
        "request-body-media-type-schema-added",
        _body({JSON: {}}),
        _body(_JSON_BODY),
        frozenset({("request-body-media-type-schema-added", B)}),
    ),
    Case(
        "request-body-media-type-schema-removed",
        _body(_JSON_BODY),
        _body({JSON: {}}),
        frozenset({("request-body-media-type-schema-removed", N)}),
    ),
    Case(
        "response-success-status-added",
        _responses({"200": _OK}),
        _responses({"200": _OK, "201": _OK}),
        frozenset({("response-success-status-added", N)}),
    ),
    Case(
        "response-success-status-removed",
        _responses({"200": _OK, "201": _OK}),
        _responses({"200": _OK}),
        frozenset({("response-success-status-removed", B)}),
    ),
    Case(
        "response-non-success-status-added",
        _responses({"200": _OK}),
        _responses({"200": _OK, "404": _OK}),
        frozenset({("response-non-success-status-added", N)}),
    ),
    Case(
        "response-non-success-status-removed",
        _responses({"200": _OK, "404": _OK}),
        _responses({"200": _OK}),
        frozenset({("response-non-success-status-removed", N)}),
    ),
    Case(
        "response-default-status-added",
        _responses({"200": _OK}),
        _responses({"200": _OK, "default": _OK}),
        frozenset({("response-default-status-added", N)}),
    ),
    Case(
        "response-default-status-removed",
        _responses({"200": _OK, "default": _OK}),
        _responses({"200": _OK}),
        frozenset({("response-default-status-removed", W)}),
    ),
    Case(
        "response-media-type-added",
        _responses({"200": {**_OK, "content": _JSON_BODY}}),
        _responses({"200": {**_OK, "content": {**_JSON_BODY, "text/csv": {}}}}),
        frozenset({("response-media-type-added", N)}),
    ),
    Case(
        "response-media-type-removed",
        _responses({"200": {**_OK, "content": {**_JSON_BODY, "text/csv": {}}}}),
        _responses({"200": {**_OK, "content": _JSON_BODY}}),
        frozenset({("response-media-type-removed", B)}),
    ),
    Case(
        "response-body-media-type-schema-removed",
        _responses({"200": {**_OK, "content": _JSON_BODY}}),
        _responses({"200": {**_OK, "content": {JSON: {}}}}),
        frozenset({("response-body-media-type-schema-removed", W)}),
    ),
    Case(
        "response-body-media-type-schema-added",
        _responses({"200": {**_OK, "content": {JSON: {}}}}),
        _responses({"200": {**_OK, "content": _JSON_BODY}}),
        frozenset({("response-body-media-type-schema-added", N)}),
    ),
    Case(
        "response-media-type-name-changed",
        _responses({"200": {**_OK, "content": _JSON_BODY}}),
        _responses({"200": {**_OK, "content": {f"{JSON};charset=UTF-8": {"schema": STR}}}}),
        frozenset({("response-media-type-name-changed", N)}),
    ),
    Case(
        "response-media-type-name-generalized",
        _responses({"200": {**_OK, "content": {"application/problem+json": {"schema": STR}}}}),
        _responses({"200": {**_OK, "content": _JSON_BODY}}),
        frozenset({("response-media-type-name-generalized", B)}),
    ),
    Case(
        "response-media-type-name-specialized",
        _responses({"200": {**_OK, "content": _JSON_BODY}}),
        _responses({"200": {**_OK, "content": {"application/problem+json": {"schema": STR}}}}),
        frozenset({("response-media-type-name-specialized", N)}),
    ),
    _edit_case("required-response-header-removed", B, _HEADERS, _headers(_drop("X-Rate"))),
    _edit_case("optional-response-header-removed", W, _HEADERS, _headers(_drop("X-Opt"))),
    _edit_case(
        "response-header-added",
        N,
        _HEADERS,
        _headers(lambda h: h.update({"X-New": {"schema": STR}})),
    ),
    _edit_case(
        "response-header-became-optional",
        B,
        _HEADERS,
        _headers(lambda h: h["X-Rate"].pop("required")),
    ),
    _edit_case(
        "response-header-became-required",
        N,
        _HEADERS,
        _headers(lambda h: h["X-Opt"].update(required=True)),
    ),
]


def _params(
    *parameters: dict[str, Any], path: str = "/things", path_level: list[Any] | None = None
) -> Doc:
    item: dict[str, Any] = {"get": _operation(parameters=list(parameters))}
    if path_level is not None:
        item["parameters"] = path_level
    return _document({path: item})


def _q(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": STR, **extra}


_ID = {"name": "id", "in": "path", "required": True, "schema": STR}
PARAMETERS = [
    Case(
        "new-required-request-parameter",
        _params(),
        _params(_q("a", required=True)),
        frozenset({("new-required-request-parameter", B)}),
    ),
    Case(
        "new-optional-request-parameter",
        _params(),
        _params(_q("a")),
        frozenset({("new-optional-request-parameter", N)}),
    ),
    Case(
        "new-request-path-parameter",
        _params(path="/things/{id}"),
        _params(_ID, path="/things/{id}"),
        frozenset({("new-request-path-parameter", B)}),
    ),
    Case(
        "new-required-request-default-parameter-to-existing-path",
        _params(),
        _params(path_level=[_q("a", required=True)]),
        frozenset({("new-required-request-default-parameter-to-existing-path", B)}),
    ),
    Case(
        "new-optional-request-default-parameter-to-existing-path",
        _params(),
        _params(path_level=[_q("a")]),
        frozenset({("new-optional-request-default-parameter-to-existing-path", N)}),
    ),
    Case(
        "request-parameter-removed",
        _params(_q("a")),
        _params(),
        frozenset({("request-parameter-removed", W)}),
    ),
    Case(
        "request-parameter-removed-with-deprecation",
        _params(_q("a", deprecated=True)),
        _params(),
        frozenset({("request-parameter-removed-with-deprecation", N)}),
    ),
    Case(
        "request-parameter-removed-before-sunset",
        _params(_q("a", deprecated=True, **{"x-sunset": "2999-01-01"})),
        _params(),
        frozenset({("request-parameter-removed-before-sunset", B)}),
    ),
    Case(
        "request-parameter-became-required",
        _params(_q("a")),
        _params(_q("a", required=True)),
        frozenset({("request-parameter-became-required", B)}),
    ),
    Case(
        "request-parameter-became-optional",
        _params(_q("a", required=True)),
        _params(_q("a")),
        frozenset({("request-parameter-became-optional", N)}),
    ),
    Case(
        "request-parameter-deprecated",
        _params(_q("a")),
        _params(_q("a", deprecated=True)),
        frozenset({("request-parameter-deprecated", N)}),
    ),
    Case(
        "request-parameter-reactivated",
        _params(_q("a", deprecated=True)),
        _params(_q("a")),
        frozenset({("request-parameter-reactivated", N)}),
    ),
    Case(
        "request-parameter-style-changed",
        _params(_q("a")),
        _params(_q("a", style="spaceDelimited")),
        frozenset(
            {("request-parameter-style-changed", W), ("request-parameter-explode-changed", W)}
        ),
    ),
    Case(
        "request-parameter-explode-changed",
        _params(_q("a")),
        _params(_q("a", explode=False)),
        frozenset({("request-parameter-explode-changed", W)}),
    ),
    Case(
        "request-path-parameter-renamed",
        _params(_ID, path="/things/{id}"),
        _params({**_ID, "name": "thingId"}, path="/things/{thingId}"),
        frozenset({("request-path-parameter-renamed", W)}),
    ),
]


def _ops(**methods: dict[str, Any]) -> Doc:
    return _document({"/things": dict(methods)})


_GET, _PUT = _operation(operationId="getThing"), _operation(operationId="putThing")
OPERATIONS = [
    Case(
        "endpoint-added",
        _ops(get=_GET),
        _ops(get=_GET, put=_PUT),
        frozenset({("endpoint-added", N)}),
    ),
    Case(
        "endpoint-deprecated",
        _ops(get=_GET),
        _ops(get={**_GET, "deprecated": True}),
        frozenset({("endpoint-deprecated", N)}),
    ),
    Case(
        "endpoint-deprecated-with-sunset",
        _ops(get=_GET),
        _ops(get={**_GET, "deprecated": True, "x-sunset": "2999-01-01"}),
        frozenset({("endpoint-deprecated-with-sunset", N)}),
    ),
    Case(
        "endpoint-reactivated",
        _ops(get={**_GET, "deprecated": True}),
        _ops(get=_GET),
        frozenset({("endpoint-reactivated", N)}),
    ),
    Case(
        "api-removed-without-deprecation",
        _ops(get=_GET, put=_PUT),
        _ops(get=_GET),
        frozenset({("api-removed-without-deprecation", B)}),
    ),
    Case(
        "api-removed-with-deprecation",
        _ops(get=_GET, put={**_PUT, "deprecated": True}),
        _ops(get=_GET),
        frozenset({("api-removed-with-deprecation", N)}),
    ),
    Case(
        "api-removed-before-sunset",
        _ops(get=_GET, put={**_PUT, "deprecated": True, "x-sunset": "2999-01-01"}),
        _ops(get=_GET),
        frozenset({("api-removed-before-sunset", B)}),
    ),
    Case(
        "api-removed after its sunset",
        _ops(get=_GET, put={**_PUT, "deprecated": True, "x-sunset": "2020-01-01"}),
        _ops(get=_GET),
        frozenset(),
    ),
    Case(
        "api-path-removed-without-deprecation",
        _ops(get=_GET),
        _document({}),
        frozenset({("api-path-removed-without-deprecation", B)}),
    ),
    Case(
        "api-path-removed-with-deprecation",
        _ops(get={**_GET, "deprecated": True}),
        _document({}),
        frozenset({("api-path-removed-with-deprecation", N)}),
    ),
    Case(
        "api-path-removed-before-sunset",
        _ops(get={**_GET, "deprecated": True, "x-sunset": "2999-12-31"}),
        _document({}),
        frozenset({("api-path-removed-before-sunset", B)}),
    ),
    Case(
        "api-operation-id-removed",
        _ops(get=_GET),
        _ops(get={**_GET, "operationId": "fetchThing"}),
        frozenset({("api-operation-id-removed", W)}),
    ),
    Case(
        "api-operation-id-added",
        _ops(get={"responses": {"200": _OK}}),
        _ops(get=_GET),
        frozenset({("api-operation-id-added", W)}),
    ),
    Case(
        "api-tag-added",
        _ops(get=_GET),
        _ops(get={**_GET, "tags": ["things"]}),
        frozenset({("api-tag-added", N)}),
    ),
    Case(
        "api-tag-removed",
        _ops(get={**_GET, "tags": ["things"]}),
        _ops(get=_GET),
        frozenset({("api-tag-removed", N)}),
    ),
]

_OAUTH = {
    "type": "oauth2",
    "flows": {
        "clientCredentials": {
            "tokenUrl": "https://auth.example/token",
            "scopes": {"read": "read things", "write": "write things"},
        }
    },
}


def _secured(
    op_security: Any = None, *, top: Any = None, schemes: dict[str, Any] | None = None
) -> Doc:
    get = dict(_GET)
    if op_security is not None:
        get["security"] = op_security
    extra: dict[str, Any] = {
        "components": {"securitySchemes": schemes if schemes is not None else {"oauth": _OAUTH}}
    }
    if top is not None:
        extra["security"] = top
    return _document({"/things": {"get": get}}, **extra)


def _flow(**changes: Any) -> dict[str, Any]:
    oauth = copy.deepcopy(_OAUTH)
    oauth["flows"]["clientCredentials"].update(changes)
    return {"oauth": oauth}


SECURITY = [
    Case(
        "api-security-added",
        _secured([]),
        _secured([{"oauth": ["read"]}]),
        frozenset({("api-security-added", N)}),
    ),
    Case(
        "api-security-removed",
        _secured([{"oauth": []}, {}]),
        _secured([{"oauth": []}]),
        frozenset({("api-security-removed", N)}),
    ),
    Case(
        "api-security-scope-added",
        _secured([{"oauth": ["read"]}]),
        _secured([{"oauth": ["read", "write"]}]),
        frozenset({("api-security-scope-added", N)}),
    ),
    Case(
        "api-security-scope-removed",
        _secured([{"oauth": ["read", "write"]}]),
        _secured([{"oauth": ["read"]}]),
        frozenset({("api-security-scope-removed", N)}),
    ),
    Case(
        "api-global-security-added",
        _secured(top=[]),
        _secured(top=[{"oauth": []}]),
        frozenset({("api-global-security-added", N)}),
    ),
    Case(
        "api-global-security-removed",
        _secured(top=[{"oauth": []}, {}]),
        _secured(top=[{"oauth": []}]),
        frozenset({("api-global-security-removed", N)}),
    ),
    Case(
        "api-global-security-scope-added",
        _secured(top=[{"oauth": []}]),
        _secured(top=[{"oauth": ["read"]}]),
        frozenset({("api-global-security-scope-added", N)}),
    ),
    Case(
        "api-global-security-scope-removed",
        _secured(top=[{"oauth": ["read"]}]),
        _secured(top=[{"oauth": []}]),
        frozenset({("api-global-security-scope-removed", N)}),
    ),
    Case(
        "api-security-component-added",
        _secured(schemes={}),
        _secured(),
        frozenset({("api-security-component-added", N)}),
    ),
    Case(
        "api-security-component-removed",
        _secured(),
        _secured(schemes={}),
        frozenset({("api-security-component-removed", N)}),
    ),
    Case(
        "api-security-component-type-changed",
        _secured(),
        _secured(schemes={"oauth": {"type": "http", "scheme": "bearer"}}),
        frozenset({("api-security-component-type-changed", N)}),
    ),
    Case(
        "api-security-component-oauth-token-url-changed",
        _secured(),
        _secured(schemes=_flow(tokenUrl="https://auth.example/v2/token")),
        frozenset({("api-security-component-oauth-token-url-changed", N)}),
    ),
    Case(
        "api-security-component-oauth-url-changed",
        _secured(),
        _secured(schemes=_flow(authorizationUrl="https://auth.example/authorize")),
        frozenset({("api-security-component-oauth-url-changed", N)}),
    ),
    Case(
        "api-security-component-oauth-scope-added",
        _secured(),
        _secured(
            schemes=_flow(scopes={"read": "read things", "write": "write things", "admin": "all"})
        ),
        frozenset({("api-security-component-oauth-scope-added", N)}),
    ),
    Case(
        "api-security-component-oauth-scope-removed",
        _secured(),
        _secured(schemes=_flow(scopes={"read": "read things"})),
        frozenset({("api-security-component-oauth-scope-removed", N)}),
    ),
    Case(
        "api-security-component-oauth-scope-changed",
        _secured(),
        _secured(schemes=_flow(scopes={"read": "read all things", "write": "write things"})),
        frozenset({("api-security-component-oauth-scope-changed", N)}),
    ),
    Case(
        "api-server-added",
        _document({}, servers=[{"url": "https://a.example"}]),
        _document({}, servers=[{"url": "https://a.example"}, {"url": "https://b.example"}]),
        frozenset({("api-server-added", N)}),
    ),
    Case(
        "api-server-removed",
        _document({}, servers=[{"url": "https://a.example"}, {"url": "https://b.example"}]),
        _document({}, servers=[{"url": "https://a.example"}]),
        frozenset({("api-server-removed", N)}),
    ),
    Case(
        "api-schema-removed",
        _document({}, components={"schemas": {"A": STR}}),
        _document({}, components={"schemas": {}}),
        frozenset({("api-schema-removed", N)}),
    ),
]

#: Misgrades the earlier checker made, pinned to oasdiff's answer.
MISGRADES = [
    S(
        "req-body",
        _obj(P),
        _obj({**P, "b": _with(STR, readOnly=True)}, ["b"]),
        "request-required-property-became-read-only",
        N,
    ),
    Case(
        "readOnly property added to required in a request",
        _at("req-body", _obj({"a": STR, "b": _with(STR, readOnly=True)})),
        _at("req-body", _obj({"a": STR, "b": _with(STR, readOnly=True)}, ["b"])),
        frozenset(),
    ),
    Case(
        "new required readOnly request property",
        _at("req-body", _obj({"a": STR})),
        _at("req-body", _obj({"a": STR, "b": _with(STR, readOnly=True)}, ["b"])),
        frozenset(),
    ),
    S(
        "resp-prop",
        {"type": "string", "nullable": True},
        {"type": ["string", "null"]},
        "response-property-became-nullable",
        B,
        media=JSON,
    )._replace(name="3.1 null member equals nullable", expected=frozenset()),
]

CASES = [
    *BOUNDS,
    *TYPES,
    *NULLABILITY,
    *ENUMS,
    *DEFAULTS,
    *PROPERTIES,
    *COMPOSITION,
    *BODIES,
    *PARAMETERS,
    *OPERATIONS,
    *SECURITY,
    *MISGRADES,
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_change_gets_its_oasdiff_id_and_level(case: Case) -> None:
    """The pair reports exactly the expected (id, level) findings: a miss, a misgrade or an extra
    finding fails it."""
    found = {(change.id, change.level) for change in diff_specs(case.old, case.new)}
    assert found == set(case.expected)


def test_the_graded_set_covers_at_least_120_rule_ids() -> None:
    """At least 120 distinct rule ids have a pair of their own, across every area the issue names,
    and every expected id is in the rule table with the level the case expects."""
    expected = {finding for case in CASES for finding in case.expected}
    assert all(RULES[rule_id].level is level for rule_id, level in expected)
    ids = {rule_id for rule_id, _ in expected}
    assert len(ids) >= 120, len(ids)
    for area in (
        "-max-",
        "-pattern-",
        "one-of",
        "all-of",
        "any-of",
        "header",
        "enum",
        "nullable",
        "security",
        "parameter",
        "request-body",
        "response-body",
        "endpoint",
    ):
        assert any(area in rule_id for rule_id in ids), area


def test_most_covered_ids_are_oasdiff_ids() -> None:
    """The graded ids are mostly oasdiff's own (origin ``oasdiff``), so agreement is measured on
    its taxonomy rather than ours."""
    ids = {rule_id for case in CASES for rule_id, _ in case.expected}
    ours = [rule_id for rule_id in ids if RULES[rule_id].origin is Origin.OWN]
    assert len(ours) <= len(ids) // 5, ours


_COSMETIC_BASE = _composed(
    "resp-body",
    {
        "type": "object",
        "description": "A thing.",
        "required": ["id", "status"],
        "properties": {
            "id": {"type": "string", "format": "uuid", "example": "1"},
            "status": {"type": "string", "enum": ["a", "b"]},
            "size": {"type": "integer", "nullable": False, "maximum": 10},
        },
    },
)


def _cosmetic(edit: Callable[[dict[str, Any]], None]) -> Doc:
    revised = copy.deepcopy(_COSMETIC_BASE)
    edit(revised["paths"]["/things"]["post"]["responses"]["200"]["content"][JSON]["schema"])
    return revised


def _inline_to_ref(schema: dict[str, Any]) -> None:
    schema["properties"]["status"] = _ref("Status")


NO_CHANGE = [
    (
        "descriptions and examples",
        _cosmetic(lambda s: s.update(description="Another text.", example={})),
    ),
    ("required order", _cosmetic(lambda s: s.update(required=["status", "id"]))),
    ("enum order", _cosmetic(lambda s: s["properties"]["status"].update(enum=["b", "a"]))),
    (
        "nullable false spelled out or not",
        _cosmetic(lambda s: s["properties"]["size"].pop("nullable")),
    ),
    (
        "type as a one-member list",
        _cosmetic(lambda s: s["properties"]["size"].update(type=["integer"])),
    ),
    ("maximum as a float", _cosmetic(lambda s: s["properties"]["size"].update(maximum=10.0))),
    ("inline schema moved to a component", _cosmetic(_inline_to_ref)),
    (
        "allOf of one inline part",
        _cosmetic(lambda s: s.update(allOf=[{"properties": s.pop("properties")}])),
    ),
]


def _status_component(document: Doc) -> Doc:
    document["components"]["schemas"]["Status"] = {"type": "string", "enum": ["a", "b"]}
    return document


@pytest.mark.parametrize(("name", "revised"), NO_CHANGE, ids=[name for name, _ in NO_CHANGE])
def test_cosmetic_differences_report_nothing(name: str, revised: Doc) -> None:
    """Prose, ordering, spelling of defaults and moving a schema into a component are not
    contract changes: any finding here is a false alarm."""
    assert (
        diff_specs(_status_component(copy.deepcopy(_COSMETIC_BASE)), _status_component(revised))
        == []
    )
