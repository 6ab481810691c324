"""Grade the spec diff on the pairs in ``tests/data/spec/graded-pairs.yaml``.

``python tests/spec/graded.py`` prints, for the engine on the import path, how many expected
findings it reports and how many at oasdiff's level, and how many false-alarm shapes stay quiet
(nothing at warning or above). To grade another engine, put its ``src`` first on the path:
``PYTHONPATH=/path/to/other/src python tests/spec/graded.py``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pleo_export.spec import Level, diff_specs

PAIRS = Path(__file__).resolve().parents[1] / "data" / "spec" / "graded-pairs.yaml"
_LEVELS = {"error": Level.BREAKING, "warning": Level.WARNING, "info": Level.INFO}


@dataclass
class Grade:
    """How one pair came out."""

    name: str
    expected: list[tuple[str, Level]]
    reported: dict[str, Level]
    quiet: bool | None  # for a false-alarm shape: nothing at warning or above; else None
    own: bool = False
    missing: list[str] = field(default_factory=list)
    off_level: list[str] = field(default_factory=list)


def _document(pair: dict[str, Any], side: str) -> dict[str, Any]:
    components = pair.get(f"{side}_components", pair.get("components", {}))
    if "operation" in pair:
        paths = {"/p": {"get": pair["operation"][side]}}
    elif "request" in pair:
        body = {
            "required": True,
            "content": {"application/json": {"schema": pair["request"][side]}},
        }
        paths = {"/p": {"post": {"requestBody": body, "responses": {"204": {"description": "ok"}}}}}
    else:
        content = {"application/json": {"schema": pair["response"][side]}}
        paths = {"/p": {"get": {"responses": {"200": {"description": "ok", "content": content}}}}}
    return {
        "openapi": str(pair.get("openapi", "3.0.1")),
        "info": {"title": pair["name"], "version": "1"},
        "paths": paths,
        "components": {"schemas": components},
    }


def grade(pair: dict[str, Any]) -> Grade:
    """Diff one pair and compare what is reported with what oasdiff reports."""
    changes = diff_specs(_document(pair, "old"), _document(pair, "new"))
    reported = {change.id: change.level for change in changes}
    expected = []
    for line in pair["expect"]:
        rule_id, level = line.split()
        expected.append((rule_id, _LEVELS[level]))
    quiet = None
    if pair.get("quiet"):
        quiet = not any(change.level >= Level.WARNING for change in changes)
    result = Grade(pair["name"], expected, reported, quiet, bool(pair.get("own")))
    for rule_id, level in expected:
        if rule_id not in reported:
            result.missing.append(rule_id)
        elif reported[rule_id] is not level:
            result.off_level.append(f"{rule_id} ours {reported[rule_id].label}")
    return result


def grade_all() -> list[Grade]:
    """Grade every pair in the file."""
    pairs = yaml.safe_load(PAIRS.read_text(encoding="utf-8"))
    return [grade(pair) for pair in pairs]


def report(grades: list[Grade]) -> str:
    """The figures, then one line per pair that is not fully right."""
    expected = sum(len(g.expected) for g in grades)
    found = expected - sum(len(g.missing) for g in grades)
    at_level = found - sum(len(g.off_level) for g in grades)
    shapes = [g for g in grades if g.quiet is not None]
    lines = [
        f"{len(grades)} graded pairs, {expected} expected findings: "
        f"{found} found ({found / expected:.0%}), {at_level} at oasdiff's level "
        f"({at_level / expected:.0%}); false-alarm shapes quiet: "
        f"{sum(bool(g.quiet) for g in shapes)}/{len(shapes)}"
    ]
    for g in grades:
        problems = [f"missing {m}" for m in g.missing] + [f"level {o}" for o in g.off_level]
        if g.quiet is False:
            loud = [f"{i} {lvl.label}" for i, lvl in g.reported.items() if lvl >= Level.WARNING]
            problems.append("false alarm: " + ", ".join(loud))
        if problems:
            lines.append(f"  {g.name}{' (own id)' if g.own else ''}: {'; '.join(problems)}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(report(grade_all()))
