"""A Django-style management command on the sync client: ``manage.py export_to_ledger``.

    python examples/sync_management_command.py          # against an embedded fake server
    python examples/sync_management_command.py --journal /tmp/pleo-journal.sqlite

Shaped like a ``django.core.management.BaseCommand`` (``add_arguments`` and ``handle``) but
plain Python, so it runs without Django. ``handle`` runs ``ExportWorker`` until there is
nothing left to do, with a plain, blocking function as the handler: the worker calls it in a
thread pool, so a slow ledger blocks neither the SDK's loop nor the other jobs. With
``--journal`` the worker journals to a SQLite file, so a command killed half-way and started
again books nothing twice (it resumes, and offers unsure items with ``work.in_doubt``).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
from pathlib import Path
from typing import Any

from _support import add_target_options, connect_sync
from ledger import BookingError, Ledger

from pleo_export.coordination import SQLiteCoordinator
from pleo_export.models import ExportItemV3, ExportJobItemV3
from pleo_export.sync import Booked, ExportWorker, PleoExport, Rejected, WorkItem


class Command:
    """Export every pending Pleo job into the ledger, then return."""

    help = "Export pending Pleo export jobs into the general ledger."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The command's options (Django calls this with its own parser)."""
        parser.add_argument("--ledger", help="the ledger's SQLite file (default: a temp file)")
        parser.add_argument("--journal", help="a SQLite journal file: safe to kill and rerun")
        parser.add_argument("--jobs", type=int, default=2, help="jobs exported at once")

    def handle(self, pleo: PleoExport, **options: Any) -> str:
        """Run the export; return the line Django would print."""
        ledger = Ledger(options["ledger"])
        lock = threading.Lock()  # one ledger connection, used by the pool's threads in turn

        def book(work: WorkItem[ExportJobItemV3, ExportItemV3]) -> Booked | Rejected:
            # The ledger books each accounting entry once: an item ``in_doubt`` (handed out
            # before a crash) booked again gets back the document number it already has.
            try:
                with lock:
                    booking = ledger.book(work.export_item, job_id=str(work.item.export_job_id))
            except BookingError as exc:
                return Rejected(exc.reason, reason_type=exc.reason_type)
            return Booked(external_id=booking.document)

        journal = options["journal"]
        worker = ExportWorker(
            pleo.v3,
            book,
            max_jobs=options["jobs"],
            poll_interval=0.5,
            coordinator=None if journal is None else SQLiteCoordinator(journal),
        )
        try:
            worker.run(until_idle=True)
        finally:
            ledger.close()
        stats = worker.stats
        return (
            f"exported {stats.jobs_processed} job(s): {stats.items_booked} item(s) booked, "
            f"{stats.items_failed} refused by the ledger"
        )


def main() -> None:
    """What ``manage.py`` does: parse the command's options, call ``handle``, print."""
    command = Command()
    parser = argparse.ArgumentParser(description=command.help)
    add_target_options(parser)
    command.add_arguments(parser)
    args = parser.parse_args()

    def seed(fake: Any) -> None:
        for items in (60, 45, 30):
            fake.add_job(fake.add_company(), items=items)

    with tempfile.TemporaryDirectory() as tmp, connect_sync(args, seed) as target:
        options = vars(args)
        options["ledger"] = options["ledger"] or str(Path(tmp) / "ledger.sqlite")
        print(command.handle(target.pleo, **options))


if __name__ == "__main__":
    main()
