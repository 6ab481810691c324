"""The figures of the reliability suite: tests record them, this script renders RELIABILITY.md.

Each test calls ``record(section, name=value, ...)``; the values land in
``build/reliability/figures.json`` (git-ignored). After a full run of the suite,
``python tests/reliability/_figures.py`` turns that file into ``RELIABILITY.md``::

    .venv/bin/python -m pytest tests/reliability && .venv/bin/python tests/reliability/_figures.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

__all__ = ["FIGURES_PATH", "record", "render"]

ROOT = Path(__file__).resolve().parents[2]
FIGURES_PATH = Path(
    os.environ.get("PLEO_RELIABILITY_FIGURES", ROOT / "build" / "reliability" / "figures.json")
)
REPORT_PATH = ROOT / "RELIABILITY.md"
COMMAND = (
    ".venv/bin/python -m pytest tests/reliability && .venv/bin/python tests/reliability/_figures.py"
)

#: (section, what the section proves)
SECTIONS: dict[str, str] = {
    "soak": "Soak: one 10,000-item job exported by the worker against the fake injecting faults",
    "crash": "Crash-resume: the demo integration SIGKILLed at seeded points and restarted",
    "hostile": "Hostile responses: generated bodies for v2/v3 jobs, job items and export items",
    "secrets": "Secrets: API key and bearer token searched for in every log line, repr and error",
    "bad_input": "Bad caller input: refused before any request, naming the argument",
    "concurrency": "Concurrency: one client shared by many tasks; two workers on one account",
    "cancellation": "Cancellation at every await point of an export run, once and twice in a row",
    "chaos": "Chaos: 4 worker processes on one coordinator, faults on every route, 15 SIGKILLs",
}


#: Attack (the key each test of tests/reliability/test_hostile_*.py records its outcome under, in
#: section ``hostile_servers``) → what 0.1.0 did, measured once on commit c2b65ec with the same
#: attack scripts (PYTHONPATH pointing at that commit's src/), as the table's "before" column.
HOSTILE_BEFORE: dict[str, str] = {
    "secret echoed in a request-id header": "ServerError whose text holds the key",
    "secret echoed in an h11 status or header line": "APIConnectionError holding the key; "
    "also in httpcore's DEBUG line",
    "bearer token containing CR/LF": "APIConnectionError holding the token",
    "1 MB message, 500 KB type, 60 KB request id": "error text of 1,000,067 / 500,073 / "
    "60,083 chars",
    "CR/LF or ESC in an error message": "2 log lines from one error (a forged line)",
    "JSON nested 100,000 deep": "RecursionError on any error status; also on a 2xx without orjson",
    "nested 502 on the worker's job listing": "run() ends with an ExceptionGroup, job left pending",
    "headers or body trickled 1 byte per 0.2 s, timeout=1.0": "held until the server stopped "
    "(7.9 s for 40 bytes)",
    "async on_request and on_response hooks that never return, total_timeout=3": "the call "
    "never returned (cut after 10 s)",
    "a span processor raising in on_start and on_end, worker instrumented": "run() ended in "
    "an ExceptionGroup, nothing booked",
    "256 MiB body": "read whole: +749 MiB RSS, 5.8 s",
    "510 KiB gzip bomb (512 MiB inflated)": "inflated whole: +1,056 MiB RSS, 10.3 s",
    "hasNextPage with no items, forever": "followed until the server stopped (301 requests)",
    "1 MiB endCursor": "httpx.InvalidURL",
    "aclose() with 20 calls in flight": "20 bare RuntimeErrors",
    "a call after aclose()": "RuntimeError",
    "a with_options view after its client's aclose(), on a caller's pool": "both calls "
    "answered: the one in flight and the next one, sent on the closed client's behalf",
    "limit='10', True, 1.5, 2**31 and other wire arguments": "TypeError, or sent as is",
    "webhook timestamp 999999999999 (year 33658)": "ValueError: the endpoint answers 500 and "
    "logs a traceback",
    "signed webhook body nested 100,000 deep": "RecursionError: 500 and a traceback",
    "fake: offset=2**70": "the fake crashes in its JSON encoder (500)",
}


def record(section: str, **figures: Any) -> None:
    """Merge ``figures`` into ``section`` of the figures file (creating it as needed)."""
    FIGURES_PATH.parent.mkdir(parents=True, exist_ok=True)
    data = _load()
    entry = data.setdefault(section, {})
    entry.update(figures)
    entry["recorded_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    tmp = FIGURES_PATH.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(FIGURES_PATH)


def _load() -> dict[str, dict[str, Any]]:
    if not FIGURES_PATH.exists():
        return {}
    loaded: dict[str, dict[str, Any]] = json.loads(FIGURES_PATH.read_text())
    return loaded


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_cell(v)}" for k, v in sorted(value.items())) or "none"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _took(data: dict[str, dict[str, Any]]) -> str:
    seconds = data.get("run", {}).get("suite_wall_time_s")
    return "" if seconds is None else f"; the suite took {seconds:.0f} s of wall time"


def render(data: dict[str, dict[str, Any]], *, date: str) -> str:
    """The text of RELIABILITY.md for the recorded ``data``."""
    lines = [
        "# Reliability figures",
        "",
        "An accounting integration that loses or double-books an expense is worse than one that",
        "stops. The suite in `tests/reliability/` proves the SDK does neither, under injected",
        "faults, crashes and hostile input; `make test` runs it. These are the figures of the",
        f"last full run, on {date} ({platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPUs){_took(data)}.",
        "",
        "Reproduce them with:",
        "",
        "```sh",
        COMMAND,
        "```",
        "",
        "| Area | Figure | Value |",
        "|---|---|---|",
    ]
    for section, title in SECTIONS.items():
        entry = data.get(section)
        if not entry:
            lines.append(f"| {title} | (not run) | |")
            continue
        first = True
        for name, value in entry.items():
            if name == "recorded_at":
                continue
            area = title if first else ""
            first = False
            lines.append(f"| {area} | {name.replace('_', ' ')} | {_cell(value)} |")
    lines += _hostile_table(data.get("hostile_servers", {}))
    gaps = data.get("run", {}).get("known_gaps") or {}
    if gaps:
        lines += [
            "",
            "## Known gaps",
            "",
            "Tests marked as expected failures in this run: behaviour the SDK does not have yet.",
            "",
            *(f"- `{test}`: {reason}" for test, reason in sorted(gaps.items())),
        ]
    return "\n".join(lines) + "\n"


def _hostile_table(after: dict[str, Any]) -> list[str]:
    """The attack / before / after table of ``tests/reliability/test_hostile_*.py``."""
    return [
        "",
        "## Hostile servers",
        "",
        "A server or proxy in the path that echoes headers, trickles bytes or sends huge or",
        "pathological answers, and callers that pass what the wire cannot take. Before: 0.1.0",
        "(commit c2b65ec) under the same attacks; after: this run's tests.",
        "",
        "| Attack | Before | After |",
        "|---|---|---|",
        *(
            f"| {attack} | {before} | {_cell(after.get(attack, '(not run)'))} |"
            for attack, before in HOSTILE_BEFORE.items()
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Write RELIABILITY.md from the figures file; fail if a section is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=REPORT_PATH)
    args = parser.parse_args(argv)
    data = _load()
    missing = [section for section in SECTIONS if section not in data]
    if missing:
        print(f"no figures for {', '.join(missing)}: run the whole suite first", file=sys.stderr)
    date = dt.date.today().isoformat()
    args.output.write_text(render(data, date=date))
    print(f"wrote {args.output}")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
