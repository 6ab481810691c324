"""A Celery-style task on the sync client: one client per worker, used across ``fork()``.

    python examples/sync_celery_task.py                 # against an embedded fake server
    python examples/sync_celery_task.py --base-url http://127.0.0.1:8080 --api-key pleo-test-key

Celery's prefork pool makes its client at import time in the parent and forks the pool's
processes from it. The sync client notices it is in a new process on its first call there and
opens a loop and a connection pool of its own, so the task below needs no bridge of its own and
no ``asyncio.run``. Here the parent plays Celery: it lists the pending jobs with the client,
forks one process per job, and each runs ``export_job`` (what ``@app.task`` would wrap). No
Celery needed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from _support import add_target_options, connect_sync
from ledger import BookingError, Ledger

from pleo_export.sync import PleoExport

#: The worker's client, made once per worker as a Celery app would (set in ``main``).
PLEO: PleoExport | None = None


def export_job(job_id: str, ledger_path: str) -> tuple[str, int, int]:
    """The task: export one job into the ledger; return its final status and counts."""
    assert PLEO is not None, "the worker's client is made at start-up"
    ledger = Ledger(ledger_path)
    try:
        with PLEO.v3.export_run(job_id) as run:
            for work in run.pending():
                try:
                    booking = ledger.book(work.export_item, job_id=job_id)
                except BookingError as exc:
                    run.failed(work, reason=exc.reason, reason_type=exc.reason_type)
                else:
                    run.succeeded(work, external_id=booking.document)
    finally:
        ledger.close()
    return str(run.final_status), run.stats.succeeded, run.stats.failed


def fork_task(job_id: str, ledger_path: str) -> int:
    """Run ``export_job`` in a forked process, as a prefork pool does; return its pid."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            status, booked, failed = export_job(job_id, ledger_path)
            print(
                f"  process {os.getpid()}: job {job_id[:8]} {status} "
                f"(booked {booked}, refused {failed})",
                flush=True,
            )
            code = 0
        finally:
            os._exit(code)
    return pid


def main() -> None:
    """Parse the options, list the pending jobs in the parent and export each in a fork."""
    global PLEO
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_target_options(parser)
    args = parser.parse_args()

    def seed(fake: object) -> None:
        for items in (40, 25):
            fake.add_job(items=items)  # type: ignore[attr-defined]

    with tempfile.TemporaryDirectory() as tmp, connect_sync(args, seed) as target:
        PLEO = target.pleo
        jobs = [str(job.id) for job in PLEO.v3.jobs.list(statuses=["pending"])]
        print(f"parent {os.getpid()}: {len(jobs)} pending job(s); forking one process each")
        children = [fork_task(job, str(Path(tmp) / f"ledger-{job[:8]}.sqlite")) for job in jobs]
        failures = sum(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0 for pid in children)
        statuses = [PLEO.v3.jobs.get(job).status for job in jobs]  # the parent's client still works
        print(f"parent: {len(jobs) - failures} job(s) exported in forked worker processes")
        print(f"parent: statuses now {sorted(str(status) for status in statuses)}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
