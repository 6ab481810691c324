"""``pleo-export jobs``: list, show, and move export jobs through their lifecycle.

Transitions go through the SDK's lifecycle helpers, so the CLI refuses the same illegal moves
the SDK does, and retried events are reconciled the same way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from .._client import PleoExport
from ..models import ExportJobFailureReasonType
from ._context import CliError, ExitCode
from ._output import print_json, print_kv, print_table

__all__ = ["register"]

Handler = Callable[[PleoExport, argparse.Namespace], Coroutine[Any, Any, int]]

_JOB_STATUSES = ("pending", "in_progress", "failed", "completed", "completed_with_errors")
_REASON_TYPES = tuple(member.value for member in ExportJobFailureReasonType if member.is_known)


def _job_row(job: Any) -> list[Any]:
    created = job.created_at.strftime("%Y-%m-%d %H:%M:%S") if job.created_at else None
    return [job.id, job.company_id, job.status, job.number_of_items, created]


async def _list(pleo: PleoExport, args: argparse.Namespace) -> int:
    jobs = [
        job
        async for job in pleo.jobs.list(
            company_id=args.company, statuses=args.status, max_items=args.limit
        )
    ]
    if args.json:
        print_json([job.to_dict() for job in jobs])
    elif jobs:
        print_table(["id", "company", "status", "items", "created"], [_job_row(j) for j in jobs])
    else:
        print("no export jobs match")
    return 0


def _show(job: Any, as_json: bool) -> None:
    if as_json:
        print_json(job.to_dict())
        return
    data = job.to_dict()
    print_kv(
        {
            "id": data.get("id"),
            "company": data.get("companyId"),
            "status": data.get("status"),
            "items": data.get("numberOfItems"),
            "vendor-based": data.get("vendorBasedBookkeeping"),
            "interactive": data.get("isInteractive"),
            "created": data.get("createdAt"),
            "started": data.get("startedAt"),
            "last updated": data.get("lastUpdatedAt"),
            "completed": data.get("completedAt"),
            "expires in": f"{data['expiresIn']} s" if data.get("expiresIn") is not None else None,
            "failure": data.get("failureReasonType"),
            "reason": data.get("failureReason"),
        }
    )


async def _get(pleo: PleoExport, args: argparse.Namespace) -> int:
    _show(await pleo.jobs.get(args.job_id), args.json)
    return 0


def _reason_type(args: argparse.Namespace) -> str | None:
    """``--reason-type`` checked here, so the advice names the flag and not a Python call."""
    value: str | None = getattr(args, "reason_type", None)
    if value is None or value in _REASON_TYPES:
        return value
    if args.new_reason_type:
        return ExportJobFailureReasonType(value)  # sent as given, on purpose
    raise CliError(
        f"unknown --reason-type {value!r}; Pleo's job failure types are "
        f"{', '.join(_REASON_TYPES)} (add --new-reason-type to send one Pleo added later)",
        ExitCode.USAGE,
    )


async def _transition(pleo: PleoExport, args: argparse.Namespace) -> int:
    reason_type = _reason_type(args)
    job: Any = await pleo.jobs.get(args.job_id)  # v3 or v2, as the client was built
    if args.action == "start":
        await pleo.jobs.start(job)
    elif args.action == "complete":
        pending = [
            str(item.to_dict().get("accountingEntryId"))
            async for item in pleo.job_items.list(job.id, status="pending")
        ]
        if pending and not args.abandon_pending:
            raise CliError(
                f"{len(pending):,} items of job {job.id} are still pending; completing the job "
                "would abandon them (add --abandon-pending to complete it anyway)",
                ExitCode.REFUSED,
            )
        if args.with_errors:
            await pleo.jobs.complete_with_errors(job)
        else:
            await pleo.jobs.complete(job)
        if pending:
            # On stderr, so that --json output stays one JSON document.
            print(f"abandoned {len(pending):,} pending items:", *pending, sep="\n", file=sys.stderr)
    else:
        await pleo.jobs.fail(job, reason=args.reason, reason_type=reason_type)
    _show(await pleo.jobs.get(args.job_id), args.json)
    return 0


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add ``jobs list|get|start|complete|fail`` to the command parser."""
    jobs = commands.add_parser("jobs", help="list, show and transition export jobs")
    sub = jobs.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = sub.add_parser("list", parents=[common], help="list export jobs")
    listing.add_argument(
        "--status",
        action="extend",
        nargs="+",
        choices=_JOB_STATUSES,
        metavar="STATUS",
        help=f"only jobs in these statuses ({', '.join(_JOB_STATUSES)})",
    )
    listing.add_argument("--company", metavar="ID", help="only this company's jobs")
    listing.add_argument("--limit", type=int, metavar="N", help="show at most N jobs")
    listing.set_defaults(handler=_list)

    get = sub.add_parser("get", parents=[common], help="show one export job")
    get.add_argument("job_id", metavar="ID")
    get.set_defaults(handler=_get)

    for action, text in (
        ("start", "claim a pending job (pending → in_progress)"),
        ("complete", "complete a running job"),
        ("fail", "fail a running job"),
    ):
        parser = sub.add_parser(action, parents=[common], help=text)
        parser.add_argument("job_id", metavar="ID")
        if action == "complete":
            parser.add_argument(
                "--with-errors",
                action="store_true",
                help="post completed_with_errors (some items failed)",
            )
            parser.add_argument(
                "--abandon-pending",
                action="store_true",
                help="complete even with items still pending (Pleo marks them abandoned)",
            )
        if action == "fail":
            parser.add_argument("--reason", required=True, help="why, in words the user can act on")
            parser.add_argument(
                "--reason-type",
                metavar="TYPE",
                help="Pleo's failureReasonType, e.g. accounting_system_unreachable",
            )
            parser.add_argument(
                "--new-reason-type",
                action="store_true",
                help="send --reason-type even if this SDK's spec does not list it",
            )
        parser.set_defaults(handler=_transition)
