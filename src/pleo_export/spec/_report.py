"""Rendering a diff for people (text) and machines (JSON), the rule table, and the exit status."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ._change import Change, Operation
from ._rules import OASDIFF_VERSION, Level, iter_rules

__all__ = ["exit_code", "format_json", "format_rules", "format_text"]


def _counts(changes: Sequence[Change]) -> dict[str, int]:
    counts = {"total": len(changes)}
    for level in sorted(Level, reverse=True):
        counts[level.label] = sum(1 for change in changes if change.level is level)
    return counts


def _summary(changes: Sequence[Change]) -> str:
    counts = _counts(changes)
    parts = ", ".join(
        f"{counts[level.label]} {level.label}" for level in sorted(Level, reverse=True)
    )
    noun = "change" if len(changes) == 1 else "changes"
    return f"{len(changes)} {noun}: {parts}"


def _operation_order(operation: Operation | None) -> tuple[int, str, str]:
    if operation is None:
        return (0, "", "")
    return (1, operation.path, operation.method)


def format_text(changes: Sequence[Change]) -> str:
    """Render changes for people: grouped by level (worst first), then by operation."""
    lines = [_summary(changes)]
    for level in sorted(Level, reverse=True):
        group = [change for change in changes if change.level is level]
        if not group:
            continue
        lines += ["", f"{level.label.upper()} ({len(group)})"]
        operations = sorted({change.operation for change in group}, key=_operation_order)
        for operation in operations:
            if operation is None:
                lines.append("  (document)")
            else:
                suffix = f"  [{operation.operation_id}]" if operation.operation_id else ""
                lines.append(f"  {operation}{suffix}")
            for change in group:
                if change.operation == operation:
                    where = f"{change.location}: " if change.location else ""
                    lines.append(f"    {change.id}  {where}{change.message}")
    return "\n".join(lines) + "\n"


def format_json(changes: Sequence[Change]) -> str:
    """Render changes as a JSON object with ``summary`` counts and a ``changes`` list."""
    payload = {"summary": _counts(changes), "changes": [change.to_dict() for change in changes]}
    return json.dumps(payload, indent=2) + "\n"


def format_rules() -> str:
    """Render the rule table: a line naming the oasdiff release the levels follow, then one line
    per id with its level, origin and meaning."""
    rules = list(iter_rules())
    width = max(len(rule_id) for rule_id, _ in rules)
    header = (
        f"# ids and levels follow oasdiff {OASDIFF_VERSION}; origin: oasdiff = its id and level, "
        "raised = its id at a higher level, own = no oasdiff counterpart\n"
    )
    return header + "".join(
        f"{rule_id:<{width}}  {rule.level.label:<8}  {rule.origin.value:<7}  {rule.meaning}\n"
        for rule_id, rule in rules
    )


def exit_code(changes: Sequence[Change], fail_on: Level | None) -> int:
    """Return 1 when some change is at or above ``fail_on``, else 0."""
    if fail_on is not None and any(change.level >= fail_on for change in changes):
        return 1
    return 0
