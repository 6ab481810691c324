"""The wire's page pipeline (``_wire/_pages.py``): one call turns a list response into a page,
its cursors read before its models are built."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pleo_export_raw.api.export_api_v_1 import get_export_jobs_list_v1
from pleo_export_raw.api.export_api_v_3 import create_export_job_event_v3
from pleo_export_raw.models import ExportJobV3
from pytest_httpx import HTTPXMock

from pleo_export import Cursor, Page, PleoExport, ResponseValidationError
from pleo_export._pagination import Fetched
from pleo_export._wire import Endpoint, GeneratedPages, ListPages, v3
from pleo_export._wire._pages import fetched_from_body

if TYPE_CHECKING:
    from .conftest import Payloads


def test_fetched_from_body_reads_cursors_without_building() -> None:
    """A well-formed body is read into its cursors and size and not built yet."""
    built: list[bool] = []

    def build() -> Page[int]:
        built.append(True)
        return Page([1, 2], True, False, "S", "E", None)

    info = {"hasNextPage": True, "hasPreviousPage": False, "startCursor": "S", "endCursor": None}
    fetched = fetched_from_body({"data": [{}, {}], "pagination": info}, build)
    assert isinstance(fetched, Fetched)
    assert (fetched.has_next_page, fetched.start_cursor, fetched.end_cursor, fetched.size) == (
        True,
        "S",
        None,
        2,
    )
    assert built == []


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"data": []},
        {"data": {}, "pagination": {"hasNextPage": False, "hasPreviousPage": False}},
        {"data": [], "pagination": {"hasNextPage": "yes", "hasPreviousPage": False}},
        {"data": [], "pagination": {"hasNextPage": True, "hasPreviousPage": False, "endCursor": 7}},
    ],
    ids=["not-an-object", "no-pagination", "data-not-a-list", "flag-not-bool", "cursor-not-str"],
)
def test_fetched_from_body_builds_at_once_when_the_metadata_is_odd(body: Any) -> None:
    """Metadata without the spec's types is not trusted: the page is built at once, so it
    fails or pages exactly as the model says; fails if odd metadata steers the prefetch."""
    page = Page([0], False, False, None, None, None)
    assert fetched_from_body(body, lambda: page) is page


async def test_list_pages_is_one_call_from_cursor_to_an_unbuilt_page(
    pleo: PleoExport, httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """``await pages(cursor)`` sends the request at that cursor with the fixed arguments and
    hands back a ``Fetched`` page whose ``build`` makes the models; fails if the cursor or a
    fixed argument is lost, or the models are built before ``build``."""
    job = payloads.job()
    body = payloads.page([job], has_next=True, start="CA", end="CB", total=7)
    httpx_mock.add_response(json=body)
    pages = ListPages(pleo._seam, v3.ADAPTER.list_jobs, limit=5)
    fetched = await pages(Cursor(after="CA"))
    assert isinstance(fetched, Fetched)
    assert (fetched.has_next_page, fetched.start_cursor, fetched.end_cursor, fetched.size) == (
        True,
        "CA",
        "CB",
        1,
    )
    sent = httpx_mock.get_requests()
    assert [dict(request.url.params) for request in sent] == [{"limit": "5", "after": "CA"}]
    page = fetched.build()
    assert isinstance(page.items[0], ExportJobV3)
    assert str(page.items[0].id) == job["id"]
    assert page.total == 7


async def test_list_pages_with_odd_metadata_fails_at_the_fetch(
    pleo: PleoExport, httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """A body whose paging metadata is odd is built at once, so the fetch itself raises the
    typed error; fails if such a page is handed on unbuilt."""
    httpx_mock.add_response(json={"data": [payloads.job()], "pagination": {"hasNextPage": 1}})
    pages = ListPages(pleo._seam, v3.ADAPTER.list_jobs, limit=5)
    with pytest.raises(ResponseValidationError):
        await pages(Cursor())


def test_list_pages_needs_an_endpoint_with_a_body(pleo: PleoExport) -> None:
    """An endpoint with no 2xx body cannot be paged: refused when the pages are made."""
    with pytest.raises(TypeError, match="no 2xx body"):
        ListPages(pleo._seam, Endpoint(create_export_job_event_v3, None))


async def test_generated_pages_parse_with_the_modules_own_parser(
    pleo: PleoExport, httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """A generated module's pages come back built by its own parser, cursors as ``None`` when
    absent; fails if ``UNSET`` leaks into a cursor or the cursor is not sent."""
    job = payloads.job()
    httpx_mock.add_response(json=payloads.page([job], has_next=False))
    pages = GeneratedPages(pleo._seam, get_export_jobs_list_v1, limit=2)
    page = await pages(Cursor(offset=4))
    assert isinstance(page, Page)
    assert (page.has_next_page, page.start_cursor, page.end_cursor, page.total) == (
        False,
        None,
        None,
        None,
    )
    assert str(page.items[0].id) == job["id"]
    sent = httpx_mock.get_requests()
    assert [dict(request.url.params) for request in sent] == [{"limit": "2", "offset": "4"}]
