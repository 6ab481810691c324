"""Without the ``testing`` extra: pytest still runs in a project that installed pleo-export,
and the fake's names fail with the install line instead of a bare ``ModuleNotFoundError``.

Each case runs in a fresh interpreter where importing starlette or uvicorn fails, as it does in
a base install; ``test_install.py`` repeats the first case with a real wheel and no extras."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: Makes the extra's packages unimportable, then runs the statement given after it.
_WITHOUT_EXTRA = textwrap.dedent(
    """
    import sys

    class _Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("starlette", "uvicorn"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, _Blocker())
    """
)


def _run(statement: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRA + statement],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _write_tests(directory: Path, body: str) -> None:
    (directory / "test_other.py").write_text(textwrap.dedent(body))


def test_unrelated_pytest_run_passes_without_the_extra(tmp_path: Path) -> None:
    """pytest autoloads the plugin and an unrelated suite passes; an eager import of the fake in
    the plugin (the 0.1.0 bug) fails the whole run at start-up."""
    _write_tests(tmp_path, "def test_arithmetic():\n    assert 1 + 1 == 2\n")
    run = _run(
        "import pytest; raise SystemExit(pytest.main(['-q', '-p', 'no:cacheprovider']))", tmp_path
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout


def test_a_fake_fixture_without_the_extra_names_the_install_line(tmp_path: Path) -> None:
    """Using ``fake_pleo`` errors with ``pip install 'pleo-export[testing]'``; a fixture that is
    missing or one that raises a bare ImportError fails this."""
    _write_tests(tmp_path, "def test_uses_fake(fake_pleo):\n    pass\n")
    run = _run(
        "import pytest; raise SystemExit(pytest.main(['-q', '-p', 'no:cacheprovider']))", tmp_path
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 error" in run.stdout
    assert "pip install 'pleo-export[testing]'" in run.stdout


@pytest.mark.parametrize("name", ["FakePleo", "FakePleoServer", "FakeTransport"])
def test_importing_the_fake_without_the_extra_names_the_install_line(
    tmp_path: Path, name: str
) -> None:
    """``from pleo_export.testing import FakePleo`` raises ModuleNotFoundError naming the extra
    and the missing module; the raw "No module named 'starlette'" fails this."""
    run = _run(f"from pleo_export.testing import {name}", tmp_path)
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: pleo_export.testing."), last
    assert "testing extra (starlette is missing)" in last
    assert "pip install 'pleo-export[testing]'" in last
