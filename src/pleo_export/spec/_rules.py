"""The rule table: every change id the spec diff can emit, its one level and a one-line meaning.

Ids and default levels follow oasdiff (the levels of ``OASDIFF_VERSION``, v1.28.0, which
``shared/reference/oasdiff-taxonomy.md`` records; ids that release lacks come from oasdiff's later
rule registry, else they are our own, named in its style). Schema ids are built from a location
prefix (``request-property``, ``response-body``, …) and a change; the level of each pair is decided
by direction here, once, so the walker never grades anything itself.
"""

from __future__ import annotations

from collections.abc import Iterator

from ._levels import Level, Origin, Rule
from ._schema_rules import schema_rules

__all__ = ["OASDIFF_VERSION", "RULES", "Level", "Origin", "Rule", "iter_rules"]

#: The oasdiff release whose rule registry the ids and levels follow.
OASDIFF_VERSION = "v1.28.0"


_B, _W, _I = Level.BREAKING, Level.WARNING, Level.INFO
_O, _R, _N = Origin.OASDIFF, Origin.RAISED, Origin.OWN

#: Rules that are not a location prefix plus a schema change: (id, level, origin, meaning).
_OTHER_RULES: tuple[tuple[str, Level, Origin, str], ...] = (
    ("endpoint-added", _I, _O, "an operation was added"),
    ("endpoint-deprecated", _I, _O, "an operation was marked deprecated"),
    ("endpoint-deprecated-with-sunset", _I, _O, "an operation was deprecated with an x-sunset"),
    ("endpoint-reactivated", _I, _O, "an operation is no longer deprecated"),
    ("api-path-removed-without-deprecation", _B, _O, "a path was removed without deprecation"),
    ("api-path-removed-with-deprecation", _I, _O, "a deprecated path was removed"),
    ("api-path-removed-before-sunset", _B, _O, "a path was removed before its x-sunset date"),
    ("api-removed-without-deprecation", _B, _O, "an operation was removed without deprecation"),
    ("api-removed-with-deprecation", _I, _O, "a deprecated operation was removed"),
    ("api-removed-before-sunset", _B, _O, "an operation was removed before its x-sunset date"),
    # Kept above oasdiff's info: openapi-python-client names each generated function and module
    # after the operationId, so a rename breaks every caller of the generated client.
    (
        "api-operation-id-removed",
        _W,
        _R,
        "the operationId changed; raised from oasdiff's info, as it renames the generated call",
    ),
    (
        "api-operation-id-added",
        _W,
        _R,
        "an operationId was set; raised from oasdiff's info, as it renames the generated call",
    ),
    ("api-tag-added", _I, _O, "a tag was added to an operation"),
    ("api-tag-removed", _I, _O, "a tag was removed from an operation"),
    ("new-required-request-parameter", _B, _O, "a required parameter was added"),
    ("new-optional-request-parameter", _I, _O, "an optional parameter was added"),
    ("new-request-path-parameter", _B, _O, "a path parameter was added"),
    (
        "new-required-request-default-parameter-to-existing-path",
        _B,
        _O,
        "a required path-level parameter was added to an existing path",
    ),
    (
        "new-optional-request-default-parameter-to-existing-path",
        _I,
        _O,
        "an optional path-level parameter was added to an existing path",
    ),
    ("request-parameter-removed", _W, _O, "a parameter was removed"),
    ("request-parameter-removed-with-deprecation", _I, _O, "a deprecated parameter was removed"),
    (
        "request-parameter-removed-before-sunset",
        _B,
        _O,
        "a parameter was removed before its sunset",
    ),
    # Same position in the path template, new name: the generated call's argument is renamed.
    ("request-path-parameter-renamed", _W, _N, "a path parameter was renamed"),
    ("request-parameter-became-required", _B, _O, "a parameter became required"),
    ("request-parameter-became-optional", _I, _O, "a parameter became optional"),
    ("request-parameter-deprecated", _I, _O, "a parameter was marked deprecated"),
    ("request-parameter-reactivated", _I, _O, "a parameter is no longer deprecated"),
    # The wire form of the value changes; for a scalar the two forms are often identical.
    ("request-parameter-style-changed", _W, _N, "a parameter's style changed"),
    ("request-parameter-explode-changed", _W, _N, "a parameter's explode flag changed"),
    ("new-required-request-header-property", _B, _O, "a required property in a header object"),
    ("request-header-property-became-required", _B, _O, "a header object property is required"),
    ("request-header-property-became-enum", _B, _O, "a header object property became an enum"),
    ("new-required-request-parameter-property", _B, _N, "a required property in a parameter"),
    ("new-optional-request-parameter-property", _I, _N, "an optional property in a parameter"),
    ("request-parameter-property-removed", _W, _N, "a property of an object parameter removed"),
    ("request-parameter-property-became-required", _B, _N, "a parameter property is required"),
    ("request-parameter-property-became-optional", _I, _N, "a parameter property is optional"),
    ("request-body-added-required", _B, _O, "a required request body was added"),
    ("request-body-added-optional", _I, _O, "an optional request body was added"),
    ("request-body-removed", _B, _O, "the request body was removed"),
    ("request-body-became-required", _B, _O, "the request body became required"),
    ("request-body-became-optional", _I, _O, "the request body became optional"),
    ("request-body-media-type-added", _I, _O, "the request body accepts a new media type"),
    ("request-body-media-type-removed", _B, _O, "the request body no longer accepts a media type"),
    ("request-body-media-type-schema-added", _B, _O, "a request media type gained a schema"),
    ("request-body-media-type-schema-removed", _I, _O, "a request media type lost its schema"),
    ("request-body-wrapped-in-one-of", _B, _O, "the request body was restructured into a oneOf"),
    ("new-required-request-property", _B, _O, "a required request property was added"),
    (
        "new-required-request-property-with-default",
        _B,
        _O,
        "a required request property with a default was added",
    ),
    ("new-optional-request-property", _I, _O, "an optional request property was added"),
    ("request-property-removed", _W, _O, "a request property was removed"),
    ("request-property-became-required", _B, _O, "a request property became required"),
    (
        "request-property-became-required-with-default",
        _B,
        _O,
        "a request property with a default became required",
    ),
    ("request-property-became-optional", _I, _O, "a request property became optional"),
    (
        "request-read-only-property-enum-value-removed",
        _I,
        _O,
        "an enum value removed from a readOnly request property (never sent)",
    ),
    ("response-success-status-added", _I, _O, "a 2xx status was added"),
    ("response-success-status-removed", _B, _O, "a 2xx status was removed"),
    ("response-non-success-status-added", _I, _O, "a non-2xx status was added"),
    ("response-non-success-status-removed", _I, _O, "a non-2xx status was removed"),
    # oasdiff ignores `default`; Pleo's v0 operations declare nothing else, so the generated
    # client parses every reply with the default response's schema.
    ("response-default-status-added", _I, _N, "a default response was added"),
    ("response-default-status-removed", _W, _N, "the default response was removed"),
    ("response-media-type-added", _I, _O, "a response media type was added"),
    ("response-media-type-removed", _B, _O, "a response media type was removed"),
    ("response-media-type-name-changed", _I, _O, "a response media type's parameters changed"),
    (
        "response-media-type-name-generalized",
        _B,
        _O,
        "a response media type lost its structured suffix (problem+json → json)",
    ),
    (
        "response-media-type-name-specialized",
        _I,
        _O,
        "a response media type gained a structured suffix (json → problem+json)",
    ),
    ("response-body-media-type-schema-added", _I, _O, "a response media type gained a schema"),
    ("response-body-media-type-schema-removed", _W, _O, "a response media type lost its schema"),
    ("response-body-wrapped-in-one-of", _B, _O, "the response body was restructured into a oneOf"),
    # oasdiff reports nothing for a value added to a root enum; a closed generated enum breaks on
    # it just as it does for a property.
    ("response-mediatype-enum-value-added", _W, _N, "an enum value added to a root response enum"),
    ("response-mediatype-enum-value-removed", _I, _O, "a value removed from a root response enum"),
    ("response-required-property-removed", _B, _O, "a required response property was removed"),
    ("response-optional-property-removed", _W, _O, "an optional response property was removed"),
    ("response-required-property-added", _I, _O, "a required response property was added"),
    ("response-optional-property-added", _I, _O, "an optional response property was added"),
    ("response-required-write-only-property-removed", _I, _O, "a writeOnly property removed"),
    ("response-optional-write-only-property-removed", _I, _O, "a writeOnly property removed"),
    ("response-required-write-only-property-added", _I, _O, "a writeOnly property added"),
    ("response-optional-write-only-property-added", _I, _O, "a writeOnly property added"),
    ("response-property-became-optional", _B, _O, "a response property is no longer required"),
    ("response-property-became-required", _I, _O, "a response property became required"),
    (
        "response-write-only-property-became-optional",
        _I,
        _O,
        "a writeOnly response property is no longer required (never returned)",
    ),
    (
        "response-write-only-property-enum-value-added",
        _I,
        _O,
        "an enum value added to a writeOnly response property (never returned)",
    ),
    ("request-optional-property-became-read-only", _I, _O, "an optional request property readOnly"),
    ("request-optional-property-became-non-read-only", _I, _O, "readOnly dropped from a property"),
    ("request-required-property-became-read-only", _I, _O, "a required request property readOnly"),
    ("request-required-property-became-non-read-only", _I, _O, "readOnly dropped from a property"),
    (
        "request-optional-property-became-write-only",
        _I,
        _O,
        "an optional property became writeOnly",
    ),
    (
        "request-optional-property-became-non-write-only",
        _I,
        _O,
        "writeOnly dropped from a property",
    ),
    ("request-required-property-became-write-only", _I, _O, "a required property became writeOnly"),
    (
        "request-required-property-became-non-write-only",
        _I,
        _O,
        "writeOnly dropped from a property",
    ),
    ("response-optional-property-became-read-only", _I, _O, "an optional property became readOnly"),
    ("response-optional-property-became-non-read-only", _I, _O, "readOnly dropped from a property"),
    ("response-required-property-became-read-only", _I, _O, "a required property became readOnly"),
    ("response-required-property-became-non-read-only", _I, _O, "readOnly dropped from a property"),
    (
        "response-optional-property-became-write-only",
        _I,
        _O,
        "an optional property became writeOnly",
    ),
    (
        "response-optional-property-became-non-write-only",
        _I,
        _O,
        "writeOnly dropped from a property",
    ),
    (
        "response-required-property-became-write-only",
        _I,
        _O,
        "a required property became writeOnly",
    ),
    (
        "response-required-property-became-non-write-only",
        _W,
        _O,
        "a required response property is no longer writeOnly, so it may now be returned",
    ),
    ("required-response-header-removed", _B, _O, "a required response header was removed"),
    ("optional-response-header-removed", _W, _O, "an optional response header was removed"),
    ("response-header-added", _I, _O, "a response header was added"),
    ("response-header-became-optional", _B, _O, "a response header is no longer required"),
    ("response-header-became-required", _I, _N, "a response header became required"),
    ("api-global-security-added", _I, _O, "a document-level security requirement was added"),
    ("api-global-security-removed", _I, _O, "a document-level security requirement was removed"),
    ("api-global-security-scope-added", _I, _O, "a scope was added to a global requirement"),
    ("api-global-security-scope-removed", _I, _O, "a scope was removed from a global requirement"),
    ("api-security-added", _I, _O, "an operation security requirement was added"),
    ("api-security-removed", _I, _O, "an operation security requirement was removed"),
    ("api-security-scope-added", _I, _O, "a scope was added to an operation requirement"),
    ("api-security-scope-removed", _I, _O, "a scope was removed from an operation requirement"),
    ("api-security-component-added", _I, _O, "a security scheme was added"),
    ("api-security-component-removed", _I, _O, "a security scheme was removed"),
    ("api-security-component-type-changed", _I, _O, "a security scheme changed its type"),
    ("api-security-component-oauth-url-changed", _I, _O, "an OAuth authorization URL changed"),
    ("api-security-component-oauth-token-url-changed", _I, _O, "an OAuth token URL changed"),
    ("api-security-component-oauth-scope-added", _I, _O, "an OAuth scope was added to a scheme"),
    ("api-security-component-oauth-scope-removed", _I, _O, "an OAuth scope was removed"),
    ("api-security-component-oauth-scope-changed", _I, _O, "an OAuth scope's text changed"),
    ("api-server-added", _I, _N, "a server URL was added"),
    ("api-server-removed", _I, _N, "a server URL was removed"),
    ("api-schema-removed", _I, _O, "a component schema was removed (its model class goes too)"),
)


def _build() -> dict[str, Rule]:
    table = dict(schema_rules())
    for rule_id, level, origin, meaning in _OTHER_RULES:
        table[rule_id] = Rule(level, origin, meaning)
    return table


#: Every id the diff emits. One id has one level, whatever the context: direction and location
#: are part of the id, as in oasdiff.
RULES: dict[str, Rule] = _build()


def iter_rules() -> Iterator[tuple[str, Rule]]:
    """Yield the rule table sorted by id, for documentation and ``--list-rules``."""
    yield from sorted(RULES.items())
