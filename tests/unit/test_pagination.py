"""Pager: page walking in both directions, max_items, prefetch depth, cleanup on break, errors and
cancellation, loop guards, and the list endpoints and ``pleo.paginate`` that build on it."""

from __future__ import annotations

import ast
import asyncio
import gc
import inspect
import logging
from typing import TYPE_CHECKING, Any

import pytest
from pleo_export_raw.api.export_api_v_1 import get_export_jobs_list_v1
from pytest_httpx import HTTPXMock

from pleo_export import (
    Cursor,
    InvalidArgumentError,
    Page,
    Pager,
    PaginationError,
    PleoExport,
    _pagination,
)
from pleo_export._pagination import Fetched, next_cursor

if TYPE_CHECKING:
    from .conftest import Payloads

pytestmark = pytest.mark.filterwarnings("error")

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to


class Book:
    """``total`` numbered items served ``size`` at a time; cursors are positions ("P<n>")."""

    def __init__(self, total: int, size: int, *, empty_last_page: bool = False) -> None:
        self.total = total
        self.size = size
        self.empty_last_page = empty_last_page  # a full last page still says hasNextPage
        self.calls: list[Cursor] = []
        self.fail_at: int | None = None  # raise on this fetch (0-based)
        self.gate: asyncio.Event | None = None  # fetches after the first wait for it

    async def fetch(self, cursor: Cursor) -> Page[int]:
        """Serve the page at ``cursor``."""
        self.calls.append(cursor)
        if self.gate is not None and len(self.calls) > 1:
            await self.gate.wait()
        if self.fail_at is not None and len(self.calls) - 1 == self.fail_at:
            raise RuntimeError("fetch failed")
        if cursor.before is not None:
            end = int(cursor.before[1:])
            start = max(0, end - self.size)
        else:
            start = int(cursor.after[1:]) if cursor.after else (cursor.offset or 0)
            end = min(self.total, start + self.size)
        more = end < self.total or (self.empty_last_page and start < end == self.total)
        return Page(
            items=list(range(start, end)),
            has_next_page=more,
            has_previous_page=start > 0,
            start_cursor=f"P{start}",
            end_cursor=f"P{end}",
            total=self.total,
        )


async def _settle() -> None:
    """Let every runnable task run until nothing more happens (no timing involved)."""
    for _ in range(20):
        await asyncio.sleep(0)


def _other_tasks() -> set[asyncio.Task[Any]]:
    return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}


async def _collect(pager: Pager[int]) -> list[int]:
    return [item async for item in pager]


async def _drain(pager: Pager[int], into: list[int]) -> None:
    """Append every item to ``into``, so what arrived before an error can be checked."""
    async for item in pager:
        into.append(item)


@pytest.mark.parametrize("prefetch", [0, 1, 2])
@pytest.mark.parametrize(
    ("total", "size", "fetches"),
    [(0, 5, 1), (3, 5, 1), (10, 5, 2), (95, 10, 10), (1000, 100, 10)],
    ids=["empty", "one-page", "exact-multiple", "many-pages", "large"],
)
async def test_all_items_in_order(prefetch: int, total: int, size: int, fetches: int) -> None:
    """Every item arrives once, in order, with one fetch per page."""
    book = Book(total, size)
    assert await _collect(Pager(book.fetch, prefetch=prefetch)) == list(range(total))
    assert len(book.calls) == fetches
    assert _other_tasks() == set()


async def test_full_last_page_that_announces_more_ends_on_an_empty_page() -> None:
    """If the last full page still says hasNextPage, the empty page after it ends the walk."""
    book = Book(10, 5, empty_last_page=True)
    assert await _collect(Pager(book.fetch)) == list(range(10))
    assert [c.after for c in book.calls] == [None, "P5", "P10"]


@pytest.mark.parametrize("prefetch", [0, 1, 2])
@pytest.mark.parametrize(("max_items", "fetches"), [(0, 0), (1, 1), (10, 1), (15, 2), (40, 4)])
async def test_max_items_stops_without_fetching_beyond_it(
    prefetch: int, max_items: int, fetches: int
) -> None:
    """max_items yields that many items and fetches no page past the one that reaches it."""
    book = Book(100, 10)
    items: list[int] = []
    async for item in Pager(book.fetch, max_items=max_items, prefetch=prefetch):
        items.append(item)
        await _settle()  # a consumer doing I/O per item gives the prefetch every chance to run
    assert items == list(range(max_items))
    await _settle()
    assert len(book.calls) == fetches
    assert _other_tasks() == set()


@pytest.mark.parametrize(("prefetch", "ahead"), [(0, 0), (1, 1), (2, 2), (3, 3)])
async def test_prefetch_fetches_exactly_n_pages_ahead(prefetch: int, ahead: int) -> None:
    """While the consumer sits on page 1, exactly ``prefetch`` more pages have been fetched."""
    book = Book(100, 10)
    pages = Pager(book.fetch, prefetch=prefetch).pages()
    first = await anext(pages)
    assert first.items[0] == 0
    await _settle()
    assert len(book.calls) == 1 + ahead
    await anext(pages)
    await _settle()
    assert len(book.calls) == 2 + ahead
    await pages.aclose()  # type: ignore[attr-defined]


class UnbuiltBook(Book):
    """A ``Book`` whose fetch hands back ``Fetched`` pages; ``log`` records fetches and builds."""

    def __init__(self, total: int, size: int) -> None:
        super().__init__(total, size)
        self.log: list[str] = []
        self.fail_build_at: int | None = None  # building this page (0-based) raises

    async def fetch_unbuilt(self, cursor: Cursor) -> Fetched[int]:
        """Serve the page at ``cursor`` with its items left to build."""
        page = await self.fetch(cursor)
        number = len(self.calls) - 1
        self.log.append(f"fetch {number}")

        def build() -> Page[int]:
            self.log.append(f"build {number}")
            if number == self.fail_build_at:
                raise ValueError("does not match the model")
            return page

        return Fetched(
            page.has_next_page,
            page.has_previous_page,
            page.start_cursor,
            page.end_cursor,
            len(page.items),
            build,
        )


@pytest.mark.parametrize("prefetch", [0, 1, 2, 3])
async def test_unbuilt_pages_arrive_whole_and_in_order(prefetch: int) -> None:
    """Pages fetched unbuilt give every item once, in order, each page built exactly once;
    fails if a page is built twice, skipped or reordered."""
    book = UnbuiltBook(95, 10)
    assert await _collect(Pager(book.fetch_unbuilt, prefetch=prefetch)) == list(range(95))
    assert [e for e in book.log if e.startswith("build")] == [f"build {n}" for n in range(10)]
    assert _other_tasks() == set()


@pytest.mark.parametrize("prefetch", [1, 2, 3])
async def test_the_next_fetch_starts_before_the_current_page_is_built(prefetch: int) -> None:
    """With prefetch on, page n+1 is asked for before page n's items are built (the build is
    off the fetch chain); fails if the producer builds pages or waits for the build."""
    book = UnbuiltBook(50, 10)
    assert await _collect(Pager(book.fetch_unbuilt, prefetch=prefetch)) == list(range(50))
    for n in range(4):
        assert book.log.index(f"fetch {n + 1}") < book.log.index(f"build {n}")


async def test_without_prefetch_fetch_and_build_alternate() -> None:
    """prefetch=0 fetches a page, builds it, hands it out and only then fetches the next."""
    book = UnbuiltBook(30, 10)
    assert await _collect(Pager(book.fetch_unbuilt, prefetch=0)) == list(range(30))
    assert book.log == ["fetch 0", "build 0", "fetch 1", "build 1", "fetch 2", "build 2"]


@pytest.mark.parametrize("prefetch", [1, 2, 3])
async def test_unbuilt_prefetch_stays_n_ahead_and_builds_only_what_is_consumed(
    prefetch: int,
) -> None:
    """While the consumer sits on page 1, exactly ``prefetch`` more pages are fetched and none
    of them is built; fails if the pipeline runs further ahead or builds eagerly."""
    book = UnbuiltBook(100, 10)
    pages = Pager(book.fetch_unbuilt, prefetch=prefetch).pages()
    assert (await anext(pages)).items[0] == 0
    await _settle()
    assert len(book.calls) == 1 + prefetch
    assert [e for e in book.log if e.startswith("build")] == ["build 0"]
    assert (await anext(pages)).items[0] == 10
    await _settle()
    assert len(book.calls) == 2 + prefetch
    await pages.aclose()  # type: ignore[attr-defined]
    assert _other_tasks() == set()


@pytest.mark.parametrize("prefetch", [0, 1, 2])
async def test_a_build_error_arrives_after_the_pages_before_it(prefetch: int) -> None:
    """A page that fails to build raises after every earlier item was handed out, and the
    fetches ahead of it are cancelled; fails if the error jumps the queue or a task leaks."""
    book = UnbuiltBook(100, 10)
    book.fail_build_at = 2
    seen: list[int] = []
    with pytest.raises(ValueError, match="does not match"):
        await _drain(Pager(book.fetch_unbuilt, prefetch=prefetch), seen)
    assert seen == list(range(20))
    assert _other_tasks() == set()


def test_the_pager_knows_pages_not_json() -> None:
    """``_pagination`` imports nothing of the wire or the generated client and names none of
    Pleo's paging JSON keys: turning a response into a page is ``_wire/_pages.py``'s job; fails
    if JSON reading or ``UNSET`` handling comes back here."""
    tree = ast.parse(inspect.getsource(_pagination))
    imported = [
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    ] + [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    assert not [m for m in imported if "_wire" in m or m.startswith("pleo_export_raw")]
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    # startCursor/endCursor do appear: PaginationError's messages name the cursor Pleo sent.
    assert not strings & {"pagination", "data", "hasNextPage", "hasPreviousPage"}


@pytest.mark.parametrize("prefetch", [0, 1, 2])
async def test_break_leaves_no_task_and_no_warning(
    prefetch: int, caplog: pytest.LogCaptureFixture
) -> None:
    """After ``break`` the prefetch task is gone within a few loop turns, logging nothing."""
    book = Book(1000, 10)
    book.gate = asyncio.Event()  # page 2 onwards blocks: the prefetch is mid-fetch at break
    async for item in Pager(book.fetch, prefetch=prefetch):
        if item == 3:
            break
    await _settle()
    assert _other_tasks() == set()
    gc.collect()
    await _settle()
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert len(book.calls) <= 1 + prefetch


async def test_break_out_of_pages_also_cleans_up() -> None:
    """Leaving ``.pages()`` early cancels its prefetch as well."""
    book = Book(1000, 10)
    async for page in Pager(book.fetch, prefetch=2).pages():
        assert page.items[0] == 0
        break
    await _settle()
    assert _other_tasks() == set()


async def test_aclose_and_async_with_stop_iterations_at_once() -> None:
    """Closing the pager closes every open iteration and its prefetch without waiting for GC."""
    book = Book(1000, 10)
    pager = Pager(book.fetch, prefetch=2)
    async with pager:
        iterator = aiter(pager)
        assert await anext(iterator) == 0
        assert _other_tasks() != set()
    assert _other_tasks() == set()
    with pytest.raises(StopAsyncIteration):
        await anext(iterator)


async def test_error_in_the_consumer_propagates_and_cleans_up() -> None:
    """An exception in the loop body surfaces unchanged and leaves no task behind."""
    book = Book(1000, 10)

    async def consume() -> None:
        async for item in Pager(book.fetch, prefetch=2):
            if item == 12:
                raise KeyError("consumer bug")

    with pytest.raises(KeyError, match="consumer bug"):
        await consume()
    await _settle()
    assert _other_tasks() == set()


@pytest.mark.parametrize("prefetch", [0, 1, 2])
async def test_cancelling_the_consumer_mid_iteration(prefetch: int) -> None:
    """Cancelling the consuming task while it waits for a page cancels the fetch too."""
    book = Book(1000, 10)
    book.gate = asyncio.Event()  # page 2 never arrives
    seen: list[int] = []
    task = asyncio.create_task(_drain(Pager(book.fetch, prefetch=prefetch), seen))
    await _settle()
    assert seen == list(range(10))  # page 1 consumed, now waiting for page 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _settle()
    assert _other_tasks() == set()


async def test_cancelling_the_consumer_while_it_processes_an_item() -> None:
    """A cancellation inside the loop body also releases the prefetch."""
    book = Book(1000, 10)
    started = asyncio.Event()

    async def consume() -> None:
        async for _ in Pager(book.fetch, prefetch=1):
            started.set()
            await asyncio.Event().wait()  # stuck processing item 0

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _settle()
    assert _other_tasks() == set()


async def test_timeout_around_the_loop_becomes_timeout_error() -> None:
    """asyncio.timeout() around an iteration raises TimeoutError, not a swallowed cancel."""
    book = Book(1000, 10)
    book.gate = asyncio.Event()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await _collect(Pager(book.fetch, prefetch=1))
    await _settle()
    assert _other_tasks() == set()


@pytest.mark.parametrize("prefetch", [0, 1])
async def test_fetch_error_arrives_after_the_pages_before_it(prefetch: int) -> None:
    """A failing page fetch raises in the consumer once the earlier pages are consumed."""
    book = Book(100, 10)
    book.fail_at = 2
    seen: list[int] = []
    with pytest.raises(RuntimeError, match="fetch failed"):
        await _drain(Pager(book.fetch, prefetch=prefetch), seen)
    assert seen == list(range(20))
    await _settle()
    assert _other_tasks() == set()


@pytest.mark.parametrize("prefetch", [0, 1])
async def test_backward_paging_from_a_before_cursor(prefetch: int) -> None:
    """``before=`` walks startCursor/hasPreviousPage back to the first page."""
    book = Book(100, 10)
    pager = Pager(book.fetch, start=Cursor(before="P35"), prefetch=prefetch)
    pages = [page async for page in pager.pages()]
    assert [list(p.items) for p in pages] == [
        list(range(25, 35)),
        list(range(15, 25)),
        list(range(5, 15)),
        list(range(5)),
    ]
    assert [c.before for c in book.calls] == ["P35", "P25", "P15", "P5"]
    assert pages[-1].has_previous_page is False


@pytest.mark.parametrize("prefetch", [0, 1, 2])
async def test_resume_from_a_checkpointed_end_cursor(prefetch: int) -> None:
    """``after=page.end_cursor`` continues exactly where the earlier run stopped."""
    book = Book(57, 10)
    done: list[int] = []
    checkpoint: str | None = None
    async for page in Pager(book.fetch, prefetch=prefetch).pages():
        done.extend(page.items)
        checkpoint = page.end_cursor
        if len(done) >= 30:
            break  # the worker stops (or crashes) after saving its checkpoint
    assert checkpoint == "P30"
    rest = await _collect(Pager(book.fetch, start=Cursor(after=checkpoint), prefetch=prefetch))
    assert done + rest == list(range(57))


def _looping_fetch(pages: list[Page[int]]) -> Any:
    calls: list[Cursor] = []

    async def fetch(cursor: Cursor) -> Page[int]:
        calls.append(cursor)
        return pages[min(len(calls) - 1, len(pages) - 1)]

    fetch.calls = calls  # type: ignore[attr-defined]
    return fetch


def _page(items: list[int], *, more: bool, end: str | None) -> Page[int]:
    return Page(items, more, False, None, end, None)


@pytest.mark.parametrize("prefetch", [0, 1])
async def test_repeated_cursor_is_a_pagination_error(prefetch: int) -> None:
    """A cursor seen before stops the walk with PaginationError after the pages so far."""
    fetch = _looping_fetch(
        [
            _page([1], more=True, end="A"),
            _page([2], more=True, end="B"),
            _page([3], more=True, end="A"),
        ]
    )
    seen: list[int] = []
    with pytest.raises(PaginationError, match="'A' was already visited"):
        await _drain(Pager(fetch, prefetch=prefetch), seen)
    assert seen == [1, 2, 3]
    assert len(fetch.calls) == 3


async def test_a_page_pointing_back_at_the_start_cursor_stops() -> None:
    """Resuming at ``after=X`` and getting endCursor X again is a loop, caught at once."""
    fetch = _looping_fetch([_page([1], more=True, end="X")])
    with pytest.raises(PaginationError, match="'X' was already visited"):
        await _collect(Pager(fetch, start=Cursor(after="X")))
    assert len(fetch.calls) == 1


@pytest.mark.parametrize("prefetch", [0, 1])
@pytest.mark.parametrize("end", [None, ""])
async def test_has_next_page_without_end_cursor_is_a_pagination_error(
    prefetch: int, end: str | None
) -> None:
    """hasNextPage with no endCursor raises PaginationError after delivering that page."""
    fetch = _looping_fetch([_page([1, 2], more=True, end=end)])
    seen: list[int] = []
    with pytest.raises(PaginationError, match="no endCursor"):
        await _drain(Pager(fetch, prefetch=prefetch), seen)
    assert seen == [1, 2]


def test_next_cursor_policy() -> None:
    """next_cursor follows endCursor forward, startCursor backward, None at the end."""
    page = Page([1], True, True, "S", "E", None)
    seen: set[str] = set()
    assert next_cursor(page, "forward", seen) == Cursor(after="E")
    assert next_cursor(page, "backward", seen) == Cursor(before="S")
    assert seen == {"E", "S"}
    assert next_cursor(Page([1], False, False, "S", "E", None), "forward", set()) is None
    with pytest.raises(PaginationError, match="no startCursor"):
        next_cursor(Page([1], True, True, None, "E", None), "backward", set())


async def test_first_page_fetches_once_and_exposes_cursors() -> None:
    """first_page() makes one request and returns items, cursors and total."""
    book = Book(25, 10)
    page = await Pager(book.fetch, prefetch=2).first_page()
    assert list(page.items) == list(range(10))
    assert (page.start_cursor, page.end_cursor, page.total) == ("P0", "P10", 25)
    assert (page.has_next_page, page.has_previous_page) == (True, False)
    assert len(page) == 10
    assert len(book.calls) == 1


async def test_pages_ignore_max_items() -> None:
    """``.pages()`` walks every page; max_items applies to item iteration only."""
    book = Book(25, 10)
    pages = [p async for p in Pager(book.fetch, max_items=5).pages()]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [p.end_cursor for p in pages] == ["P10", "P20", "P25"]


async def test_a_pager_can_be_iterated_twice() -> None:
    """Each ``async for`` starts again from the start cursor."""
    book = Book(15, 10)
    pager = Pager(book.fetch)
    assert await _collect(pager) == await _collect(pager)


def test_invalid_pager_settings() -> None:
    """Negative max_items or prefetch are argument errors."""
    with pytest.raises(InvalidArgumentError):
        Pager(Book(1, 1).fetch, max_items=-1)
    with pytest.raises(InvalidArgumentError):
        Pager(Book(1, 1).fetch, prefetch=-1)


# --- the resources and pleo.paginate, over pytest-httpx ------------------------------------


async def test_jobs_list_follows_end_cursors_with_the_query(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """jobs.list() sends its filters on every page and steps with ``after=endCursor``."""
    first, second = payloads.job(), payloads.job()
    c1 = payloads.cursor(1)
    httpx_mock.add_response(json=payloads.page([first], has_next=True, end=c1, total=2))
    httpx_mock.add_response(json=payloads.page([second], has_previous=True, total=2))
    async with PleoExport(api_key="k", base_url=BASE_URL, prefetch=0) as pleo:
        jobs = [
            job
            async for job in pleo.jobs.list(
                company_id=payloads.company_id,
                statuses=["pending", "in_progress"],
                limit=1,
                sorting_keys=["createdAt"],
                sorting_order=["ASC"],
            )
        ]
    assert [str(j.id) for j in jobs] == [first["id"], second["id"]]
    one, two = httpx_mock.get_requests()
    for request in (one, two):
        assert request.url.path == "/v3/export-jobs"
        assert request.url.params.get_list("statuses") == ["pending", "in_progress"]
        assert request.url.params["company_id"] == payloads.company_id
        assert request.url.params["limit"] == "1"
        assert request.url.params["sorting_keys"] == "createdAt"
        assert request.url.params["sorting_order"] == "ASC"
    assert "after" not in one.url.params
    assert two.url.params["after"] == c1


async def test_list_pages_expose_cursors_and_total(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """``.pages()`` on a resource yields Page objects with Pleo's cursors and total."""
    start, end = payloads.cursor(7), payloads.cursor(8)
    httpx_mock.add_response(
        json=payloads.page([payloads.job()], start=start, end=end, total=41, has_previous=True)
    )
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        pages = [page async for page in pleo.jobs.list(after=payloads.cursor(6)).pages()]
    (page,) = pages
    assert (page.start_cursor, page.end_cursor, page.total) == (start, end, 41)
    assert page.has_previous_page
    assert not page.has_next_page


async def test_max_items_lowers_the_page_size_when_none_is_given(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """jobs.list(max_items=1) asks Pleo for one job, not a page of 100."""
    httpx_mock.add_response(json=payloads.page([payloads.job()], has_next=True, end="AB"))
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        jobs = [job async for job in pleo.jobs.list(statuses=["pending"], max_items=1)]
    assert len(jobs) == 1
    (request,) = httpx_mock.get_requests()
    assert request.url.params["limit"] == "1"


async def test_default_page_size_is_100(httpx_mock: HTTPXMock, payloads: Payloads) -> None:
    """Without limit= or max_items= the SDK asks for 100 per page."""
    httpx_mock.add_response(json=payloads.page([]))
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        assert [job async for job in pleo.jobs.list()] == []
    assert httpx_mock.get_requests()[0].url.params["limit"] == "100"


async def test_job_items_and_export_items_list_pages(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """job_items.list and export_items.list page over their own endpoints."""
    job_id = payloads.job()["id"]
    httpx_mock.add_response(
        url=f"{BASE_URL}/v3/export-jobs/{job_id}/items?status=pending&limit=100",
        json=payloads.page([payloads.item(job_id)]),
    )
    httpx_mock.add_response(
        url=f"{BASE_URL}/v3/export-items?job_id={job_id}&limit=100", json=payloads.page([])
    )
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        items = [item async for item in pleo.job_items.list(job_id, status="pending")]
        exported = [item async for item in pleo.export_items.list(job_id)]
    assert [str(i.export_job_id) for i in items] == [job_id]
    assert exported == []


async def test_paginate_walks_a_raw_v1_list_endpoint(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """pleo.paginate() follows cursors over a generated v1 list operation."""
    cursor = payloads.cursor(3)
    httpx_mock.add_response(
        url=f"{BASE_URL}/v1/export-jobs?limit=2",
        json=payloads.page([payloads.job(), payloads.job()], has_next=True, end=cursor),
    )
    httpx_mock.add_response(
        url=f"{BASE_URL}/v1/export-jobs?limit=2&after={cursor}",
        json=payloads.page([payloads.job()]),
    )
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        jobs = [job async for job in pleo.paginate(get_export_jobs_list_v1, limit=2)]
    assert len(jobs) == 3
    assert all(job.status == "pending" for job in jobs)


async def test_paginate_honours_max_items_and_paging_checks(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """paginate() stops at max_items and refuses offset with a cursor before any request."""
    httpx_mock.add_response(json=payloads.page([payloads.job()] * 3, has_next=True, end="AB"))
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        jobs = [j async for j in pleo.paginate(get_export_jobs_list_v1, limit=3, max_items=2)]
        assert len(jobs) == 2
        with pytest.raises(InvalidArgumentError):
            pleo.paginate(get_export_jobs_list_v1, after="AB", offset=3)
    assert len(httpx_mock.get_requests()) == 1


async def test_first_page_error_is_typed(httpx_mock: HTTPXMock) -> None:
    """A 404 on the first page of job_items.list raises ExportNotFoundError on iteration."""
    from pleo_export import ExportNotFoundError

    httpx_mock.add_response(status_code=404, json={"type": "EXPORT_NOT_FOUND"})
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        pager = pleo.job_items.list("3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10")
        with pytest.raises(ExportNotFoundError):
            await _collect(pager)


async def test_repeated_cursor_from_the_api_is_a_pagination_error(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """jobs.list() stops with PaginationError when Pleo hands back a cursor already followed."""
    loop = payloads.cursor(9)
    httpx_mock.add_response(json=payloads.page([payloads.job()], has_next=True, end=loop))
    httpx_mock.add_response(json=payloads.page([payloads.job()], has_next=True, end=loop))
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        seen: list[Any] = []
        with pytest.raises(PaginationError, match="already visited"):
            await _drain(pleo.jobs.list(), seen)  # type: ignore[arg-type]
    assert len(seen) == 2
    assert len(httpx_mock.get_requests()) == 2


async def test_has_next_page_without_end_cursor_from_the_api(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """job_items.list() raises PaginationError after the page that announces more but has no
    endCursor."""
    job_id = payloads.job()["id"]
    httpx_mock.add_response(json=payloads.page([payloads.item(job_id)], has_next=True))
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        seen: list[Any] = []
        with pytest.raises(PaginationError, match="no endCursor"):
            await _drain(pleo.job_items.list(job_id), seen)  # type: ignore[arg-type]
    assert len(seen) == 1


@pytest.mark.parametrize("prefetch", [0, 1, 2])
async def test_a_page_that_does_not_fit_the_model_fails_after_the_pages_before_it(
    httpx_mock: HTTPXMock, payloads: Payloads, prefetch: int
) -> None:
    """A page whose items do not match the model raises ResponseValidationError once the
    items before it are handed out, whether or not the next page was asked for already;
    fails if the prefetch reports it early, loses it or leaves a task behind."""
    from pleo_export import ResponseValidationError

    job_id = payloads.job()["id"]
    first = payloads.page([payloads.item(job_id)], has_next=True, end=payloads.cursor(1))
    bad = payloads.page([{"unexpected": True}], has_next=True, end=payloads.cursor(2))
    httpx_mock.add_response(json=first)
    httpx_mock.add_response(json=bad)
    httpx_mock.add_response(json=payloads.page([payloads.item(job_id)]), is_optional=True)
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        seen: list[Any] = []
        with pytest.raises(ResponseValidationError, match="does not match"):
            await _drain(pleo.job_items.list(job_id, prefetch=prefetch), seen)  # type: ignore[arg-type]
    assert len(seen) == 1
    assert _other_tasks() == set()
