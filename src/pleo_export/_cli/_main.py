"""The ``pleo-export`` entry point: the parser, the dispatch, and the one-line error policy.

Every failure ends as one line on stderr and an exit code (``ExitCode``); ``--debug`` adds the
traceback and the SDK's DEBUG log. Commands live in ``_jobs``, ``_items`` and ``_tools``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import __version__
from .._config import API_KEY_ENV, BASE_URL_ENV, BEARER_TOKEN_ENV, ENVIRONMENT_ENV

# The command modules, the client and the errors are imported once they are needed: a bare
# ``--version`` is answered before any of them, ``--help`` before asyncio, httpx or the seam.
if TYPE_CHECKING:
    from ._context import ExitCode

__all__ = ["build_parser", "main"]

_PROG = "pleo-export"
_EPILOG = f"""\
credentials and server (flags win over the environment):
  {API_KEY_ENV} / --api-key      an API key (HTTP Basic)
  {BEARER_TOKEN_ENV}             an OAuth access token
  {ENVIRONMENT_ENV} / --environment   production (default) or staging
  {BASE_URL_ENV} / --base-url    any server, e.g. the fake: http://127.0.0.1:8080
  --allow-insecure-http        allow plain http to a host other than this machine

exit codes: 0 ok, 1 API or network error, 2 usage error, 3 credentials or configuration,
  4 a move the job's status forbids (refused before anything was sent)
"""


def _common_options() -> argparse.ArgumentParser:
    """Options every command accepts, before or after its name (so defaults are SUPPRESSed)."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = common.add_argument_group("common options")
    group.add_argument("--api-key", metavar="KEY", help=f"API key (default: ${API_KEY_ENV})")
    group.add_argument(
        "--environment",
        choices=("production", "staging"),
        help=f"Pleo environment (default: ${ENVIRONMENT_ENV} or production)",
    )
    group.add_argument("--base-url", metavar="URL", help=f"server URL (default: ${BASE_URL_ENV})")
    group.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow a plain http:// base URL that is not loopback (credentials in clear text)",
    )
    group.add_argument("--json", action="store_true", help="print JSON for machines")
    group.add_argument("--debug", action="store_true", help="log requests; tracebacks on errors")
    return common


def build_parser() -> argparse.ArgumentParser:
    """Return the complete argument parser of ``pleo-export``."""
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog=_PROG,
        parents=[common],
        description="Work with Pleo's Export API from the command line.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from . import _files, _items, _jobs, _tools

    _jobs.register(commands, common)
    items = _items.register(commands, common)
    _files.register(items, common)
    _tools.register(commands, common)
    return parser


async def _run(args: argparse.Namespace) -> int:
    from ._connect import build_client

    async with build_client(args) as pleo:
        code: int = await args.handler(pleo, args)
        return code


def _dispatch(args: argparse.Namespace) -> int:
    if hasattr(args, "sync_handler"):
        code: int = args.sync_handler(args)
        return code
    # Imported only now that the arguments are parsed: --help, --version and usage errors
    # never pay for asyncio (or for httpx and the SDK, which the client imports when made).
    import asyncio

    return asyncio.run(_run(args))


def _fail(message: str, code: ExitCode, debug: bool) -> int:
    if debug:
        import traceback

        traceback.print_exc()
    print(f"{_PROG}: error: {message}", file=sys.stderr)
    return int(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pleo-export`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code.

    Args:
        argv: the arguments after the program name.

    Returns:
        0 on success, 1 for an API or network error, 2 for a usage error, 3 for missing or
        rejected credentials and other configuration errors, 4 for a job move the job's status
        forbids (nothing was sent).
    """
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
        print(f"{_PROG} {__version__}")  # what the parser's --version prints, without the parser
        return 0
    args = build_parser().parse_args(argv)  # exits with 2 on a usage error
    from .._errors import PleoError
    from ._context import CliError, ExitCode, exit_code_for

    for name in ("json", "debug"):
        setattr(args, name, getattr(args, name, False))
    if args.debug:
        import logging

        logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
        logging.getLogger("pleo_export").setLevel(logging.DEBUG)
    try:
        return _dispatch(args)
    except CliError as exc:
        return _fail(str(exc), exc.code, args.debug)
    except PleoError as exc:
        return _fail(str(exc), exit_code_for(exc), args.debug)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`); point stdout at devnull so the exit flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        return _fail(str(exc), ExitCode.USAGE, args.debug)
    except Exception as exc:  # a bug: still one line, with the way to see more
        return _fail(
            f"unexpected {type(exc).__name__}: {exc} (rerun with --debug)",
            ExitCode.API_ERROR,
            args.debug,
        )
