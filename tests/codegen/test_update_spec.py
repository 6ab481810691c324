"""scripts.update_spec: vendor a new upstream, report drift, regenerate, log; never in place."""

from __future__ import annotations

import datetime
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pleo_export.spec import Change
from scripts import update_spec
from scripts._spec_io import REPO_ROOT
from scripts.update_spec import add_changelog_entry, changelog_entry, set_spec_version

#: A byte-identical copy of ``../shared/reference/pleo-export-openapi.yml`` (32.1.0), so these
#: tests never need ``../shared``; the committed spec records that file's sha256.
REFERENCE = REPO_ROOT / "tests" / "data" / "spec" / "pleo-export-openapi-32.1.0.yml"
ENTRY = "- 2025-01-02: Pleo Export API spec 32.1.0 → 32.2.0 (...): 1 contract changes.\n"


def _newer_upstream() -> dict[str, Any]:
    """The reference spec as a hypothetical 32.2.0: a status added, a required field dropped."""
    spec = yaml.safe_load(REFERENCE.read_bytes())
    spec["info"]["version"] = "32.2.0"
    spec["components"]["schemas"]["ExportJobStatus"]["enum"].append("archived")
    # v0-v2 jobs repeat the status list inline; the generator needs the two lists to agree.
    spec["components"]["schemas"]["ExportJob"]["properties"]["status"]["enum"].append("archived")
    job = spec["components"]["schemas"]["ExportJobV3"]
    del job["properties"]["expiresIn"]
    job["required"].remove("expiresIn")
    return spec


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A copy of the spec pipeline (scripts, openapi, generated, _config.py) beside a shared/."""
    root = tmp_path / "main"
    ignore = shutil.ignore_patterns("__pycache__", ".ruff_cache", ".mypy_cache")
    for folder in ("scripts", "openapi", "generated"):
        shutil.copytree(REPO_ROOT / folder, root / folder, ignore=ignore)
    (root / "src" / "pleo_export").mkdir(parents=True)
    config = Path("src") / "pleo_export" / "_config.py"
    shutil.copyfile(REPO_ROOT / config, root / config)
    upstream = tmp_path / "shared" / "reference" / "pleo-export-openapi-32.2.0.yml"
    upstream.parent.mkdir(parents=True)
    upstream.write_text(yaml.safe_dump(_newer_upstream(), sort_keys=False), encoding="utf-8")
    return root


def _snapshot() -> dict[str, bytes | None]:
    paths = [
        REPO_ROOT / "openapi" / "pleo-export.yaml",
        REPO_ROOT / "generated" / "pleo_export_raw" / "models" / "export_job_status.py",
        REPO_ROOT / "src" / "pleo_export" / "_config.py",
        REPO_ROOT / "CHANGELOG.md",
    ]
    return {str(p): p.read_bytes() if p.exists() else None for p in paths}


def test_update_in_a_copy_of_the_repo(repo_copy: Path) -> None:
    """A full run rewrites the spec, generated/, SPEC_VERSION and CHANGELOG.md of its repo only."""
    before = _snapshot()
    source = repo_copy.parent / "shared" / "reference" / "pleo-export-openapi-32.2.0.yml"
    result = subprocess.run(
        [sys.executable, "-m", "scripts.update_spec", str(source)],
        capture_output=True,
        text=True,
        check=False,
        cwd=repo_copy,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "spec drift 32.1.0 → 32.2.0" in result.stdout
    assert "response-required-property-removed" in result.stdout

    vendored = yaml.safe_load((repo_copy / "openapi" / "pleo-export.yaml").read_bytes())
    assert vendored["info"]["x-upstream"] == {
        "source": "../shared/reference/pleo-export-openapi-32.2.0.yml",
        "version": "32.2.0",
        "sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
    }
    status = repo_copy / "generated" / "pleo_export_raw" / "models" / "export_job_status.py"
    assert 'ARCHIVED = "archived"' in status.read_text()
    drift = (repo_copy / "src" / "pleo_export" / "_config.py").read_text()
    assert 'SPEC_VERSION: Final = "32.2.0"' in drift

    changelog = (repo_copy / "CHANGELOG.md").read_text()
    today = datetime.date.today().isoformat()
    assert changelog.startswith(f"# Changelog\n\n## Unreleased\n\n- {today}: Pleo Export API spec")
    assert re.search(
        r"32\.1\.0 → 32\.2\.0 .*: 13 contract changes \(3 breaking, 9 warning, 1 info\)", changelog
    )
    assert (
        "  - breaking: GET /v3/export-jobs/{jobId}: required property data.expiresIn removed"
        in changelog
    )

    assert _snapshot() == before, "the real repo was modified"


def test_dry_run_reports_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run prints the drift report and leaves every file of the repo as it was."""
    source = tmp_path / "upstream.yml"
    source.write_text(yaml.safe_dump(_newer_upstream()), encoding="utf-8")
    before = _snapshot()
    assert update_spec.main(["--dry-run", str(source)]) == 0
    out = capsys.readouterr().out
    assert "13 changes: 3 breaking, 9 warning, 1 info" in out
    assert out.endswith("dry run: nothing written\n")
    assert _snapshot() == before


def test_same_spec_reports_no_changes(capsys: pytest.CaptureFixture[str]) -> None:
    """Re-vendoring the recorded upstream reports zero contract changes."""
    assert update_spec.main(["--dry-run", str(REFERENCE)]) == 0
    assert "0 changes" in capsys.readouterr().out


def test_overlay_that_no_longer_applies_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new upstream without a path our overlay targets stops with the target and the fix."""
    spec = _newer_upstream()
    del spec["paths"]["/v0/export-items"]
    source = tmp_path / "upstream.yml"
    source.write_text(yaml.safe_dump(spec), encoding="utf-8")
    before = _snapshot()
    assert update_spec.main(["--dry-run", str(source)]) == 1
    err = capsys.readouterr().err
    assert "targets nothing: $.paths['/v0/export-items'].get" in err
    assert "openapi/overlay.yaml" in err
    assert _snapshot() == before


def test_unreadable_source_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing source file is one line on stderr, not a traceback."""
    assert update_spec.main([str(tmp_path / "missing.yml")]) == 1
    assert capsys.readouterr().err.startswith(f"cannot read {tmp_path / 'missing.yml'}:")


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        (None, f"# Changelog\n\n## Unreleased\n\n{ENTRY}"),
        (
            "# Changelog\n\n## Unreleased\n\n- Added the worker.\n\n## 0.1.0\n\n- First.\n",
            f"# Changelog\n\n## Unreleased\n\n{ENTRY}- Added the worker.\n\n## 0.1.0\n\n- First.\n",
        ),
        (
            "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- Worker.\n",
            f"# Changelog\n\n## [Unreleased]\n\n{ENTRY}\n### Added\n\n- Worker.\n",
        ),
        (
            "# Changelog\n\n## 0.1.0\n\n- First.\n",
            f"# Changelog\n\n## Unreleased\n\n{ENTRY}\n## 0.1.0\n\n- First.\n",
        ),
        ("# Changelog\n", f"# Changelog\n\n## Unreleased\n\n{ENTRY}"),
    ],
    ids=["absent", "unreleased-list", "unreleased-subsections", "releases-only", "title-only"],
)
def test_changelog_entry_goes_under_unreleased(existing: str | None, expected: str) -> None:
    """The entry is created, or put first under Unreleased, adding that heading where missing."""
    assert add_changelog_entry(existing, ENTRY) == expected


def test_changelog_entry_caps_the_breaking_list() -> None:
    """Beyond ten breaking changes the entry counts the rest instead of listing them."""
    new = {
        "info": {"version": "2", "x-upstream": {"version": "2", "sha256": "ab" * 32, "source": "s"}}
    }
    changes = [
        Change("api-path-removed-without-deprecation", f"path {i} removed") for i in range(12)
    ]
    entry = changelog_entry({"info": {"version": "1"}}, new, changes, datetime.date(2025, 1, 2))
    lines = entry.splitlines()
    assert lines[0] == (
        "- 2025-01-02: Pleo Export API spec 1 → 2 (sha256 abababababab, from s):"
        " 12 contract changes (12 breaking, 0 warning, 0 info)."
    )
    assert len(lines) == 12
    assert lines[-1] == "  - and 2 more breaking changes"


def test_set_spec_version_rewrites_exactly_one_line() -> None:
    """SPEC_VERSION is rewritten in place; a module without that line is refused."""
    assert set_spec_version('x = 1\nSPEC_VERSION: Final = "32.1.0"\n', "33.0.0") == (
        'x = 1\nSPEC_VERSION: Final = "33.0.0"\n'
    )
    with pytest.raises(ValueError, match="SPEC_VERSION"):
        set_spec_version("x = 1\n", "33.0.0")
