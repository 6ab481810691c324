"""An export worker inside a small asyncio service, stopped gracefully by SIGTERM or Ctrl+C.

    python examples/worker_service.py     # embedded fake; users "click Export" now and then
    python examples/worker_service.py --base-url URL --api-key KEY
    python examples/worker_service.py --metrics-port 9464   # Prometheus scrapes /metrics
    python examples/worker_service.py --batch-size 50       # an ERP with a bulk endpoint
    kill -TERM <pid>                      # or Ctrl+C: finish the item, flush, exit 0

Several processes (or machines) on one Pleo account share one PostgreSQL coordinator: start
the same service as often as you like with the same DSN (needs ``pleo-export[postgres]``)::

    pleo-export fake-server --port 8080 &          # or Pleo itself, with your credentials
    export PLEO_COORDINATOR_DSN="host=db.internal dbname=erp user=pleo_worker"
    for n in 1 2 3; do
        python examples/worker_service.py --base-url http://127.0.0.1:8080 \
            --api-key pleo-test-key --name "worker-$n" &
    done

Each process leases a job (and its company) before it starts or resumes it, so no two export
the same job; kill one (even with SIGKILL) and another takes its jobs over once its leases
lapse (``lease_seconds``, 30 s), offering the items it had handed out with ``in_doubt`` set.
``--name`` gives the process a stable lease holder: a restarted ``worker-2`` takes its own
jobs back at once. ``--journal PATH`` uses a ``SQLiteCoordinator`` file instead (several
processes on one machine).

The service runs three things side by side: the ``ExportWorker`` (polls every
``--poll-interval`` seconds and wakes at once on ``worker.notify(job_id)``, which is what a
webhook handler calls), a heartbeat that logs the worker's totals, and, with the embedded fake
only, a stand-in for Pleo users who start new exports while the service runs.

With ``--metrics-port`` (needs ``pleo-export[otel]``, ``opentelemetry-sdk`` and
``opentelemetry-exporter-prometheus``) the worker's metrics (jobs running and finished, items
booked and rejected, queue depth, poll lag, batch latency, retries) are served for Prometheus
by OpenTelemetry's standard Prometheus exporter; the README's "Observability" lists them.

With ``--batch-size N`` the handler is a batch handler: one (pretend) bulk call to the ERP
books up to N items and answers one outcome per item; ``--concurrency`` then counts batches.

On SIGTERM the worker stops taking jobs; a job in the middle of its items finishes the current
one, sends every outcome already recorded, and stays ``in_progress``. The next start of the
service (or any other worker) resumes it where it stopped: its finished items are not offered
again.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING

from _support import add_target_options, connect

from pleo_export import BatchAnswer, Booked, ExportWorker, PleoExport, Progress, Rejected, WorkItem
from pleo_export.coordination import Coordinator, SQLiteCoordinator
from pleo_export.models import ExportItemV3, ExportJobItemV3

if TYPE_CHECKING:
    from pleo_export.testing import FakePleo

log = logging.getLogger("worker_service")


async def book(work: WorkItem[ExportJobItemV3, ExportItemV3]) -> Booked | Rejected:
    """The handler: pretend to call an ERP (a few milliseconds each) and book the item.

    A real one stores ``work.fencing_token`` beside the booking and, when ``work.in_doubt``,
    first looks the entry up by ``work.accounting_entry_id`` (see export_to_ledger.py).
    """
    await asyncio.sleep(0.002)
    return _voucher(work.export_item)


async def book_batch(batch: Sequence[WorkItem[ExportJobItemV3, ExportItemV3]]) -> BatchAnswer:
    """The batch handler (``--batch-size``): one pretend bulk call books the whole batch, and
    the answer is one outcome per item, by accounting entry id. After a crash every item of a
    batch in flight comes back with ``in_doubt``: look those up in the ERP first."""
    await asyncio.sleep(0.005)
    return {work.accounting_entry_id: _voucher(work.export_item) for work in batch}


def _voucher(export_item: ExportItemV3) -> Booked | Rejected:
    if export_item.amount.in_wallet_currency.value == 0:
        return Rejected("The ERP refuses zero-amount vouchers.", reason_type="validation_failure")
    return Booked(external_id=f"ERP-{str(export_item.accounting_entry_id)[-6:]}")


def on_progress(p: Progress) -> None:
    """Log job-level events; item events are too many to log one by one."""
    if p.stage != "item":
        done = p.booked + p.failed
        detail = f"{done}/{p.total} items" if p.total is not None else ""
        log.info("job %s %s %s %s", str(p.job_id)[:8], p.stage, detail, p.status or "")


async def heartbeat(worker: ExportWorker[ExportItemV3], every: float) -> None:
    """Log the worker's totals now and then (a real service would export metrics)."""
    while True:
        await asyncio.sleep(every)
        log.info("heartbeat: %s", worker.stats)


async def simulate_users(
    fake: FakePleo, worker: ExportWorker[ExportItemV3], jobs: int, items: int
) -> None:
    """Add a pending job every half second, and tell the worker as a webhook handler would."""
    for _ in range(jobs):
        await asyncio.sleep(0.5)
        job_id = fake.add_job(items=items)
        log.info("a user started an export: job %s (%d items)", job_id[:8], items)
        await worker.notify(job_id)


def serve_metrics(pleo: PleoExport, port: int) -> None:
    """Record the worker's metrics and serve them at ``http://127.0.0.1:PORT/metrics``."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import MeterProvider
    from prometheus_client import start_http_server

    from pleo_export.otel import instrument

    instrument(pleo, meter_provider=MeterProvider([PrometheusMetricReader()]), traces=False)
    server, _ = start_http_server(port, addr="127.0.0.1")
    log.info("metrics on http://127.0.0.1:%d/metrics", server.server_port)


async def serve(args: argparse.Namespace) -> None:
    """Run the service until SIGTERM or SIGINT."""
    first_items = args.items * 10  # one big job, so a SIGTERM is likely to land mid-job

    def seed(fake: FakePleo) -> None:
        fake.add_job(items=first_items)

    coordinator = _coordinator(args)
    async with connect(args, seed) as target:
        if args.metrics_port is not None:
            serve_metrics(target.pleo, args.metrics_port)
        worker = _worker(target.pleo, coordinator, args)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        log.info("service up (pid %d), exporting from %s", os.getpid(), target.base_url)

        async with asyncio.TaskGroup() as group:
            worker_task = group.create_task(worker.run())
            extras = [group.create_task(heartbeat(worker, args.heartbeat))]
            if target.fake is not None:
                extras.append(
                    group.create_task(simulate_users(target.fake, worker, args.jobs, args.items))
                )
            await stop.wait()
            log.info("SIGTERM: stopping; calls in flight finish and outcomes are flushed")
            worker.stop()
            await worker_task  # returns once running jobs have paused
            for task in extras:
                task.cancel()
        log.info("stopped gracefully: %s", worker.stats)
    if coordinator is not None:
        await coordinator.aclose()


def _worker(
    pleo: PleoExport, coordinator: Coordinator | None, args: argparse.Namespace
) -> ExportWorker[ExportItemV3]:
    """The worker, with the single-item handler or (``--batch-size``) the batch handler."""
    if args.batch_size is not None:
        return ExportWorker(
            pleo.v3,
            book_batch,
            batch_size=args.batch_size,
            poll_interval=args.poll_interval,
            on_progress=on_progress,
            coordinator=coordinator,
            holder=args.name,
            concurrency=args.concurrency,
        )
    return ExportWorker(
        pleo.v3,
        book,
        poll_interval=args.poll_interval,
        on_progress=on_progress,
        coordinator=coordinator,
        holder=args.name,
        concurrency=args.concurrency,
    )


def _coordinator(args: argparse.Namespace) -> Coordinator | None:
    """A PostgreSQL coordinator from ``--dsn`` / ``$PLEO_COORDINATOR_DSN``, a SQLite one from
    ``--journal``, else none (the client's in-memory journal: this process only)."""
    if args.dsn:
        from pleo_export.coordination import PostgresCoordinator  # the [postgres] extra

        return PostgresCoordinator(args.dsn)
    if args.journal:
        return SQLiteCoordinator(args.journal)
    return None


def main() -> None:
    """Parse the options, set up logging and run the service."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_target_options(parser)
    parser.add_argument("--poll-interval", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument("--heartbeat", type=float, default=2.0, metavar="SECONDS")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="handler calls in flight per job (1: in order)"
    )
    parser.add_argument(
        "--batch-size", type=int, metavar="N", help="book N items a call (a batch handler)"
    )
    parser.add_argument("--jobs", type=int, default=3, help="embedded: exports users start")
    parser.add_argument("--items", type=int, default=300, help="embedded: items per export")
    parser.add_argument("--verbose", action="store_true", help="the SDK's own log lines too")
    parser.add_argument(
        "--metrics-port", type=int, metavar="PORT", help="serve Prometheus metrics (0: any port)"
    )
    shared = parser.add_argument_group("sharing the account with other processes")
    shared.add_argument(
        "--dsn", default=os.environ.get("PLEO_COORDINATOR_DSN"), help="PostgreSQL coordinator"
    )
    shared.add_argument("--journal", metavar="PATH", help="SQLite coordinator file instead")
    shared.add_argument("--name", help="this process's stable lease holder name")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    # The SDK logs on "pleo_export" (INFO: job transitions; DEBUG: each request), httpx on
    # "httpx"; this service reports through on_progress instead unless asked.
    logging.getLogger("pleo_export").setLevel(logging.INFO if args.verbose else logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
