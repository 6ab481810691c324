"""The command line answers ``--help``, ``--version`` and usage errors before importing the SDK."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from pleo_export._wire import _pages, _parse, _seam

#: What answering from the parser alone must not load. The wire's modules are named by their
#: own ``__name__``, so moving one breaks this import instead of leaving a name nothing can load
#: (the list said ``pleo_export._raw`` long after the seam moved to ``_wire/``); the test below
#: checks that every name is a module.
HEAVY = (
    "httpx",
    "asyncio",
    "attr",
    _seam.__name__,
    _parse.__name__,
    _pages.__name__,
    "pleo_export._resources",
    "pleo_export_raw.client",
    "pleo_export_raw.api",
)

_PROBE = """
import json, sys
from pleo_export._cli import main
try:
    code = main({argv!r})
except SystemExit as exc:
    code = exc.code
loaded = sorted(m for m in sys.modules if m.startswith({heavy!r}))
print(json.dumps({{"code": code, "loaded": loaded}}), file=sys.stderr)
"""


@pytest.mark.parametrize("name", HEAVY)
def test_every_heavy_name_is_a_real_module(name: str) -> None:
    """Each name the probe looks for is a module that exists, so its half of the check can
    fail; fails if a module is renamed or moved and the list is not."""
    assert importlib.util.find_spec(name) is not None, name


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--version"], 0),
        (["--help"], 0),
        (["jobs", "--help"], 0),
        (["no-such-command"], 2),
    ],
    ids=["version", "help", "command-help", "usage-error"],
)
def test_parsing_alone_imports_neither_httpx_nor_the_sdk(argv: list[str], code: int) -> None:
    """Answering from the parser alone loads no httpx, asyncio, attrs, generated client or
    endpoint module, seam (``_wire/_seam.py`` and the wire's ``_parse`` and ``_pages``) or
    resource (a command's choices may read an enum of the generated models, which needs none of
    them); fails if the CLI's entry point or a module it imports at the top pulls one in."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(argv=argv, heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report == {"code": code, "loaded": []}


def test_a_bare_version_is_answered_before_the_command_modules() -> None:
    """``pleo-export --version`` prints what the parser's version action would and loads no
    command module or client; fails if the fast path is lost or prints something else."""
    probe = (
        "import sys\n"
        "from pleo_export._cli import main, build_parser\n"
        "code = main(['--version'])\n"
        "cli = sorted(m for m in sys.modules if m.startswith(('pleo_export._cli._', "
        "'pleo_export._client')) and m != 'pleo_export._cli._main')\n"
        "print(code, cli, file=sys.stderr)\n"
        "build_parser().parse_args(['--version'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    fast, parsed = result.stdout.splitlines()
    assert fast == parsed == "pleo-export " + _version()
    assert result.stderr.strip().splitlines()[-1] == "0 []"
    assert result.returncode == 0


def _version() -> str:
    from pleo_export import __version__

    return __version__
