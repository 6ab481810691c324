"""Import time: the SDK against the generated models package imported eagerly.

Every figure is a fresh interpreter (subprocess) timing its own import statement, so
interpreter start-up is left out; rounds are interleaved and the median is shown. Ratios use
the CPU time of the import (``time.process_time``), which other load on a shared machine
disturbs far less than wall time; wall time is shown too. Byte-code is cached first
(``PYTHONPYCACHEPREFIX`` in a temporary folder), as an installed package would have it.

A second column blocks ``httpx._main``: httpx imports its command line (click, rich, pygments)
whenever those happen to be installed, as they are in our dev venv (uvicorn needs click), but
not in a lean service; that import is not ours.

Run alone: ``.venv/bin/python benchmarks/bench_import.py``.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, Goal, Report, fmt, median

__all__ = ["main", "run"]

#: The goal from issue 9: importing the SDK costs at most this multiple of the eager models.
GOAL = 0.5
#: Issue 21: ``pleo-export --version`` costs at most this multiple of ``python -c "import httpx"``.
GOAL_CLI = 0.3

#: The baseline of the goals: httpx plus every generated model (the generated package itself no
#: longer imports httpx, so it is named here).
_EAGER_MODELS = (
    "import httpx, pleo_export_raw.models as m, pleo_export_raw.client; "
    "[getattr(m, n) for n in m.__all__]"
)
STATEMENTS: dict[str, str] = {
    "import httpx": "import httpx",
    "import pleo_export": "import pleo_export",
    "from pleo_export import PleoExport": "from pleo_export import PleoExport",
    "… and PleoExport(api_key=…) (ready to send)": (
        "from pleo_export import PleoExport; PleoExport(api_key='k')"
    ),
    "… and its first `pleo.jobs` (v3 job endpoints and models)": (
        "from pleo_export import PleoExport; PleoExport(api_key='k').jobs"
    ),
    "one generated endpoint module (get_export_job_by_id_v3)": (
        "import pleo_export_raw.api.export_api_v_3.get_export_job_by_id_v3"
    ),
    "httpx + `import pleo_export_raw.models` + every model (eager)": _EAGER_MODELS,
}
_PROBE = """
import sys, time, json
{block}
c0, t0 = time.process_time(), time.perf_counter()
{stmt}
c1, t1 = time.process_time(), time.perf_counter()
print(json.dumps({{"ms": (c1 - c0) * 1000, "wall": (t1 - t0) * 1000, "modules": len(sys.modules),
    "models": sum(m.startswith("pleo_export_raw.models.") for m in sys.modules)}}))
"""
_BLOCK_HTTPX_CLI = "sys.modules['httpx._main'] = None  # as if click/rich were not installed"


def _env(cache: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def _probe(stmt: str, *, block_cli: bool, env: dict[str, str]) -> dict[str, float]:
    code = _PROBE.format(block=_BLOCK_HTTPX_CLI if block_cli else "", stmt=stmt)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _importtime(stmt: str, env: dict[str, str]) -> dict[str, float]:
    """Cumulative ms of selected top-level imports, from ``-X importtime``."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", stmt],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    wanted = {
        "httpx": "httpx (all)",
        "httpx._main": "… of which httpx's CLI (click, rich)",
        "attrs": "attrs",
        "pleo_export_raw": "pleo_export_raw (Client; attrs)",
        "asyncio": "asyncio",
        "stamina": "stamina + tenacity (retries; loaded on a first retry only)",
        "pleo_export._resources": "pleo_export._resources (endpoints, their models)",
    }
    found: dict[str, float] = {}
    for line in out.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$", line)
        if match and match[2] in wanted and wanted[match[2]] not in found:
            found[wanted[match[2]]] = int(match[1]) / 1000
    return {name: found[name] for name in wanted.values() if name in found}


def _process_cpu(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """CPU and wall ms of a whole process (interpreter start-up included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=REPO, capture_output=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"ms": cpu * 1000, "wall": wall * 1000}


def _cli_report(rounds: int, env: dict[str, str]) -> Report:
    """``pleo-export --version`` and ``--help`` against a process that only imports httpx."""
    script = str(Path(sys.executable).parent / "pleo-export")
    cases = {
        'python -c "import httpx"': [sys.executable, "-c", "import httpx"],
        'python -c "pass"': [sys.executable, "-c", "pass"],
        "pleo-export --version": [script, "--version"],
        "pleo-export --help": [script, "--help"],
    }
    for argv in cases.values():  # byte-code cache
        _process_cpu(argv, env)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
    names = list(cases)
    for n in range(rounds):
        shift = n % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(_process_cpu(cases[name], env))

    def ms(name: str, key: str = "ms") -> float:
        return median([s[key] for s in samples[name]])

    base = ms(names[0])
    return Report(
        title="Command line start-up (whole process, interpreter included)",
        header=["Command", "CPU ms", "wall ms", 'vs python -c "import httpx"'],
        rows=[[n, fmt(ms(n)), fmt(ms(n, "wall")), f"{ms(n) / base:.2f}×"] for n in names],
        goals=[
            Goal(
                '`pleo-export --version` / `python -c "import httpx"`',
                ms(names[2]) / base,
                GOAL_CLI,
            )
        ],
        notes=[
            f"{rounds} interleaved rounds; CPU time of the child process (user + system).",
            "The command line builds its parser and answers `--help`, `--version` and usage "
            "errors before importing asyncio, httpx or the SDK's client machinery "
            "(tests/integration/test_cli_imports.py); an empty interpreter is the floor.",
        ],
    )


def run(quick: bool = False) -> list[Report]:
    """Time each import statement in fresh interpreters; median of interleaved rounds."""
    started = time.perf_counter()
    rounds = 5 if quick else 7
    with tempfile.TemporaryDirectory(prefix="pleo-bench-pyc-") as cache:
        env = _env(cache)
        for stmt in STATEMENTS.values():  # fill the byte-code cache
            _probe(stmt, block_cli=False, env=env)
        samples: dict[tuple[str, bool], list[dict[str, float]]] = {}
        names = list(STATEMENTS)
        for n in range(rounds):
            shift = n % len(names)
            for name in names[shift:] + names[:shift]:
                for block in (False, True):
                    samples.setdefault((name, block), []).append(
                        _probe(STATEMENTS[name], block_cli=block, env=env)
                    )
        breakdown = _importtime(STATEMENTS["from pleo_export import PleoExport"], env)
        cli = _cli_report(rounds, env)

    def ms(name: str, block: bool, key: str = "ms") -> float:
        return median([s[key] for s in samples[(name, block)]])

    eager = "httpx + `import pleo_export_raw.models` + every model (eager)"
    rows = []
    for name in names:
        last = samples[(name, False)][-1]
        rows.append(
            [
                name,
                fmt(ms(name, False)),
                fmt(ms(name, False, "wall")),
                fmt(ms(name, True)),
                f"{ms(name, False) / ms(eager, False):.2f}×",
                f"{ms(name, True) / ms(eager, True):.2f}×",
                str(int(last["modules"])),
                str(int(last["models"])),
            ]
        )
    sdk = "from pleo_export import PleoExport"
    httpx_share = ms(names[0], False) / ms(eager, False)
    httpx_share_blocked = ms(names[0], True) / ms(eager, True)
    report = Report(
        title="Import time (fresh interpreter, warm byte-code cache)",
        header=[
            "Statement",
            "CPU ms",
            "wall ms",
            "CPU ms, httpx CLI blocked",
            "vs eager models",
            "vs eager, httpx CLI blocked",
            "modules loaded",
            "generated models loaded",
        ],
        rows=rows,
        goals=[
            Goal(
                "`import pleo_export` / eager models", ms(names[1], False) / ms(eager, False), GOAL
            ),
            Goal(
                "`from pleo_export import PleoExport` / eager models",
                ms(sdk, False) / ms(eager, False),
                GOAL,
            ),
            Goal(
                "same, httpx CLI blocked (no click/rich installed)",
                ms(sdk, True) / ms(eager, True),
                GOAL,
            ),
        ],
        notes=[
            f"{rounds} interleaved rounds of fresh interpreters; `import time` of the "
            "statement only (interpreter start-up excluded).",
            "Where `from pleo_export import PleoExport` spends its time (`-X importtime`, "
            "cumulative ms, one run): "
            + (
                ", ".join(f"{k} {fmt(v)}" for k, v in breakdown.items())
                or "none of httpx, attrs, asyncio, stamina, the generated package or the resources"
            )
            + ".",
            "The generated models package is lazy (PEP 562, `openapi/templates/"
            "models_init.py.jinja`): one endpoint module now loads only its own models "
            "instead of all 124.",
            f"`import httpx` alone is {httpx_share:.2f}× the eager models "
            f"({httpx_share_blocked:.2f}× without its CLI). `from pleo_export import "
            "PleoExport` no longer imports it: `_client.py` imports httpx, the seam, the "
            "generated `Client` and the resources (with their endpoint modules and models) "
            "where they are first needed, so making a client pays for httpx and the seam, and "
            "the first use of `pleo.jobs` (or another resource) for its models.",
        ],
    )
    report.seconds = cli.seconds = (time.perf_counter() - started) / 2
    return [report, cli]


def main() -> None:
    """Print the table."""
    for report in run():
        print(report.text())


if __name__ == "__main__":
    main()
