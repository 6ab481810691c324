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
    ".venv/bin/python -m pytest tests/reliability tests/coordination/test_frozen.py "
    "tests/testing/test_fake_rules.py && .venv/bin/python tests/reliability/_figures.py"
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
    # Rows first tried in issue 26: "before" is 0.2's main just before each fix.
    "510 KiB deflate bomb (512 MiB inflated)": "(0.2) one network chunk inflated whole: "
    "+134 MiB RSS",
    "809-byte brotli bomb (512 MiB inflated)": "(0.2) inflated whole: +1,033 MiB RSS, 5.4 s",
    "16 KiB zstd bomb (512 MiB inflated)": "(0.2) inflated whole: +1,038 MiB RSS, 4.1 s",
    "aclose() right after a run with 450 recorded outcomes was cancelled twice": "(0.2) 50 of "
    "450 never reached Pleo, offered again not in doubt by the next process",
    "a run's loop blocked 1.4 leases long while another holder takes the job": "(0.2) 95-145 "
    "more items handed out, all booked by the new holder too",
    "PostgreSQL server processes stopped (SIGSTOP) under write() and load()": "(0.2) write() "
    "still waiting after 45 s",
    "fake: a POST/PUT body nested 5,000 or 100,000 deep": "(0.2) 500 on all 7 POST/PUT routes "
    "(a RecursionError)",
    "the SQLite journal fails (a full disk) after 120 of 250 bookings": "(0.2) failed posted: "
    "200 booked, 100 reported, 100 left abandoned on a final job, a purge attempted",
}

#: Each finding of issue 26 → the test that covers it → how it was made to fail (the fix broken
#: briefly, the test seen red, the fix restored). Written by hand; kept here so that rendering
#: RELIABILITY.md keeps it.
FINDINGS_26: list[tuple[str, str, str]] = [
    (
        "decompression bounded only after the fact",
        "reliability/test_hostile_size.py::test_oversized_answer_is_refused_with_bounded_memory"
        "[gzip,deflate,br,zstd]",
        "83646b0's src reverted (httpx's decoders inflate a chunk whole): all 4 red, "
        "+134 / +134 / +1,033 / +1,038 MiB",
    ),
    (
        "aclose() loses what a cancelled run recorded",
        "reliability/test_close_delivers.py::test_aclose_lets_a_cancelled_runs_flush_arrive",
        "aclose() settles with grace 0: 450 left pending",
    ),
    (
        "aclose(): what it cannot deliver logged at ERROR with entry ids",
        "reliability/test_close_delivers.py::test_aclose_names_what_it_could_not_deliver (new)",
        "no ERROR log: red; grace 60 s instead of the bound: red (timeout)",
    ),
    (
        "a worker without a durable coordinator warns once",
        "unit/test_worker.py::test_a_worker_without_a_durable_coordinator_warns_once",
        "the warning's condition made False: red",
    ),
    (
        "export_run(None / b'...' / 42) raise AttributeError",
        "reliability/test_hostile_api_walk.py::test_wrong_type_is_an_invalid_argument_naming_it",
        "ce60eea's _client.py reverted (no check_job): [pleo.export_run-job] red",
    ),
    (
        "a holder whose lease lapsed keeps handing out",
        "reliability/test_lease_and_journal_outage.py::"
        "test_a_run_whose_lease_lapsed_hands_out_nothing_more",
        "Journal.ensure_held made a no-op: 200 handed out instead of 10",
    ),
    (
        "a journal outage fails the job and loses bookings",
        "reliability/test_lease_and_journal_outage.py::"
        "test_a_journal_outage_leaves_the_job_running_and_loses_nothing",
        "the run's outage branches removed (exit and _fail_after): 'failed' posted, red",
    ),
    (
        "corrupted journal rows raise untyped errors",
        "coordination/test_corrupt_rows.py (4 tests, 10 cases)",
        "c42ca0e's _sqlite.py and _postgres.py reverted: 10 of 10 red",
    ),
    (
        "a frozen PostgreSQL server hangs write()",
        "coordination/test_frozen.py::test_frozen_postgres_fails_each_call_within_its_timeout",
        "the call's asyncio.timeout(self._timeout) made None: red at HUNG (30 s); now "
        "asserts the calls end within 1.5 + 1 s (measured 1.50 s)",
    ),
    (
        "cookies from a caller's pool reach file hosts on redirect",
        "unit/test_files.py::test_redirects_carry_no_cookies_nor_pleo_headers, "
        "::test_redirect_loop_stops_at_the_limit",
        "679d931's _download.py reverted: both red",
    ),
    (
        "a malformed file URL escapes as httpx.InvalidURL",
        "unit/test_files.py::test_malformed_url_is_a_download_failure",
        "679d931's _download.py reverted: both cases red",
    ),
    (
        "a hanging hook ignores the deadline",
        "reliability/test_hostile_deadline.py::test_a_hanging_hook_does_not_hold_the_call, "
        "::test_a_slow_sync_hook_is_reported",
        "fa5e3bb's _hooks.py reverted (no HOOK_TIMEOUT): both red",
    ),
    (
        "a raising span processor kills the worker",
        "reliability/test_hostile_telemetry.py::"
        "test_a_raising_span_processor_costs_telemetry_not_bookings",
        "a52c88e's src reverted (no _telemetry.guarded): red",
    ),
    (
        "views outlive a closed parent",
        "reliability/test_hostile_closed.py::"
        "test_views_are_closed_with_their_client_on_a_callers_pool",
        "a view given its own _Lifetime: red; the in-flight closed check removed: red",
    ),
    (
        "hostile spec documents (deep JSON/YAML, self anchor, alias bomb, dripping URL)",
        "spec/test_spec_hostile.py (11 tests, 14 cases)",
        "f560a83's src reverted: 12 of 14 red (green: honest aliases and a big file, "
        "neither a finding)",
    ),
    (
        "the fake answers 500 to a body nested 5,000 deep",
        "testing/test_fake_rules.py::test_deeply_nested_body_is_400 (7 routes × 900, 5,000, "
        "100,000)",
        "ce36e71's src reverted: 14 of 21 red (900 deep parses, and is 400 either way)",
    ),
    (
        "CLI jobs complete abandons pending items silently",
        "integration/test_cli.py::test_jobs_complete_refuses_to_abandon_pending_items",
        "1a5234e's src reverted: red",
    ),
    (
        "an unreachable host's error does not count attempts",
        "unit/test_retry.py::test_exhausted_connect_errors_raise_api_connection_error, "
        "::test_a_single_attempt_is_counted_too",
        "96dc88b's src reverted: both red",
    ),
    (
        "README: the pytest-asyncio loop-scope line",
        "test_readme.py::test_pytest_configuration_silences_the_loop_scope_warning",
        "the README's setting misspelt: red (the warning is printed)",
    ),
]


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
    lines += _findings_table()
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
        "(commit c2b65ec) under the same attacks, or (0.2) for the rows first tried in issue 26",
        "the code just before each fix; after: this run's tests.",
        "",
        "| Attack | Before | After |",
        "|---|---|---|",
        *(
            f"| {attack} | {before} | {_cell(after.get(attack, '(not run)'))} |"
            for attack, before in HOSTILE_BEFORE.items()
        ),
    ]


def _findings_table() -> list[str]:
    """Issue 26's findings, each with its test and how that test was made to fail."""
    return [
        "",
        "## Issue 26: each finding's test, and how it was made to fail",
        "",
        "Each fix was broken briefly (its commit's change reverted, or the one line named), the",
        "test run and seen red, the fix restored. Test paths are under `tests/`.",
        "",
        "| Finding | Test | Made to fail by |",
        "|---|---|---|",
        *(f"| {finding} | `{test}` | {how} |" for finding, test, how in FINDINGS_26),
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
