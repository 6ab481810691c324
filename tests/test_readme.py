"""The README's code runs as written: every python block is executed against the fake server.

Blocks are marked by the HTML comment on the line before them:

* no marker: a complete program, executed as it is;
* ``<!-- readme-test: fragment -->``: runs inside ``async with PleoExport(...) as pleo:`` on a
  fake with three pending jobs; top-level ``await`` is allowed, ``pleo`` and ``fake`` are set;
* ``<!-- readme-test: pytest -->``: a test module, run by pytest with the plugin's fixtures;
* ``<!-- readme-test: compile-only ... -->``: needs real credentials, so it is only compiled.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pleo_export import PleoExport
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
_BLOCK = re.compile(
    r"(?:<!-- readme-test: (?P<mode>[\w-]+)[^>]*-->\n)?```python\n(?P<code>.*?)```", re.S
)


def blocks() -> list[tuple[str, str, int]]:
    """Every python block of the README: (mode, code, line number)."""
    text = README.read_text(encoding="utf-8")
    return [
        (m["mode"] or "program", m["code"], text.count("\n", 0, m.start("code")) + 1)
        for m in _BLOCK.finditer(text)
    ]


def _params(mode: str) -> list[Any]:
    return [
        pytest.param(code, id=f"line-{line}") for found, code, line in blocks() if found == mode
    ]


def test_readme_opens_with_install_then_the_source_checkout_commands() -> None:
    """The first screen (as a package index shows it) installs with pip before any ``make``
    command, which means nothing to someone with only the wheel; ``make demo`` and
    ``make test`` follow under "From a source checkout", and the Makefile has both."""
    text = README.read_text(encoding="utf-8")
    first_screen = "\n".join(text.splitlines()[:25])
    assert "pip install 'pleo-export[testing,cli]'" in first_screen
    assert "make " not in first_screen
    checkout = text.index("### From a source checkout")
    assert text.index("## Install") < text.index("## Quickstart") < checkout
    assert text.index("make demo", checkout) < text.index("make test", checkout)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\ndemo:" in makefile
    assert "\ntest:" in makefile


def test_readme_runs_examples_with_the_venvs_interpreter() -> None:
    """The source-checkout section says to run the examples with ``.venv/bin/python``, the
    interpreter ``make`` installed the SDK into; a bare ``python examples/...`` fails this."""
    text = README.read_text(encoding="utf-8")
    assert ".venv/bin/python examples/" in text
    assert re.search(r"(?<![/\w])python examples/", text) is None


def test_every_block_has_a_known_mode() -> None:
    """A typo in a marker would silently skip a block; every mode is one of the four."""
    modes = {mode for mode, _, _ in blocks()}
    assert modes <= {"program", "fragment", "pytest", "compile-only"}, modes
    assert {"program", "fragment", "pytest"} <= modes


def test_blocks_fit_the_line_length() -> None:
    """Code in the README keeps to the project's 100 columns, so it reads without scrolling."""
    for _, code, line in blocks():
        for offset, text in enumerate(code.splitlines()):
            assert len(text) <= 100, f"README line {line + offset}"


def test_links_are_absolute() -> None:
    """Every link is an absolute http(s) URL: a package index renders the README away from the
    repository, where relative links and heading anchors lead nowhere."""
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)]*)\)", text)
    assert targets
    assert [t for t in targets if not t.startswith(("https://", "http://"))] == []


def test_named_files_exist() -> None:
    """Every repository path the README quotes in backticks (``docs/cli.md``, ``examples/``)
    exists, or, for a generated report, the script that writes it does."""
    reports = {
        "BENCHMARKS.md": "benchmarks/run_all.py",
        "RELIABILITY.md": "tests/reliability/_figures.py",
    }
    text = README.read_text(encoding="utf-8")
    named = re.findall(r"`((?:docs|examples|benchmarks|openapi|tests)/[\w./-]*|[A-Z]+\.md)`", text)
    assert len(named) > 10
    for path in named:
        if not (ROOT / path).exists() and path in reports:
            path = reports[path]
        assert (ROOT / path).exists(), path


@pytest.mark.parametrize("code", _params("compile-only"))
def test_compile_only_blocks_compile(code: str) -> None:
    """Blocks that need real credentials are at least valid Python."""
    compile(code, "README.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


@pytest.mark.parametrize("code", _params("program"))
def test_program_blocks_run(
    code: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A complete program from the README runs to the end and prints something."""
    for name in ("PLEO_API_KEY", "PLEO_BEARER_TOKEN", "PLEO_ENVIRONMENT", "PLEO_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    assert capsys.readouterr().out


@pytest.mark.parametrize("code", _params("fragment"))
async def test_fragment_blocks_run(code: str) -> None:
    """A fragment runs inside an open client on a fake with three pending jobs."""
    fake = FakePleo(seed=3)
    for number in range(3):
        fake.add_job(items=120 + number, vendor_based_bookkeeping=number == 1)
    compiled = compile(code, "README.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    async with fake.serve() as url, PleoExport(api_key=DEFAULT_API_KEY, base_url=url) as pleo:
        namespace: dict[str, Any] = {"pleo": pleo, "fake": fake, "__name__": "__readme__"}
        result = eval(compiled, namespace)  # the README's own code, on purpose
        if inspect.iscoroutine(result):
            await result
    await asyncio.sleep(0)


@pytest.mark.parametrize("code", _params("pytest"))
def test_pytest_blocks_pass(code: str, tmp_path: Path) -> None:
    """A test from the README passes under pytest with the fake's plugin fixtures."""
    (tmp_path / "test_from_readme.py").write_text(code, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def test_pytest_configuration_silences_the_loop_scope_warning(tmp_path: Path) -> None:
    """The README's pytest block, run with the configuration the README gives after it (as a
    pyproject.toml), passes without pytest-asyncio's loop-scope deprecation warning; without
    that line (or with a misspelt one) the warning is printed and this fails."""
    text = README.read_text(encoding="utf-8")
    config = re.search(r"```toml\n(\[tool\.pytest\.ini_options\]\n.*?)```", text, re.S)
    assert config is not None, "the README gives no pytest configuration"
    (tmp_path / "pyproject.toml").write_text(config[1], encoding="utf-8")
    (code,) = _params("pytest")
    (tmp_path / "test_from_readme.py").write_text(code.values[0], encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "loop_scope" not in proc.stdout + proc.stderr


def _seconds(value: float) -> str:
    return f"{value:g} s"


def test_readme_quotes_the_configured_numbers() -> None:
    """The retry and timeout numbers in the README are the ones in _config.py."""
    from pleo_export import _config

    text = README.read_text(encoding="utf-8")
    timeout = _config.DEFAULT_TIMEOUT
    for quoted in (
        f"**{_config.DEFAULT_MAX_RETRIES} retries**",
        f"**{_seconds(_config.RETRY_WAIT_INITIAL)}",
        f"**{_seconds(_config.RETRY_WAIT_MAX)}**",
        f"**{_seconds(_config.RETRY_WAIT_JITTER)}**",
        f"**{_seconds(_config.RETRY_AFTER_MAX)}**",
        f"**{_seconds(timeout.read or 0)}** to read",
        f"**{_seconds(timeout.connect or 0)}**",
        f"**{_seconds(timeout.pool or 0)}**",
        f"batches of {_config.BATCH_LIMIT}",
        f"page size is {_config.DEFAULT_PAGE_SIZE}",
        f"every `poll_interval` seconds (default {_config.DEFAULT_POLL_INTERVAL:g})",
        f"`max_jobs` in all (default {_config.DEFAULT_WORKER_JOBS})",
        f"(default {_config.DEFAULT_RESUME_IDLE:g}; use 0",
        f"{_seconds(_config.DEFAULT_FLUSH_INTERVAL)} after the oldest",
    ):
        assert quoted in text, quoted


def test_changelog_keeps_unreleased_and_names_the_spec() -> None:
    """CHANGELOG.md keeps the `## Unreleased` heading update_spec writes under; names the spec."""
    from pleo_export._config import SPEC_VERSION

    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(r"^## Unreleased$", text, re.M)
    assert SPEC_VERSION in text


def test_readme_names_the_current_spec_version() -> None:
    """Every x.y.z version in the README is the spec the SDK is built from (none goes stale)."""
    from pleo_export._config import SPEC_VERSION

    pattern = r"(?<![\d.])\d+\.\d+\.\d+(?![\d.])"  # x.y.z, not part of an IP address
    versions = set(re.findall(pattern, README.read_text(encoding="utf-8")))
    assert versions == {SPEC_VERSION}
