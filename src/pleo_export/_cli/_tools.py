"""``pleo-export fake-server`` and ``pleo-export spec diff``: thin doors to other tools.

``fake-server`` runs ``python -m pleo_export.testing`` (the ``testing`` extra). ``spec diff``
runs ``scripts/spec_drift.py`` from a source checkout: the drift report is a maintainer's tool
built on PyYAML, so it stays in ``scripts/`` and is not shipped in the wheel.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from types import ModuleType

from ._context import CliError, ExitCode

__all__ = ["find_spec_drift", "register"]

_SCRIPT = Path("scripts") / "spec_drift.py"


def find_spec_drift() -> Path | None:
    """Return ``scripts/spec_drift.py`` of the checkout this package runs from, or under the
    current directory; None when neither exists (an installed wheel)."""
    checkout = Path(__file__).resolve().parents[3]
    for root in (checkout, Path.cwd()):
        if (root / _SCRIPT).is_file():
            return root / _SCRIPT
    return None


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("_pleo_spec_drift", path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has a loader
        raise CliError(f"cannot load {path}", ExitCode.USAGE)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as exc:
        raise CliError(
            f"spec diff needs the dev dependencies ({exc.name} is missing): "
            "run `make install` in the checkout",
            ExitCode.CONFIG,
        ) from exc
    return module


def _spec_diff(args: argparse.Namespace) -> int:
    path = find_spec_drift()
    if path is None:
        raise CliError(
            "spec diff needs a source checkout of pleo-export (scripts/spec_drift.py); "
            "run it from the repository",
            ExitCode.CONFIG,
        )
    argv = [args.old, args.new, "--format", "json" if args.json else "text"]
    if args.fail_on:
        argv += ["--fail-on", args.fail_on]
    if args.common_only:
        argv.append("--common-only")
    code: int = _load(path).main(argv)
    return code


def _fake_server(args: argparse.Namespace) -> int:
    try:
        from pleo_export.testing.__main__ import main as serve
    except ImportError as exc:
        raise CliError(
            f"fake-server needs the testing extra ({exc.name} is missing): "
            "pip install 'pleo-export[testing]'",
            ExitCode.CONFIG,
        ) from exc
    argv = ["--port", str(args.port), "--seed", str(args.seed)]
    argv += ["--jobs", str(args.jobs), "--items", str(args.items)]
    return serve(argv)


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add ``fake-server`` and ``spec diff`` to the command parser."""
    fake = commands.add_parser(
        "fake-server",
        help="serve the fake Pleo Export API on 127.0.0.1 (testing extra)",
        description="Serve a seeded fake Pleo Export API on 127.0.0.1 until Ctrl+C. It accepts "
        "the API key pleo-test-key and the bearer token pleo-test-token.",
    )
    fake.add_argument("--port", type=int, default=0, help="port to bind (default: any free one)")
    fake.add_argument("--seed", type=int, default=0, help="seed of all generated data")
    fake.add_argument("--jobs", type=int, default=1, help="pending jobs, one per company")
    fake.add_argument("--items", type=int, default=25, help="items per job")
    fake.set_defaults(sync_handler=_fake_server)

    spec = commands.add_parser("spec", help="compare two versions of Pleo's OpenAPI spec")
    sub = spec.add_subparsers(dest="action", required=True, metavar="ACTION")
    diff = sub.add_parser(
        "diff",
        parents=[common],
        help="the drift report: contract changes from OLD to NEW, graded (source checkout only)",
        description="Exit status: 0, or 1 when --fail-on LEVEL is given and a change at or "
        "above LEVEL was found; 2 when a document cannot be read.",
    )
    diff.add_argument("old", metavar="OLD", help="the old spec: a path or an http(s) URL")
    diff.add_argument("new", metavar="NEW", help="the new spec: a path or an http(s) URL")
    diff.add_argument("--fail-on", choices=("info", "warning", "breaking"), metavar="LEVEL")
    diff.add_argument(
        "--common-only", action="store_true", help="only operations present in both specs"
    )
    diff.set_defaults(sync_handler=_spec_diff)
