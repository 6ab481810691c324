"""The OpenAPI contract the fake is checked against, with the published spec's known gaps filled.

The vendored ``openapi/pleo-export.yaml`` is used when present, else the copy of the reference
spec under ``tests/data/spec`` (never ``../shared``), so these tests never skip. The
patches below only add what the fake must legitimately do but Pleo's spec leaves out; each is
listed with its reason so the vendoring overlay can adopt it, after which it becomes a no-op.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENDORED = ROOT / "openapi" / "pleo-export.yaml"
REFERENCE = ROOT / "tests" / "data" / "spec" / "pleo-export-openapi-32.1.0.yml"
JSON = "application/json;charset=UTF-8"

#: Display formats written where a regex belongs; no real timestamp matches them.
_BOGUS_PATTERNS = frozenset({"YYYY-MM-DDTHH:mi:ssZ", "YYYY-MM-DD", "yyyy-MM-dd'T'HH:mm:ss'Z'"})
#: Fields Pleo sends as null (its own examples show it) but v3 declares non-nullable.
NULLABLE_GAPS = (
    ("ExportJobV3", "failureReasonType"),
    ("ExportJobItemV3", "failureReasonType"),
    ("ExportItemV3", "subType"),
)
_V2_AND_V3 = (
    "getExportJobsList",
    "createExportJob",
    "getExportJobById",
    "createExportJobEvent",
    "getExportJobItems",
    "updateExportJobItems",
    "getExportItems",
)
#: Every v2 and v3 operation the fake serves, by operationId.
OPERATIONS = (
    *(f"{op}V{version}" for op in _V2_AND_V3 for version in (2, 3)),
    "getExportJobItemByAccountingEntryIdV3",
    "searchExportJobItemsV3",
)
_UNKNOWN_JOB = "the request names an unknown job (EXPORT_NOT_FOUND)"
#: Statuses the fake returns that the spec does not list: (operationId, status, reason).
STATUS_GAPS: tuple[tuple[str, str, str], ...] = (
    *((op, "401", "missing or wrong credentials") for op in OPERATIONS),
    *(
        (op, "400", "malformed input: UUID, enum, JSON body, cursor or paging mix")
        for op in OPERATIONS
    ),
    ("createExportJobEventV2", "404", _UNKNOWN_JOB),
    ("createExportJobEventV3", "404", _UNKNOWN_JOB),
    ("getExportItemsV2", "404", _UNKNOWN_JOB),
    ("getExportItemsV3", "404", _UNKNOWN_JOB),
)


def spec_path() -> Path:
    """Return the spec to check against: the vendored one if present, else the reference copy."""
    return VENDORED if VENDORED.exists() else REFERENCE


def _walk(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("pattern") in _BOGUS_PATTERNS:
            del node["pattern"]
        if (
            node.get("nullable") is True
            and isinstance(node.get("enum"), list)
            and None not in node["enum"]
        ):
            node["enum"].append(None)
        for value in node.values():
            _walk(value)
    elif isinstance(node, list):
        for value in node:
            _walk(value)


@functools.cache
def _patched(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec: dict[str, Any] = yaml.load(path.read_text(), Loader=loader)
    schemas = spec["components"]["schemas"]
    for schema, field in NULLABLE_GAPS:
        schemas[schema]["properties"][field]["nullable"] = True
    _walk(spec)
    operations = {
        op["operationId"]: op
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    error = {JSON: {"schema": {"$ref": "#/components/schemas/ExceptionInfo"}}}
    for operation, status, reason in STATUS_GAPS:
        responses = operations[operation]["responses"]
        responses.setdefault(status, {"description": reason, "content": error})
    return spec


def patched_spec() -> dict[str, Any]:
    """Return a fresh copy of the contract, gaps filled."""
    return copy.deepcopy(_patched(spec_path()))


def _to_json_schema(node: Any) -> Any:
    """Turn OpenAPI 3.0 ``nullable`` into JSON Schema, leaving everything else alone."""
    if isinstance(node, list):
        return [_to_json_schema(value) for value in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _to_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@functools.cache
def _root() -> dict[str, Any]:
    spec = patched_spec()
    return {"components": {"schemas": _to_json_schema(spec["components"]["schemas"])}}


def validator(component: str) -> jsonschema.protocols.Validator:
    """Return a JSON Schema validator for ``#/components/schemas/<component>`` of the contract."""
    root = _root()
    schema = {**root, "$ref": f"#/components/schemas/{component}"}
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
