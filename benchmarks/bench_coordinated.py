"""The journal's cost on the demo flow: items/s with and without a coordinator.

The demo's ``export()`` (``examples/export_to_ledger.py``) exports fresh pending jobs from the
fake (its own process, loopback TCP) into the demo's SQLite ledger, once with each journal:
the client's in-memory one (no coordinator), a ``SQLiteCoordinator`` beside the ledger (the
demo's default), and a ``PostgresCoordinator`` on a throwaway local cluster with PostgreSQL's
default durability (fsync on), over its unix socket. The cases take turns round by round, so
drift on a busy machine hits them alike. An export run journals a batch's intents in one write
before handing it out, and that write also carries the outcomes recorded since the last one
and the confirmations waiting, so a batch of 100 items costs about one journal transaction.

Run alone: ``.venv/bin/python benchmarks/bench_coordinated.py`` (``--quick``: smaller).
"""

from __future__ import annotations

import asyncio
import io
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _common import API_KEY, REPO, Goal, Report, fake_server, fmt, median

sys.path.insert(0, str(REPO / "tests"))
from _pg import PgUnavailable, start_cluster

__all__ = ["main", "run"]


async def _export_round(url: str, companies: list[str], ledger_path: Path, coordinator: Any) -> int:
    sys.path.insert(0, str(REPO / "examples"))
    from export_to_ledger import export  # type: ignore[import-not-found]
    from ledger import Ledger  # type: ignore[import-not-found]

    from pleo_export import PleoExport

    ledger = Ledger(ledger_path)
    try:
        async with PleoExport(api_key=API_KEY, base_url=url) as pleo:
            status: int = await export(
                pleo,
                ledger,
                once=True,
                company_ids=companies,
                out=io.StringIO(),
                coordinator=coordinator,
                durable=False,
            )
        return status
    finally:
        ledger.close()


async def _rounds(
    url: str,
    batches: Iterator[list[str]],
    tmp: Path,
    cases: dict[str, Callable[[], Any] | None],
    rounds: int,
) -> dict[str, list[float]]:
    """Every round, each journal in turn; one coordinator per journal for the whole run, as a
    service keeps one (round 0 warms up imports, connections and the schemas)."""
    journals = {name: None if make is None else make() for name, make in cases.items()}
    walls: dict[str, list[float]] = {name: [] for name in cases}
    try:
        for n in range(rounds + 1):
            order = list(journals.items())
            order = order[n % len(order) :] + order[: n % len(order)]  # no case always first
            for index, (name, journal) in enumerate(order):
                ledger = tmp / f"ledger-{n}-{index}.sqlite"
                wall = time.perf_counter()
                status = await _export_round(url, next(batches), ledger, journal)
                wall = time.perf_counter() - wall
                if status != 0:
                    raise RuntimeError(f"the demo's ledger check failed ({name})")
                if n:
                    walls[name].append(wall)
    finally:
        for journal in journals.values():
            if journal is not None:
                await journal.aclose()
    return walls


def run(quick: bool = False) -> list[Report]:
    """Export fresh jobs round by round with each journal; median items/s and the ratios."""
    from pleo_export.coordination import PostgresCoordinator, SQLiteCoordinator

    started = time.perf_counter()
    rounds, jobs, items = (2, 2, 500) if quick else (4, 4, 1000)
    per_round = jobs * items
    notes: list[str] = []
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="pleo-bench-journal-") as tmp:
        cases: dict[str, Callable[[], Any] | None] = {
            "no coordinator (in-memory journal)": None,
            "SQLiteCoordinator (file, WAL, synchronous=FULL)": lambda: SQLiteCoordinator(
                Path(tmp) / "journal.sqlite"
            ),
        }
        try:
            cluster = start_cluster(durable=True)
        except PgUnavailable as exc:
            notes.append(f"PostgreSQL not measured: {exc}.")
        else:
            stack.callback(cluster.stop)
            cases["PostgresCoordinator (local, fsync on)"] = lambda: PostgresCoordinator(
                cluster.dsn
            )
        server = stack.enter_context(
            fake_server(
                f"--rounds={(rounds + 1) * len(cases)}", f"--jobs={jobs}", f"--items={items}"
            )
        )
        time.sleep(0.2)
        walls = asyncio.run(_rounds(server.url, iter(server.companies), Path(tmp), cases, rounds))
    base = median(walls["no coordinator (in-memory journal)"])
    rows = []
    for name, samples in walls.items():
        wall = median(samples)
        rows.append([name, f"{fmt(wall)} s", f"{per_round / wall:,.0f}", f"{base / wall:.2f}×"])
    postgres = walls.get("PostgresCoordinator (local, fsync on)")
    goals = (
        []
        if not postgres
        else [
            Goal(
                "wall time with PostgresCoordinator / without (throughput ≥ 0.7×)",
                median(postgres) / base,
                1 / 0.7,
            )
        ]
    )
    report = Report(
        title=f"Exactly-once journal on the demo flow ({jobs} jobs × {items:,} items, TCP)",
        header=["Journal", "wall per round (median)", "items/s", "vs no coordinator"],
        rows=rows,
        notes=[
            f"{rounds} rounds per journal after a warm-up round, taking turns; each exports "
            f"{jobs} fresh pending jobs of {items:,} items into the demo's SQLite ledger.",
            "Goal (issue 16): with PostgreSQL at least 0.7× the throughput without a "
            "coordinator. A batch of 100 items costs about one journal write (the next "
            "batch's intents with the outcomes and confirmations waiting), plus a lease, a "
            "load and a purge per job; the intent write runs while the batch before is "
            "handled.",
            *notes,
        ],
        goals=goals,
    )
    report.seconds = time.perf_counter() - started
    return [report]


def main() -> None:
    """Print the table."""
    for report in run(quick="--quick" in sys.argv):
        print(report.text())


if __name__ == "__main__":
    main()
