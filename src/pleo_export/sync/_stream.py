"""An async iterator driven from sync code: its values on the portal, a chunk per round trip.

Shared by the sync pagers (``_resources``) and the sync run's ``pending()`` (``_run``), so
neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

from ._portal import Portal

__all__ = ["stream"]

T = TypeVar("T")


def stream(portal: Portal, open_: Callable[[], AsyncIterator[T]], chunk: int) -> Iterator[T]:
    """Values of an async iterator made and driven on the portal, ``chunk`` per round trip.

    The async iterator is made on the first ``next()`` and closed on the loop when this one
    ends, is closed, or is collected (from the loop's own thread: scheduled, not waited for).
    """
    source = portal.run_sync(open_)
    try:
        while True:
            values = portal.call(_take, source, chunk)
            if not values:
                return
            yield from values
    finally:
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            portal.cleanup(aclose)


async def _take(source: AsyncIterator[T], chunk: int) -> list[T]:
    values: list[T] = []
    try:
        while len(values) < chunk:
            values.append(await anext(source))
    except StopAsyncIteration:
        pass
    return values
