"""Async cursor pagination over any list operation, with one page prefetched by default.

``Pager`` streams items (``async for``), pages (``.pages()``) or just the first page. It only
knows how to ask for a page at a cursor; the wire supplies that function (``_wire._pages``, the
one place that reads Pleo's paging JSON), so this module knows pages, not JSON. Cursor stepping
and the loop guards are plain functions; the prefetch runs in one background task that is
cancelled when iteration stops for any reason (end, ``break``, an error, cancellation). A fetch
may hand back a ``Fetched`` page, cursors read and items not built yet: the background task then
asks for the next page at once and the consumer builds the items, so model building is off the
fetch chain.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from ._config import DEFAULT_MAX_EMPTY_PAGES, DEFAULT_PREFETCH, MAX_CURSOR_CHARS
from ._errors import PleoError
from ._validation import check_int

__all__ = [
    "Cursor",
    "Fetched",
    "Page",
    "Pager",
    "PaginationError",
    "empty_run",
    "next_cursor",
]

T = TypeVar("T")


class PaginationError(PleoError):
    """Pleo's paging metadata would loop forever or cannot be followed: a repeated, missing or
    oversized cursor, or page after empty page that still announces more."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page starts: ``after`` pages forward, ``before`` backward, ``offset`` skips."""

    after: str | None = None
    before: str | None = None
    offset: int | None = None

    @property
    def direction(self) -> Literal["forward", "backward"]:
        """Backward when paging from a ``before`` cursor."""
        return "backward" if self.before is not None else "forward"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and the cursors around it.

    To resume later, store ``end_cursor`` (``start_cursor`` when paging backward) and pass it
    as ``after=`` (``before=``) to the same ``list()`` call.
    """

    items: Sequence[T]
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None
    total: int | None

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True, slots=True)
class Fetched(Generic[T]):
    """A page whose paging metadata is read but whose items are not built yet.

    ``size`` is the number of items it holds; ``build`` makes the ``Page`` (and raises what
    building it raises, e.g. a ``ResponseValidationError``).
    """

    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None
    size: int
    build: Callable[[], Page[T]]


def _built(page: Page[T] | Fetched[T]) -> Page[T]:
    return page.build() if isinstance(page, Fetched) else page


def _size(page: Page[Any] | Fetched[Any]) -> int:
    return page.size if isinstance(page, Fetched) else len(page.items)


def next_cursor(page: Page[Any] | Fetched[Any], direction: str, seen: set[str]) -> Cursor | None:
    """The cursor of the page after ``page``, or None at the end.

    Raises:
        PaginationError: more pages are announced without a cursor, or a cursor repeats, or
            it is longer than 4 KiB (it could not be sent back in a URL).
    """
    if direction == "backward":
        more, cursor, name = page.has_previous_page, page.start_cursor, "startCursor"
    else:
        more, cursor, name = page.has_next_page, page.end_cursor, "endCursor"
    if not more:
        return None
    if not cursor:
        raise PaginationError(f"the page says there is more but has no {name} to follow")
    if not isinstance(cursor, str):  # the generated parser keeps a wrong-typed cursor as sent
        raise PaginationError(f"{name} is a {type(cursor).__name__}, not a string; stopping")
    if len(cursor) > MAX_CURSOR_CHARS:
        raise PaginationError(
            f"{name} has {len(cursor):,} characters, over the {MAX_CURSOR_CHARS:,} a cursor may "
            "have; stopping"
        )
    if cursor in seen:
        shown = cursor if len(cursor) <= 40 else cursor[:39] + "…"  # a hostile one may be huge
        raise PaginationError(f"{name} {shown!r} was already visited; stopping to avoid a loop")
    seen.add(cursor)
    return Cursor(before=cursor) if direction == "backward" else Cursor(after=cursor)


def empty_run(page: Page[Any] | Fetched[Any], run: int, limit: int) -> int:
    """Empty pages in a row through ``page``, which announced another one.

    Raises:
        PaginationError: ``limit`` pages in a row held no item yet announced more: a server
            that would keep the pager busy forever with fresh cursors and nothing else.
    """
    if _size(page):
        return 0
    run += 1
    if run >= limit:
        raise PaginationError(
            f"{run} pages in a row held no item but announced another; stopping "
            f"(max_empty_pages={limit})"
        )
    return run


class Pager(Generic[T]):
    """Items of a list operation across pages: ``async for item in pager``.

    Args:
        fetch: returns the page at a cursor, built or ``Fetched`` (built when it is consumed).
        start: where the first page starts.
        max_items: stop after this many items (None: all).
        prefetch: pages requested ahead of the one being consumed (0: none).
        max_empty_pages: empty pages in a row that still announce more, before paging stops
            with a ``PaginationError`` (default 10).
    """

    def __init__(
        self,
        fetch: Callable[[Cursor], Awaitable[Page[T] | Fetched[T]]],
        *,
        start: Cursor = Cursor(),
        max_items: int | None = None,
        prefetch: int = DEFAULT_PREFETCH,
        max_empty_pages: int = DEFAULT_MAX_EMPTY_PAGES,
    ) -> None:
        if max_items is not None:
            check_int(max_items, "max_items", minimum=0)
        check_int(prefetch, "prefetch", minimum=0)
        check_int(max_empty_pages, "max_empty_pages", minimum=1)
        self._max_empty_pages = max_empty_pages
        self._fetch = fetch
        self._start = start
        self._max_items = max_items
        self._prefetch = prefetch
        # Weak: an iteration abandoned by ``break`` must stay collectable, so the event loop's
        # async-generator finalizer closes it (and cancels its prefetch) right away. A strong
        # list here made a cycle (generator frame → pager → list → generator) that kept the
        # prefetch task pending until the cyclic GC ran.
        self._open: weakref.WeakSet[AsyncGenerator[Any, None]] = weakref.WeakSet()

    def __aiter__(self) -> AsyncIterator[T]:
        return self._track(self._items())

    def pages(self) -> AsyncIterator[Page[T]]:
        """Iterate page by page, following the cursors (``max_items`` is not applied)."""
        return self._track(self._pages())

    async def first_page(self) -> Page[T]:
        """Fetch only the first page."""
        return _built(await self._fetch(self._start))

    async def __aenter__(self) -> Pager[T]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop every iteration of this pager and cancel its prefetch now."""
        while self._open:
            await self._open.pop().aclose()

    def _track(self, generator: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
        self._open.add(generator)
        return generator

    def _seen(self) -> set[str]:
        """The cursors already visited: the start cursor, so a page pointing back at it stops."""
        first = self._start.before if self._start.direction == "backward" else self._start.after
        return set() if first is None else {first}

    async def _items(self) -> AsyncGenerator[T, None]:
        remaining = self._max_items
        if remaining == 0:
            return
        pages = self._pages(budget=remaining)
        try:
            async for page in pages:
                for item in page.items:
                    yield item
                    if remaining is not None:
                        remaining -= 1
                        if remaining == 0:
                            return
        finally:
            await pages.aclose()

    async def _pages(self, budget: int | None = None) -> AsyncGenerator[Page[T], None]:
        """Pages in order; ``budget`` stops fetching once that many items were fetched.

        A page is handed out before its cursor is checked, so the caller gets every page Pleo
        sent and only then the ``PaginationError`` about what follows it.
        """
        if self._prefetch == 0:
            cursor: Cursor | None = self._start
            seen = self._seen()
            fetched = empty = 0
            while cursor is not None:
                page = _built(await self._fetch(cursor))
                yield page
                fetched += len(page.items)
                if budget is not None and fetched >= budget:
                    return
                cursor = next_cursor(page, self._start.direction, seen)
                if cursor is not None:
                    empty = empty_run(page, empty, self._max_empty_pages)
            return
        queue: asyncio.Queue[Page[T] | Fetched[T] | BaseException | None] = asyncio.Queue()
        slots = asyncio.Semaphore(self._prefetch)
        producer = asyncio.create_task(self._produce(queue, slots, budget))
        try:
            while True:
                entry = await queue.get()
                if entry is None:
                    return
                if isinstance(entry, BaseException):
                    raise entry
                slots.release()
                if isinstance(entry, Fetched):
                    # Let the producer send the request the freed slot allows before this task
                    # spends its time building models: the fetch then overlaps the building.
                    await asyncio.sleep(0)
                yield _built(entry)
        finally:
            producer.cancel()
            # asyncio.wait rather than ``await producer``: it neither swallows a cancellation of
            # this task nor raises the producer's CancelledError here (catching one in an async
            # generator's finally leaves the generator marked running on Python 3.11).
            await asyncio.wait([producer])

    async def _produce(
        self,
        queue: asyncio.Queue[Page[T] | Fetched[T] | BaseException | None],
        slots: asyncio.Semaphore,
        budget: int | None,
    ) -> None:
        """Fetch pages ahead: a slot is taken per fetch and freed when the consumer takes the
        page, so at most ``prefetch`` pages exist beyond the one being consumed. A ``Fetched``
        page is queued unbuilt: the next fetch starts as soon as its cursor is read."""
        cursor: Cursor | None = self._start
        seen = self._seen()
        fetched = empty = 0
        try:
            while cursor is not None:
                await slots.acquire()
                page = await self._fetch(cursor)
                queue.put_nowait(page)
                fetched += _size(page)
                if budget is not None and fetched >= budget:
                    break  # max_items is reached: a page fetched ahead would be thrown away
                cursor = next_cursor(page, self._start.direction, seen)
                if cursor is not None:
                    empty = empty_run(page, empty, self._max_empty_pages)
            queue.put_nowait(None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # handed to the consumer, raised there
            queue.put_nowait(exc)
