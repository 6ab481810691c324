"""One export job from claim to final event with ``pleo.export_run(job)``, no worker.

    python examples/export_run.py                  # against an embedded fake server
    python examples/export_run.py --base-url URL   # e.g. pleo-export fake-server

Pleo's export flow in one ``async with`` block: entering claims the job (``started``) or
resumes one already ``in_progress``; ``run.pending()`` yields each item still to do with its
accounting data; ``run.succeeded`` / ``run.failed`` record outcomes, sent in batches of 100
as you go; leaving posts ``completed``, ``completed_with_errors`` or ``failed``.

The first job here exports into a dict "ERP" that refuses tax codes it does not know; the
second meets an ERP that fails pre-export validation and is failed as a whole.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from _support import add_target_options, connect

from pleo_export import PleoExport

if TYPE_CHECKING:
    from pleo_export.testing import FakePleo


class TinyErp:
    """A stand-in accounting system: a dict of vouchers and the tax codes it knows."""

    def __init__(self, tax_codes: set[str], reachable: bool = True) -> None:
        self.tax_codes = tax_codes
        self.reachable = reachable
        self.vouchers: dict[str, dict[str, Any]] = {}

    def check(self) -> str | None:
        """Pre-export validation: None if all is well, else what is wrong."""
        return None if self.reachable else "The ERP did not answer (connection refused)."

    def book(self, item: Any) -> str:
        """Book one export item; return the voucher number (idempotent per entry).

        Raises:
            ValueError: a line uses a tax code the ERP does not know.
        """
        key = str(item.accounting_entry_id)
        if key not in self.vouchers:
            for line in item.accounting_entry_lines:
                code = line.tax.code if line.tax else None
                if code and code not in self.tax_codes:
                    raise ValueError(f"Tax code {code} does not exist in the ERP.")
            self.vouchers[key] = {"type": item.type_, "amount": item.amount.in_wallet_currency}
        return f"V{list(self.vouchers).index(key) + 1:05d}"


def seed(fake: FakePleo) -> None:
    """Two companies, one pending job each."""
    fake.add_job(fake.add_company(country="DK"), items=120)
    fake.add_job(fake.add_company(country="GB"), items=15)


async def export_job(pleo: PleoExport, job: Any, erp: TinyErp) -> None:
    """Export one job into ``erp``; print what the run did."""
    async with pleo.export_run(job) as run:
        problem = erp.check()
        if problem is not None:  # the whole job cannot be exported: fail it up front
            await run.abort(reason=problem, reason_type="accounting_system_unreachable")
        else:
            async for work in run.pending():
                try:
                    voucher = erp.book(work.export_item)
                except ValueError as exc:
                    run.failed(work, reason=str(exc), reason_type="tax_code_unknown")
                else:
                    run.succeeded(work, external_id=voucher)
    stats = run.stats
    print(
        f"job {run.job_id}: {stats.succeeded} booked, {stats.failed} failed,"
        f" {stats.flushed_batches} update batch(es) → {run.final_status}"
    )
    if problem is not None:
        print("  on purpose: this ERP failed pre-export validation, so the run booked nothing")
        print(f"  and failed the whole job: accounting_system_unreachable, {problem!r}")
    elif stats.failed:
        print(f"  on purpose: {stats.failed} items use tax codes this ERP does not know; they")
        print("  were reported failed with tax_code_unknown, for the user to fix in Pleo")


async def main() -> None:
    """Export the two oldest pending jobs, one per ERP."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_target_options(parser)
    async with connect(parser.parse_args(), seed) as target:
        pleo = target.pleo
        jobs = [job async for job in pleo.jobs.list(statuses=["pending"], max_items=2)]
        erps = [TinyErp({"S25", "RC"}), TinyErp(set(), reachable=False)]
        for job, erp in zip(jobs, erps, strict=False):
            await export_job(pleo, job, erp)
        for job in jobs:
            again = await pleo.jobs.get(job.id)
            print(f"Pleo now shows job {again.id} as {again.status}")


if __name__ == "__main__":
    asyncio.run(main())
