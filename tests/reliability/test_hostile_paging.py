"""Hostile paging: a server that answers ``hasNextPage: true`` with a fresh cursor and no items
forever, or an ``endCursor`` of 1 MiB, or one that is not a string. Paging stops with a
``PaginationError`` after ``max_empty_pages`` (default 10) empty pages in a row, and refuses a
cursor over 4 KiB instead of failing to build the next URL.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
import pytest

from pleo_export import PaginationError, PleoExport, RetryPolicy
from pleo_export._config import DEFAULT_MAX_EMPTY_PAGES, MAX_CURSOR_CHARS
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

from ._figures import record

pytestmark = pytest.mark.timeout(30)

JOB = {
    "id": "00000000-0000-4000-8000-000000000001",
    "companyId": "00000000-0000-4000-8000-000000000002",
    "createdAt": "2025-01-01T00:00:00Z",
    "expiresIn": 3600,
    "isInteractive": False,
    "numberOfItems": 1,
    "status": "pending",
    "vendorBasedBookkeeping": False,
}


def _page(data: list[Any], cursor: Any, more: bool = True) -> bytes:
    info = {"currentRequestPagination": {"parameters": {}}, "hasNextPage": more,
            "hasPreviousPage": False, "endCursor": cursor}  # fmt: skip
    return json.dumps({"data": data, "pagination": info}).encode()


class Endless:
    """Answers every page request with no items, more to come and a cursor never seen."""

    def __init__(self, items_every: int = 0) -> None:
        self.requests = 0
        self.items_every = items_every
        self._cursors = (f"C{n:06d}".replace("0", "A").replace("1", "B") for n in itertools.count())

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        with_item = self.items_every and self.requests % self.items_every == 0
        return httpx.Response(200, content=_page([JOB] if with_item else [], next(self._cursors)))


async def _collect(pager: Any, into: list[Any]) -> None:
    async for item in pager:
        into.append(item)


def _client(handler: Any, **options: Any) -> PleoExport:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return PleoExport(
        api_key="sk-paging-0123456789", base_url="http://127.0.0.1", http_client=http,
        retry=RetryPolicy(max_retries=0), **options,
    )  # fmt: skip


@pytest.mark.parametrize("prefetch", [0, 1, 3])
async def test_endless_empty_pages_stop_after_the_default(prefetch: int) -> None:
    """Ten empty pages that each announce another end in PaginationError after exactly ten
    requests, with or without prefetch; a pager that followed on would never stop."""
    server = Endless()
    async with _client(server, prefetch=prefetch) as pleo:
        with pytest.raises(PaginationError, match="max_empty_pages=10"):
            _ = [job async for job in pleo.jobs.list()]
    assert server.requests == DEFAULT_MAX_EMPTY_PAGES
    record(
        "hostile_servers",
        **{"hasNextPage with no items, forever": f"PaginationError after {server.requests} "
           "requests"},
    )  # fmt: skip


async def test_max_empty_pages_is_configurable_per_client() -> None:
    """``max_empty_pages=3`` stops after three requests, for ``pages()`` as for items."""
    server = Endless()
    async with _client(server, max_empty_pages=3, prefetch=0) as pleo:
        with pytest.raises(PaginationError):
            _ = [page async for page in pleo.job_items.list(JOB["id"]).pages()]
    assert server.requests == 3


async def test_pages_with_items_reset_the_count() -> None:
    """Empty pages between pages with items (one in five here) are followed: only a run of
    empty pages counts, so a pager that counted all empty pages would stop early."""
    server = Endless(items_every=5)
    async with _client(server, max_empty_pages=5, prefetch=0) as pleo:
        jobs = [job async for job in pleo.jobs.list(max_items=8)]
    assert len(jobs) == 8
    assert server.requests == 40


@pytest.mark.parametrize(
    "cursor", ["A" * (1 << 20), "A" * (MAX_CURSOR_CHARS + 1), 12345, ["AB"]],
    ids=["1MiB", "just-over", "int", "list"],
)  # fmt: skip
@pytest.mark.parametrize("prefetch", [0, 1])
async def test_unusable_cursor_is_a_pagination_error(cursor: Any, prefetch: int) -> None:
    """A 1 MiB (or 4 KiB + 1) or non-string endCursor is a PaginationError after the page's
    items are handed out, not httpx.InvalidURL or TypeError, and is never sent."""
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, content=_page([JOB], cursor))

    got: list[Any] = []
    async with _client(answer, prefetch=prefetch) as pleo:
        with pytest.raises(PaginationError) as caught:
            await _collect(pleo.jobs.list(), got)
    assert len(got) == 1
    assert len(requests) == 1
    assert len(str(caught.value)) < 200
    record("hostile_servers", **{"1 MiB endCursor": "PaginationError, the cursor never sent"})


async def test_cursor_at_the_bound_is_followed() -> None:
    """A cursor of exactly 4 KiB is still followed (the bound is inclusive)."""
    cursor = "A" * MAX_CURSOR_CHARS
    answers = iter([_page([JOB], cursor), _page([JOB], None, more=False)])
    async with _client(lambda request: httpx.Response(200, content=next(answers))) as pleo:
        assert len([job async for job in pleo.jobs.list(prefetch=0)]) == 2


async def test_fake_answers_out_of_range_offset_with_pleos_400() -> None:
    """The fake answers ``offset=2**70`` (past int64) with Pleo's 400 ExceptionInfo, as Pleo
    would, where it used to crash in its JSON encoder."""
    fake = FakePleo(seed=4)
    fake.add_job(items=1)
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url="http://127.0.0.1", auth=(DEFAULT_API_KEY, "")
    ) as http:
        answer = await http.get("/v3/export-jobs", params={"offset": 2**70})
    assert answer.status_code == 400
    assert answer.json()["type"] == "INVALID_REQUEST"
    record("hostile_servers", **{"fake: offset=2**70": "400 INVALID_REQUEST (Pleo's shape)"})
