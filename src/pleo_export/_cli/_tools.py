"""``pleo-export fake-server`` and ``pleo-export spec diff``: thin doors to other tools.

``fake-server`` runs ``python -m pleo_export.testing`` (the ``testing`` extra). ``spec diff``
runs ``pleo_export.spec``, the contract diff shipped in the package (PyYAML comes with the
``cli`` extra), so it works from an installed wheel as well as from a checkout.
"""

from __future__ import annotations

import argparse

from ._context import CliError, ExitCode

__all__ = ["register"]


def _spec_diff(args: argparse.Namespace) -> int:
    # deferred: imported on use (PyYAML, the cli extra), so parsing stays cheap for every other
    # command
    from ..spec import SpecError
    from ..spec._cli import run

    try:
        return run(args, as_json=args.json)
    except SpecError as exc:
        raise CliError(str(exc), ExitCode.USAGE) from exc


def _fake_server(args: argparse.Namespace) -> int:
    try:
        # deferred: the fake needs the testing extra, and loads only for this command
        from pleo_export.testing.__main__ import main as serve
    except ImportError as exc:
        raise CliError(
            f"fake-server needs the testing extra ({exc.name} is missing): "
            "pip install 'pleo-export[testing]'",
            ExitCode.CONFIG,
        ) from exc
    argv = ["--port", str(args.port), "--seed", str(args.seed)]
    argv += ["--jobs", str(args.jobs), "--items", str(args.items)]
    if args.requests_per_minute is not None:
        argv += ["--requests-per-minute", str(args.requests_per_minute)]
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
    fake.add_argument(
        "--requests-per-minute",
        type=int,
        default=None,
        help="answer 429 over this many requests a minute per credential (Pleo: 600)",
    )
    fake.set_defaults(sync_handler=_fake_server)

    spec = commands.add_parser("spec", help="compare two versions of Pleo's OpenAPI spec")
    sub = spec.add_subparsers(dest="action", required=True, metavar="ACTION")
    diff = sub.add_parser(
        "diff",
        parents=[common],
        help="the contract changes from OLD to NEW, graded like oasdiff",
        description="Exit status: 0, or 1 when --fail-on LEVEL is given and a change at or "
        "above LEVEL was found; 2 when a document cannot be read. --list-rules prints every "
        "change id with its level and meaning.",
    )
    diff.add_argument(
        "old", nargs="?", metavar="OLD", help="the old spec: a path or an http(s) URL"
    )
    diff.add_argument(
        "new", nargs="?", metavar="NEW", help="the new spec: a path or an http(s) URL"
    )
    diff.add_argument("--fail-on", choices=("info", "warning", "breaking"), metavar="LEVEL")
    diff.add_argument(
        "--common-only", action="store_true", help="only operations present in both specs"
    )
    diff.add_argument("--list-rules", action="store_true", help="print every change id and level")
    diff.set_defaults(sync_handler=_spec_diff)
