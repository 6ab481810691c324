"""The built distributions, installed the way a user installs them: the wheel and the sdist
each go into a fresh virtual environment outside the repository.

With no extras, an unrelated pytest suite must pass (pytest autoloads our plugin there). With
``[testing,cli]``, the README's quickstart, the README's pytest example and ``pleo-export spec
diff`` must work from the installed package alone. Our package comes only from the files built
here; its dependencies come from pip's usual sources (its cache first).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
#: Minutes a whole build-and-install sequence may take on a loaded machine.
TIMEOUT = 240

pytestmark = [pytest.mark.slow, pytest.mark.timeout(TIMEOUT)]

_BLOCK = re.compile(
    r"(?:<!-- readme-test: (?P<mode>[\w-]+)[^>]*-->\n)?```python\n(?P<code>.*?)```", re.S
)


def _readme_block(mode: str) -> str:
    """The first python block of the README in ``mode`` (as ``tests/test_readme.py`` reads them)."""
    for match in _BLOCK.finditer(README.read_text(encoding="utf-8")):
        if (match["mode"] or "program") == mode:
            return match["code"]
    raise AssertionError(f"the README has no {mode} block")


def _env() -> dict[str, str]:
    """The environment without anything pointing back into this repository or its venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _ok(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = _run(*args, cwd=cwd)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc


class Venv:
    """A fresh virtual environment without pip of its own; this interpreter's pip fills it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.python = path / "bin" / "python"
        _ok(sys.executable, "-m", "venv", "--without-pip", path, cwd=path.parent)

    def install(self, *requirements: str) -> None:
        """``pip install`` into this environment, quietly, preferring wheels."""
        _ok(
            sys.executable, "-m", "pip", "--python", self.python, "install", "--quiet",
            "--prefer-binary", *requirements, cwd=self.path.parent,
        )  # fmt: skip

    def script(self, name: str) -> Path:
        """A console script installed into this environment."""
        return self.path / "bin" / name


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wheel built from the checkout and a wheel built from the sdist built from it (which
    proves the sdist holds everything the wheel needs, LICENSE and generated code included)."""
    out = tmp_path_factory.mktemp("dist")
    _ok(sys.executable, "-m", "hatchling", "build", "-d", out, cwd=ROOT)
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        archive.extractall(out / "unpacked", filter="data")
    assert any(name.endswith("/LICENSE") for name in names), names[:20]
    (source,) = (out / "unpacked").iterdir()
    from_sdist = out / "from-sdist"
    _ok(sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", from_sdist, cwd=source)
    (rebuilt,) = from_sdist.glob("*.whl")
    return {"wheel": wheel, "sdist": rebuilt}


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_distributions_carry_the_license_and_complete_metadata(
    dists: dict[str, Path], kind: str
) -> None:
    """Each wheel holds the Apache-2.0 text and metadata a package index shows: License-File,
    the SPDX expression, an author, a project URL, and classifiers for Python 3.11–3.13 (the
    versions the suite has run on)."""
    with zipfile.ZipFile(dists[kind]) as wheel:
        info = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(wheel.read(info).decode())
        license_text = wheel.read(info.replace("METADATA", "licenses/LICENSE")).decode()
    assert "Apache License" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text  # the full text, not a stub
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["Author"]
    assert all(url.split(", ")[1].startswith("https://") for url in metadata.get_all("Project-URL"))
    classifiers = set(metadata.get_all("Classifier"))
    minors = {f"Programming Language :: Python :: 3.{m}" for m in range(11, 14)}
    assert minors <= classifiers
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "](http" in str(metadata.get_payload())


@pytest.fixture(scope="module", params=["wheel", "sdist"])
def base_install(
    request: pytest.FixtureRequest, dists: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Venv, Path]]:
    """A fresh venv with the package (no extras) and pytest; and the wheel it came from."""
    home = tmp_path_factory.mktemp(f"user-{request.param}")
    venv = Venv(home / "venv")
    wheel = dists[request.param]
    venv.install(str(wheel), "pytest")
    yield venv, wheel
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def full_install(base_install: tuple[Venv, Path]) -> Venv:
    """The same venv after ``pip install 'pleo-export[testing,cli]'`` from the same wheel."""
    venv, wheel = base_install
    venv.install(f"{wheel}[testing,cli]")
    return venv


def test_without_extras_an_unrelated_pytest_suite_passes(base_install: tuple[Venv, Path]) -> None:
    """pytest autoloads the ``pleo_export`` plugin from a base install and a suite that has
    nothing to do with Pleo passes; a plugin that imports the fake eagerly fails the run."""
    venv, _ = base_install
    project = venv.path.parent / "unrelated"
    project.mkdir()
    (project / "test_unrelated.py").write_text("def test_sum():\n    assert sum([1, 2]) == 3\n")
    proc = _ok(venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--trace-config",
               cwd=project)  # fmt: skip
    assert "pleo_export.testing.pytest_plugin" in proc.stdout  # the plugin was loaded
    assert "1 passed" in proc.stdout


def test_with_testing_and_cli_the_readme_runs(full_install: Venv) -> None:
    """With ``[testing,cli]`` the README's quickstart runs and its pytest example passes under
    pytest-asyncio's default mode, from the installed package alone."""
    venv = full_install
    work = venv.path.parent / "readme"
    work.mkdir()
    (work / "quickstart.py").write_text(_readme_block("program"))
    proc = _ok(venv.python, "quickstart.py", cwd=work)
    assert re.search(r"items booked → completed", proc.stdout), proc.stdout
    (work / "test_from_readme.py").write_text(_readme_block("pytest"))
    proc = _ok(venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=work)
    assert "1 passed" in proc.stdout
    proc = _ok(venv.script("pleo-export"), "--version", cwd=work)
    assert proc.stdout.startswith("pleo-export ")


def test_with_cli_spec_diff_runs_from_the_installed_package(full_install: Venv) -> None:
    """``pleo-export spec diff OLD NEW`` reports the drift between two spec files with no source
    checkout beside it.

    Fails if the engine is missing from the wheel or still reads the repository's ``scripts/``.
    """
    venv = full_install
    work = venv.path.parent / "spec"
    work.mkdir(exist_ok=True)
    for name in ("base.yaml", "revised.yaml"):
        shutil.copy(ROOT / "tests" / "data" / "drift" / name, work / name)
    proc = _ok(venv.script("pleo-export"), "spec", "diff", "base.yaml", "revised.yaml", cwd=work)
    assert "breaking" in proc.stdout
