"""``pleo-export items export`` (the data layer to a file) and ``job-items summary``
(``items files`` lives in ``_files``, added to the ``items`` actions by ``_main``).

The export streams page by page, so a job of any size is written with one page in memory. CSV
gets one row per item with the columns a bookkeeper looks at first; JSON Lines keeps everything.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TextIO

from .._client import PleoExport
from ._output import ProgressBar, print_json, print_table, progress_enabled

__all__ = ["CSV_COLUMNS", "csv_row", "register"]

#: The CSV columns, in order. Amounts are integers in minor units, as Pleo sends them.
CSV_COLUMNS: Final = (
    "accountingEntryId",
    "date",
    "type",
    "subType",
    "amount",
    "currency",
    "supplierAmount",
    "supplierCurrency",
    "supplier",
    "vendorCode",
    "bookkeepingMethod",
    "accounts",
    "taxCodes",
    "note",
)
#: Failures listed by ``job-items summary`` in table mode (``--json`` lists them all).
_FAILURES_SHOWN: Final = 20
_ITEM_STATUSES: Final = ("pending", "in_progress", "successful", "failed", "abandoned")


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def csv_row(item: dict[str, Any]) -> list[Any]:
    """Flatten one export item (its JSON dict) into the values of ``CSV_COLUMNS``."""
    lines = item.get("accountingEntryLines") or []
    accounts = sorted({c for line in lines if (c := _get(line, "account", "code"))})
    taxes = sorted({c for line in lines if (c := _get(line, "tax", "code"))})
    return [
        item.get("accountingEntryId"),
        item.get("date"),
        item.get("type"),
        item.get("subType"),
        _get(item, "amount", "inWalletCurrency", "value"),
        _get(item, "amount", "inWalletCurrency", "currency"),
        _get(item, "amount", "inSupplierCurrency", "value"),
        _get(item, "amount", "inSupplierCurrency", "currency"),
        _get(item, "supplier", "name"),
        _get(item, "vendor", "code"),
        _get(item, "bookkeeping", "method"),
        " ".join(accounts),
        " ".join(taxes),
        item.get("note"),
    ]


@contextmanager
def _open_output(name: str) -> Iterator[TextIO]:
    """Stdout for ``-``; otherwise a temporary file beside ``name``, renamed to it only when
    the block succeeds, so a failed export leaves no partial file and keeps an older one."""
    if name == "-":
        yield sys.stdout
        return
    target = Path(name)
    fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(fd, 0o666 & ~umask)  # mkstemp's 0600 would outlive the rename
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


async def _export(pleo: PleoExport, args: argparse.Namespace) -> int:
    fmt = args.format or ("csv" if args.output.endswith(".csv") else "jsonl")
    progress = ProgressBar(
        f"export {args.job_id}",
        unit="items",
        enabled=progress_enabled(args.progress) and not args.json,
    )
    written = 0
    with _open_output(args.output) as out:
        writer = csv.writer(out) if fmt == "csv" else None
        if writer is not None:
            writer.writerow(CSV_COLUMNS)
        async for page in pleo.export_items.list(args.job_id).pages():
            for item in page.items:
                data = item.to_dict()
                if writer is not None:
                    writer.writerow(csv_row(data))
                else:
                    out.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
            written += len(page)
            progress.advance(len(page), total=page.total)
    progress.finish()
    if args.output == "-":
        return 0  # stdout holds the items themselves
    if args.json:
        print_json({"jobId": args.job_id, "items": written, "format": fmt, "output": args.output})
    else:
        print(f"wrote {written} items to {args.output} ({fmt})")
    return 0


async def _summary(pleo: PleoExport, args: argparse.Namespace) -> int:
    counts: Counter[str] = Counter()
    failures: list[dict[str, Any]] = []
    async for item in pleo.job_items.list(args.job_id):
        status = str(item.status)
        counts[status] += 1
        if status == "failed":
            data = item.to_dict()
            failures.append(
                {
                    "accountingEntryId": data.get("accountingEntryId"),
                    "failureReasonType": data.get("failureReasonType"),
                    "failureReason": data.get("failureReason"),
                }
            )
    total = sum(counts.values())
    ordered = {s: counts.get(s, 0) for s in _ITEM_STATUSES}
    ordered |= {s: n for s, n in sorted(counts.items()) if s not in ordered}
    if args.json:
        print_json({"jobId": args.job_id, "total": total, "counts": ordered, "failures": failures})
        return 0
    print_table(["status", "items"], [*ordered.items(), ("total", total)])
    if failures:
        shown = failures[:_FAILURES_SHOWN]
        print(f"\nfailed items ({len(shown)} of {len(failures)} shown):")
        print_table(
            ["accounting entry", "reason type", "reason"],
            [[f["accountingEntryId"], f["failureReasonType"], f["failureReason"]] for f in shown],
        )
    return 0


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """Add ``items export`` and ``job-items summary`` to the command parser; return the
    ``items`` actions (``items files`` joins them, after ``export``)."""
    items = commands.add_parser("items", help="export items (the accounting data of a job)")
    sub = items.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = sub.add_parser(
        "export", parents=[common], help="write a running job's export items to a file"
    )
    export.add_argument("job_id", metavar="JOB_ID")
    export.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        help="jsonl (every field) or csv (one row per item); default from --output's suffix",
    )
    export.add_argument(
        "--output", "-o", default="-", metavar="FILE", help="where to write (default: stdout)"
    )
    export.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress bar on stderr (auto: only on a terminal)",
    )
    export.set_defaults(handler=_export)
    actions = sub

    job_items = commands.add_parser("job-items", help="the per-item status of a job")
    sub = job_items.add_subparsers(dest="action", required=True, metavar="ACTION")
    summary = sub.add_parser(
        "summary", parents=[common], help="count a job's items by status and list the failures"
    )
    summary.add_argument("job_id", metavar="JOB_ID")
    summary.set_defaults(handler=_summary)
    return actions
