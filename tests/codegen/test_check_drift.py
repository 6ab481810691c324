"""scripts/check_drift.py: each kind of drift fails with a message naming what is wrong."""

from __future__ import annotations

import enum
import re
import shutil
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import check_drift
from scripts._spec_io import REPO_ROOT
from scripts.check_drift import (
    check_coverage,
    check_generated,
    check_spec_names,
    check_vendored,
    spec_operations,
)

SPEC = REPO_ROOT / "openapi" / "pleo-export.yaml"
PACKAGE = REPO_ROOT / "generated" / "pleo_export_raw"
#: A byte-identical copy of ``../shared/reference/pleo-export-openapi.yml`` (32.1.0), so these
#: tests never need ``../shared``; the committed spec records that file's sha256.
REFERENCE = REPO_ROOT / "tests" / "data" / "spec" / "pleo-export-openapi-32.1.0.yml"
WRAPPED = "getExportJobByIdV3"
OPERATIONS = spec_operations(yaml.safe_load(SPEC.read_bytes()))
FACADE_MODULE = "from pleo_export_raw.api.export_api_v_3 import get_export_job_by_id_v3\n"


def _copy_package(tmp_path: Path) -> Path:
    target = tmp_path / "generated" / "pleo_export_raw"
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__", ".ruff_cache"))
    return target


def _write_yaml(path: Path, document: Any) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def facade(tmp_path: Path) -> tuple[Path, Path]:
    """A one-module facade wrapping getExportJobByIdV3, and a coverage file excluding the rest."""
    src = tmp_path / "src" / "pleo_export"
    (src / "_resources").mkdir(parents=True)
    (src / "_resources" / "jobs.py").write_text(FACADE_MODULE)
    others = dict.fromkeys(OPERATIONS, "not wrapped in this test")
    del others[WRAPPED]
    return src, _write_yaml(tmp_path / "coverage.yaml", others)


# --- (a) generated/ ------------------------------------------------------------------------------


def test_hand_edited_generated_file_fails_naming_it(tmp_path: Path) -> None:
    """A hand edit in a copy of generated/ is reported with the file's name and a diff excerpt."""
    package = _copy_package(tmp_path)
    edited = package / "models" / "export_job_status.py"
    edited.write_text(edited.read_text().replace('PENDING = "pending"', 'PENDING = "waiting"'))
    problems = check_generated(package)
    assert problems[0].startswith(f"{package}/models/export_job_status.py differs:")
    assert '-    PENDING = "pending"' in problems[0]
    assert '+    PENDING = "waiting"' in problems[0]
    assert "make generate" in problems[-1]
    assert len(problems) == 2


def test_missing_and_extra_generated_files_are_listed(tmp_path: Path) -> None:
    """A deleted module and a stray one are each named; tool caches are not drift."""
    package = _copy_package(tmp_path)
    (package / "models" / "tag.py").unlink()
    (package / "models" / "stray.py").write_text("x = 1\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "client.cpython-311.pyc").write_bytes(b"\0")
    problems = check_generated(package, fresh=PACKAGE)
    assert problems[:2] == [
        f"{package}/models/tag.py is missing",
        f"{package}/models/stray.py is extra",
    ]


# --- (b) the vendored spec -----------------------------------------------------------------------


def test_committed_vendored_spec_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed spec is a fresh vendoring of its upstream, named here by the copy under
    tests/data (only the bytes matter, not the path), so the real ../shared is not needed."""
    monkeypatch.delenv(check_drift.UPSTREAM_ENV, raising=False)
    notes: list[str] = []
    assert check_vendored(upstream=REFERENCE, note=notes.append) == []
    assert notes == []


def test_altered_vendored_spec_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hand edit to the vendored spec is reported with the file, a diff and `make vendor`."""
    monkeypatch.delenv(check_drift.UPSTREAM_ENV, raising=False)
    spec = tmp_path / "pleo-export.yaml"
    spec.write_text(SPEC.read_text().replace("- completed_with_errors", "- archived", 1))
    [problem] = check_vendored(spec, upstream=REFERENCE)
    assert (
        f"{spec} is not a fresh vendoring of ../shared/reference/pleo-export-openapi.yml" in problem
    )
    assert "make vendor" in problem
    assert re.search(r"^ *\+ +- archived$", problem, re.MULTILINE)


def test_upstream_from_environment_at_another_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$PLEO_UPSTREAM_SPEC may point at a copy elsewhere; only its bytes matter, not its path."""
    copy = tmp_path / "upstream.yml"
    shutil.copyfile(REFERENCE, copy)
    monkeypatch.setenv(check_drift.UPSTREAM_ENV, str(copy))
    assert check_vendored() == []


def test_changed_upstream_named_by_caller_fails(tmp_path: Path) -> None:
    """An upstream named with --upstream whose sha256 differs says to run make update-spec."""
    newer = tmp_path / "upstream.yml"
    newer.write_bytes(REFERENCE.read_bytes().replace(b"version: 32.1.0", b"version: 32.2.0"))
    [problem] = check_vendored(upstream=newer)
    assert f"upstream spec {newer} has changed" in problem
    assert f"make update-spec SOURCE={newer}" in problem


def test_changed_upstream_at_recorded_place_is_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the file at the recorded place has moved on, the check notes it and passes."""
    monkeypatch.delenv(check_drift.UPSTREAM_ENV, raising=False)
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "shared" / "reference").mkdir(parents=True)
    (tmp_path / "shared" / "reference" / "pleo-export-openapi.yml").write_bytes(
        REFERENCE.read_bytes() + b"\n"
    )
    notes: list[str] = []
    assert check_vendored(root=root, note=notes.append) == []
    assert "has changed" in notes[0]
    assert "make update-spec" in notes[0]


def test_upstream_not_at_hand_is_skipped_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the upstream file (a clone without shared/) the check is skipped, saying so."""
    monkeypatch.delenv(check_drift.UPSTREAM_ENV, raising=False)
    (tmp_path / "repo").mkdir()
    notes: list[str] = []
    assert check_vendored(root=tmp_path / "repo", note=notes.append) == []
    assert notes == [
        "vendored spec not checked: the recorded upstream "
        "../shared/reference/pleo-export-openapi.yml is not at hand"
    ]


# --- (c) facade coverage -------------------------------------------------------------------------


def test_wrapped_or_excluded_operations_pass(facade: tuple[Path, Path]) -> None:
    """One wrapped operation plus every other one excluded is full coverage."""
    src, coverage = facade
    assert check_coverage(src=src, coverage=coverage) == []


def test_new_operation_fails_naming_it(tmp_path: Path, facade: tuple[Path, Path]) -> None:
    """An operation added to the spec, neither wrapped nor excluded, is named with its route."""
    src, coverage = facade
    spec = yaml.safe_load(SPEC.read_bytes())
    spec["paths"]["/v3/export-jobs/{jobId}:archive"] = {
        "post": {"operationId": "archiveExportJobV3", "responses": {"204": {"description": "ok"}}}
    }
    problems = check_coverage(_write_yaml(tmp_path / "spec.yaml", spec), src=src, coverage=coverage)
    assert problems == [
        "operation archiveExportJobV3 (POST /v3/export-jobs/{jobId}:archive) is neither wrapped by"
        f" the facade nor listed in {coverage}: wrap it, or exclude it there with a reason"
    ]


def test_stale_exclusion_fails(facade: tuple[Path, Path]) -> None:
    """An exclusion naming an operation the spec no longer has fails."""
    src, coverage = facade
    entries = yaml.safe_load(coverage.read_text())
    _write_yaml(coverage, {**entries, "getExportJobsListV0": "gone"})
    [problem] = check_coverage(src=src, coverage=coverage)
    assert problem.startswith(f"{coverage} excludes getExportJobsListV0, which is not an operation")


def test_unwrapped_operation_fails(facade: tuple[Path, Path]) -> None:
    """Dropping the facade's only import leaves its operation uncovered."""
    src, coverage = facade
    (src / "_resources" / "jobs.py").write_text("import pleo_export_raw.models\n")
    [problem] = check_coverage(src=src, coverage=coverage)
    assert problem.startswith(f"operation {WRAPPED} (GET /v3/export-jobs/{{jobId}}) is neither")


def test_fake_server_imports_do_not_count(facade: tuple[Path, Path]) -> None:
    """An import under src/pleo_export/testing/ (the fake server) is not wrapping."""
    src, coverage = facade
    (src / "_resources" / "jobs.py").unlink()
    (src / "testing").mkdir()
    (src / "testing" / "_app.py").write_text(FACADE_MODULE)
    [problem] = check_coverage(src=src, coverage=coverage)
    assert f"operation {WRAPPED}" in problem


@pytest.mark.parametrize(
    "source",
    [
        FACADE_MODULE,
        "from pleo_export_raw.api.export_api_v_3.get_export_job_by_id_v3 import asyncio_detailed\n",
        "import pleo_export_raw.api.export_api_v_3.get_export_job_by_id_v3 as op\n",
        "def f():\n    from pleo_export_raw.api.export_api_v_3 import get_export_job_by_id_v3\n",
    ],
)
def test_import_forms_all_count(source: str, facade: tuple[Path, Path]) -> None:
    """Importing the endpoint module, from it, as a plain import or inside a function all wrap."""
    src, coverage = facade
    (src / "_resources" / "jobs.py").write_text(source)
    assert check_coverage(src=src, coverage=coverage) == []


def test_wrapped_and_excluded_fails(facade: tuple[Path, Path]) -> None:
    """An operation both wrapped and excluded is contradictory and fails."""
    src, coverage = facade
    _write_yaml(coverage, {**yaml.safe_load(coverage.read_text()), WRAPPED: "why"})
    [problem] = check_coverage(src=src, coverage=coverage)
    assert problem.startswith(f"operation {WRAPPED} is wrapped by _resources/jobs.py but also")


def test_import_of_a_module_that_is_not_generated_fails(facade: tuple[Path, Path]) -> None:
    """Importing an endpoint module the generator no longer writes is named."""
    src, coverage = facade
    (src / "_resources" / "old.py").write_text(
        "from pleo_export_raw.api.export_api_v_3 import archive_export_job_v3\n"
    )
    [problem] = check_coverage(src=src, coverage=coverage)
    assert problem == (
        "_resources/old.py imports pleo_export_raw.api.export_api_v_3.archive_export_job_v3,"
        " which is not generated"
    )


def test_committed_coverage_file_lists_only_real_operations() -> None:
    """openapi/coverage.yaml gives a reason for each entry, and each is a spec operation."""
    entries = yaml.safe_load(check_drift.COVERAGE.read_text())
    assert set(entries) <= set(OPERATIONS)
    assert all(isinstance(reason, str) and reason for reason in entries.values())


# --- (d) spec names the facade uses --------------------------------------------------------------


class _Status(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> dict[str, types.ModuleType]:
    """Fake _errors, _lifecycle and _drift modules holding names that are all in the spec."""
    modules = {
        "fake_errors": types.ModuleType("fake_errors"),
        "fake_lifecycle": types.ModuleType("fake_lifecycle"),
        "fake_drift": types.ModuleType("fake_drift"),
    }
    modules["fake_errors"].ERROR_TYPES = {
        "INVALID_EXPORT_JOB_STATUS_CHANGE": ValueError,
        "EXPORT_JOB_ITEMS_UPDATE_LIMIT": ValueError,
    }
    modules["fake_lifecycle"].TRANSITIONS = {
        (_Status.PENDING, "started"): _Status.IN_PROGRESS,
        ("in_progress", "completed_with_errors"): "completed_with_errors",
    }
    modules["fake_drift"].SPEC_VERSION = "32.1.0"
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return modules


def _check_names() -> list[str]:
    return check_spec_names(
        errors_module="fake_errors", lifecycle_module="fake_lifecycle", drift_module="fake_drift"
    )


def test_names_found_in_the_spec_pass(tables: dict[str, types.ModuleType]) -> None:
    """Error types from the spec's examples and statuses/events from its enums pass."""
    assert _check_names() == []


def test_made_up_error_type_fails(tables: dict[str, types.ModuleType]) -> None:
    """An error type the spec never mentions is named."""
    tables["fake_errors"].ERROR_TYPES["EXPORT_JOB_ON_FIRE"] = ValueError
    [problem] = _check_names()
    assert "'EXPORT_JOB_ON_FIRE'" in problem
    assert "never mentions" in problem


def test_unknown_status_and_event_fail(tables: dict[str, types.ModuleType]) -> None:
    """A transition with a status or an event the spec's enums lack is named."""
    tables["fake_lifecycle"].TRANSITIONS[("pending", "archive")] = "archived"
    assert _check_names() == [
        "fake_lifecycle.TRANSITIONS uses status 'archived', not an ExportJobStatus in"
        " openapi/pleo-export.yaml",
        "fake_lifecycle.TRANSITIONS uses event 'archive', not an ExportJobEventType in"
        " openapi/pleo-export.yaml",
    ]


def test_stale_spec_version_fails(tables: dict[str, types.ModuleType]) -> None:
    """A runtime SPEC_VERSION other than the vendored spec's version fails."""
    tables["fake_drift"].SPEC_VERSION = "31.0.0"
    [problem] = _check_names()
    assert "SPEC_VERSION is '31.0.0' but openapi/pleo-export.yaml is version '32.1.0'" in problem


def test_missing_table_module_fails(tables: dict[str, types.ModuleType]) -> None:
    """A facade module that cannot be imported is reported, not skipped."""
    problems = check_spec_names(
        errors_module="fake_errors", lifecycle_module="no_such_module", drift_module="fake_drift"
    )
    assert problems == [
        "cannot import no_such_module to check TRANSITIONS: No module named 'no_such_module'"
    ]


# --- main ----------------------------------------------------------------------------------------


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Every check replaced by a stub returning the problems listed for it."""
    results: dict[str, list[str]] = {"generated": [], "vendored": [], "coverage": [], "names": []}
    monkeypatch.setattr(check_drift, "check_generated", lambda: results["generated"])
    monkeypatch.setattr(check_drift, "check_vendored", lambda **_: results["vendored"])
    monkeypatch.setattr(check_drift, "check_coverage", lambda: results["coverage"])
    monkeypatch.setattr(check_drift, "check_spec_names", lambda: results["names"])
    return results


def test_main_prints_ok(stubbed: dict[str, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    """With no problems, main prints `drift: ok` and exits 0."""
    assert check_drift.main([]) == 0
    assert capsys.readouterr().out == "drift: ok\n"


def test_main_prints_problems_by_check(
    stubbed: dict[str, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """With problems, main prints each under its check's name and exits 1."""
    stubbed["generated"].append("generated/pleo_export_raw/client.py differs")
    stubbed["coverage"].append("operation x is neither wrapped nor listed")
    assert check_drift.main([]) == 1
    assert capsys.readouterr().out == (
        "drift: generated code: 1 problem(s)\n"
        "  - generated/pleo_export_raw/client.py differs\n"
        "drift: facade coverage: 1 problem(s)\n"
        "  - operation x is neither wrapped nor listed\n"
    )
