"""Vendor Pleo's published Export API spec into ``openapi/pleo-export.yaml``.

Keeps every contract fact of the source (paths, parameters, bodies, responses, schemas, enums,
formats, examples, deprecations, servers, security, ``x-`` extensions), drops upstream prose so
that wording churn never reads as drift, applies our fixes and one-line docs from
``openapi/overlay.yaml`` (OpenAPI Overlay 1.0) and records where the input came from. The output
is canonical YAML with sorted keys: the same input always gives the same bytes.

Usage: ``python -m scripts.vendor_spec [SOURCE] [--output PATH] [--overlay PATH]``. Without
SOURCE it vendors again from the source the current output records (``info.x-upstream.source``)
when that is an http(s) URL, and otherwise stops with a usage line naming ``SOURCE=``.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from pathlib import Path
from typing import Any

import jsonpath_rfc9535

from pleo_export.spec import SpecError
from scripts._spec_io import REPO_ROOT, dump_yaml, load_yaml, read_source, sha256_hex

__all__ = ["apply_overlay", "main", "recorded_source", "strip_prose", "vendor"]

DEFAULT_OUTPUT = REPO_ROOT / "openapi" / "pleo-export.yaml"
DEFAULT_OVERLAY = REPO_ROOT / "openapi" / "overlay.yaml"
HEADER = (
    "# The vendored Pleo Export API contract. Written by scripts/vendor_spec.py; do not edit.\n"
    "# Fixes and one-line docs belong in openapi/overlay.yaml (see openapi/README.md).\n"
)

# Keys that carry upstream wording rather than contract facts.
_PROSE_KEYS = frozenset({"description", "summary", "externalDocs"})
_INFO_PROSE_KEYS = frozenset({"termsOfService", "contact"})
# Values under these keys are data (or names), never spec objects: leave them untouched.
_DATA_KEYS = frozenset({"example", "examples", "default", "enum"})


def strip_prose(node: Any, parent_key: str | None = None) -> Any:
    """Return a copy of ``node`` without prose keys, leaving names and example data alone."""
    if isinstance(node, list):
        return [strip_prose(item, parent_key) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        # Under `properties`, keys are property names: a property called "description" is a fact.
        if parent_key != "properties" and key in _PROSE_KEYS:
            continue
        if parent_key is None and key == "info":
            value = {k: v for k, v in value.items() if k not in _INFO_PROSE_KEYS | _PROSE_KEYS}
        result[key] = value if key in _DATA_KEYS else strip_prose(value, key)
    return result


def _describe_responses(spec: dict[str, Any]) -> None:
    """Give each response our own short description; OpenAPI 3.0 requires one."""
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                response["description"] = _response_description(str(status), response)


def _response_description(status: str, response: dict[str, Any]) -> str:
    schemas = [
        media.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
        for media in response.get("content", {}).values()
    ]
    named = [name for name in schemas if name]
    if named:
        return f"{status} with {named[0]}"
    if response.get("content"):
        return f"{status} with a JSON body"
    return f"{status} with no body"


def apply_overlay(spec: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Apply Overlay 1.0 actions (``target`` + ``update`` or ``remove``) to a copy of ``spec``.

    Raises:
        ValueError: an action's target matches nothing, so a stale fix cannot pass silently.
    """
    result = copy.deepcopy(spec)
    for index, action in enumerate(overlay.get("actions", [])):
        target = action["target"]
        nodes = list(jsonpath_rfc9535.find(target, result))
        if not nodes:
            raise ValueError(f"overlay action {index} targets nothing: {target}")
        for node in nodes:
            if action.get("remove"):
                parent = node.parent
                if parent is None:
                    raise ValueError(f"overlay action {index} cannot remove the root")
                key = node.location[-1]
                container = parent.value
                if isinstance(container, dict):
                    del container[key]
                elif isinstance(container, list) and isinstance(key, int):
                    container.pop(key)
            elif "update" in action:
                if isinstance(node.value, list):  # Overlay 1.0: an update to an array appends
                    node.value.append(copy.deepcopy(action["update"]))
                else:
                    _merge(node.value, action["update"], target)
    return result


def _merge(target: Any, update: Any, where: str) -> None:
    if not isinstance(target, dict) or not isinstance(update, dict):
        raise ValueError(f"overlay update needs an object at {where}")
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value, where)
        else:
            target[key] = copy.deepcopy(value)


def vendor(source: str, overlay_path: Path = DEFAULT_OVERLAY) -> str:
    """Return the vendored YAML text for ``source`` (a path or URL)."""
    raw = read_source(source)
    upstream: dict[str, Any] = load_yaml(raw)
    spec = strip_prose(upstream)
    _describe_responses(spec)
    spec = apply_overlay(spec, load_yaml(overlay_path.read_bytes()))
    spec["info"]["x-upstream"] = {
        "source": _provenance_name(source),
        "version": str(upstream["info"]["version"]),
        "sha256": sha256_hex(raw),
    }
    return HEADER + dump_yaml(spec)


def _provenance_name(source: str) -> str:
    """A machine-independent name for the source: the URL, or the path relative to the repo."""
    if source.startswith(("http://", "https://")):
        return source
    # Lexical, not resolve(): a shared/ folder reached through a symlink keeps its name.
    path = os.path.abspath(source)
    try:
        return Path(os.path.relpath(path, REPO_ROOT)).as_posix()
    except ValueError:  # another drive on Windows
        return Path(path).name


def recorded_source(vendored: Path) -> str | None:
    """The ``info.x-upstream.source`` a vendored spec records, or None if it has none."""
    try:
        document = load_yaml(vendored.read_bytes())
    except OSError:
        return None
    upstream = (document.get("info") or {}).get("x-upstream") or {}
    source = upstream.get("source")
    return source if isinstance(source, str) else None


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; 2 with a usage line when no source is given or known."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source",
        nargs="?",
        help="the upstream spec: a file path or an http(s) URL "
        "(default: the recorded info.x-upstream.source, if it is a URL)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--overlay", type=Path, default=DEFAULT_OVERLAY)
    args = parser.parse_args(argv)
    source = args.source
    if source is None:
        recorded = recorded_source(args.output)
        if recorded is None or not recorded.startswith(("http://", "https://")):
            print(
                "usage: make vendor SOURCE=<path or URL of Pleo's Export API spec>\n"
                f"{args.output} records source {recorded!r}, which is not a URL to fetch again",
                file=sys.stderr,
            )
            return 2
        source = recorded
    try:
        text = vendor(source, args.overlay)
    except SpecError as exc:  # the source: missing, refused, too large; the text names it
        print(f"vendor_spec: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"vendor_spec: cannot read {source}: {exc}", file=sys.stderr)
        return 2
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
