"""The graded pairs of ``tests/data/spec/graded-pairs.yaml``: every expected finding is reported,
at oasdiff's level unless the rule table raises it on purpose, and no false-alarm shape reports
anything at warning or above.

``python tests/spec/graded.py`` prints the same figures (and grades another engine when its
``src`` comes first on ``PYTHONPATH``).
"""

from __future__ import annotations

import pytest
from graded import Grade, grade_all, report  # tests/spec is on the path (rootdir imports)

from pleo_export.spec import RULES, Origin

_GRADES = grade_all()


def test_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """Print the figures; every expected finding is found (fails on any miss)."""
    text = report(_GRADES)
    with capsys.disabled():
        print("\n" + text)
    assert all(not g.missing for g in _GRADES), text


@pytest.mark.parametrize("grade", _GRADES, ids=lambda g: g.name)
def test_pair(grade: Grade) -> None:
    """Fails when a finding is missing, reported at another level than oasdiff's (unless our
    rule table marks the id as raised, with its reason), or when a false-alarm shape warns."""
    assert not grade.missing, grade.missing
    for entry in grade.off_level:
        rule_id = entry.split()[0]
        assert RULES[rule_id].origin is Origin.RAISED, entry
    assert grade.quiet is not False, grade.reported


def test_every_json_schema_keyword_has_a_pair() -> None:
    """Each OpenAPI 3.1 keyword the issue names is exercised by at least one 3.1 pair."""
    names = " ".join(g.name for g in _GRADES)
    for word in (
        "type-list",
        "const",
        "examples",
        "prefix-item",
        "contains",
        "if-then",
        "else",
        "dependent-required",
        "dependent-schema",
        "unevaluated-properties",
        "unevaluated-items",
        "exclusive-minimum",
        "exclusive-maximum",
        "ref-sibling",
        "not-",
    ):
        assert word in names, word
