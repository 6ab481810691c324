"""The diff never crashes on a malformed spec: odd values where schemas, lists or maps belong are
read as saying nothing there."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pleo_export.spec import Change, diff_specs

_KEYWORDS = [
    "type",
    "properties",
    "required",
    "items",
    "enum",
    "allOf",
    "oneOf",
    "anyOf",
    "$ref",
    "nullable",
    "maximum",
    "minimum",
    "exclusiveMaximum",
    "maxLength",
    "pattern",
    "multipleOf",
    "format",
    "default",
    "discriminator",
    "mapping",
    "propertyName",
    "readOnly",
    "writeOnly",
    "additionalProperties",
    "uniqueItems",
    "deprecated",
    "title",
    # OpenAPI 3.1 / JSON Schema 2020-12
    "const",
    "examples",
    "prefixItems",
    "contains",
    "minContains",
    "maxContains",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedProperties",
    "unevaluatedItems",
    "exclusiveMinimum",
    "not",
]
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False, width=16)
    | st.sampled_from(["string", "integer", "object", "array", "null", "#/components/schemas/A"])
)
_JUNK = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_KEYWORDS), inner, max_size=4)
    ),
    max_leaves=16,
)


def _document(schema: Any, parameters: Any, headers: Any, version: str = "3.0.1") -> dict[str, Any]:
    operation = {
        "parameters": parameters,
        "requestBody": {"content": {"application/json": {"schema": schema}}},
        "responses": {
            "200": {"headers": headers, "content": {"text/plain": {"schema": schema}}},
            "default": schema,
        },
    }
    return {
        "openapi": version,
        "paths": {"/a/{id}": {"post": operation, "parameters": parameters}},
        "components": {"schemas": {"A": schema}},
    }


@settings(max_examples=200, deadline=None, derandomize=True)
@given(old=_JUNK, new=_JUNK, parameters=_JUNK, headers=_JUNK)
@example(
    old={"allOf": [{"required": [["a"], "b"]}]},
    new={"allOf": [{"required": [{}]}, {"required": ["b"]}]},
    parameters=None,
    headers=None,
)
def test_malformed_schemas_never_crash(old: Any, new: Any, parameters: Any, headers: Any) -> None:
    """Random values in schema, parameter and header positions give a list of changes, not an
    exception; it fails on any crash of the walker."""
    changes = diff_specs(_document(old, parameters, headers), _document(new, headers, parameters))
    assert all(isinstance(change, Change) for change in changes)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    old=_JUNK,
    new=_JUNK,
    parameters=_JUNK,
    headers=_JUNK,
    ref_siblings=st.dictionaries(st.sampled_from(_KEYWORDS), _JUNK, max_size=3),
)
@example(
    old={"type": ["string", "null"], "prefixItems": [{"const": 1}], "contains": {}},
    new={
        "type": ["integer"],
        "prefixItems": "x",
        "contains": {"type": "string"},
        "maxContains": -1,
    },
    parameters=None,
    headers=None,
    ref_siblings={"dependentRequired": {"a": "b"}, "not": True},
)
def test_malformed_31_documents_never_crash(
    old: Any, new: Any, parameters: Any, headers: Any, ref_siblings: dict[str, Any]
) -> None:
    """The same for OpenAPI 3.1 documents, where the 2020-12 keywords are read and the keywords
    beside a ``$ref`` apply: random values there give changes, never an exception (fails on
    any crash, e.g. a non-list ``prefixItems`` or a non-number ``maxContains``)."""
    wrapped = {"$ref": "#/components/schemas/A", **ref_siblings}
    before = _document(old, parameters, headers, "3.1.0")
    after = _document(new, headers, parameters, "3.1.0")
    after["paths"]["/a/{id}"]["post"]["responses"]["201"] = {
        "content": {"application/json": {"schema": wrapped}}
    }
    before["paths"]["/a/{id}"]["post"]["responses"]["201"] = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}
    }
    changes = diff_specs(before, after)
    assert all(isinstance(change, Change) for change in changes)
