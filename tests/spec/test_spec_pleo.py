"""The diff on Pleo's own contract: the vendored spec against itself and against planted edits.

The edits are the kind a Pleo release makes (a bound on a cursor, a pattern, a status value, a
wrapped job body); each is planted alone in a copy of ``openapi/pleo-export.yaml`` and must come
back with its oasdiff id, and all of them planted together must all come back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from pleo_export.spec import RULES, diff_specs, load_document

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "pleo-export.yaml"
Doc = dict[str, Any]


class Plant(NamedTuple):
    """One edit of the Pleo spec and the id it must be reported with."""

    rule_id: str
    edit: Callable[[Doc], None]


def _schema(name: str) -> Callable[[Doc], dict[str, Any]]:
    return lambda doc: doc["components"]["schemas"][name]


def _parameter(path: str, method: str, name: str) -> Callable[[Doc], dict[str, Any]]:
    def find(doc: Doc) -> dict[str, Any]:
        for parameter in doc["paths"][path][method]["parameters"]:
            if parameter["name"] == name:
                return parameter  # type: ignore[no-any-return]
        raise AssertionError(name)

    return find


_JOBS, _ITEMS = "/v3/export-jobs", "/v3/export-jobs/{jobId}/items"
_job, _create, _supplier = _schema("ExportJobV3"), _schema("CreateExportJob"), _schema("SupplierV3")
_limit, _after = _parameter(_JOBS, "get", "limit"), _parameter(_JOBS, "get", "after")
_before = _parameter(_JOBS, "get", "before")


def _prop(get: Callable[[Doc], dict[str, Any]], name: str) -> Callable[[Doc], dict[str, Any]]:
    return lambda doc: get(doc)["properties"][name]


PLANTS = [
    Plant("request-parameter-max-set", lambda d: _limit(d)["schema"].update(maximum=100)),
    Plant("request-parameter-min-increased", lambda d: _limit(d)["schema"].update(minimum=1)),
    Plant(
        "request-parameter-pattern-changed",
        lambda d: _after(d)["schema"].update(pattern="^[A-Z]+$"),
    ),
    Plant(
        "request-parameter-pattern-removed",
        lambda d: _parameter(_ITEMS, "get", "after")(d)["schema"].pop("pattern"),
    ),
    Plant("request-parameter-max-length-set", lambda d: _after(d)["schema"].update(maxLength=512)),
    Plant("request-parameter-became-required", lambda d: _limit(d).update(required=True)),
    Plant(
        "request-parameter-removed",
        lambda d: d["paths"][_JOBS]["get"]["parameters"].remove(_before(d)),
    ),
    Plant(
        "request-parameter-default-value-added", lambda d: _limit(d)["schema"].update(default=50)
    ),
    Plant("request-parameter-type-changed", lambda d: _limit(d)["schema"].update(type="boolean")),
    Plant(
        "response-property-max-length-increased",
        lambda d: _prop(_supplier, "country")(d).update(maxLength=3),
    ),
    Plant(
        "response-property-min-length-decreased",
        lambda d: _prop(_supplier, "country")(d).update(minLength=1),
    ),
    Plant(
        "response-property-enum-value-added",
        lambda d: _prop(_supplier, "country")(d)["enum"].append("ZZ"),
    ),
    Plant(
        "response-property-enum-value-removed",
        lambda d: _prop(_supplier, "country")(d)["enum"].remove("AC"),
    ),
    Plant(
        "response-property-became-nullable",
        lambda d: _prop(_job, "companyId")(d).update(nullable=True),
    ),
    Plant(
        "response-property-type-changed",
        lambda d: _prop(_job, "numberOfItems")(d).update(type="string"),
    ),
    Plant(
        "response-property-type-changed",
        lambda d: _prop(_job, "expiresIn")(d).update(format="int64"),
    ),
    Plant(
        "response-optional-property-removed", lambda d: _job(d)["properties"].pop("failureReason")
    ),
    Plant(
        "response-optional-property-added",
        lambda d: _job(d)["properties"].update(archivedAt={"type": "string"}),
    ),
    Plant(
        "new-required-request-property",
        lambda d: (
            _create(d)["properties"].update(note={"type": "string"}),
            _create(d)["required"].append("note"),
        ),
    ),
    Plant("request-property-removed", lambda d: _create(d)["properties"].pop("employeeId")),
    Plant(
        "request-property-became-not-nullable",
        lambda d: _prop(_create, "isInteractive")(d).pop("nullable"),
    ),
    Plant(
        "request-property-max-items-set",
        lambda d: _prop(_create, "accountingEntryIds")(d).update(maxItems=1000),
    ),
    Plant(
        "request-property-min-items-set",
        lambda d: _prop(_create, "accountingEntryIds")(d).update(minItems=1),
    ),
    Plant(
        "request-property-default-value-changed",
        lambda d: _prop(_create, "isInteractive")(d).update(default=False),
    ),
    Plant(
        "request-body-wrapped-in-one-of",
        lambda d: d["paths"][_JOBS]["post"]["requestBody"]["content"][
            "application/json;charset=UTF-8"
        ].update(
            schema={
                "oneOf": [
                    {"$ref": "#/components/schemas/CreateExportJob"},
                    {"$ref": "#/components/schemas/Options"},
                ]
            }
        ),
    ),
    Plant(
        "response-success-status-removed",
        lambda d: d["paths"][_ITEMS]["get"]["responses"].pop("200"),
    ),
    Plant(
        "api-operation-id-removed",
        lambda d: d["paths"][_ITEMS]["put"].update(operationId="putItemsV3"),
    ),
    Plant("api-removed-without-deprecation", lambda d: d["paths"]["/v2/export-jobs"].pop("post")),
    Plant("endpoint-deprecated", lambda d: d["paths"][_JOBS]["get"].update(deprecated=True)),
    Plant("api-path-removed-with-deprecation", lambda d: d["paths"].pop("/v0/export-items")),
    Plant("endpoint-added", lambda d: d["paths"][_ITEMS].update(delete={"responses": {}})),
]


@pytest.fixture(scope="module")
def pleo() -> Doc:
    """The vendored 32.1.0 contract, parsed once."""
    return load_document(str(SPEC))


def test_pleo_spec_against_a_copy_of_itself_is_clean(pleo: Doc) -> None:
    """Diffing the Pleo spec with an identical copy reports nothing (no false alarm)."""
    assert diff_specs(pleo, copy.deepcopy(pleo)) == []


@pytest.mark.parametrize("plant", PLANTS, ids=[f"{n}-{p.rule_id}" for n, p in enumerate(PLANTS)])
def test_each_planted_change_is_found_with_its_id(pleo: Doc, plant: Plant) -> None:
    """One edit of the Pleo spec is reported with its oasdiff id (it may fan out to every
    operation reaching the edited component, never to another id's level above it)."""
    revised = copy.deepcopy(pleo)
    plant.edit(revised)
    found = diff_specs(pleo, revised)
    assert plant.rule_id in {change.id for change in found}
    assert max(change.level for change in found) == RULES[plant.rule_id].level


def test_all_planted_changes_together_are_all_found(pleo: Doc) -> None:
    """With every edit in one revision, every planted id is still reported."""
    revised = copy.deepcopy(pleo)
    for plant in PLANTS:
        plant.edit(revised)
    assert {plant.rule_id for plant in PLANTS} <= {
        change.id for change in diff_specs(pleo, revised)
    }
