"""Tests for pleo_export.spec: contract changes, their ids and levels, and the command line.

Small documents are built here or read from tests/data/drift/; the Pleo-specific cases mutate a
deep copy of the 32.1.0 reference spec copied to tests/data/spec/, so none of them needs shared/.
"""

from __future__ import annotations

import copy
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import pleo_export.spec as spec_diff
from pleo_export.spec import Change, Level, diff_specs

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "tests" / "data" / "spec" / "pleo-export-openapi-32.1.0.yml"
SEEDS = REPO / "tests" / "data" / "spec" / "seed-excerpts"  # the OpenAPI blocks of the seed pages
DATA = REPO / "tests" / "data" / "drift"


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# What v3's ExportJobItemFailureReasonType adds to v2's inline 14-value enum.
NEW_FAILURE_TYPES = ["vendor_unknown", "account_unknown", "tax_code_unknown", "tag_unknown"]


@pytest.fixture(scope="module")
def reference_spec() -> dict[str, Any]:
    """The 32.1.0 reference spec, parsed once per module."""
    return spec_diff.load_document(str(REFERENCE))


@pytest.fixture
def mutate(
    reference_spec: dict[str, Any],
) -> Callable[[Callable[[dict[str, Any]], None]], list[Change]]:
    """Return a helper that edits a deep copy of the reference and diffs it against the original."""

    def run(edit: Callable[[dict[str, Any]], None]) -> list[Change]:
        revised = copy.deepcopy(reference_spec)
        edit(revised)
        return diff_specs(reference_spec, revised)

    return run


def _schemas(spec: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = spec["components"]["schemas"]
    return schemas


def _found(changes: list[Change]) -> set[tuple[str, Level, str, str]]:
    """Changes reduced to (id, level, operation, JSON path) for comparison."""
    return {(c.id, c.level, str(c.operation), c.json_path) for c in changes}


def _tiny(where: str, schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    """A one-operation document holding ``schema`` in the place named by ``where``."""
    operation: dict[str, Any] = {
        "operationId": "touch",
        "responses": {"200": {"description": "ok"}},
    }
    wrapped = {"type": "object", "properties": {"value": schema}}
    if where == "response":
        operation["responses"]["200"]["content"] = {media: {"schema": wrapped}}
    elif where == "request":
        operation["requestBody"] = {"content": {media: {"schema": wrapped}}}
    else:
        operation["parameters"] = [{"name": "value", "in": "query", "schema": schema}]
    return {
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things": {"post": operation}},
    }


def _only(changes: list[Change]) -> tuple[str, Level]:
    assert len(changes) == 1, changes
    return changes[0].id, changes[0].level


# --- Pleo: the 14 → 18 job-item failure types ---------------------------------------------------


def test_reference_lists_fourteen_and_eighteen_failure_types(
    reference_spec: dict[str, Any],
) -> None:
    """v2's inline ExportJobItem.failureReasonType has 14 values and v3's component 4 more."""
    schemas = _schemas(reference_spec)
    inline = schemas["ExportJobItem"]["properties"]["failureReasonType"]["enum"]
    component = schemas["ExportJobItemFailureReasonType"]["enum"]
    assert (len(inline), len(component)) == (14, 18)
    assert [value for value in component if value not in inline] == NEW_FAILURE_TYPES


def test_failure_types_added_grade_by_direction(mutate: Callable[..., list[Change]]) -> None:
    """The 4 new failure types are a warning in a response enum and info in a request enum."""

    def add_values(spec: dict[str, Any]) -> None:
        schemas = _schemas(spec)
        schemas["ExportJobItem"]["properties"]["failureReasonType"]["enum"] += NEW_FAILURE_TYPES
        schemas["UpdateExportJobItem"]["properties"]["failureReasonType"]["enum"] += (
            NEW_FAILURE_TYPES
        )

    changes = mutate(add_values)
    response = [c for c in changes if c.id == "response-property-enum-value-added"]
    request = [c for c in changes if c.id == "request-property-enum-value-added"]
    assert len(response) + len(request) == len(changes)
    assert {c.level for c in response} == {Level.WARNING}
    assert {c.level for c in request} == {Level.INFO}
    # v0, v1 and v2 share ExportJobItem (returned by GET and PUT) and UpdateExportJobItem (sent).
    items = [f"/v{version}/export-jobs/{{jobId}}/items" for version in (0, 1, 2)]
    assert {(str(c.operation), c.json_path) for c in response} == {
        (f"{method} {path}", "data[].failureReasonType")
        for method in ("GET", "PUT")
        for path in items
    }
    assert {(str(c.operation), c.location, c.json_path) for c in request} == {
        (f"PUT {path}", "request body application/json", "[].failureReasonType") for path in items
    }
    assert len(response) == 6 * len(NEW_FAILURE_TYPES)
    assert len(request) == 3 * len(NEW_FAILURE_TYPES)


def test_inline_enum_replaced_by_the_v3_component(mutate: Callable[..., list[Change]]) -> None:
    """Swapping v2's inline enum for a $ref to the 18-value component follows the reference."""

    def use_component(spec: dict[str, Any]) -> None:
        ref = {"$ref": "#/components/schemas/ExportJobItemFailureReasonType"}
        _schemas(spec)["ExportJobItem"]["properties"]["failureReasonType"] = ref

    changes = [
        c for c in mutate(use_component) if str(c.operation) == "GET /v2/export-jobs/{jobId}/items"
    ]
    added = sorted(c.message for c in changes if c.id == "response-property-enum-value-added")
    assert len(added) == len(NEW_FAILURE_TYPES)
    assert all(any(value in m for m in added) for value in NEW_FAILURE_TYPES)
    # The inline enum was nullable and the component is not: a stronger guarantee for clients.
    assert {c.id for c in changes} == {
        "response-property-enum-value-added",
        "response-property-became-not-nullable",
    }


def test_failure_types_removed_from_a_request_enum_break(
    mutate: Callable[..., list[Change]],
) -> None:
    """Narrowing v3's request enum back to v2's 14 values removes 4 values a caller may send."""

    def narrow(spec: dict[str, Any]) -> None:
        schemas = _schemas(spec)
        inline = copy.deepcopy(schemas["ExportJobItem"]["properties"]["failureReasonType"])
        inline.pop("nullable")
        schemas["UpdateExportJobItemV3"]["properties"]["failureReasonType"] = inline

    changes = mutate(narrow)
    assert _found(changes) == {
        (
            "request-property-enum-value-removed",
            Level.BREAKING,
            "PUT /v3/export-jobs/{jobId}/items",
            "[].failureReasonType",
        )
    }
    assert len(changes) == len(NEW_FAILURE_TYPES)


# --- Pleo: closed enums becoming open strings ---------------------------------------------------


def test_v2_job_replaced_by_v3_job_opens_its_enums(mutate: Callable[..., list[Change]]) -> None:
    """Pointing the v2 job response at ExportJobV3 reports the $ref rename and the opened enums."""

    def to_v3(spec: dict[str, Any]) -> None:
        data = _schemas(spec)["DataResponseExportJob"]["properties"]["data"]
        data["$ref"] = "#/components/schemas/ExportJobV3"

    changes = [c for c in mutate(to_v3) if str(c.operation) == "GET /v2/export-jobs/{jobId}"]
    assert _found(changes) == {
        (
            "response-property-schema-ref-changed",
            Level.WARNING,
            "GET /v2/export-jobs/{jobId}",
            "data",
        ),
        (
            "response-property-became-not-enum",
            Level.WARNING,
            "GET /v2/export-jobs/{jobId}",
            "data.status",
        ),
        (
            "response-property-became-not-enum",
            Level.WARNING,
            "GET /v2/export-jobs/{jobId}",
            "data.failureReasonType",
        ),
        (
            "response-property-became-not-nullable",
            Level.INFO,
            "GET /v2/export-jobs/{jobId}",
            "data.failureReasonType",
        ),
    }


@pytest.mark.parametrize(
    ("schema", "prop", "opened", "expected"),
    [
        ("ExportJobItem", "status", True, ("response-property-became-not-enum", Level.WARNING)),
        ("UpdateExportJobItem", "status", True, ("request-property-became-not-enum", Level.INFO)),
        ("ExportJobItemV3", "status", False, ("response-property-became-enum", Level.INFO)),
        (
            "UpdateExportJobItemV3",
            "externalId",
            False,
            ("request-property-became-enum", Level.BREAKING),
        ),
    ],
)
def test_enum_opened_or_closed_by_direction(
    mutate: Callable[..., list[Change]],
    schema: str,
    prop: str,
    opened: bool,
    expected: tuple[str, Level],
) -> None:
    """A closed enum turned open string (v2 → v3) and the reverse are graded by direction."""

    def edit(spec: dict[str, Any]) -> None:
        target = _schemas(spec)[schema]["properties"]
        if opened:
            target[prop] = {"type": "string", "description": "One of the status values."}
        else:
            target[prop] = {"type": "string", "enum": ["pending", "failed"]}

    assert {(c.id, c.level) for c in mutate(edit)} == {expected}


# --- Pleo: operations, properties, parameters, statuses -----------------------------------------


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        (
            "/v2/export-jobs/{jobId}/items",
            "put",
            ("api-removed-without-deprecation", Level.BREAKING),
        ),
        ("/v3/export-job-items", None, ("api-path-removed-without-deprecation", Level.BREAKING)),
        ("/v1/export-jobs/{jobId}", None, ("api-path-removed-with-deprecation", Level.INFO)),
    ],
)
def test_operation_removed(
    mutate: Callable[..., list[Change]], path: str, method: str | None, expected: tuple[str, Level]
) -> None:
    """Removing an operation breaks unless it was deprecated; the id says if the path survives."""

    def remove(spec: dict[str, Any]) -> None:
        if method is None:
            del spec["paths"][path]
        else:
            del spec["paths"][path][method]

    assert _only(mutate(remove)) == expected


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        ("status", ("response-required-property-removed", Level.BREAKING)),
        ("failureReason", ("response-optional-property-removed", Level.WARNING)),
    ],
)
def test_response_property_removed(
    mutate: Callable[..., list[Change]], prop: str, expected: tuple[str, Level]
) -> None:
    """A property dropped from ExportJobV3 is reported at its JSON path, graded by requiredness."""

    def remove(spec: dict[str, Any]) -> None:
        del _schemas(spec)["ExportJobV3"]["properties"][prop]

    changes = [c for c in mutate(remove) if str(c.operation) == "GET /v3/export-jobs"]
    assert _found(changes) == {(*expected, "GET /v3/export-jobs", f"data[].{prop}")}


def test_request_property_became_required(mutate: Callable[..., list[Change]]) -> None:
    """Requiring CreateExportJob.employeeId breaks every create operation that sends it."""

    def require(spec: dict[str, Any]) -> None:
        _schemas(spec)["CreateExportJob"]["required"].append("employeeId")

    changes = mutate(require)
    assert {(c.id, c.level, c.json_path) for c in changes} == {
        ("request-property-became-required", Level.BREAKING, "employeeId")
    }
    assert {str(c.operation) for c in changes} >= {"POST /v3/export-jobs", "POST /v2/export-jobs"}


@pytest.mark.parametrize(
    ("required", "expected"),
    [
        (True, ("new-required-request-parameter", Level.BREAKING)),
        (False, ("new-optional-request-parameter", Level.INFO)),
    ],
)
def test_new_query_parameter(
    mutate: Callable[..., list[Change]], required: bool, expected: tuple[str, Level]
) -> None:
    """A new query parameter breaks callers only when it is required."""

    def add(spec: dict[str, Any]) -> None:
        parameter = {
            "name": "accounting_entry_id",
            "in": "query",
            "required": required,
            "schema": {"type": "string"},
        }
        spec["paths"]["/v3/export-jobs"]["get"]["parameters"].append(parameter)

    changes = mutate(add)
    assert _only(changes) == expected
    assert changes[0].location == "query parameter accounting_entry_id"


def test_operation_id_rename_is_a_warning(mutate: Callable[..., list[Change]]) -> None:
    """Renaming an operationId renames the generated function, so it is at least a warning."""

    def rename(spec: dict[str, Any]) -> None:
        spec["paths"]["/v3/export-jobs"]["post"]["operationId"] = "createExportJob"

    changes = mutate(rename)
    assert _only(changes) == ("api-operation-id-removed", Level.WARNING)
    assert changes[0].operation is not None
    assert changes[0].operation.operation_id == "createExportJob"
    assert "createExportJobV3" in changes[0].message


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("200", ("response-success-status-removed", Level.BREAKING)),
        ("404", ("response-non-success-status-removed", Level.INFO)),
    ],
)
def test_status_code_removed(
    mutate: Callable[..., list[Change]], status: str, expected: tuple[str, Level]
) -> None:
    """Removing a success status breaks clients; removing an error status does not."""

    def remove(spec: dict[str, Any]) -> None:
        del spec["paths"]["/v2/export-jobs/{jobId}"]["get"]["responses"][status]

    changes = mutate(remove)
    assert _only(changes) == expected
    assert changes[0].location == f"response {status}"


def _rewrite(
    node: Any, edit: Callable[[str, Any, str | None], Any], parent: str | None = None
) -> None:
    """Apply ``edit(key, value, parent_key)`` to every mapping entry, depth first."""
    if isinstance(node, list):
        for item in node:
            _rewrite(item, edit, parent)
    elif isinstance(node, dict):
        for key in list(node):
            node[key] = edit(key, node[key], parent)
            _rewrite(node[key], edit, key)


def test_charset_only_media_type_change_reports_nothing(
    mutate: Callable[..., list[Change]],
) -> None:
    """``application/json;charset=UTF-8`` → ``application/json`` everywhere changes no schema:
    only each response's media type name is reported, at info (oasdiff's grade)."""

    def strip_charset(spec: dict[str, Any]) -> None:
        def edit(key: str, value: Any, parent: str | None) -> Any:
            if key == "content" and parent != "properties":
                return {k.split(";")[0]: v for k, v in value.items()}
            return value

        _rewrite(spec, edit)

    found = mutate(strip_charset)
    assert found
    assert {(c.id, c.level) for c in found} == {("response-media-type-name-changed", Level.INFO)}


def test_prose_only_change_reports_nothing(mutate: Callable[..., list[Change]]) -> None:
    """Rewording every description, summary, title and example produces no change."""
    reworded = 0

    def reword(spec: dict[str, Any]) -> None:
        def edit(key: str, value: Any, parent: str | None) -> Any:
            nonlocal reworded
            if parent != "properties" and key in {"description", "summary", "title", "example"}:
                reworded += 1
                return "Reworded."
            return value

        _rewrite(spec, edit)

    assert mutate(reword) == []
    assert reworded > 500


def test_reference_against_itself_is_clean(reference_spec: dict[str, Any]) -> None:
    """A document compared with itself has no changes."""
    assert diff_specs(reference_spec, copy.deepcopy(reference_spec)) == []


def test_common_only_ignores_operations_missing_on_one_side(reference_spec: dict[str, Any]) -> None:
    """With common_only, an excerpt with fewer (or extra) operations reports only on shared ones."""
    excerpt = copy.deepcopy(reference_spec)
    excerpt["paths"] = {"/v3/export-jobs": excerpt["paths"]["/v3/export-jobs"]}
    excerpt["paths"]["/v4/export-jobs"] = copy.deepcopy(excerpt["paths"]["/v3/export-jobs"])
    del excerpt["paths"]["/v3/export-jobs"]["post"]
    del excerpt["components"]["schemas"]["Tag"]
    full = diff_specs(reference_spec, excerpt)
    assert {c.id for c in full} == {
        "api-path-removed-with-deprecation",
        "api-path-removed-without-deprecation",
        "api-removed-without-deprecation",
        "endpoint-added",
        "api-schema-removed",
    }
    assert diff_specs(reference_spec, excerpt, common_only=True) == []
    excerpt["paths"]["/v3/export-jobs"]["get"]["operationId"] = "listJobs"
    changes = diff_specs(reference_spec, excerpt, common_only=True)
    assert [(c.id, str(c.operation)) for c in changes] == [
        ("api-operation-id-removed", "GET /v3/export-jobs")
    ]


# --- The seeds: 32.4.0 excerpts against 32.1.0 ---------------------------------------------------


def test_seed_excerpts_agree_with_the_reference(reference_spec: dict[str, Any]) -> None:
    """The 32.4.0 excerpts embedded in the seed pages show no breaking change against 32.1.0."""
    compared = 0
    for page in sorted(SEEDS.glob("*.yaml")):
        name, excerpt = page.name, spec_diff.load_document(str(page))
        paths = excerpt["paths"].items()
        operations = [f"{m.upper()} {p}" for p, item in paths for m in item if m in HTTP_METHODS]
        for operation in operations:
            method, path = operation.split(" ", 1)
            assert method.lower() in reference_spec["paths"][path], operation
        changes = diff_specs(reference_spec, excerpt, common_only=True)
        version = excerpt["info"]["version"]
        report = spec_diff.format_text(changes)
        print(f"{name} ({version}; {', '.join(operations)}): {report}")
        assert not [c for c in changes if c.level is Level.BREAKING], report
        # The comparison is not vacuous: removing a response from the excerpt is seen.
        probe = copy.deepcopy(excerpt)
        next(iter(next(iter(probe["paths"].values())).values()))["responses"].popitem()
        assert diff_specs(reference_spec, probe, common_only=True)
        compared += 1
    assert compared >= 4


def test_fenced_blocks_are_extracted_from_page_text() -> None:
    """A page's fenced yaml block is parsed; prose around it and non-OpenAPI blocks are ignored."""
    page = (
        "# Title\n\nSome text.\n\n````yaml get /x\nopenapi: 3.0.1\npaths: {}\n````\n\n"
        '```yaml\njust: data\n```\n```json\n{"openapi": "3.0.1", "paths": {"/y": {}}}\n```\n'
    )
    documents = spec_diff.extract_openapi_documents(page)
    assert [d["paths"] for d in documents] == [{}, {"/y": {}}]
    assert spec_diff.extract_openapi_documents("no: document\n") == []


# --- Grading matrix on tiny documents -----------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "old", "new", "expected"),
    [
        (
            "response",
            {"type": "string", "format": "date-time"},
            {"type": "string"},
            ("response-property-type-changed", Level.BREAKING),
        ),
        (
            "response",
            {"type": "string"},
            {"type": "string", "format": "uuid"},
            ("response-property-type-specialized", Level.INFO),
        ),
        (
            "response",
            {"type": "integer", "format": "int32"},
            {"type": "integer", "format": "int64"},
            ("response-property-type-changed", Level.BREAKING),
        ),
        (
            "response",
            {"type": "integer"},
            {"type": "number"},
            ("response-property-type-generalized", Level.BREAKING),
        ),
        (
            "response",
            {"type": "number"},
            {"type": "integer"},
            ("response-property-type-specialized", Level.INFO),
        ),
        (
            "request",
            {"type": "integer"},
            {"type": "number"},
            ("request-property-type-generalized", Level.INFO),
        ),
        (
            "request",
            {"type": "string"},
            {"type": "string", "format": "uuid"},
            ("request-property-type-changed", Level.BREAKING),
        ),
        (
            "request",
            {"type": "integer"},
            {"type": "string"},
            ("request-property-type-changed", Level.BREAKING),
        ),
        (
            "query",
            {"type": "integer"},
            {"type": "string"},
            ("request-parameter-type-generalized", Level.INFO),
        ),
        (
            "query",
            {"type": "string", "format": "uuid"},
            {"type": "string"},
            ("request-parameter-type-generalized", Level.INFO),
        ),
        (
            "response",
            {"type": "string"},
            {"type": "string", "nullable": True},
            ("response-property-became-nullable", Level.BREAKING),
        ),
        (
            "response",
            {"type": "string", "nullable": True},
            {"type": "string"},
            ("response-property-became-not-nullable", Level.INFO),
        ),
        (
            "request",
            {"type": "string", "nullable": True},
            {"type": "string"},
            ("request-property-became-not-nullable", Level.BREAKING),
        ),
        (
            "request",
            {"type": "string"},
            {"type": "string", "nullable": True},
            ("request-property-became-nullable", Level.INFO),
        ),
        (
            "query",
            {"type": "string"},
            {"type": "string", "nullable": True},
            ("request-parameter-became-nullable", Level.INFO),
        ),
        (
            "response",
            {"type": "string", "enum": ["a"]},
            {"type": "string", "enum": ["a", "b"]},
            ("response-property-enum-value-added", Level.WARNING),
        ),
        (
            "response",
            {"type": "string", "enum": ["a", "b"]},
            {"type": "string", "enum": ["a"]},
            ("response-property-enum-value-removed", Level.INFO),
        ),
        (
            "request",
            {"type": "string", "enum": ["a"]},
            {"type": "string", "enum": ["a", "b"]},
            ("request-property-enum-value-added", Level.INFO),
        ),
        (
            "request",
            {"type": "string", "enum": ["a", "b"]},
            {"type": "string", "enum": ["a"]},
            ("request-property-enum-value-removed", Level.BREAKING),
        ),
        (
            "query",
            {"type": "string", "enum": ["a", "b"]},
            {"type": "string", "enum": ["a"]},
            ("request-parameter-enum-value-removed", Level.BREAKING),
        ),
        (
            "query",
            {"type": "integer"},
            {"type": "integer", "default": 50},
            ("request-parameter-default-value-added", Level.BREAKING),
        ),
        (
            "request",
            {"type": "integer"},
            {"type": "integer", "default": 50},
            ("request-property-default-value-added", Level.INFO),
        ),
    ],
)
def test_grading_by_direction(
    where: str, old: dict[str, Any], new: dict[str, Any], expected: tuple[str, Level]
) -> None:
    """The same schema edit gets oasdiff's id and level for its side (response, request, query)."""
    assert _only(diff_specs(_tiny(where, old), _tiny(where, new))) == expected


def test_charset_parameter_does_not_weaken_type_checks() -> None:
    """Under ``application/json;charset=UTF-8`` a response string → integer still breaks (Q1)."""
    media = "application/json;charset=UTF-8"
    old, new = (
        _tiny("response", {"type": "string"}, media),
        _tiny("response", {"type": "integer"}, media),
    )
    assert _only(diff_specs(old, new)) == ("response-property-type-changed", Level.BREAKING)


def test_request_body_and_media_type_lifecycle() -> None:
    """Request bodies and response media types added or removed are graded like oasdiff's."""
    old = _tiny("request", {"type": "string"})
    new = copy.deepcopy(old)
    operation = new["paths"]["/things"]["post"]
    del operation["requestBody"]
    operation["responses"]["200"]["content"] = {"text/csv": {"schema": {"type": "string"}}}
    assert {(c.id, c.level) for c in diff_specs(old, new)} == {
        ("request-body-removed", Level.BREAKING),
        ("response-media-type-added", Level.INFO),
    }
    assert {(c.id, c.level) for c in diff_specs(new, old)} == {
        ("request-body-added-optional", Level.INFO),
        ("response-media-type-removed", Level.BREAKING),
    }
    csv_gone = copy.deepcopy(new)
    csv_gone["paths"]["/things"]["post"]["responses"]["200"]["content"] = {"application/json": {}}
    assert {(c.id, c.level) for c in diff_specs(new, csv_gone)} == {
        ("response-media-type-removed", Level.BREAKING),
        ("response-media-type-added", Level.INFO),
    }


def test_unknown_change_id_is_rejected() -> None:
    """A Change can only carry an id from the rule table, so every id has a level."""
    with pytest.raises(ValueError, match="unknown change id"):
        Change("made-up-change", "nothing")


# --- The fixture pair ---------------------------------------------------------------------------


def test_fixture_pair_reports_each_change_once() -> None:
    """base.yaml → revised.yaml gives exactly the changes annotated in revised.yaml."""
    old = spec_diff.load_document(str(DATA / "base.yaml"))
    new = spec_diff.load_document(str(DATA / "revised.yaml"))
    changes = diff_specs(old, new)
    b, w, i = Level.BREAKING, Level.WARNING, Level.INFO
    assert sorted(
        (c.id, c.level, str(c.operation) if c.operation else "", c.json_path) for c in changes
    ) == sorted(
        [
            ("api-server-removed", i, "", ""),
            ("api-global-security-added", i, "", ""),
            ("api-security-component-added", i, "", ""),
            ("request-parameter-type-generalized", i, "GET /jobs", ""),
            ("request-parameter-property-enum-value-added", i, "GET /jobs", "[]"),
            ("request-parameter-explode-changed", w, "GET /jobs", ""),
            ("response-property-enum-value-added", w, "GET /jobs", "data[].status"),
            ("response-property-became-nullable", b, "GET /jobs", "data[].completedAt"),
            ("response-property-type-changed", b, "GET /jobs", "data[].attempts"),
            ("new-required-request-property", b, "POST /jobs", "source"),
            ("request-property-became-not-nullable", b, "POST /jobs", "note"),
            ("request-property-became-nullable", i, "POST /jobs", "tag"),
            ("request-property-type-generalized", i, "POST /jobs", "priority"),
            ("api-operation-id-removed", w, "GET /jobs/{id}", ""),
            ("request-path-parameter-renamed", w, "GET /jobs/{id}", ""),
            ("response-non-success-status-removed", i, "GET /jobs/{id}", ""),
            ("response-media-type-name-changed", i, "GET /jobs", ""),
            ("response-property-enum-value-added", w, "GET /jobs/{id}", "status"),
            ("response-property-became-nullable", b, "GET /jobs/{id}", "completedAt"),
            ("response-property-type-changed", b, "GET /jobs/{id}", "attempts"),
            ("response-optional-property-added", i, "GET /tree", "depth"),
        ]
    )


# --- Command line -------------------------------------------------------------------------------


def _warning_only_pair(tmp_path: Path) -> tuple[str, str]:
    """Write base.yaml and a copy whose only change is a response enum value (a warning)."""
    base = yaml.safe_load((DATA / "base.yaml").read_text(encoding="utf-8"))
    base["components"]["schemas"]["Job"]["properties"]["status"] = {
        "type": "string",
        "enum": ["pending"],
    }
    revised = copy.deepcopy(base)
    revised["components"]["schemas"]["Job"]["properties"]["status"]["enum"].append("cancelled")
    old, new = tmp_path / "old.json", tmp_path / "new.yaml"
    old.write_text(json.dumps(base), encoding="utf-8")  # JSON input works as well as YAML
    new.write_text(yaml.safe_dump(revised), encoding="utf-8")
    return str(old), str(new)


@pytest.mark.parametrize(
    ("fail_on", "mixed", "warning_only"),
    [(None, 0, 0), ("info", 1, 1), ("warning", 1, 1), ("breaking", 1, 0)],
)
def test_fail_on_exit_codes(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fail_on: str | None,
    mixed: int,
    warning_only: int,
) -> None:
    """--fail-on LEVEL exits 1 only when a change at or above LEVEL exists."""
    flags = ["--fail-on", fail_on] if fail_on else []
    assert spec_diff.main([str(DATA / "base.yaml"), str(DATA / "revised.yaml"), *flags]) == mixed
    assert spec_diff.main([*_warning_only_pair(tmp_path), *flags]) == warning_only
    capsys.readouterr()


@pytest.mark.parametrize(
    "argv",
    [
        ["missing-old.yaml", "missing-new.yaml"],
        [str(DATA / "base.yaml"), str(Path(__file__))],  # readable, but no OpenAPI document
    ],
)
def test_unreadable_documents_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    """A document that cannot be read or holds no OpenAPI description exits 2 with a message."""
    assert spec_diff.main(argv) == 2
    assert "python -m pleo_export.spec: error:" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], [str(DATA / "base.yaml")]])
def test_missing_documents_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    """OLD and NEW are both needed unless --list-rules is given (exit 2, one line)."""
    assert spec_diff.main(argv) == 2
    assert "OLD and NEW are required" in capsys.readouterr().err


def test_bad_fail_on_level_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A --fail-on level outside info/warning/breaking stops the parser with exit 2."""
    with pytest.raises(SystemExit) as raised:
        spec_diff.main(["a", "b", "--fail-on", "fatal"])
    assert raised.value.code == 2
    capsys.readouterr()


def test_json_output_shape(capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints summary counts and one object per change with fixed keys."""
    assert (
        spec_diff.main([str(DATA / "base.yaml"), str(DATA / "revised.yaml"), "--format", "json"])
        == 0
    )
    payload = json.loads(capsys.readouterr().out)
    assert payload["summary"] == {"total": 21, "breaking": 6, "warning": 5, "info": 10}
    assert all(
        set(change)
        == {
            "id",
            "level",
            "operation",
            "method",
            "path",
            "operationId",
            "location",
            "jsonPath",
            "message",
        }
        for change in payload["changes"]
    )
    nullable = next(c for c in payload["changes"] if c["jsonPath"] == "data[].completedAt")
    assert nullable == {
        "id": "response-property-became-nullable",
        "level": "breaking",
        "operation": "GET /jobs",
        "method": "GET",
        "path": "/jobs",
        "operationId": "listJobs",
        "location": "response 200 application/json",
        "jsonPath": "data[].completedAt",
        "message": "property data[].completedAt became nullable",
    }
    document_level = next(c for c in payload["changes"] if c["id"] == "api-server-removed")
    assert document_level["operation"] is None


def test_text_output_groups_by_level_then_operation(capsys: pytest.CaptureFixture[str]) -> None:
    """Text output starts with the counts, then lists levels worst first, grouped by operation."""
    spec_diff.main([str(DATA / "base.yaml"), str(DATA / "revised.yaml")])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "21 changes: 6 breaking, 5 warning, 10 info"
    headings = [line for line in lines if line and not line.startswith(" ")]
    assert headings[1:] == ["BREAKING (6)", "WARNING (5)", "INFO (10)"]
    assert "  GET /jobs/{id}  [fetchJob]" in lines
    assert (
        "    api-operation-id-removed  operationId getJob renamed to fetchJob"
        " (renames the generated function)" in lines
    )


def test_list_rules_prints_every_id(capsys: pytest.CaptureFixture[str]) -> None:
    """--list-rules prints the oasdiff release the levels follow, then one line per rule id: its
    level, origin and a one-line meaning."""
    assert spec_diff.main(["--list-rules"]) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert "oasdiff v1.28.0" in header
    assert len(lines) == len(spec_diff.RULES) >= 120
    assert any(
        line.split()[:3] == ["response-property-enum-value-added", "warning", "oasdiff"]
        and line.endswith("an enum value added to a response property")
        for line in lines
    )
    assert all(len(line.split()) >= 4 for line in lines)


def test_script_runs_standalone() -> None:
    """``python -m pleo_export.spec`` runs from any directory and returns the --fail-on status."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pleo_export.spec",
            str(DATA / "base.yaml"),
            str(DATA / "revised.yaml"),
            "--fail-on",
            "breaking",
        ],
        capture_output=True,
        text=True,
        cwd=DATA,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("21 changes:")


@pytest.fixture
def served_fixture() -> Iterator[str]:
    """Serve tests/data/drift/ on 127.0.0.1 and yield its base URL."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(DATA), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_documents_load_from_urls(served_fixture: str) -> None:
    """OLD and NEW may be http(s) URLs."""
    old = spec_diff.load_document(f"{served_fixture}/base.yaml")
    new = spec_diff.load_document(f"{served_fixture}/revised.yaml")
    assert len(diff_specs(old, new)) == 21
