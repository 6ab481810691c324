"""Run every benchmark and write ``BENCHMARKS.md``: what ``make bench`` runs.

    .venv/bin/python benchmarks/run_all.py            # everything, about 3-5 minutes on 2 cores
    .venv/bin/python benchmarks/run_all.py --quick    # smaller sizes, for a smoke run
    .venv/bin/python benchmarks/run_all.py --only bench_parse --no-write

Each ``bench_*.py`` module exposes ``run(quick=False) -> list[Report]`` (see ``_common``); its
tables are printed as it finishes and all of them, with the machine they ran on and a summary
of the issue's goals, go to ``BENCHMARKS.md`` at the repository root. A module that is missing
or fails is reported as such and the others still run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import sys
import time
import traceback
from pathlib import Path

from _common import REPO, Report, machine

__all__ = ["BENCHMARKS", "main"]

#: In running order: CPU-time measurements first, loopback-TCP (wall-time) ones last.
BENCHMARKS = (
    "bench_import",
    "bench_request",
    "bench_budget",
    "bench_sync",
    "bench_parse",
    "bench_spec_diff",
    "bench_pagination",
    "bench_batch_updates",
    "bench_throughput",
    "bench_journal",
    "bench_coordinated",
    "bench_engine",
    "bench_files",
)


def _run_one(name: str, quick: bool) -> list[Report]:
    started = time.perf_counter()
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return [
            Report(title=name, header=[], notes=[f"`benchmarks/{name}.py` does not exist yet."])
        ]
    runner = getattr(module, "run", None)
    if runner is not None:
        reports: list[Report] = runner(quick=quick)
    else:  # a module with only main(): keep what it prints
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            module.main()
        reports = [Report(title=name, header=[], notes=["```\n" + out.getvalue() + "```"])]
    for report in reports:
        report.seconds = report.seconds or (time.perf_counter() - started) / len(reports)
    return reports


def _markdown(reports: list[Report], info: dict[str, str], command: str, seconds: float) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` (`make bench`) in {seconds / 60:.1f} minutes. Every figure "
        "below was measured in that one run; ratios compare cases measured in interleaved "
        "rounds (medians of at least 5). Timings on a shared or busy machine move by tens of "
        "percent: compare ratios, not absolute numbers, across machines.",
        "",
        "| Machine | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in info.items()),
        "",
        "## Goals",
        "",
        "| Benchmark | Goal | Measured | Limit | |",
        "| --- | --- | --- | --- | --- |",
    ]
    for report in reports:
        for goal in report.goals:
            lines.append(f"| {report.title.split(' (')[0]} {goal.line()}")
    lines.append("")
    for report in reports:
        lines.append(report.markdown())
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; write BENCHMARKS.md unless ``--no-write``. Exit 1 if one failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only these")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--output", type=Path, default=REPO / "BENCHMARKS.md")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    info = machine()
    print("  ".join(f"{k}: {v}" for k, v in info.items()), flush=True)
    reports: list[Report] = []
    failed = False
    for name in args.only or BENCHMARKS:
        print(f"\n-- {name}", flush=True)
        try:
            new = _run_one(name, args.quick)
        except Exception:
            failed = True
            new = [
                Report(
                    title=name,
                    header=[],
                    notes=["failed:\n\n```\n" + traceback.format_exc() + "```"],
                )
            ]
        for report in new:
            print(report.text(), flush=True)
        reports.extend(new)
    seconds = time.perf_counter() - started
    command = "python benchmarks/run_all.py" + (" --quick" if args.quick else "")
    if not args.no_write:
        args.output.write_text(_markdown(reports, info, command, seconds), encoding="utf-8")
        print(f"\nwrote {args.output} ({seconds:.0f} s)")
    missed = [f"{r.title}: {g.name}" for r in reports for g in r.goals if not g.met]
    if missed:
        print("goals not met:\n  " + "\n  ".join(missed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
