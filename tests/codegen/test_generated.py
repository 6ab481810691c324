"""The generated package: one module per operation, one class per schema, open enums."""

from __future__ import annotations

import enum
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import pleo_export_raw.models as models
import pytest
import yaml
from openapi_python_client.strings import snake_case
from pleo_export_raw.models import (
    ExportJob,
    ExportJobItem,
    ExportJobItemFailureReasonTypeV2,
    ExportJobStatus,
    ExportJobV3,
)

from scripts._spec_io import REPO_ROOT
from scripts.check_drift import compare_trees, generated_operations, spec_operations
from scripts.generate import generate

SPEC = yaml.safe_load((REPO_ROOT / "openapi" / "pleo-export.yaml").read_bytes())
GENERATOR = yaml.safe_load((REPO_ROOT / "openapi" / "generator.yaml").read_bytes())
PACKAGE = REPO_ROOT / "generated" / "pleo_export_raw"
OPERATIONS = {
    op["operationId"]: op
    for item in SPEC["paths"].values()
    for op in item.values()
    if isinstance(op, dict) and "operationId" in op
}
JOB: dict[str, Any] = {
    "id": "00000000-0000-0000-0000-000000000001",
    "companyId": "00000000-0000-0000-0000-000000000002",
    "createdAt": "2025-01-01T00:00:00+00:00",
    "expiresIn": 3600,
    "isInteractive": False,
    "numberOfItems": 1,
    "status": "archived",
    "vendorBasedBookkeeping": False,
}
JOB_ITEM: dict[str, Any] = {
    "accountingEntryId": "00000000-0000-0000-0000-000000000003",
    "exportJobId": "00000000-0000-0000-0000-000000000001",
    "status": "pending",
    "failureReasonType": None,
}


def _expected_class(name: str, schema: dict[str, Any]) -> tuple[str, str]:
    """The class name openapi-python-client derives for a component schema, and ours after it."""
    base = schema.get("title", name)  # a title (e.g. one the overlay sets) wins over the key
    if schema.get("nullable") and schema.get("type") == "object":
        base += "Type0"  # a nullable object becomes `<Name>Type0 | None`
    override = GENERATOR.get("class_overrides", {}).get(base, {})
    return base, str(override.get("class_name", base))


def test_spec_has_30_operations() -> None:
    """The vendored spec this package comes from holds the 30 operations of Export API 32.1.0."""
    assert len(OPERATIONS) == 30


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_each_operation_has_an_endpoint_module(operation_id: str) -> None:
    """Each operationId has a module under its tag with the async detailed call the facade uses."""
    tag = snake_case(OPERATIONS[operation_id]["tags"][0])
    module = importlib.import_module(f"pleo_export_raw.api.{tag}.{snake_case(operation_id)}")
    assert inspect.iscoroutinefunction(module.asyncio_detailed)


def test_endpoint_modules_serve_the_spec_routes() -> None:
    """The generated modules' methods and paths are exactly the spec's operations, one each."""

    def routes(found: dict[str, tuple[str, str]]) -> list[tuple[str, str]]:
        # The generator renames path parameters ({jobId} → {job_id}); compare their positions.
        return sorted((method, re.sub(r"\{[^}]*\}", "{}", path)) for method, path in found.values())

    assert routes(generated_operations(PACKAGE)) == routes(spec_operations(SPEC))


def test_every_component_schema_has_a_model() -> None:
    """Each component schema maps to an exported class in pleo_export_raw.models."""
    derived = {
        name: _expected_class(name, schema)
        for name, schema in SPEC["components"]["schemas"].items()
    }
    overridden = {name: f"{raw} → {cls}" for name, (raw, cls) in derived.items() if raw != cls}
    print("schemas named through generator.yaml class_overrides:", overridden)  # -s shows it
    mapping = {name: cls for name, (_, cls) in derived.items()}
    missing = {name: cls for name, cls in mapping.items() if cls not in models.__all__}
    assert len(mapping) == 98
    assert not missing, f"schema → expected class, not generated: {missing}"
    assert all(inspect.isclass(getattr(models, cls)) for cls in mapping.values())


def test_overlay_merges_leave_no_numbered_duplicates() -> None:
    """The overlay's titles make inline enums reuse one class: no `...Type1`-style duplicates."""
    numbered = [
        name
        for name in models.__all__
        if name.rstrip("0123456789").endswith("Type") and name[-1].isdigit()
    ]
    assert numbered == []
    assert (
        models.ExportJobFailureReasonType
        is importlib.import_module("pleo_export_raw.models.export_job").ExportJobFailureReasonType
    )


def test_v3_job_with_unknown_status_parses_and_round_trips() -> None:
    """v3 sends status as an open string: a new value parses, is unknown, and round-trips."""
    job = ExportJobV3.from_dict(JOB)
    assert job.status == "archived"
    assert ExportJobStatus(job.status).is_known is False
    assert job.to_dict() == JOB


def test_v2_job_with_unknown_status_parses_and_round_trips() -> None:
    """A v2 status the enum lacks becomes the UNKNOWN pseudo-member, and round-trips unchanged."""
    job = ExportJob.from_dict(JOB)
    assert isinstance(job.status, ExportJobStatus)
    assert job.status.is_known is False
    assert job.status.name == "UNKNOWN"
    assert job.status.value == "archived"
    assert job.status == "archived"
    assert job.to_dict() == JOB


def test_v2_job_item_with_null_failure_type_parses() -> None:
    """A v2 job item whose failureReasonType is null (not yet failed) parses and round-trips."""
    item = ExportJobItem.from_dict(JOB_ITEM)
    assert item.failure_reason_type is None
    assert item.to_dict() == JOB_ITEM


def test_v2_job_item_with_unknown_failure_type_round_trips() -> None:
    """A failure type added after the 14-value v2 list parses as unknown and round-trips."""
    payload = {**JOB_ITEM, "status": "failed", "failureReasonType": "vendor_unknown"}
    item = ExportJobItem.from_dict(payload)
    assert isinstance(item.failure_reason_type, ExportJobItemFailureReasonTypeV2)
    assert item.failure_reason_type.is_known is False
    assert item.to_dict() == payload


ENUMS = [
    getattr(models, name)
    for name in models.__all__
    if isinstance(getattr(models, name), type) and issubclass(getattr(models, name), enum.Enum)
]


@pytest.mark.parametrize("enum_class", ENUMS, ids=lambda cls: cls.__name__)
def test_known_values_are_unchanged_members(enum_class: type[enum.Enum]) -> None:
    """Every listed value parses to its own member, which is known; no UNKNOWN member is listed."""
    assert len(enum_class) > 0
    for member in enum_class:
        assert enum_class(member.value) is member
        assert member.is_known is True
        assert member.name != "UNKNOWN"
    assert "UNKNOWN" not in enum_class.__members__


def test_regeneration_is_byte_identical(tmp_path: Path) -> None:
    """Generating into a temp folder reproduces the committed generated/ byte for byte."""
    fresh = generate(tmp_path)
    assert compare_trees(fresh, PACKAGE, label="generated/pleo_export_raw") == []
