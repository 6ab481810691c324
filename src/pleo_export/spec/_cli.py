"""The command line shared by ``python -m pleo_export.spec`` and ``pleo-export spec diff``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .._config import SPEC_FETCH_TIMEOUT
from ._document import diff_specs
from ._load import SpecError, load_document
from ._report import exit_code, format_json, format_rules, format_text
from ._rules import Level

__all__ = ["add_arguments", "main", "run"]

_PROG = "python -m pleo_export.spec"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add OLD, NEW, ``--fail-on``, ``--common-only`` and ``--list-rules`` to ``parser``."""
    parser.add_argument("old", nargs="?", metavar="OLD", help="the old spec: path or http(s) URL")
    parser.add_argument("new", nargs="?", metavar="NEW", help="the new spec: path or http(s) URL")
    parser.add_argument(
        "--fail-on",
        choices=[level.label for level in sorted(Level)],
        metavar="LEVEL",
        help="exit 1 when a change at or above LEVEL (info, warning, breaking) exists",
    )
    parser.add_argument(
        "--common-only",
        action="store_true",
        help="report only on operations present in both documents",
    )
    parser.add_argument(
        "--list-rules", action="store_true", help="print every rule id, level and meaning"
    )


def run(args: argparse.Namespace, *, as_json: bool) -> int:
    """Run a parsed command line: list the rules, or diff OLD against NEW and print the report.

    Returns:
        0, or 1 when ``--fail-on`` is met.

    Raises:
        SpecError: OLD or NEW is missing, or a document cannot be read.
    """
    if args.list_rules:
        sys.stdout.write(format_rules())
        return 0
    if args.old is None or args.new is None:
        raise SpecError("OLD and NEW are required")
    timeout = getattr(args, "fetch_timeout", SPEC_FETCH_TIMEOUT)
    old = load_document(args.old, timeout=timeout)
    new = load_document(args.new, timeout=timeout)
    changes = diff_specs(old, new, common_only=args.common_only)
    sys.stdout.write((format_json if as_json else format_text)(changes))
    return exit_code(changes, Level[args.fail_on.upper()] if args.fail_on else None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m pleo_export.spec``; return the exit status (2 for usage errors)."""
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Report contract changes between two OpenAPI 3.0 documents, graded like "
        "oasdiff. Exit status: 0, or 1 when --fail-on LEVEL is met; 2 when a document cannot "
        "be read.",
    )
    add_arguments(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--fetch-timeout",
        type=float,
        default=SPEC_FETCH_TIMEOUT,
        metavar="SECONDS",
        help=f"bound on the whole fetch of a URL (default {SPEC_FETCH_TIMEOUT:g})",
    )
    args = parser.parse_args(argv)
    try:
        return run(args, as_json=args.format == "json")
    except SpecError as error:
        print(f"{_PROG}: error: {error}", file=sys.stderr)
        return 2
