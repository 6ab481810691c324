"""Export every pending Pleo export job into a local SQLite ledger: the project's demo.

    make demo                                   # = python examples/export_to_ledger.py --embedded
    python examples/export_to_ledger.py --embedded --jobs 6 --items 1000 --seed 3
    python examples/export_to_ledger.py --base-url http://127.0.0.1:8080 \\
        --api-key pleo-test-key --once --ledger ledger.sqlite   # a fake started on its own
    PLEO_API_KEY=... PLEO_ENVIRONMENT=staging \\
        python examples/export_to_ledger.py --ledger ledger.sqlite   # Pleo; runs until Ctrl+C

``--embedded`` starts the fake Pleo server inside this process (real loopback TCP), seeds a
few companies with one pending job each, and exports them all. An accounting integration is
mostly three things, and this file is those three things:

1. ``book``: the handler that puts one export item into the accounting system (``ledger.py``,
   a SQLite general ledger; booking is idempotent, keyed on Pleo's ``accountingEntryId``) and
   answers ``Booked(external_id=...)`` or ``Rejected(reason, reason_type)``. An item marked
   ``work.in_doubt`` (an earlier run handed it out and died before recording the answer) is
   looked up in the ledger first, and its existing document is reported instead. Otherwise it
   first downloads the item's receipts with ``pleo.files`` into the ledger's content-addressed
   files folder (one copy per SHA-256); a receipt that cannot be downloaded fails the item as
   ``receipt_download_failure`` (or ``receipt_file_size_limit_exceeded``), booking nothing;
2. ``ExportWorker``: finds pending jobs (and ``in_progress`` ones a crashed run left behind),
   leases and claims each, streams its items to the handler, journals and reports outcomes in
   batches of 100 and posts ``completed`` / ``completed_with_errors`` / ``failed``. Its lease
   and journal live in a ``SQLiteCoordinator`` beside the ledger (``<ledger>.journal``);
3. the check: every entry in the ledger is an item Pleo shows as exported, and vice versa;
   every stored file still hashes to its name; and with ``--embedded`` every booked entry has
   exactly the files the fake served, byte for byte (compared by SHA-256).

Kill it at any point and start it again with the same ``--ledger``: the worker takes its
lease back, reports the outcomes the journal holds without booking them again, offers the
items it handed out without an answer as in doubt (the ledger finds them), and the check
still holds.

Exit status: 0 when the check holds, 1 when it does not, 3 for missing credentials.

``export()`` and ``seed_fake()`` are also imported by ``benchmarks/`` and the crash-resume test
(``tests/reliability/``), which SIGKILLs this script mid-run and starts it again.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger import Attachment, BookingError, Ledger

from pleo_export import (
    AuthenticationError,
    Booked,
    ExportWorker,
    PermissionDeniedError,
    PleoError,
    PleoExport,
    Progress,
    Rejected,
    WorkItem,
)
from pleo_export.coordination import Coordinator, SQLiteCoordinator

if TYPE_CHECKING:
    from pleo_export.testing import FakePleo

#: Countries of the embedded fake's companies, in turn (wallet currency and VAT follow).
COUNTRIES = ("DK", "GB", "SE", "DE", "NO", "NL")
API_KEY_ENV, BEARER_TOKEN_ENV = "PLEO_API_KEY", "PLEO_BEARER_TOKEN"
#: Progress is printed each time a job passes another quarter of its items.
MILESTONES = 4


class Integration:
    """The accounting integration: the handler, progress reporting and tallies for a summary.

    Args:
        pleo: the client, for downloading receipts; None books items without them.
        ledger: where items are booked.
        out: where progress goes (default stdout).
    """

    def __init__(self, pleo: PleoExport | None, ledger: Ledger, out: Any = None) -> None:
        self.pleo = pleo
        self.ledger = ledger
        self.out = out or sys.stdout
        self.running: dict[uuid.UUID, uuid.UUID] = {}  # company → its job now running
        self.final: dict[uuid.UUID, str] = {}  # job → final status
        self.reasons: Counter[str] = Counter()
        #: Items offered in doubt, and those of them the ledger already held.
        self.in_doubt = self.found_booked = 0
        self._printed: dict[uuid.UUID, int] = {}

    async def book(self, work: WorkItem[Any, Any]) -> Booked | Rejected:
        """Download an export item's receipts, then book it with them (the worker's handler).

        An item in doubt is looked up in the ledger first: an earlier run may have booked it
        and died before its answer was journaled. A download error is left to escape: the
        worker reports it with its receipt failure type, and nothing is booked.
        """
        export_item = work.export_item
        if work.in_doubt:
            self.in_doubt += 1
            document = self.ledger.document(str(work.accounting_entry_id))
            if document is not None:
                self.found_booked += 1
                return Booked(external_id=document)
        # The worker runs one job per company at a time, so the company names the job.
        job_id = self.running[export_item.company_id]
        entry = str(export_item.accounting_entry_id)
        document = self.ledger.document(entry)
        if document is not None:  # booked by an earlier run that could not report it
            return Booked(external_id=document)
        stored = []
        if self.pleo is not None:
            files = self.pleo.files.of(export_item, job_id=job_id)
            # Downloads of one item run side by side; the client caps them at 4 in flight.
            stored = await asyncio.gather(
                *(self.pleo.files.store(file, self.ledger.files_dir) for file in files)
            )
        attachments = [
            Attachment(f.sha256, f.media_type, f.size, f.path.name) for f in stored if f.path
        ]
        try:
            booking = self.ledger.book(export_item, job_id=str(job_id), attachments=attachments)
        except BookingError as exc:
            self.reasons[exc.reason_type] += 1
            return Rejected(exc.reason, reason_type=exc.reason_type)
        return Booked(external_id=booking.document)

    def on_progress(self, p: Progress) -> None:
        """Print a line when a job starts, passes a quarter of its items, or ends."""
        short = str(p.job_id)[:8]
        done = p.booked + p.failed
        if p.stage in ("started", "resumed"):
            assert p.company_id is not None
            self.running[p.company_id] = p.job_id
            self._say(f"job {short}: {p.stage}")
        elif p.stage == "item" and p.total:
            step = done * MILESTONES // p.total
            if step > self._printed.get(p.job_id, 0) and done < p.total:
                self._printed[p.job_id] = step
                self._say(f"job {short}: {done:>5}/{p.total} items")
        elif p.stage == "finished":
            self.final[p.job_id] = p.status or "?"
            total = p.total if p.total is not None else done
            self._say(
                f"job {short}: {done:>5}/{total} items, {p.booked} booked, {p.failed} failed"
                f" → {p.status}"
            )
        elif p.stage == "skipped":  # another worker claimed it, or it finished meanwhile
            self._say(f"job {short}: skipped, it is {p.status}")
        elif p.stage in ("paused", "error"):
            self._say(f"job {short}: {p.stage} {p.status or ''}".rstrip())

    def _say(self, line: str) -> None:
        print(line, file=self.out, flush=True)


async def successful_on_server(pleo: PleoExport, job_ids: list[str]) -> int:
    """How many items of these jobs Pleo shows as ``successful``."""
    count = 0
    for job_id in job_ids:
        page = await pleo.job_items.list(job_id, status="successful").first_page()
        if page.total is not None:
            count += page.total
        else:  # Pleo may leave ``total`` out: count them
            count += sum([1 async for _ in pleo.job_items.list(job_id, status="successful")])
    return count


async def export(
    pleo: PleoExport,
    ledger: Ledger,
    *,
    once: bool,
    company_ids: list[str] | None = None,
    poll_interval: float = 60.0,
    concurrency: int = 8,
    out: Any = None,
    fake: FakePleo | None = None,
    receipts: bool = True,
    coordinator: Coordinator | None = None,
    durable: bool = True,
) -> int:
    """Run the worker (until idle with ``once``, else until SIGINT/SIGTERM), then check.

    Args:
        fake: the embedded fake; the check then also compares every booked entry's files with
            the bytes the fake served.
        receipts: download and attach each item's files (off: book the accounting data only).
        concurrency: bookings in flight per job (1 books in order).
        coordinator: where leases and the journal live; default a ``SQLiteCoordinator`` beside
            the ledger (``<ledger>.journal``), or with ``durable=False`` the client's in-memory
            journal (what the benchmark compares against).

    Returns:
        The exit status: 0 when the ledger and Pleo agree, 1 when they do not.
    """
    out = out or sys.stdout
    integration = Integration(pleo if receipts else None, ledger, out)
    journal = coordinator
    if journal is None and durable:
        journal = SQLiteCoordinator(ledger.path.with_name(ledger.path.name + ".journal"))
    worker = ExportWorker(
        pleo,
        integration.book,
        company_ids=company_ids,
        poll_interval=poll_interval,
        # Items of a job are booked eight at a time (they complete out of order).
        concurrency=concurrency,
        on_progress=integration.on_progress,
        coordinator=journal,
        # One worker per ledger: a restart takes its own leases back at once.
        holder=f"export_to_ledger:{ledger.path.resolve()}",
        # Without a coordinator this is still the only worker: resume what it left at once.
        resume_idle=0,
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, worker.stop)
    began = time.perf_counter()
    try:
        await worker.run(until_idle=once)
    finally:
        if journal is not None and coordinator is None:
            await journal.aclose()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    elapsed = time.perf_counter() - began

    stats = worker.stats
    statuses = Counter(integration.final.values())
    entries = ledger.count()
    on_server = await successful_on_server(pleo, ledger.job_ids())
    reasons = ", ".join(f"{kind} {n}" for kind, n in integration.reasons.most_common())
    print("\nSummary", file=out)
    rows = {
        "jobs": f"{stats.jobs_processed} exported"
        + (f" ({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))})" if statuses else "")
        + (f", {stats.jobs_paused} paused" if stats.jobs_paused else "")
        + (f", {stats.jobs_errored} ended on an error" if stats.jobs_errored else ""),
        "items booked": f"{stats.items_booked:,}",
        "items failed": f"{stats.items_failed:,}" + (f" ({reasons})" if reasons else ""),
        "in doubt": f"{integration.in_doubt:,} offered again,"
        f" {integration.found_booked:,} found already booked",
        "elapsed": f"{elapsed:.1f} s",
        "ledger": f"{ledger.path} ({entries:,} entries)",
    }
    for name, value in rows.items():
        print(f"  {name:<13} {value}", file=out)
    ok = entries == on_server
    verdict = "OK" if ok else "MISMATCH"
    print(
        f"check: ledger entries ({entries:,}) == items marked successful in Pleo"
        f" ({on_server:,}): {verdict}",
        file=out,
    )
    problems = ledger.file_problems()
    if fake is not None and receipts:
        problems += attachment_problems(ledger, fake)
    attached, stored = ledger.file_count()
    against = "intact and as the fake served them" if fake is not None else "intact"
    print(
        f"check: {attached:,} attachments ({stored:,} distinct files) {against}:"
        f" {'OK' if not problems else 'MISMATCH ' + '; '.join(problems[:3])}",
        file=out,
    )
    unbalanced = ledger.unbalanced()
    balance = "OK" if not unbalanced else f"{len(unbalanced):,} do not: {', '.join(unbalanced[:3])}"
    print(f"check: every ledger entry balances (debits == credits): {balance}", file=out)
    return 0 if ok and not problems and not unbalanced else 1


def attachment_problems(ledger: Ledger, fake: FakePleo) -> list[str]:
    """Booked entries whose attachments differ from the files the fake serves for them."""
    problems = []
    for entry, job_id in ledger.entries():
        served = [hashlib.sha256(b).hexdigest() for b in fake.file_contents(job_id, entry)]
        if [a.sha256 for a in ledger.attachments(entry)] != served:
            problems.append(f"entry {entry} has other files than Pleo served")
    return problems


async def check_access(pleo: PleoExport, company_ids: list[str] | None) -> None:
    """Fail fast on bad credentials or an unreachable server (the worker would only log a
    failed poll and try again later).

    Raises:
        PleoError: the first listing failed, e.g. ``AuthenticationError``.
    """
    company = company_ids[0] if company_ids else None
    await pleo.jobs.list(company_id=company, max_items=1).first_page()


def seed_fake(fake: FakePleo, *, jobs: int, items: int) -> None:
    """Give the embedded fake ``jobs`` companies with one pending job of ``items`` each.

    Every other job uses vendor-based bookkeeping, so its invoices carry vendors; one vendor
    of every company is missing from the ledger's register, so some invoices fail to book.
    The first company also has an older, completed job, which the worker leaves alone.
    """
    for number in range(jobs):
        company = fake.add_company(
            name=f"Demo Company {number + 1}", country=COUNTRIES[number % len(COUNTRIES)]
        )
        if number == 0:
            fake.add_job(company, items=items // 4, status="completed")
        fake.add_job(company, items=items, vendor_based_bookkeeping=number % 2 == 1)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Credentials for Pleo: PLEO_API_KEY or PLEO_BEARER_TOKEN; the server: "
        "PLEO_ENVIRONMENT (production, staging) or PLEO_BASE_URL.",
    )
    where = parser.add_argument_group("where to export from")
    where.add_argument(
        "--embedded", action="store_true", help="start and seed a fake Pleo in this process"
    )
    where.add_argument("--base-url", metavar="URL", help="any server, e.g. a fake (http://…)")
    where.add_argument("--api-key", metavar="KEY", help="default: $PLEO_API_KEY")
    where.add_argument(
        "--company", action="append", metavar="ID", help="only this company (repeatable)"
    )
    run = parser.add_argument_group("how to run")
    run.add_argument(
        "--ledger", metavar="PATH", help="the SQLite ledger (default: a temporary file with "
        "--embedded, ledger.sqlite otherwise)",
    )  # fmt: skip
    run.add_argument(
        "--once", action="store_true", help="export the pending and in-progress jobs, then exit"
    )
    run.add_argument("--poll-interval", type=float, default=60.0, metavar="SECONDS")
    run.add_argument(
        "--concurrency", type=int, default=8, help="bookings in flight per job (1: in order)"
    )
    run.add_argument(
        "--log-level", metavar="LEVEL", help="log to stderr from this level on, e.g. DEBUG"
    )
    seed = parser.add_argument_group("the embedded fake's data")
    seed.add_argument("--seed", type=int, default=1, help="seed of all generated data")
    seed.add_argument("--jobs", type=int, default=4, help="companies, one pending job each")
    seed.add_argument("--items", type=int, default=800, help="items per job")
    return parser


async def _main(args: argparse.Namespace) -> int:
    if args.embedded:
        from pleo_export.testing import DEFAULT_API_KEY, FakePleo  # the [testing] extra

        fake = FakePleo(seed=args.seed)
        seed_fake(fake, jobs=args.jobs, items=args.items)
        # Kept after the run, so you can open it: sqlite3 /tmp/pleo-demo-…/ledger.sqlite
        path = args.ledger or Path(tempfile.mkdtemp(prefix="pleo-demo-")) / "ledger.sqlite"
        ledger = Ledger(path)
        try:
            async with (
                fake.serve() as url,
                PleoExport(api_key=DEFAULT_API_KEY, base_url=url) as pleo,
            ):
                print(f"fake Pleo at {url}: {args.jobs} pending jobs, {args.items} items each")
                code = await export(pleo, ledger, once=True, company_ids=args.company, fake=fake)
                print(
                    "(the vendor_unknown failures are on purpose: every demo company buys from\n"
                    " vendor V-1006, which the ledger's register lacks, and from a vendor Pleo\n"
                    " has no code for, so the ledger refuses those invoices and tells Pleo why,\n"
                    " as a real ERP would)"
                )
                return code
        finally:
            ledger.close()

    client_args: dict[str, Any] = {}
    if args.base_url:
        client_args["base_url"] = args.base_url
    if args.api_key:
        client_args["api_key"] = args.api_key
    async with PleoExport(**client_args) as pleo:
        await check_access(pleo, args.company)  # before any file is created
        ledger = Ledger(args.ledger or "ledger.sqlite")
        try:
            print(f"exporting from {pleo.base_url} into {ledger.path}")
            return await export(
                pleo,
                ledger,
                once=args.once,
                company_ids=args.company,
                poll_interval=args.poll_interval,
                concurrency=args.concurrency,
            )
        finally:
            ledger.close()


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return its exit status (0 ok, 1 check failed or API error, 3 credentials)."""
    args = _parser().parse_args(argv)
    if args.log_level:
        logging.basicConfig(
            level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
        )
    if not (args.embedded or args.api_key or {API_KEY_ENV, BEARER_TOKEN_ENV} & os.environ.keys()):
        print(
            f"export_to_ledger: no credentials: set {API_KEY_ENV} or {BEARER_TOKEN_ENV}, pass"
            " --api-key, or try --embedded",
            file=sys.stderr,
        )
        return 3
    try:
        return asyncio.run(_main(args))
    except (AuthenticationError, PermissionDeniedError) as exc:
        print(f"export_to_ledger: credentials refused: {exc}", file=sys.stderr)
        return 3
    except PleoError as exc:
        print(f"export_to_ledger: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
