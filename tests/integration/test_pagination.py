"""Pagination against the fake Pleo, in-process and over loopback TCP: page counts, max_items,
early exits that leave nothing running, cancellation, both directions, resuming from a
checkpointed cursor, and how far the prefetch runs ahead."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pleo_export_raw.api.export_api_v_3 import get_export_job_items_v3

from pleo_export import InvalidArgumentError, PleoExport
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

pytestmark = pytest.mark.filterwarnings("error")

ITEMS_OP = "getExportJobItemsV3"
TRANSPORTS = ["pleo", "pleo_tcp"]  # the shared client fixtures in conftest.py


@pytest.fixture(params=TRANSPORTS)
def client(request: pytest.FixtureRequest) -> PleoExport:
    """The SDK client on the test's fake, once in-process and once over TCP."""
    value: PleoExport = request.getfixturevalue(request.param)
    return value


async def _settle(turns: int = 200) -> None:
    """Give every runnable task its turns (in-process requests need several each)."""
    for _ in range(turns):
        await asyncio.sleep(0)


def _other_tasks() -> set[asyncio.Task[Any]]:
    return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}


async def _wait_for_no_tasks() -> None:
    """Wait (bounded, by loop turns and at most 2 s) until only the current task is left."""
    for _ in range(200):
        if not _other_tasks():
            return
        await asyncio.sleep(0.01)
    assert _other_tasks() == set()


def _entry_ids(items: list[Any]) -> list[str]:
    return [str(item.accounting_entry_id) for item in items]


class _OpenExchanges(httpx.AsyncBaseTransport):
    """httpx's own TCP transport, counting the exchanges still open: a request sent whose
    response stream is not yet closed (httpcore gives the connection back when it is), or one
    not yet answered. Zero means the client left nothing holding a connection."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.open = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the inner transport; count the exchange until its stream closes."""
        self.open += 1
        try:
            response = await self.inner.handle_async_request(request)
        except BaseException:  # cancelled or failed: nothing left open
            self.open -= 1
            raise
        response.stream = _ClosedOnce(response.stream, self)
        return response

    async def aclose(self) -> None:
        """Close the inner transport's pool."""
        await self.inner.aclose()


class _ClosedOnce(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream | httpx.SyncByteStream, owner: _OpenExchanges):
        assert isinstance(inner, httpx.AsyncByteStream)
        self.inner, self.owner, self.closed = inner, owner, False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            yield chunk

    async def aclose(self) -> None:
        if not self.closed:
            self.closed = True
            self.owner.open -= 1
        await self.inner.aclose()


@pytest.mark.parametrize(
    ("items", "limit", "pages"),
    [(0, 10, 1), (5, 10, 1), (20, 10, 2), (1000, 37, 28)],
    ids=["empty", "one-page", "exact-multiple", "many-pages"],
)
async def test_every_item_once_in_order(
    client: PleoExport, fake_pleo: FakePleo, items: int, limit: int, pages: int
) -> None:
    """A job's items arrive complete and in order, one request per page."""
    job_id = fake_pleo.add_job(items=items)
    got = [item async for item in client.job_items.list(job_id, limit=limit)]
    assert _entry_ids(got) == fake_pleo.accounting_entry_ids(job_id)
    assert fake_pleo.request_counts[ITEMS_OP] == pages
    assert _other_tasks() == set()


async def test_max_items_stops_the_requests(client: PleoExport, fake_pleo: FakePleo) -> None:
    """max_items=25 over pages of 10 makes three requests, even for a slow consumer."""
    job_id = fake_pleo.add_job(items=100)
    got = []
    async for item in client.job_items.list(job_id, limit=10, max_items=25, prefetch=2):
        got.append(item)
        await asyncio.sleep(0)  # a consumer that does I/O per item
    await _settle()
    assert _entry_ids(got) == fake_pleo.accounting_entry_ids(job_id, 0, 25)
    assert fake_pleo.request_counts[ITEMS_OP] == 3


async def test_max_items_alone_sets_the_page_size(pleo: PleoExport, fake_pleo: FakePleo) -> None:
    """Without limit=, max_items=3 asks for a page of three and makes one request."""
    job_id = fake_pleo.add_job(items=50)
    got = [item async for item in pleo.job_items.list(job_id, max_items=3)]
    assert len(got) == 3
    assert fake_pleo.request_counts[ITEMS_OP] == 1


async def test_break_cancels_an_in_flight_prefetch_and_returns_the_connection(
    fake_pleo_server: str, fake_pleo: FakePleo, caplog: pytest.LogCaptureFixture
) -> None:
    """Breaking while page 2 is being fetched over TCP leaves no task and no exchange open
    (counted by a transport wrapper, not by reading httpcore's pool); a pager that left the
    prefetch running, or a response unclosed, fails this."""
    job_id = fake_pleo.add_job(items=100)
    transport = _OpenExchanges()
    http = httpx.AsyncClient(transport=transport)
    pleo_tcp = PleoExport(api_key=DEFAULT_API_KEY, base_url=fake_pleo_server, http_client=http)
    async for _ in pleo_tcp.job_items.list(job_id, limit=10, prefetch=2):
        # page 1 is here; the prefetch of page 2 starts now and hangs for 30 s
        fake_pleo.faults.add("delay", route=ITEMS_OP, seconds=30)
        await asyncio.sleep(0.05)  # let the prefetch request reach the server
        assert transport.open == 1  # the prefetch, in flight
        break
    await _wait_for_no_tasks()
    assert transport.open == 0
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    fake_pleo.faults.clear()
    await pleo_tcp.aclose()
    await http.aclose()


@pytest.mark.parametrize("prefetch", [0, 1, 2])
async def test_break_after_a_few_items_leaves_nothing_running(
    client: PleoExport, fake_pleo: FakePleo, prefetch: int
) -> None:
    """An early ``break`` is cleaned up within a few loop turns, for every prefetch depth."""
    job_id = fake_pleo.add_job(items=200)
    seen = 0
    async for _ in client.job_items.list(job_id, limit=10, prefetch=prefetch):
        seen += 1
        if seen == 15:
            break
    await _wait_for_no_tasks()
    assert fake_pleo.request_counts[ITEMS_OP] <= 2 + prefetch


async def test_cancelling_the_consumer_mid_iteration(
    client: PleoExport, fake_pleo: FakePleo
) -> None:
    """Cancelling the consuming task while it waits for a page stops the fetch too."""
    job_id = fake_pleo.add_job(items=100)
    got: list[Any] = []
    first_page = asyncio.Event()

    async def consume() -> None:
        async for item in client.job_items.list(job_id, limit=10, prefetch=1):
            got.append(item)
            if len(got) == 10:
                fake_pleo.faults.add("delay", route=ITEMS_OP, seconds=30)
                first_page.set()

    task = asyncio.create_task(consume())
    await first_page.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _wait_for_no_tasks()
    # Page 2 may have been asked for before the delay existed (the prefetch asks as soon as
    # page 1's cursor is read), so the wait was for page 2 or page 3; never for more.
    assert len(got) in (10, 20)


async def test_an_error_in_the_consumer_propagates(client: PleoExport, fake_pleo: FakePleo) -> None:
    """An exception raised in the loop body comes out unchanged, and nothing is left running."""
    job_id = fake_pleo.add_job(items=100)

    async def consume() -> None:
        async for item in client.job_items.list(job_id, limit=10, prefetch=2):
            if str(item.accounting_entry_id) == fake_pleo.accounting_entry_ids(job_id, 12, 13)[0]:
                raise LookupError("ledger refused entry")

    with pytest.raises(LookupError, match="ledger refused entry"):
        await consume()
    await _wait_for_no_tasks()


async def test_backward_from_a_before_cursor(client: PleoExport, fake_pleo: FakePleo) -> None:
    """``before=startCursor`` walks hasPreviousPage back to the first item."""
    job_id = fake_pleo.add_job(items=45)
    ids = fake_pleo.accounting_entry_ids(job_id)
    forward = [page async for page in client.job_items.list(job_id, limit=10).pages()]
    fourth = forward[3]
    assert fourth.start_cursor is not None
    backward = [
        page
        async for page in client.job_items.list(
            job_id, limit=10, before=fourth.start_cursor
        ).pages()
    ]
    assert [_entry_ids(list(p.items)) for p in backward] == [
        ids[20:30],
        ids[10:20],
        ids[0:10],
    ]
    assert backward[-1].has_previous_page is False
    assert all(p.has_next_page for p in backward)


@pytest.mark.parametrize("prefetch", [0, 1, 2])
async def test_resume_from_a_checkpointed_cursor(
    client: PleoExport, fake_pleo: FakePleo, prefetch: int
) -> None:
    """A worker that stored ``page.end_cursor`` resumes exactly where it stopped."""
    job_id = fake_pleo.add_job(items=57)
    done: list[str] = []
    checkpoint: str | None = None
    async for page in client.job_items.list(job_id, limit=10, prefetch=prefetch).pages():
        done += _entry_ids(list(page.items))
        checkpoint = page.end_cursor  # stored after the page is processed
        if len(done) == 30:
            break
    rest = [item async for item in client.job_items.list(job_id, limit=10, after=checkpoint)]
    assert done + _entry_ids(rest) == fake_pleo.accounting_entry_ids(job_id)


async def test_offset_with_a_cursor_is_refused_before_any_request(
    client: PleoExport, fake_pleo: FakePleo
) -> None:
    """``offset`` together with ``after`` raises InvalidArgumentError and sends nothing."""
    job_id = fake_pleo.add_job(items=5)
    with pytest.raises(InvalidArgumentError, match="offset"):
        client.job_items.list(job_id, after="GEZDGNBVGY======", offset=3)
    assert sum(fake_pleo.request_counts.values()) == 0


async def test_offset_skips_items(client: PleoExport, fake_pleo: FakePleo) -> None:
    """``offset=`` starts that many items in and then follows cursors."""
    job_id = fake_pleo.add_job(items=25)
    got = [item async for item in client.job_items.list(job_id, limit=10, offset=12)]
    assert _entry_ids(got) == fake_pleo.accounting_entry_ids(job_id, 12)


@pytest.mark.parametrize("prefetch", [0, 1, 2])
async def test_prefetch_runs_exactly_n_pages_ahead(
    fake_pleo: FakePleo, fake_pleo_transport: httpx.AsyncBaseTransport, prefetch: int
) -> None:
    """While the consumer holds page 1, exactly ``prefetch`` more pages have been requested."""
    job_id = fake_pleo.add_job(items=100)
    async with (
        httpx.AsyncClient(transport=fake_pleo_transport) as http,
        PleoExport(
            api_key=DEFAULT_API_KEY,
            base_url="http://127.0.0.1",
            http_client=http,
            prefetch=prefetch,
        ) as pleo,
    ):
        pager = pleo.job_items.list(job_id, limit=10)
        async with pager:
            pages = pager.pages()
            first = await anext(pages)
            assert len(first) == 10
            await _settle()
            assert fake_pleo.request_counts[ITEMS_OP] == 1 + prefetch
            await anext(pages)
            await _settle()
            assert fake_pleo.request_counts[ITEMS_OP] == 2 + prefetch


async def test_first_page_and_pages_expose_cursors_and_total(
    client: PleoExport, fake_pleo: FakePleo
) -> None:
    """first_page() makes one request; pages carry Pleo's cursors and total."""
    job_id = fake_pleo.add_job(items=23)
    first = await client.job_items.list(job_id, limit=10, prefetch=2).first_page()
    assert fake_pleo.request_counts[ITEMS_OP] == 1
    assert (first.total, first.has_next_page, first.has_previous_page) == (23, True, False)
    assert first.start_cursor
    assert first.end_cursor
    pages = [page async for page in client.job_items.list(job_id, limit=10).pages()]
    assert [len(p) for p in pages] == [10, 10, 3]
    assert pages[1].start_cursor != pages[0].end_cursor
    assert [p.total for p in pages] == [23, 23, 23]
    assert pages[-1].has_next_page is False


async def test_paginate_over_a_generated_list_endpoint(
    client: PleoExport, fake_pleo: FakePleo
) -> None:
    """pleo.paginate() walks a raw generated list operation on the same pool."""
    job_id = fake_pleo.add_job(items=31)
    got = [
        item async for item in client.paginate(get_export_job_items_v3, uuid.UUID(job_id), limit=8)
    ]
    assert _entry_ids(got) == fake_pleo.accounting_entry_ids(job_id)
    assert fake_pleo.request_counts[ITEMS_OP] == 4


async def test_jobs_list_filters_and_pages(client: PleoExport, fake_pleo: FakePleo) -> None:
    """jobs.list(statuses=…) pages over only the matching jobs, oldest first."""
    company = fake_pleo.add_company()
    done = [fake_pleo.add_job(company, items=1, status="completed") for _ in range(7)]
    pending = fake_pleo.add_job(company, items=1)
    listed = [
        job async for job in client.jobs.list(company_id=company, statuses=["completed"], limit=3)
    ]
    assert [str(job.id) for job in listed] == done
    oldest = [job async for job in client.jobs.list(statuses=["pending"], max_items=1)]
    assert [str(job.id) for job in oldest] == [pending]
