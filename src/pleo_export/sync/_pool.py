"""A plain handler, called from the client's loop in a thread pool: what the sync worker and
``ExportRun.process`` hand the async engine in place of the user's function.

Each call runs in a copy of the context of the engine's task for that call (what
``asyncio.to_thread`` does), so the handler sees the context variables of whoever started the
run or worker, and what it sets stays in its call.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeAlias, TypeVar

import pleo_export
from pleo_export import BatchAnswer, Outcome, WorkItem
from pleo_export.models import ExportItemV2, ExportItemV3, ExportJobItem, ExportJobItemV3

__all__ = ["BatchHandler", "Handler", "HandlerPool"]

ExportT = TypeVar("ExportT", bound=ExportItemV3 | ExportItemV2)
ItemT = TypeVar("ItemT", bound=ExportJobItemV3 | ExportJobItem)

#: ``handler(work) -> Booked | Rejected | Retry``, a plain function given a ``WorkItem``;
#: raising is transient, as in the async worker: the item is offered again (in doubt).
Handler: TypeAlias = Callable[[WorkItem[ItemT, ExportT]], Outcome]
#: ``handler(batch) -> BatchAnswer``, a plain function given up to ``batch_size`` work items
#: (a tuple) and answering one outcome per item, by ``accounting_entry_id`` (a mapping) or in
#: order (a sequence); raising puts every item of the batch back, in doubt.
BatchHandler: TypeAlias = Callable[[Sequence[WorkItem[ItemT, ExportT]]], BatchAnswer]


class HandlerPool:
    """``one`` and ``batch`` are async callables for the engine; each runs the plain handler
    in a pool of ``threads`` threads, open between ``open()`` and ``close()``."""

    def __init__(self, handler: Handler[Any, Any] | BatchHandler[Any, Any], threads: int) -> None:
        self._handler: Callable[[Any], object] = handler
        self._threads = threads if isinstance(threads, int) and threads > 0 else 1
        self._pool: ThreadPoolExecutor | None = None

    def open(self) -> None:
        """Start the threads (on the first call); before the engine may call the handler."""
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="pleo-export-handler")

    def close(self, *, interrupted: bool) -> None:
        """Stop the threads: waiting for the calls in them, unless ``interrupted`` (a handler
        still in the ERP after a Ctrl-C ends on its own)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=not interrupted, cancel_futures=True)

    async def one(self, work: WorkItem[Any, Any]) -> Outcome:
        """The handler of one item."""
        outcome: Outcome = await self._call(work)
        return outcome

    async def batch(self, batch: Sequence[WorkItem[Any, Any]]) -> BatchAnswer:
        """The batch handler."""
        answer: BatchAnswer = await self._call(batch)
        return answer

    async def _call(self, argument: object) -> Any:
        pool = self._pool
        if pool is None:  # only run()/process() start calls, and they open the pool first
            raise pleo_export.PleoError("the sync handler's thread pool is not running")
        handler = self._handler
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, lambda: context.run(handler, argument))
