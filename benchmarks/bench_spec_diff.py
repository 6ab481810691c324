"""Spec diff speed: Pleo's 32.1.0 contract against itself and against a copy with 50 edits.

The contract is ``openapi/pleo-export.yaml`` (98 schemas, 30 operations, every ``$ref`` walked
per operation, so shared components are compared once per operation that reaches them). The
edited copy gets 50 planted changes spread over the component schemas, five kinds in turn: a
property added, a maxLength set, a type changed, a property made nullable, a property removed.
Figures are CPU ms per diff, medians of interleaved rounds; the baseline is a ``deepcopy`` of
the same document in the same run (one full walk of it), so the ratio says how many plain
walks one diff costs.

Run alone: ``.venv/bin/python benchmarks/bench_spec_diff.py``.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from _common import REPO, Goal, Report, fmt, interleave, median

from pleo_export.spec import diff_specs, load_document

__all__ = ["main", "plant", "run"]

SPEC = REPO / "openapi" / "pleo-export.yaml"
PLANTED = 50
#: The issue's limit for diffing the Pleo spec against itself, in seconds.
SELF_DIFF_LIMIT = 1.0

Schema = dict[str, Any]


def _add_property(schema: Schema) -> bool:
    schema["properties"]["plantedField"] = {"type": "string"}
    return True


def _first(schema: Schema, kind: str) -> Schema | None:
    for child in schema["properties"].values():
        if isinstance(child, dict) and child.get("type") == kind and "$ref" not in child:
            return child
    return None


def _set_max_length(schema: Schema) -> bool:
    child = _first(schema, "string")
    if child is None or "maxLength" in child:
        return False
    child["maxLength"] = 7
    return True


def _change_type(schema: Schema) -> bool:
    child = _first(schema, "string")
    if child is None:
        return False
    child["type"] = "integer"
    child.pop("format", None)
    return True


def _make_nullable(schema: Schema) -> bool:
    for child in schema["properties"].values():
        if isinstance(child, dict) and "$ref" not in child and not child.get("nullable"):
            child["nullable"] = True
            return True
    return False


def _remove_property(schema: Schema) -> bool:
    required = set(schema.get("required") or ())
    for name in schema["properties"]:
        if name not in required:
            del schema["properties"][name]
            return True
    return False


_EDITS: tuple[Callable[[Schema], bool], ...] = (
    _add_property,
    _set_max_length,
    _change_type,
    _make_nullable,
    _remove_property,
)


def plant(document: dict[str, Any], count: int = PLANTED) -> dict[str, Any]:
    """A copy of ``document`` with ``count`` edits, one per component schema that takes one."""
    revised = copy.deepcopy(document)
    planted = 0
    for schema in revised["components"]["schemas"].values():
        if planted == count:
            break
        if isinstance(schema.get("properties"), dict) and schema["properties"]:
            planted += _EDITS[planted % len(_EDITS)](schema)
    if planted < count:
        raise RuntimeError(f"only {planted} of {count} edits could be planted")
    return revised


def run(quick: bool = False) -> list[Report]:
    """Time loading, a self-diff, a 50-edit diff and the deepcopy baseline."""
    started = time.perf_counter()
    rounds = 5 if quick else 15
    document = load_document(str(SPEC))
    same, revised = copy.deepcopy(document), plant(document)
    cases: dict[str, Callable[[], object]] = {
        "deepcopy of the spec (baseline)": lambda: copy.deepcopy(document),
        "diff against itself": lambda: diff_specs(document, same),
        f"diff against {PLANTED} planted changes": lambda: diff_specs(document, revised),
        "load and parse the YAML": lambda: load_document(str(SPEC)),
    }
    times = interleave(cases, rounds=rounds)
    ms = {name: median(values) * 1000 for name, values in times.items()}
    baseline = ms["deepcopy of the spec (baseline)"]
    rows = [[name, fmt(value), f"{fmt(value / baseline)}×"] for name, value in ms.items()]
    findings = diff_specs(document, revised)
    levels = Counter(change.level.label for change in findings)
    self_diff = ms["diff against itself"] / 1000
    report = Report(
        title="Spec diff: Pleo 32.1.0 against itself and against 50 planted changes",
        header=["case", "CPU ms", "× deepcopy"],
        rows=rows,
        goals=[Goal("diff of the Pleo spec against itself", self_diff, SELF_DIFF_LIMIT, " s")],
        notes=[
            f"the {PLANTED} planted changes give {len(findings)} findings "
            f"({levels['breaking']} breaking, {levels['warning']} warning, {levels['info']} info): "
            "a change to a shared component is reported for every operation reaching it",
            f"the self-diff reports {len(diff_specs(document, same))} findings",
        ],
    )
    report.seconds = time.perf_counter() - started
    return [report]


def main() -> None:
    """Print the report."""
    for report in run():
        print(report.text())


if __name__ == "__main__":
    main()
