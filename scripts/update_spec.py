"""Move the SDK to a new upstream spec: vendor it, report the drift, regenerate, log the change.

Vendors SOURCE (with ``openapi/overlay.yaml``) into a temporary file, prints the contract changes
from the current ``openapi/pleo-export.yaml`` to it (``pleo_export.spec``), then replaces the
vendored spec, regenerates ``generated/``, sets ``_config.SPEC_VERSION`` and adds a dated entry
under ``## Unreleased`` in ``CHANGELOG.md``. It does not run the tests: ``make update-spec`` does.

Usage: ``python -m scripts.update_spec SOURCE [--dry-run]``; exit status 1 when the overlay no
longer applies to SOURCE or generation fails, else 0.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from pleo_export.spec import Change, Level, SpecError, diff_specs, format_text
from scripts._spec_io import REPO_ROOT, load_yaml
from scripts.generate import DEFAULT_OUTPUT, GenerationError, generate
from scripts.vendor_spec import DEFAULT_OUTPUT as SPEC
from scripts.vendor_spec import DEFAULT_OVERLAY, vendor

__all__ = ["add_changelog_entry", "changelog_entry", "main", "set_spec_version"]

CHANGELOG = REPO_ROOT / "CHANGELOG.md"
CONFIG_MODULE = REPO_ROOT / "src" / "pleo_export" / "_config.py"
_UNRELEASED = re.compile(r"^## \[?Unreleased\]?[ \t]*$", re.MULTILINE | re.IGNORECASE)
_RELEASE = re.compile(r"^## ", re.MULTILINE)
_SPEC_VERSION = re.compile(r'^SPEC_VERSION: Final = "[^"]*"$', re.MULTILINE)
_BREAKING_LISTED = 10  # breaking changes spelled out in the changelog; the rest are counted


def changelog_entry(
    old: dict[str, Any] | None, new: dict[str, Any], changes: Sequence[Change], day: datetime.date
) -> str:
    """One Markdown bullet: the date, the upstream versions, drift counts and breaking changes."""
    upstream = new["info"]["x-upstream"]
    before = old["info"]["version"] if old else "none"
    counts = ", ".join(
        f"{sum(c.level is level for c in changes)} {level.label}"
        for level in sorted(Level, reverse=True)
    )
    lines = [
        f"- {day.isoformat()}: Pleo Export API spec {before} → {upstream['version']}"
        f" (sha256 {upstream['sha256'][:12]}, from {upstream['source']}):"
        f" {len(changes)} contract changes ({counts})."
    ]
    breaking = [c for c in changes if c.level is Level.BREAKING]
    for change in breaking[:_BREAKING_LISTED]:
        where = f"{change.operation}: " if change.operation else ""
        lines.append(f"  - breaking: {where}{change.message}")
    if len(breaking) > _BREAKING_LISTED:
        lines.append(f"  - and {len(breaking) - _BREAKING_LISTED} more breaking changes")
    return "\n".join(lines) + "\n"


def add_changelog_entry(text: str | None, entry: str) -> str:
    """Return the changelog ``text`` with ``entry`` first under ``## Unreleased``.

    A missing changelog is created; a changelog without an Unreleased section gets one above its
    first ``## `` release heading (or at its end).
    """
    if text is None:
        return f"# Changelog\n\n## Unreleased\n\n{entry}"
    heading = _UNRELEASED.search(text)
    if heading is not None:
        rest = text[heading.end() :].lstrip("\n")
        gap = "" if rest.startswith("- ") or not rest else "\n"  # one list, or a new block
        return f"{text[: heading.end()]}\n\n{entry}{gap}{rest}"
    release = _RELEASE.search(text)
    section = f"## Unreleased\n\n{entry}"
    if release is None:
        return f"{text.rstrip()}\n\n{section}"
    return f"{text[: release.start()]}{section}\n{text[release.start() :]}"


def set_spec_version(source: str, version: str) -> str:
    """Return the ``_config.py`` source with its ``SPEC_VERSION`` line set to ``version``."""
    updated, count = _SPEC_VERSION.subn(f'SPEC_VERSION: Final = "{version}"', source)
    if count != 1:
        raise ValueError('expected exactly one `SPEC_VERSION: Final = "..."` line')
    return updated


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as handle:
        handle.write(text)
    os.replace(handle.name, path)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="the new upstream spec: a file path or an http(s) URL")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the drift report and write nothing"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / SPEC.name
        try:
            staged.write_text(vendor(args.source, DEFAULT_OVERLAY), encoding="utf-8")
        except (OSError, SpecError, yaml.YAMLError) as error:
            print(f"cannot read {args.source}: {error}", file=sys.stderr)
            return 1
        except ValueError as error:  # an overlay action that no longer matches anything
            print(
                f"cannot vendor {args.source}: {error}\n"
                f"fix or drop that action in {DEFAULT_OVERLAY.relative_to(REPO_ROOT)}, then rerun",
                file=sys.stderr,
            )
            return 1
        new_text = staged.read_text(encoding="utf-8")
    new: dict[str, Any] = load_yaml(new_text)
    old: dict[str, Any] | None = load_yaml(SPEC.read_bytes()) if SPEC.is_file() else None
    changes = diff_specs(old, new) if old is not None else []

    before = old["info"]["version"] if old else "none"
    print(f"spec drift {before} → {new['info']['version']} (vendored, with our overlay):")
    print(format_text(changes), end="")
    if args.dry_run:
        print("dry run: nothing written")
        return 0
    if SPEC.is_file() and SPEC.read_text(encoding="utf-8") == new_text:
        print(f"{SPEC.relative_to(REPO_ROOT)} is already this spec: nothing to do")
        return 0

    _write_atomically(SPEC, new_text)
    print(f"wrote {SPEC.relative_to(REPO_ROOT)}")
    try:
        target = generate(DEFAULT_OUTPUT)
    except GenerationError as error:
        print(
            f"generation failed; the new spec is in place, generated/ is not updated:\n{error}\n"
            "fix the overlay or openapi/generator.yaml, then run `make generate`",
            file=sys.stderr,
        )
        return 1
    print(f"regenerated {target.relative_to(REPO_ROOT)}")
    if CONFIG_MODULE.is_file():
        module = CONFIG_MODULE.read_text(encoding="utf-8")
        _write_atomically(CONFIG_MODULE, set_spec_version(module, new["info"]["version"]))
        print(f"set SPEC_VERSION in {CONFIG_MODULE.relative_to(REPO_ROOT)}")
    entry = changelog_entry(old, new, changes, datetime.date.today())
    existing = CHANGELOG.read_text(encoding="utf-8") if CHANGELOG.is_file() else None
    _write_atomically(CHANGELOG, add_changelog_entry(existing, entry))
    print(f"added to {CHANGELOG.relative_to(REPO_ROOT)}:\n{entry}", end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
