"""The schema rules: every location prefix (``request-property``, ``response-header``, …)
combined with every schema change (types, nullability, enums, defaults, composition, bounds,
``multipleOf``, ``uniqueItems``, ``pattern``), each graded by the direction of its location.

Requests are contravariant (accepting less breaks), responses covariant (returning more breaks).
The origin is ``oasdiff`` for the families oasdiff's registry has for that prefix (some bound
``-set``/``-unset`` variants only in releases after v1.28); ``own`` for the rest, such as bounds
inside an object parameter or on a response header.
"""

from __future__ import annotations

from collections.abc import Iterator

from ._levels import Level, Origin, Rule

__all__ = ["schema_rules"]

_B, _W, _I = Level.BREAKING, Level.WARNING, Level.INFO

#: Location prefixes of schema changes: (prefix, direction, oasdiff has all of its families).
_SCHEMA_PREFIXES = (
    ("request-body", "request", True),
    ("request-property", "request", True),
    ("request-parameter", "request", True),
    ("request-parameter-property", "request", False),
    ("response-body", "response", True),
    ("response-property", "response", True),
    ("response-header", "response", False),
    ("response-header-property", "response", False),
)
#: The families oasdiff does have for the prefixes above marked False.
_OASDIFF_PARTIAL = frozenset(
    {
        *(
            f"request-parameter-property-{kind}"
            for kind in (
                "type-changed",
                "type-generalized",
                "type-specialized",
                "became-nullable",
                "became-not-nullable",
                "enum-value-added",
                "enum-value-removed",
            )
        ),
        *(
            f"response-header-{kind}"
            for kind in (
                "type-changed",
                "type-generalized",
                "type-specialized",
                "type-compatible",
                "became-nullable",
                "became-not-nullable",
            )
        ),
    }
)
#: Bounds: (id part, what it limits, True when a larger value is the looser one).
_BOUNDS = (
    ("max", "maximum", True),
    ("min", "minimum", False),
    ("max-length", "maxLength", True),
    ("min-length", "minLength", False),
    ("max-items", "maxItems", True),
    ("min-items", "minItems", False),
    # OpenAPI 3.1: the exclusive bounds are numbers of their own.
    ("exclusive-max", "exclusiveMaximum", True),
    ("exclusive-min", "exclusiveMinimum", False),
)
#: Id tails oasdiff has no counterpart for, even under a prefix it otherwise covers.
_OWN_KINDS = ("-not-added", "-not-removed", "-not-changed")


def _bound_rules(prefix: str, direction: str) -> Iterator[tuple[str, Level, str]]:
    """Bounds, multipleOf, uniqueItems and pattern: tighter breaks requests, looser responses."""
    request = direction == "request"
    tighter, looser = (_B, _I) if request else (_I, _B)
    where = prefix.replace("-", " ")
    for part, keyword, larger_is_looser in _BOUNDS:
        up, down = (looser, tighter) if larger_is_looser else (tighter, looser)
        yield f"{prefix}-{part}-increased", up, f"{keyword} of a {where} raised"
        yield f"{prefix}-{part}-decreased", down, f"{keyword} of a {where} lowered"
        # A bound introduced where there was none: "sometimes legitimately required", so WARN.
        yield f"{prefix}-{part}-set", _W if request else _I, f"{keyword} set on a {where}"
        yield f"{prefix}-{part}-unset", looser, f"{keyword} removed from a {where}"
    yield f"{prefix}-multiple-of-set", _W if request else _I, f"multipleOf set on a {where}"
    yield f"{prefix}-multiple-of-unset", looser, f"multipleOf removed from a {where}"
    yield f"{prefix}-multiple-of-changed", _B, f"multipleOf of a {where} changed incompatibly"
    if request:
        yield f"{prefix}-multiple-of-generalized", _I, f"multipleOf of a {where} now a divisor"
    else:
        yield f"{prefix}-multiple-of-specialized", _I, f"multipleOf of a {where} now a multiple"
    yield f"{prefix}-unique-items-set", _W if request else _I, f"uniqueItems set on a {where}"
    yield f"{prefix}-unique-items-unset", looser, f"uniqueItems removed from a {where}"
    # oasdiff cannot tell whether a new regex accepts a superset, so a change only warns; and it
    # does not treat response patterns as breaking at all.
    yield f"{prefix}-pattern-added", tighter if request else _I, f"pattern added to a {where}"
    yield f"{prefix}-pattern-changed", _W if request else _I, f"pattern of a {where} changed"
    if prefix in ("request-property", "request-parameter"):
        yield (
            f"{prefix}-pattern-generalized",
            _I,
            f"pattern of a {where} now accepts any string",
        )
    yield f"{prefix}-pattern-removed", _I, f"pattern removed from a {where}"


def _value_rules(prefix: str, direction: str) -> Iterator[tuple[str, Level, str]]:
    """Types, nullability, enums, defaults and composition of one location."""
    request = direction == "request"
    where = prefix.replace("-", " ")
    parameter = prefix.startswith("request-parameter")
    changed = _W if prefix == "request-parameter-property" else _B
    yield f"{prefix}-type-changed", changed, f"type or format of a {where} changed incompatibly"
    yield f"{prefix}-type-generalized", _I if request else _B, f"a {where} now has a wider type"
    yield f"{prefix}-type-specialized", _B if request else _I, f"a {where} now has a narrower type"
    if not parameter:
        yield f"{prefix}-type-compatible", _I, f"a {where} type swap a text media type allows"
    if prefix != "response-header-property":
        yield (
            f"{prefix}-list-of-types-widened",
            _I if request else _B,
            f"a type added to the type list of a {where} (OpenAPI 3.1)",
        )
        yield (
            f"{prefix}-list-of-types-narrowed",
            _B if request else _I,
            f"a type removed from the type list of a {where} (OpenAPI 3.1)",
        )
    yield f"{prefix}-became-nullable", _I if request else _B, f"a {where} became nullable"
    yield f"{prefix}-became-not-nullable", _B if request else _I, f"a {where} is no longer nullable"
    yield f"{prefix}-enum-value-added", _I if request else _W, f"an enum value added to a {where}"
    yield (
        f"{prefix}-enum-value-removed",
        _B if request else _I,
        f"an enum value removed from a {where}",
    )
    yield f"{prefix}-became-enum", _B if request else _I, f"a {where} is now restricted to an enum"
    # A closed enum opened to any string (Pleo's v2 → v3): as bad as an added value.
    yield f"{prefix}-became-not-enum", _I if request else _W, f"a {where} is no longer an enum"
    default = _B if prefix == "request-parameter" else _I  # omitted parameters take the default
    yield f"{prefix}-default-value-added", default, f"a default set on a {where}"
    yield f"{prefix}-default-value-changed", default, f"the default of a {where} changed"
    yield f"{prefix}-default-value-removed", default, f"the default of a {where} removed"
    yield (
        f"{prefix}-schema-ref-changed",
        _W,
        f"a {where} refers to another component (renames a model)",
    )
    if prefix in ("request-body", "request-property", "response-body", "response-property"):
        yield f"{prefix}-one-of-added", _I if request else _B, f"a oneOf branch added to a {where}"
        yield (
            f"{prefix}-one-of-removed",
            _B if request else _I,
            f"a oneOf branch removed from a {where}",
        )
        yield f"{prefix}-any-of-added", _I, f"an anyOf branch added to a {where}"
        yield (
            f"{prefix}-any-of-removed",
            _B if request else _I,
            f"an anyOf branch removed from a {where}",
        )
        yield (
            f"{prefix}-all-of-added",
            _B if request else _I,
            f"an allOf subschema added to a {where}",
        )
        # oasdiff v1.28's levels: whether dropping a conjunct loosens a request depends on what
        # it held (a required property, a bound), so it only warns; on a response the kept
        # properties and bounds are compared on the composed schema, so the removal is info.
        yield (
            f"{prefix}-all-of-removed",
            _W if request else _I,
            f"an allOf subschema removed from a {where}",
        )
        yield from _json_schema_rules(prefix, request, where)
        for part, what in (
            ("discriminator-added", "a discriminator added to"),
            ("discriminator-removed", "the discriminator removed from"),
            ("discriminator-property-name-changed", "the discriminator property renamed in"),
            ("discriminator-mapping-added", "a discriminator mapping added to"),
            ("discriminator-mapping-deleted", "a discriminator mapping removed from"),
            ("discriminator-mapping-changed", "a discriminator mapping changed in"),
        ):
            yield f"{prefix}-{part}", _I, f"{what} a {where}"
    if prefix in ("request-property", "request-parameter"):
        yield (
            f"{prefix}-x-extensible-enum-value-removed",
            _B,
            f"a value listed in the x-extensible-enum of a {where} was removed",
        )
    if prefix.endswith("property"):
        yield f"{prefix}-deprecated", _I, f"a {where} marked deprecated"
        yield f"{prefix}-deprecated-with-sunset", _I, f"a {where} deprecated with an x-sunset"
        yield f"{prefix}-reactivated", _I, f"a {where} no longer deprecated"


def _json_schema_rules(prefix: str, request: bool, where: str) -> Iterator[tuple[str, Level, str]]:
    """OpenAPI 3.1 (JSON Schema 2020-12) keywords of a body or body property.

    A constraint added narrows what a request may hold and is info on a response; removed, the
    reverse. ``not`` has no oasdiff id; its ids are ours, graded the same way.
    """
    narrows, widens = (_B, _I) if request else (_I, _B)
    for part, keyword in (
        ("const", "const"),
        ("contains", "contains"),
        ("if", "if"),
        ("then", "then"),
        ("else", "else"),
        ("dependent-required", "a dependentRequired entry"),
        ("dependent-schema", "a dependentSchemas entry"),
        ("unevaluated-properties", "unevaluatedProperties"),
        ("unevaluated-items", "unevaluatedItems"),
        ("not", "not"),
    ):
        yield f"{prefix}-{part}-added", narrows, f"{keyword} set on a {where}"
        yield f"{prefix}-{part}-removed", widens, f"{keyword} removed from a {where}"
    yield f"{prefix}-const-changed", _B, f"the const value of a {where} changed"
    yield (
        f"{prefix}-dependent-required-changed",
        _B,
        f"a dependentRequired list of a {where} changed",
    )
    # Whether the new `not` excludes more or less than the old one, the document cannot tell.
    yield f"{prefix}-not-changed", _W, f"the not subschema of a {where} changed"
    yield f"{prefix}-prefix-items-added", widens, f"a prefixItems position added to a {where}"
    yield (
        f"{prefix}-prefix-items-removed",
        narrows,
        f"a prefixItems position removed from a {where}",
    )
    yield f"{prefix}-min-contains-increased", narrows, f"minContains of a {where} raised"
    yield f"{prefix}-min-contains-decreased", widens, f"minContains of a {where} lowered"
    yield f"{prefix}-max-contains-increased", widens, f"maxContains of a {where} raised"
    yield f"{prefix}-max-contains-decreased", narrows, f"maxContains of a {where} lowered"


def schema_rules() -> Iterator[tuple[str, Rule]]:
    """Yield (id, rule) for every location prefix and schema change."""
    for prefix, direction, oasdiff in _SCHEMA_PREFIXES:
        for rules in (_value_rules(prefix, direction), _bound_rules(prefix, direction)):
            for rule_id, level, meaning in rules:
                known = (oasdiff or rule_id in _OASDIFF_PARTIAL) and not rule_id.endswith(
                    _OWN_KINDS
                )
                yield rule_id, Rule(level, Origin.OASDIFF if known else Origin.OWN, meaning)
