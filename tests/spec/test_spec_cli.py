"""``pleo-export spec diff`` runs the packaged engine: no checkout, no ``scripts/`` needed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pleo_export.spec

DATA = Path(__file__).resolve().parents[1] / "data" / "drift"
#: Runs the CLI with ``scripts`` unimportable, as in an installed wheel without the repository.
_NO_SCRIPTS = textwrap.dedent(
    """
    import sys
    sys.modules["scripts"] = None  # any `import scripts…` now raises ImportError
    from pleo_export._cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _NO_SCRIPTS, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    """The drift fixture pair copied into a folder outside the repository."""
    for name in ("base.yaml", "revised.yaml"):
        shutil.copyfile(DATA / name, tmp_path / name)
    return tmp_path


def test_spec_diff_runs_outside_the_repository(specs: Path) -> None:
    """From a folder with no checkout and ``scripts`` blocked, ``spec diff`` prints the report
    and honours --fail-on; it fails if the CLI still loads anything from ``scripts/``."""
    proc = _cli(specs, "spec", "diff", "base.yaml", "revised.yaml", "--fail-on", "breaking")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("21 changes: 6 breaking, 5 warning, 10 info")
    proc = _cli(specs, "spec", "diff", "base.yaml", "revised.yaml", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["total"] == 21


def test_spec_diff_lists_rules(specs: Path) -> None:
    """``spec diff --list-rules`` names the oasdiff release, then prints the whole rule table,
    one id, level and meaning a line."""
    proc = _cli(specs, "spec", "diff", "--list-rules")
    assert proc.returncode == 0, proc.stderr
    header, *lines = proc.stdout.splitlines()
    assert header.startswith("# ids and levels follow oasdiff v1.28.0")
    assert len(lines) == len(pleo_export.spec.RULES)
    assert "request-property-max-decreased" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("missing.yaml", "revised.yaml"), "cannot read missing.yaml"),
        (("base.yaml",), "OLD and NEW are required"),
    ],
)
def test_spec_diff_errors_are_one_line(specs: Path, args: tuple[str, ...], message: str) -> None:
    """An unreadable spec or a missing argument exits 2 with one line naming the problem."""
    proc = _cli(specs, "spec", "diff", *args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"pleo-export: error: {message}")


def test_engine_imports_nothing_from_the_repository() -> None:
    """No module of ``pleo_export.spec`` imports ``scripts`` or reads ``shared/``."""
    package = Path(pleo_export.spec.__file__).parent
    for path in package.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import scripts" not in text, path.name
        assert "from scripts" not in text, path.name
        assert "../shared" not in text, path.name
