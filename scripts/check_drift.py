"""Fail when a committed build output or the facade has drifted from the spec it comes from.

Four checks, each a function returning one readable problem string per finding:

* ``check_generated``: ``generated/`` is byte-identical to a fresh ``scripts.generate`` run;
* ``check_vendored``: ``openapi/pleo-export.yaml`` is a fresh vendoring of the recorded upstream
  spec plus ``openapi/overlay.yaml`` (only when that upstream file is at hand, unchanged);
* ``check_coverage``: every operation in the vendored spec is wrapped by the facade (some module
  under ``src/pleo_export/``, except ``testing/``, imports its generated endpoint module) or
  listed with a reason in ``openapi/coverage.yaml``, and every listed one still exists;
* ``check_spec_names``: the Pleo names the facade hard-codes (``_errors.ERROR_TYPES``,
  ``_lifecycle.TRANSITIONS``, ``_drift.SPEC_VERSION``) exist in the vendored spec.

Usage: ``python -m scripts.check_drift [--upstream PATH] [--skip-generated]``. The upstream spec is
``--upstream``, else ``$PLEO_UPSTREAM_SPEC``, else the recorded ``info.x-upstream.source`` when it
is a file next to the repo. Exit status 1 when any check finds a problem, else 0 (``drift: ok``).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import enum
import importlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from scripts._spec_io import REPO_ROOT, dump_yaml, sha256_hex
from scripts.generate import GenerationError, generate
from scripts.vendor_spec import HEADER as VENDOR_HEADER
from scripts.vendor_spec import vendor

__all__ = [
    "check_coverage",
    "check_generated",
    "check_spec_names",
    "check_vendored",
    "compare_trees",
    "facade_imports",
    "generated_operations",
    "main",
    "spec_operations",
]

SPEC = REPO_ROOT / "openapi" / "pleo-export.yaml"
OVERLAY = REPO_ROOT / "openapi" / "overlay.yaml"
COVERAGE = REPO_ROOT / "openapi" / "coverage.yaml"
GENERATED = REPO_ROOT / "generated" / "pleo_export_raw"
FACADE = REPO_ROOT / "src" / "pleo_export"
UPSTREAM_ENV = "PLEO_UPSTREAM_SPEC"
RAW_API = "pleo_export_raw.api"

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# Written by tools, never by the generator: present or not, they are not drift.
_IGNORED_PARTS = frozenset({"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache"})
_DIFF_LINES = 12  # lines of unified diff shown per differing file
_DIFF_FILES = 5  # files shown with a diff; the rest are only named

Note = Callable[[str], None]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml parses 5x faster when present


def _load(path: Path) -> Any:
    return yaml.load(path.read_bytes(), Loader=_LOADER)


def spec_operations(spec: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Map each operationId in ``spec`` to its ``(METHOD, path)``."""
    operations: dict[str, tuple[str, str]] = {}
    for path, item in (spec.get("paths") or {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict) and "operationId" in operation:
                operations[operation["operationId"]] = (method.upper(), path)
    return operations


# --- (a) generated/ is fresh ------------------------------------------------------------------


def _files(root: Path) -> dict[str, Path]:
    return {
        path.relative_to(root).as_posix(): path
        for path in root.rglob("*")
        if path.is_file()
        and not _IGNORED_PARTS.intersection(path.relative_to(root).parts)
        and path.suffix != ".pyc"
    }


def compare_trees(expected: Path, actual: Path, *, label: str) -> list[str]:
    """List how the tree ``actual`` differs from ``expected``: missing, extra and changed files.

    Each changed file comes with the start of a unified diff (expected → actual).
    """
    want, have = _files(expected), _files(actual)
    problems = [f"{label}/{name} is missing" for name in sorted(want.keys() - have.keys())]
    problems += [f"{label}/{name} is extra" for name in sorted(have.keys() - want.keys())]
    changed = [
        name
        for name in sorted(want.keys() & have.keys())
        if want[name].read_bytes() != have[name].read_bytes()
    ]
    for count, name in enumerate(changed):
        message = f"{label}/{name} differs"
        if count < _DIFF_FILES:
            diff = difflib.unified_diff(
                want[name].read_text(encoding="utf-8", errors="replace").splitlines(),
                have[name].read_text(encoding="utf-8", errors="replace").splitlines(),
                f"expected/{name}",
                f"committed/{name}",
                n=1,
                lineterm="",
            )
            excerpt = [f"    {line}" for line in list(diff)[:_DIFF_LINES]]
            message += ":\n" + "\n".join(excerpt)
        problems.append(message)
    return problems


def check_generated(package: Path = GENERATED, *, fresh: Path | None = None) -> list[str]:
    """Compare the committed generated package with a fresh generation (or with ``fresh``).

    Returns:
        One problem per missing, extra or differing file, plus a hint to run ``make generate``.
    """
    label = _display(package)
    if not package.is_dir():
        return [f"{label} is missing: run `make generate`"]
    with tempfile.TemporaryDirectory() as tmp:
        if fresh is None:
            try:
                fresh = generate(Path(tmp))
            except GenerationError as error:
                return [f"the generator failed, so {label} cannot be checked:\n{error}"]
        problems = compare_trees(fresh, package, label=label)
    if problems:
        problems.append(f"{label} is not what the generator writes: run `make generate`")
    return problems


# --- (b) the vendored spec is fresh -----------------------------------------------------------


def _upstream_location(
    recorded: Mapping[str, Any], explicit: Path | None, root: Path
) -> tuple[Path | None, bool, str]:
    """Find the upstream file: (path or None, whether the caller named it, why it is skipped)."""
    if explicit is not None:
        return explicit, True, ""
    if os.environ.get(UPSTREAM_ENV):
        return Path(os.environ[UPSTREAM_ENV]), True, ""
    source = str(recorded.get("source", ""))
    if not source:
        return None, False, "the vendored spec records no info.x-upstream.source"
    if source.startswith(("http://", "https://")):
        return None, False, f"the recorded upstream is a URL ({source}); this check stays offline"
    path = root / source
    if not path.is_file():
        return None, False, f"the recorded upstream {source} is not at hand"
    return path, False, ""


def check_vendored(
    spec_path: Path = SPEC,
    *,
    upstream: Path | None = None,
    overlay: Path = OVERLAY,
    root: Path = REPO_ROOT,
    note: Note = print,
) -> list[str]:
    """Compare the vendored spec with a fresh vendoring of its upstream and the overlay.

    Skipped (with a ``note``) when the upstream file is not at hand. When the file at the recorded
    location no longer has the recorded sha256, the note says to run ``make update-spec``; when
    the caller named the file (``upstream`` or ``$PLEO_UPSTREAM_SPEC``), that is a problem.
    """
    label = _display(spec_path)
    if not spec_path.is_file():
        return [f"{label} is missing: run `make vendor`"]
    committed_text = spec_path.read_text(encoding="utf-8")
    recorded = ((_load(spec_path) or {}).get("info") or {}).get("x-upstream") or {}
    path, named, reason = _upstream_location(recorded, upstream, root)
    if path is None:
        note(f"vendored spec not checked: {reason}")
        return []
    if not path.is_file():
        return [f"upstream spec {path} does not exist"]
    digest = sha256_hex(path.read_bytes())
    if digest != recorded.get("sha256"):
        message = (
            f"upstream spec {path} has changed since {label} was vendored from it "
            f"(sha256 {digest[:12]}…, recorded {str(recorded.get('sha256'))[:12]}…): "
            f"run `make update-spec SOURCE={path}`"
        )
        if named:
            return [message]
        note(f"vendored spec not checked: {message}")
        return []
    try:
        fresh = vendor(str(path), overlay)
    except ValueError as error:  # a stale overlay action, named by vendor_spec
        return [f"vendoring {path} with {_display(overlay)} fails: {error}"]
    if fresh != committed_text and path != root / str(recorded.get("source")):
        # Where the file sits is not a contract fact: compare as if read from the recorded place.
        fresh_doc = yaml.load(fresh, Loader=_LOADER)
        fresh_doc["info"]["x-upstream"]["source"] = recorded.get("source")
        fresh = VENDOR_HEADER + dump_yaml(fresh_doc)
    if fresh == committed_text:
        return []
    diff = difflib.unified_diff(
        fresh.splitlines(), committed_text.splitlines(), "fresh", "committed", n=1, lineterm=""
    )
    excerpt = "\n".join(f"    {line}" for line in list(diff)[:_DIFF_LINES])
    return [
        f"{label} is not a fresh vendoring of {recorded.get('source')} with {_display(overlay)}"
        f" (edited by hand, or the overlay changed): run `make vendor`\n{excerpt}"
    ]


# --- (c) every operation is wrapped or deliberately excluded ----------------------------------


def _get_kwargs_route(tree: ast.Module) -> tuple[str, str] | None:
    """Read ``(METHOD, path template)`` from a generated module's ``_get_kwargs``."""
    for function in tree.body:
        if not (isinstance(function, ast.FunctionDef) and function.name == "_get_kwargs"):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Dict):
                continue
            entries = {
                key.value: value
                for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant)
            }
            method, url = entries.get("method"), entries.get("url")
            if isinstance(url, ast.Call) and isinstance(url.func, ast.Attribute):
                url = url.func.value  # "/v3/export-jobs/{job_id}".format(...)
            if isinstance(method, ast.Constant) and isinstance(url, ast.Constant):
                return str(method.value).upper(), str(url.value)
    return None


def _route_key(method: str, path: str) -> tuple[str, str]:
    # The generator renames path parameters ({jobId} → {job_id}); their position is what counts.
    return method.upper(), re.sub(r"\{[^}]*\}", "{}", path)


def generated_operations(package: Path = GENERATED) -> dict[str, tuple[str, str]]:
    """Map each generated endpoint module (``pleo_export_raw.api.<tag>.<op>``) to its route."""
    routes: dict[str, tuple[str, str]] = {}
    for path in sorted((package / "api").glob("*/*.py")):
        if path.name == "__init__.py":
            continue
        route = _get_kwargs_route(ast.parse(path.read_text(encoding="utf-8")))
        if route is not None:
            routes[f"{RAW_API}.{path.parent.name}.{path.stem}"] = route
    return routes


def facade_imports(src: Path = FACADE) -> dict[str, list[str]]:
    """Map each module the facade imports from ``pleo_export_raw.api`` to the files importing it.

    ``from pleo_export_raw.api.<tag> import <op>`` names ``pleo_export_raw.api.<tag>.<op>``;
    ``src/pleo_export/testing/`` is the fake server, which does not count as wrapping.
    """
    found: dict[str, list[str]] = {}
    for path in sorted(src.rglob("*.py")):
        relative = path.relative_to(src)
        if relative.parts[0] == "testing":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                if name.startswith(f"{RAW_API}."):
                    found.setdefault(name, []).append(relative.as_posix())
    return found


def _load_exclusions(coverage: Path) -> tuple[dict[str, str], list[str]]:
    if not coverage.is_file():
        return {}, [f"{_display(coverage)} is missing"]
    data = _load(coverage) or {}
    if not isinstance(data, dict) or not all(
        isinstance(key, str) and isinstance(reason, str) and reason.strip()
        for key, reason in data.items()
    ):
        return {}, [f"{_display(coverage)} must map each operationId to a non-empty reason"]
    return data, []


def check_coverage(
    spec_path: Path = SPEC,
    *,
    src: Path = FACADE,
    package: Path = GENERATED,
    coverage: Path = COVERAGE,
) -> list[str]:
    """Check that each spec operation is wrapped by the facade or excluded with a reason.

    Returns:
        Problems for an operation neither wrapped nor excluded, an exclusion naming an operation
        the spec no longer has, an operation both wrapped and excluded, and a facade import of a
        generated endpoint module that serves no spec operation.
    """
    operations = spec_operations(_load(spec_path))
    by_route = {_route_key(*route): op_id for op_id, route in operations.items()}
    modules = {mod: _route_key(*route) for mod, route in generated_operations(package).items()}
    exclusions, problems = _load_exclusions(coverage)
    wrapped: dict[str, list[str]] = {}
    for module, importers in sorted(facade_imports(src).items()):
        if module in modules:
            op_id = by_route.get(modules[module])
            if op_id is None:
                problems.append(
                    f"{', '.join(importers)} imports {module}, which serves no operation in"
                    f" {_display(spec_path)}: run `make generate` or drop the import"
                )
            else:
                wrapped.setdefault(op_id, []).extend(importers)
        elif module.count(".") == 3:  # pleo_export_raw.api.<tag>.<operation>
            problems.append(f"{', '.join(importers)} imports {module}, which is not generated")
    for op_id, (method, path) in sorted(operations.items()):
        if op_id not in wrapped and op_id not in exclusions:
            problems.append(
                f"operation {op_id} ({method} {path}) is neither wrapped by the facade nor listed"
                f" in {_display(coverage)}: wrap it, or exclude it there with a reason"
            )
        elif op_id in wrapped and op_id in exclusions:
            problems.append(
                f"operation {op_id} is wrapped by {', '.join(sorted(set(wrapped[op_id])))}"
                f" but also excluded in {_display(coverage)}: drop the exclusion"
            )
    for op_id in sorted(exclusions.keys() - operations.keys()):
        problems.append(
            f"{_display(coverage)} excludes {op_id}, which is not an operation in"
            f" {_display(spec_path)}: remove the stale entry"
        )
    return problems


# --- (d) the Pleo names the facade hard-codes exist in the spec -------------------------------


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def _text(value: object) -> str:
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


def _table(module_name: str, attribute: str) -> tuple[Any, str | None]:
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        return None, f"cannot import {module_name} to check {attribute}: {error}"
    if not hasattr(module, attribute):
        return None, f"{module_name} has no {attribute}"
    return getattr(module, attribute), None


def check_spec_names(
    spec_path: Path = SPEC,
    *,
    errors_module: str = "pleo_export._errors",
    lifecycle_module: str = "pleo_export._lifecycle",
    drift_module: str = "pleo_export._config",
) -> list[str]:
    """Check that the Pleo names hard-coded in the facade occur in the vendored spec.

    ``ERROR_TYPES`` keys (Pleo error ``type`` strings) must occur somewhere in the spec (its
    examples carry them); ``TRANSITIONS`` maps ``(status, event)`` to a status, which must be
    ``ExportJobStatus`` and ``ExportJobEventType`` values; ``SPEC_VERSION`` must be the vendored
    spec's ``info.version``.
    """
    spec = _load(spec_path)
    label = _display(spec_path)
    schemas = spec.get("components", {}).get("schemas", {})
    problems: list[str] = []

    error_types, problem = _table(errors_module, "ERROR_TYPES")
    if problem:
        problems.append(problem)
    else:
        known = set(_strings(spec))
        problems += [
            f"{errors_module}.ERROR_TYPES names error type {name!r}, which {label} never mentions"
            for name in sorted(map(_text, error_types))
            if name not in known
        ]

    transitions, problem = _table(lifecycle_module, "TRANSITIONS")
    if problem:
        problems.append(problem)
    else:
        statuses = set(map(str, schemas.get("ExportJobStatus", {}).get("enum", [])))
        events = set(map(str, schemas.get("ExportJobEventType", {}).get("enum", [])))
        bad_statuses, bad_events = set(), set()
        for (status, event), new_status in transitions.items():
            bad_statuses |= {_text(s) for s in (status, new_status)} - statuses
            bad_events |= {_text(event)} - events
        problems += [
            f"{lifecycle_module}.TRANSITIONS uses status {s!r}, not an ExportJobStatus in {label}"
            for s in sorted(bad_statuses)
        ]
        problems += [
            f"{lifecycle_module}.TRANSITIONS uses event {e!r}, not an ExportJobEventType in {label}"
            for e in sorted(bad_events)
        ]

    version, problem = _table(drift_module, "SPEC_VERSION")
    if problem:
        problems.append(problem)
    elif version != str(spec.get("info", {}).get("version")):
        problems.append(
            f"{drift_module}.SPEC_VERSION is {version!r} but {label} is version"
            f" {spec.get('info', {}).get('version')!r}: run `make update-spec`"
        )
    return problems


# --- Entry point ------------------------------------------------------------------------------


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """Run every check; print ``drift: ok`` or each problem under its check's name."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--upstream",
        type=Path,
        help=f"the upstream spec to vendor from (default: ${UPSTREAM_ENV}, else the recorded one)",
    )
    parser.add_argument(
        "--skip-generated", action="store_true", help="skip regenerating generated/ (the slow part)"
    )
    args = parser.parse_args(argv)
    notes: list[str] = []
    results: dict[str, list[str]] = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The generator runs in a subprocess: let it work while the other checks do theirs.
        generated = None if args.skip_generated else pool.submit(check_generated)
        results["vendored spec"] = check_vendored(upstream=args.upstream, note=notes.append)
        results["facade coverage"] = check_coverage()
        results["spec names"] = check_spec_names()
        if generated is not None:
            results = {"generated code": generated.result(), **results}
        else:
            notes.append("generated code not checked: --skip-generated")
    for message in notes:
        print(f"note: {message}")
    failed = {check: problems for check, problems in results.items() if problems}
    if not failed:
        print("drift: ok")
        return 0
    for check, problems in failed.items():
        print(f"drift: {check}: {len(problems)} problem(s)")
        for problem in problems:
            print(f"  - {problem}")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
